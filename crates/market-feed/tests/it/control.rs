//! The control endpoint: hold / replay one symbol, push exact quotes, refuse bad input.

use crate::support::{DataDir, Received, Running, TIMEOUT, own_symbol, settings, walk};
use bus::messages::market::QuoteMsg;
use rust_decimal::Decimal;
use serde_json::json;
use test_support::{TestNats, eventually};

const A: &[[&str; 4]] = &[["10", "12", "9", "11"], ["11", "13", "10.5", "12"]];
const B: &[[&str; 4]] = &[["200", "210", "190", "205"]];

#[tokio::test]
async fn hold_stops_one_symbol_while_another_keeps_flowing_and_replay_resumes_it() {
    let nats = TestNats::new();
    let (a, b) = (own_symbol(), own_symbol());
    let data = DataDir::new(&[("a.csv", A), ("b.csv", B)]);
    let received = Received::subscribe(&nats.client().await, nats.subjects().quotes().subject()).await;
    let running = Running::start(settings(&nats, data.path(), &[(&a, "a.csv"), (&b, "b.csv")])).await;
    received.wait_for(&a, 6).await;
    received.wait_for(&b, 1).await;

    let held = running.set_mode(&a, "hold").await;
    let held_last: QuoteMsg = serde_json::from_value(held["last"].clone()).unwrap();
    // Quotes published before the hold may still be on their way. B's quotes come on the same
    // connection, in order: once one published after the hold arrives, all of A's have.
    let b_after_hold = running.entry(&b).await["last"]["timeMs"].as_i64().unwrap();
    eventually("a quote of B published after the hold", TIMEOUT, || {
        let arrived = received.of(&b).iter().any(|quote| quote.time_ms > b_after_hold);
        async move { arrived.then_some(()) }
    })
    .await;
    let a_held = received.of(&a);
    assert_eq!(a_held.last(), Some(&held_last), "the hold's answer names A's last quote");
    let b_count = received.of(&b).len();
    received.wait_for(&b, b_count + 24).await;
    assert_eq!(received.of(&a).len(), a_held.len(), "no replayed quote of A while it is held");
    assert_eq!(running.entry(&a).await["mode"], "hold");

    // Held markets take pushed quotes.
    let (status, pushed) = running
        .post(
            "/_feed/quotes",
            &json!({"symbol": a.as_str(), "bid": "42.10", "ask": "42.30", "last": "42.20"}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{pushed}");
    let pushed: QuoteMsg = serde_json::from_value(pushed).unwrap();
    received.wait_for(&a, a_held.len() + 1).await;

    running.set_mode(&a, "replay").await;
    let quotes = received.wait_for(&a, a_held.len() + 1 + 8).await;
    assert_eq!(quotes[a_held.len()], pushed);
    let replayed: Vec<Decimal> = quotes.iter().filter(|quote| **quote != pushed).map(|quote| quote.last).collect();
    assert_eq!(replayed, walk(A, replayed.len()), "A resumed where it stopped, no point skipped or repeated");
    assert_eq!(running.entry(&a).await["mode"], "replay");

    let (status, body) = running.put(&format!("/_feed/symbols/{}", own_symbol()), r#"{"mode":"hold"}"#).await;
    assert_eq!(status, 404, "a symbol that is not replayed: {body}");
    assert!(body["error"].as_str().unwrap().contains("not replayed"), "{body}");
    running.feed.stop().await;
}

#[tokio::test]
async fn a_pushed_quote_arrives_with_exactly_the_given_prices_and_time() {
    let nats = TestNats::new();
    let symbol = own_symbol();
    let data = DataDir::new(&[]);
    let received = Received::subscribe(&nats.client().await, nats.subjects().quote(&symbol).subject()).await;
    let running = Running::start(settings(&nats, data.path(), &[])).await;

    let body = json!({"symbol": symbol.as_str(), "bid": "100.25", "ask": "100.35", "last": "100.30", "timeMs": 1_700_000_000_123_i64});
    let (status, answer) = running.post("/_feed/quotes", &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let expected = json!({"symbol": symbol.as_str(), "timeMs": 1_700_000_000_123_i64, "bid": "100.25", "ask": "100.35", "last": "100.30"});
    assert_eq!(answer, expected);
    received.wait_for(&symbol, 1).await;
    assert_eq!(received.raw(), [expected], "exactly the given prices (digits kept) and time");

    // Without a time: the wall clock at publication. Numbers are accepted too.
    let before = now_ms();
    let body = json!({"symbol": symbol.as_str(), "bid": 99.5, "ask": 99.5, "last": 99.75});
    let (status, answer) = running.post("/_feed/quotes", &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let quotes = received.wait_for(&symbol, 2).await;
    assert!((before..=now_ms()).contains(&quotes[1].time_ms), "{:?}", quotes[1]);
    assert_eq!((quotes[1].bid.to_string(), quotes[1].last.to_string()), ("99.5".into(), "99.75".into()));

    let entry = running.entry(&symbol).await;
    assert_eq!(entry["mode"], serde_json::Value::Null, "only pushed, never replayed");
    assert_eq!(serde_json::from_value::<QuoteMsg>(entry["last"].clone()).unwrap(), quotes[1]);
    running.feed.stop().await;
}

#[tokio::test]
async fn bad_control_input_is_refused_with_a_message_and_publishes_nothing() {
    let nats = TestNats::new();
    let symbol = own_symbol();
    let data = DataDir::new(&[]);
    let received = Received::subscribe(&nats.client().await, nats.subjects().quotes().subject()).await;
    let running = Running::start(settings(&nats, data.path(), &[])).await;
    let quote = |change: serde_json::Value| {
        let mut body = json!({"symbol": symbol.as_str(), "bid": "10.1", "ask": "10.2", "last": "10.15"});
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        body.to_string()
    };

    let pushes = [
        (quote(json!({"bid": "10.3"})), "bid 10.3 must not be above ask 10.2"),
        (quote(json!({"bid": "ten"})), "bid must be a number"),
        (quote(json!({"ask": true})), "ask must be a number"),
        (quote(json!({"last": null})), "last is required"),
        (quote(json!({"last": "0"})), "last must be a positive price"),
        (quote(json!({"bid": "-1"})), "bid must be a positive price"),
        (quote(json!({"symbol": "BRK.B"})), "symbol \"BRK.B\""),
        (quote(json!({"symbol": "SIM_*"})), "symbol \"SIM_*\""),
        (quote(json!({"symbol": "A B"})), "symbol \"A B\""),
        (quote(json!({"symbol": ">"})), "symbol \">\""),
        (quote(json!({"timeMs": -5})), "timeMs"),
        (quote(json!({"timeMs": "soon"})), "timeMs"),
        (quote(json!({"price": "1"})), "unknown field \"price\""),
        ("not json".to_string(), "not JSON"),
        ("[1, 2]".to_string(), "JSON object"),
    ];
    for (body, message) in pushes {
        let (status, answer) = running.post("/_feed/quotes", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(message), "{body}: {error}");
    }
    let modes = [
        (format!("/_feed/symbols/{symbol}"), r#"{"mode":"pause"}"#, r#"mode must be "hold" or "replay", not "pause""#),
        (format!("/_feed/symbols/{symbol}"), r#"{"mode":1}"#, "mode must be"),
        (format!("/_feed/symbols/{symbol}"), r#"{}"#, "mode is required"),
        ("/_feed/symbols/BRK.B".to_string(), r#"{"mode":"hold"}"#, "symbol \"BRK.B\""),
    ];
    for (path, body, message) in modes {
        let (status, answer) = running.put(&path, body).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(message), "{path} {body}: {error}");
    }

    // Nothing was recorded or published: the first quote to arrive is the next good one.
    assert_eq!(running.get("/_feed/symbols").await, (200, json!({"symbols": []})));
    let (status, answer) = running.post("/_feed/quotes", &quote(json!({}))).await;
    assert_eq!(status, 200, "{answer}");
    received.wait_for(&symbol, 1).await;
    assert_eq!(received.raw(), [answer]);
    running.feed.stop().await;
}

#[tokio::test]
async fn the_feed_stops_on_shutdown() {
    let nats = TestNats::new();
    let symbol = own_symbol();
    let data = DataDir::new(&[("a.csv", A)]);
    let received = Received::subscribe(&nats.client().await, nats.subjects().quote(&symbol).subject()).await;
    let running = Running::start(settings(&nats, data.path(), &[(&symbol, "a.csv")])).await;
    received.wait_for(&symbol, 4).await;
    assert_eq!(running.get("/_feed/health").await, (200, json!({"status": "ok"})));

    tokio::time::timeout(TIMEOUT, running.feed.stop()).await.expect("the feed stops promptly");
    let refused = running.http.get(format!("{}/_feed/health", running.base)).send().await;
    assert!(refused.is_err(), "the control endpoint is closed: {refused:?}");
}

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}
