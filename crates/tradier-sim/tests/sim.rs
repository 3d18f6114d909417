//! The simulator over real HTTP: every scripted step behaves as documented and the fixtures
//! are served verbatim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tradier_sim::{Fixture, HeldOrder, SimStatus, Step, TradierSim, fixtures};

/// A client builder with the ring provider installed (the workspace's reqwest has none built in).
fn http() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

const ACCOUNT: &str = "VA000001";

async fn start() -> TradierSim {
    TradierSim::start("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client() -> reqwest::Client {
    http().timeout(Duration::from_secs(10)).build().unwrap()
}

fn order_url(sim: &TradierSim, order_id: &str) -> String {
    format!("{}/v1/accounts/{ACCOUNT}/orders/{order_id}?includeTags=true", sim.base_url())
}

async fn get(sim: &TradierSim, order_id: &str) -> reqwest::Result<reqwest::Response> {
    client().get(order_url(sim, order_id)).bearer_auth("token-1").header("Accept", "application/json").send().await
}

async fn get_order(sim: &TradierSim, order_id: &str) -> Value {
    let response = get(sim, order_id).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["order"].clone()
}

#[tokio::test]
async fn any_order_id_gets_a_stable_filled_equity_order() {
    let sim = start().await;
    let first = get_order(&sim, "1234567").await;
    assert_eq!(first, get_order(&sim, "1234567").await);
    assert_eq!(first["id"], 1234567);
    assert_eq!(first["status"], "filled");
    assert_eq!(first["class"], "equity");
    assert_eq!(first["exec_quantity"], first["quantity"]);
    assert!(first["avg_fill_price"].as_f64().unwrap() >= 10.0);
    assert_ne!(get_order(&sim, "7654321").await, first, "another id, another order");
    assert_eq!(get_order(&sim, "demo-order").await["id"], "demo-order");
    assert_eq!(sim.requests(ACCOUNT, "1234567"), 2);
}

#[tokio::test]
async fn the_bearer_token_is_required() {
    let sim = start().await;
    let missing = client().get(order_url(&sim, "1")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.text().await.unwrap(), "Invalid Access Token");

    sim.require_token(ACCOUNT, "right");
    let wrong = client().get(order_url(&sim, "1")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = client().get(order_url(&sim, "1")).bearer_auth("right").send().await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(sim.requests(ACCOUNT, "1"), 3, "every GET counts, authorized or not");

    sim.accept_any_token(ACCOUNT);
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn fixtures_are_served_verbatim() {
    let sim = start().await;
    for fixture in Fixture::ALL {
        sim.hold(ACCOUNT, "99", HeldOrder::Fixture { fixture });
        let body = get(&sim, "99").await.unwrap().text().await.unwrap();
        assert_eq!(body, fixtures::envelope(fixture.order_json()), "{fixture:?}");
        assert!(body.contains(fixture.order_json().trim_end()), "the documented text is unchanged");
    }
    sim.hold(ACCOUNT, "99", HeldOrder::Raw { body: "{\"order\":\"null\"}".into() });
    assert_eq!(get(&sim, "99").await.unwrap().text().await.unwrap(), "{\"order\":\"null\"}");
    sim.release(ACCOUNT, "99");
    assert_eq!(get_order(&sim, "99").await["status"], "filled");
}

#[tokio::test]
async fn held_statuses_are_served_with_consistent_fills() {
    let sim = start().await;
    sim.hold(ACCOUNT, "5", HeldOrder::status(SimStatus::Open));
    let open = get_order(&sim, "5").await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["exec_quantity"].as_f64(), Some(0.0));
    assert_eq!(open["remaining_quantity"], open["quantity"]);
    sim.hold(ACCOUNT, "5", HeldOrder::status(SimStatus::PartiallyFilled));
    let partial = get_order(&sim, "5").await;
    let (quantity, exec) = (partial["quantity"].as_f64().unwrap(), partial["exec_quantity"].as_f64().unwrap());
    assert!(exec > 0.0 && exec < quantity, "{partial}");
    assert_eq!(partial["remaining_quantity"].as_f64(), Some(quantity - exec));
}

#[tokio::test]
async fn a_delay_step_delays_one_answer() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::Delay { ms: 300 }]);
    let started = Instant::now();
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(300), "the script is consumed");
}

#[tokio::test]
async fn a_rate_limited_step_answers_429_with_tradiers_headers() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::RateLimited { reset_in_ms: 1_500 }]);
    let response = get(&sim, "1").await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let header = |name: &str| response.headers()[name].to_str().unwrap().parse::<u64>().unwrap();
    assert_eq!(header("X-Ratelimit-Allowed"), 120);
    assert_eq!(header("X-Ratelimit-Used"), 120);
    assert_eq!(header("X-Ratelimit-Available"), 0);
    let now_ms = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap();
    let expiry = header("X-Ratelimit-Expiry");
    assert!(expiry > now_ms + 1_000 && expiry <= now_ms + 1_500, "epoch ms, reset_in_ms ahead: {expiry} vs {now_ms}");
    let ok = get(&sim, "1").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["X-Ratelimit-Available"], "119", "normal answers carry the headers too");
}

#[tokio::test]
async fn a_server_error_step_answers_that_status() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::ServerError { status: 503 }, Step::ServerError { status: 500 }]);
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_timeout_step_holds_the_request_past_the_clients_timeout() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::Timeout]);
    let short = http().timeout(Duration::from_millis(300)).build().unwrap();
    let error = short.get(order_url(&sim, "1")).bearer_auth("t").send().await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reset_step_closes_the_connection_without_an_answer() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::Reset]);
    let error = get(&sim, "1").await.unwrap_err();
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(get(&sim, "1").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_not_found_step_answers_404_then_the_order_appears() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::NotFound]);
    let missing = get(&sim, "1").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["errors"]["error"][0], "Order not found");
    assert_eq!(get_order(&sim, "1").await["status"], "filled");
    assert_eq!(sim.requests(ACCOUNT, "1"), 2);
}

#[tokio::test]
async fn a_malformed_step_answers_invalid_json() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::Malformed]);
    let response = get(&sim, "1").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body = response.text().await.unwrap();
    assert!(body.starts_with("{\n  \"order\""), "{body}");
    assert!(serde_json::from_str::<Value>(&body).is_err());
}

#[tokio::test]
async fn the_http_control_api_does_what_the_library_does() {
    let sim = start().await;
    let control = |path: &str| format!("{}/_sim/accounts/{ACCOUNT}/{path}", sim.base_url());
    let http = client();

    let held = http.put(control("orders/8")).body(r#"{"kind":"status","status":"canceled"}"#).send().await.unwrap();
    assert_eq!(held.status(), StatusCode::NO_CONTENT);
    assert_eq!(get_order(&sim, "8").await["status"], "canceled");

    let fixture = http.put(control("orders/8")).body(r#"{"kind":"fixture","fixture":"combo"}"#).send().await.unwrap();
    assert_eq!(fixture.status(), StatusCode::NO_CONTENT);
    assert_eq!(get_order(&sim, "8").await["id"], 229063);

    let script = http
        .post(control("orders/8/script"))
        .body(r#"[{"kind":"rate_limited","resetInMs":500},{"kind":"server_error","status":502}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&sim, "8").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(get(&sim, "8").await.unwrap().status(), StatusCode::BAD_GATEWAY);

    let requests: Value = http.get(control("orders/8/requests")).send().await.unwrap().json().await.unwrap();
    assert_eq!(requests, serde_json::json!({ "requests": 4 }));

    assert_eq!(http.delete(control("orders/8")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(get_order(&sim, "8").await["status"], "filled");

    let token = http.put(control("token")).body(r#"{"token":"secret-1"}"#).send().await.unwrap();
    assert_eq!(token.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&sim, "8").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(http.delete(control("token")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&sim, "8").await.unwrap().status(), StatusCode::OK);

    let bad = http.put(control("orders/8")).body(r#"{"kind":"status","status":"nope"}"#).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let health = http.get(format!("{}/_sim/health", sim.base_url())).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let reset = http.post(format!("{}/_sim/reset", sim.base_url())).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.requests(ACCOUNT, "8"), 0);
}

#[tokio::test]
async fn shutdown_closes_held_requests_and_the_listener() {
    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::Timeout]);
    let url = order_url(&sim, "1");
    let held = tokio::spawn(async move { client().get(url).bearer_auth("t").send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base_url = sim.base_url();
    let started = Instant::now();
    sim.shutdown().await;
    let result = held.await.unwrap();
    assert!(result.is_err(), "the held request ends with the server");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(client().get(format!("{base_url}/_sim/health")).send().await.is_err(), "nothing listens any more");
}

/// Collects formatted log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_log_line_per_request_and_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = start().await;
    sim.script(ACCOUNT, "1", vec![Step::Reset]);
    // Other tests hit the same callsite on other threads without a subscriber; tracing caches
    // interest per callsite process-wide, so recompute it for this thread's subscriber.
    tracing::callsite::rebuild_interest_cache();
    let _ = get(&sim, "1").await;
    tracing::callsite::rebuild_interest_cache();
    let _ = get(&sim, "1").await.unwrap();
    sim.shutdown().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains("token-1"), "{logs}");
    let lines: Vec<&str> = logs.lines().filter(|line| line.contains("tradier-sim request")).collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(lines[0].contains("reset") && lines[1].contains("200"), "{logs}");
}
