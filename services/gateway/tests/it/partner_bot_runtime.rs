//! A hosted bot's open orders and log (`bots/orders`, `bots/logs`) against an in-test ledger
//! and runner: the ledger is asked whether the bot is the partner's (a yes cached), then the
//! runner; what each route refuses before asking anybody; the log's paging by offset and by
//! cursor; and how not-found and missing backends map to codes.

use crate::partner_backtest::{KEY, fake_ledger, partner, serve};
use crate::support::Gateway;
use bus::BusError;
use bus::messages::hosted::{GetHostedBot, HostedBotView};
use bus::messages::live::{BotLogLine, BotLogPage, BotOrder, GetBotLogs, GetBotOrders};
use bus::messages::partner::reference::JsonDecimal;
use domain::{BotId, UserId};
use gateway::api::partner::paging::LineCursor;
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The partner's bot the runner knows.
const BOT: &str = "6dafad4e364449c9906296aab8eff2f7";
/// The partner's bot the runner does not know (not yet heard of, or purged).
const GHOST: &str = "0190d5f0a1b27c3d8e4f5a6b7c8d9e0f";
/// Another partner's bot.
const OTHERS: &str = "895aef7fe5eb4b368ece3d4e65729769";
/// Lines in `BOT`'s log.
const LINES: i64 = 12;

const NOT_A_STRING: &str = "botId is required and must be a non-empty string";

fn bot_id(text: &str) -> BotId {
    text.parse().unwrap()
}

fn view(bot: &str) -> HostedBotView {
    HostedBotView {
        user_id: UserId::from_uuid(Uuid::from_u128(1)),
        bot_id: bot.into(),
        status: "running".into(),
        master_bot_id: String::new(),
        created_at: 1_766_070_000,
        script_type: "spot_grid".into(),
        exchange_id: "SIM".into(),
        settings: RawValue::from_string(r#"{"symbol":"SIM_BTC_USDT_"}"#.into()).unwrap(),
        profit: JsonDecimal(Decimal::ZERO),
        roi: JsonDecimal(Decimal::ZERO),
        cloned: 0,
        followers: 0,
    }
}

fn decimal(text: &str) -> JsonDecimal {
    JsonDecimal(text.parse().unwrap())
}

fn order(id: &str, direction: &str, price: &str, amount: &str, position: &str, note: &str) -> BotOrder {
    BotOrder {
        order_id: id.into(),
        exchange_order_id: id.into(),
        position_id: position.into(),
        status: "OPEN".into(),
        timestamp: 1_766_070_000,
        direction: direction.into(),
        order_type: "Limit".into(),
        price: decimal(price),
        trigger_price: decimal("0"),
        trade_price: decimal(price),
        amount: decimal(amount),
        amount_filled: decimal("0"),
        fee_costs: decimal("0"),
        fee_currency: "USDT".into(),
        gross_profit: decimal("0"),
        roi: decimal("0"),
        market: "SIM_BTC_USDT_".into(),
        leverage: 1,
        note: note.into(),
    }
}

fn orders() -> Vec<BotOrder> {
    vec![
        order("0190d5f0a1b27c3d8e4f5a6b7c8d9e01", "BUY", "42500.50", "0.1", "", "Grid buy #5"),
        order(
            "0190d5f0a1b27c3d8e4f5a6b7c8d9e02",
            "SELL",
            "43000",
            "0.05",
            "0190d5f4b2c36d7e8f9a0b1c2d3e4f5a",
            "Grid sell #5",
        ),
    ]
}

fn line(line_number: i64) -> BotLogLine {
    let custom = line_number == 2;
    BotLogLine {
        line_number,
        timestamp: 1_766_070_000 + line_number,
        severity: if custom { "custom" } else { "info" }.into(),
        color: custom.then(|| "rgba(128, 128, 128, 1.00)".into()),
        message: format!("line {line_number}"),
    }
}

/// What the ledger and the runner were asked.
#[derive(Default)]
struct Seen {
    ledger: Vec<GetHostedBot>,
    orders: Vec<GetBotOrders>,
    logs: Vec<GetBotLogs>,
}

impl Seen {
    fn asked(&self) -> usize {
        self.ledger.len() + self.orders.len() + self.logs.len()
    }
}

struct Fakes {
    seen: Arc<Mutex<Seen>>,
    shutdown: CancellationToken,
}

impl Drop for Fakes {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The ledger's `authenticate` and `hosted_bot` (the partner has `BOT` and `GHOST`; `OTHERS` is
/// another partner's), and with `runner` the runner's two queries (it knows `BOT` only).
async fn fakes(gateway: &Gateway, runner: bool) -> Fakes {
    let shutdown = CancellationToken::new();
    fake_ledger(gateway, &shutdown).await;
    let subjects = gateway.nats.subjects();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let ledger = seen.clone();
    serve(gateway, &shutdown, subjects.hosted_bot(), move |query: GetHostedBot| {
        let ledger = ledger.clone();
        async move {
            ledger.lock().unwrap().ledger.push(query.clone());
            // As the ledger reads an id: 32 hex digits or the dashed form.
            let id =
                Some(&query.bot_id).filter(|id| matches!(id.len(), 32 | 36)).and_then(|id| id.parse::<BotId>().ok());
            let owned = [bot_id(BOT), bot_id(GHOST)];
            match id.filter(|id| query.partner_id == partner() && owned.contains(id)) {
                Some(id) => Ok(view(&id.as_uuid().simple().to_string())),
                None => Err(BusError::not_found(format!("Bot '{}' not found", query.bot_id))),
            }
        }
    })
    .await;
    if runner {
        let asked = seen.clone();
        serve(gateway, &shutdown, subjects.bot_orders(), move |query: GetBotOrders| {
            let asked = asked.clone();
            async move {
                asked.lock().unwrap().orders.push(query.clone());
                if query.bot_id != bot_id(BOT) {
                    return Err(BusError::not_found(format!("bot {} is not known here", query.bot_id)));
                }
                Ok(orders())
            }
        })
        .await;
        let asked = seen.clone();
        serve(gateway, &shutdown, subjects.bot_logs(), move |query: GetBotLogs| {
            let asked = asked.clone();
            async move {
                asked.lock().unwrap().logs.push(query.clone());
                if query.bot_id != bot_id(BOT) {
                    return Err(BusError::not_found(format!("bot {} is not known here", query.bot_id)));
                }
                let first = query.after_line.saturating_add(1).max(1);
                let last = first.saturating_add(i64::from(query.limit) - 1).min(LINES);
                Ok(BotLogPage { items: (first..=last).map(line).collect(), more: last < LINES })
            }
        })
        .await;
    }
    Fakes { seen, shutdown }
}

/// A POST with the partner's key: the status, the body as text and as JSON.
async fn call(gateway: &Gateway, path: &str, body: &str) -> (u16, String, Value) {
    let response = test_support::http_client()
        .post(gateway.url(path))
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, text, json)
}

/// The status, code and message of a refusal.
async fn refusal(gateway: &Gateway, route: &str, body: &str) -> (u16, Value, Value) {
    let (status, _, json) = call(gateway, &format!("/partner/v1/bots/{route}"), body).await;
    assert_eq!((json["isSuccess"].clone(), json["data"].clone()), (json!(false), Value::Null), "{json}");
    (status, json["code"].clone(), json["message"].clone())
}

/// A page of the log: the line numbers and the `nextPageId`.
async fn page(gateway: &Gateway, body: &str) -> (Vec<i64>, Option<String>) {
    let (status, _, json) = call(gateway, "/partner/v1/bots/logs", body).await;
    assert_eq!(status, 200, "{body}: {json}");
    let lines = json["data"]["items"].as_array().unwrap().iter().map(|line| line["lineNumber"].as_i64().unwrap());
    (lines.collect(), json["data"]["nextPageId"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn open_orders_are_forwarded_as_the_runner_sends_them() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, true).await;

    let (status, text, body) = call(&gateway, "/partner/v1/bots/orders", &format!(r#"{{"botId": "{BOT}"}}"#)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["isSuccess"].clone(), body["code"].clone()), (json!(true), json!(0)));
    assert_eq!(body["data"], serde_json::to_value(orders()).unwrap());
    assert!(text.contains(r#""price":42500.5,"triggerPrice":0,"tradePrice":42500.5,"amount":0.1,"#), "{text}");
    assert_eq!(body["data"][0]["positionId"], "");
    assert_eq!(body["data"][1]["note"], "Grid sell #5");
    {
        let seen = fakes.seen.lock().unwrap();
        assert_eq!(seen.ledger, [GetHostedBot { partner_id: partner(), user_id: None, bot_id: BOT.into() }]);
        assert_eq!(seen.orders, [GetBotOrders { bot_id: bot_id(BOT) }]);
    }
    // The dashed form names the same bot: the runner gets the id, the ledger the text as sent.
    let dashed = bot_id(BOT).to_string();
    let (status, _, body) = call(&gateway, "/partner/v1/bots/orders", &format!(r#"{{"botId": "{dashed}"}}"#)).await;
    assert_eq!((status, body["data"].as_array().unwrap().len()), (200, 2), "{body}");
    let seen = fakes.seen.lock().unwrap();
    assert_eq!(seen.ledger[1].bot_id, dashed);
    assert_eq!(seen.orders[1], GetBotOrders { bot_id: bot_id(BOT) });
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_is_paged_by_cursor_or_by_offset() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, true).await;

    let (status, _, body) = call(
        &gateway,
        "/partner/v1/bots/logs",
        &format!(r#"{{"botId": "{BOT}", "limit": 5, "nextPageId": "", "offset": 0}}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["items"][1], serde_json::to_value(line(2)).unwrap(), "lines as the runner sends them");
    assert_eq!(body["data"]["items"][0]["color"], Value::Null);
    let token = body["data"]["nextPageId"].as_str().unwrap().to_string();
    assert_eq!(token, LineCursor { line: 5 }.encode(), "the last line's number");

    let next = |token: &str| format!(r#"{{"botId": "{BOT}", "limit": 5, "nextPageId": "{token}"}}"#);
    let (lines, token) = page(&gateway, &next(&token)).await;
    assert_eq!(lines, [6, 7, 8, 9, 10]);
    let (lines, token) = page(&gateway, &next(&token.unwrap())).await;
    assert_eq!((lines, token), (vec![11, 12], None), "null on the last page");
    let with_zero_offset =
        format!(r#"{{"botId": "{BOT}", "nextPageId": "{}", "offset": 0}}"#, LineCursor { line: 10 }.encode());
    assert_eq!(page(&gateway, &with_zero_offset).await, (vec![11, 12], None));

    // Without a cursor the page starts at line offset + 1; no limit is 10,000.
    let (lines, token) = page(&gateway, &format!(r#"{{"botId": "{BOT}", "limit": 2, "offset": 3}}"#)).await;
    assert_eq!((lines, token), (vec![4, 5], Some(LineCursor { line: 5 }.encode())));
    assert_eq!(page(&gateway, &format!(r#"{{"botId": "{BOT}", "offset": 10}}"#)).await, (vec![11, 12], None));
    assert_eq!(page(&gateway, &format!(r#"{{"botId": "{BOT}", "offset": 12}}"#)).await, (vec![], None));

    let seen = fakes.seen.lock().unwrap();
    let asked: Vec<_> = seen.logs.iter().map(|query| (query.after_line, query.limit)).collect();
    assert_eq!(asked, [(0, 5), (5, 5), (10, 5), (10, 10_000), (3, 2), (10, 10_000), (12, 10_000)]);
    assert!(seen.logs.iter().all(|query| query.bot_id == bot_id(BOT)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_is_refused_before_anybody_is_asked() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, true).await;
    let cursor = LineCursor { line: 5 }.encode();
    let limit = "limit must be -1 or between 1 and 10000";
    let offset = "offset must be an integer between 0 and 2147483647";
    let token = "nextPageId is not a valid page token";
    for (route, body, message) in [
        ("orders", "{".to_string(), "Invalid JSON in request body"),
        ("orders", "{}".into(), NOT_A_STRING),
        ("orders", r#"{"botId": ""}"#.into(), NOT_A_STRING),
        ("orders", r#"{"botId": 7}"#.into(), NOT_A_STRING),
        ("orders", format!(r#"{{"botId": "{BOT}", "userId": "x"}}"#), "Unknown field 'userId'"),
        ("logs", String::new(), NOT_A_STRING),
        ("logs", r#"{"limit": 5}"#.into(), NOT_A_STRING),
        ("logs", r#"{"botId": null}"#.into(), NOT_A_STRING),
        ("logs", format!(r#"{{"botId": "{BOT}", "page": 2}}"#), "Unknown field 'page'"),
        ("logs", format!(r#"{{"botId": "{BOT}", "limit": 0}}"#), limit),
        ("logs", format!(r#"{{"botId": "{BOT}", "limit": 10001}}"#), limit),
        ("logs", format!(r#"{{"botId": "{BOT}", "limit": "5"}}"#), limit),
        ("logs", format!(r#"{{"botId": "{BOT}", "offset": -1}}"#), offset),
        ("logs", format!(r#"{{"botId": "{BOT}", "offset": 1.5}}"#), offset),
        ("logs", format!(r#"{{"botId": "{BOT}", "offset": "0"}}"#), offset),
        ("logs", format!(r#"{{"botId": "{BOT}", "nextPageId": "not a token"}}"#), token),
        ("logs", format!(r#"{{"botId": "{BOT}", "nextPageId": "MA"}}"#), token),
        ("logs", format!(r#"{{"botId": "{BOT}", "nextPageId": 5}}"#), token),
        (
            "logs",
            format!(r#"{{"botId": "{BOT}", "nextPageId": "{cursor}", "offset": 3}}"#),
            "offset must be 0 when nextPageId is given",
        ),
    ] {
        assert_eq!(refusal(&gateway, route, &body).await, (400, json!(1000), json!(message)), "{route} {body}");
    }
    assert_eq!(fakes.seen.lock().unwrap().asked(), 0, "refused before any request but the key's");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_partners_unknown_or_malformed_bot_is_1002_as_bots_get_words_it() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, true).await;
    for route in ["orders", "logs"] {
        for bot in [OTHERS, "7d7e643ac399492c8adf1add09316abb", "not-a-bot", "7D7E"] {
            let body = format!(r#"{{"botId": "{bot}"}}"#);
            let expected = (404, json!(1002), json!(format!("Bot '{bot}' not found")));
            assert_eq!(refusal(&gateway, route, &body).await, expected, "{route} {bot}");
        }
    }
    let seen = fakes.seen.lock().unwrap();
    assert_eq!(seen.ledger.len(), 8, "the ledger judges every id");
    assert!(seen.ledger.iter().all(|query| query.partner_id == partner() && query.user_id.is_none()));
    assert_eq!(seen.orders.len() + seen.logs.len(), 0, "the runner is not asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_the_runner_does_not_know_is_1002_worded_like_the_ledgers() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, true).await;
    let dashed = bot_id(GHOST).to_string();
    for route in ["orders", "logs"] {
        for bot in [GHOST, dashed.as_str()] {
            let expected = (404, json!(1002), json!(format!("Bot '{bot}' not found")));
            assert_eq!(refusal(&gateway, route, &format!(r#"{{"botId": "{bot}"}}"#)).await, expected, "{route} {bot}");
        }
    }
    let seen = fakes.seen.lock().unwrap();
    assert_eq!((seen.orders.len(), seen.logs.len()), (2, 2));
    assert!(seen.orders.iter().all(|query| query.bot_id == bot_id(GHOST)));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledgers_yes_is_reused_and_its_no_is_not() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, true).await;
    let body = format!(r#"{{"botId": "{BOT}", "limit": 5}}"#);
    for _ in 0..3 {
        assert_eq!(call(&gateway, "/partner/v1/bots/logs", &body).await.0, 200);
    }
    assert_eq!(call(&gateway, "/partner/v1/bots/orders", &format!(r#"{{"botId": "{BOT}"}}"#)).await.0, 200);
    for _ in 0..2 {
        assert_eq!(refusal(&gateway, "orders", &format!(r#"{{"botId": "{OTHERS}"}}"#)).await.0, 404);
    }
    let seen = fakes.seen.lock().unwrap();
    let asked: Vec<_> = seen.ledger.iter().map(|query| query.bot_id.as_str()).collect();
    assert_eq!(asked, [BOT, OTHERS, OTHERS], "one question per partner and bot within 5 s");
    assert_eq!((seen.logs.len(), seen.orders.len()), (3, 1), "the runner every time");
}

#[test]
fn the_document_states_the_bodies_rules_and_its_examples_have_the_schemas_fields() {
    use utoipa::OpenApi;
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    let schemas = &document["components"]["schemas"];
    let body = &schemas["BotLogsBody"];
    assert_eq!((body["required"].clone(), body["additionalProperties"].clone()), (json!(["botId"]), json!(false)));
    let offset = &body["properties"]["offset"];
    assert_eq!((offset["type"].clone(), offset["minimum"].clone()), (json!("integer"), json!(0)), "{offset}");
    assert_eq!(offset["maximum"], json!(i32::MAX));
    let rule = &body["allOf"][0];
    assert_eq!(rule["if"]["required"], json!(["nextPageId"]));
    assert_eq!(rule["then"]["properties"]["offset"]["const"], 0);

    let fields = |schema: &str| {
        let mut names: Vec<String> = schemas[schema]["properties"].as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    let keys = |item: &Value| {
        let mut names: Vec<String> = item.as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    let example = |path: &str| {
        document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["example"].clone()
    };
    let orders = example("/partner/v1/bots/orders");
    assert_eq!(keys(&orders["data"][0]), fields("PartnerBotOrder"));
    assert_eq!(keys(&orders["data"][0]), keys(&serde_json::to_value(&self::orders()[0]).unwrap()), "the wire shape");
    let logs = example("/partner/v1/bots/logs");
    assert_eq!(keys(&logs["data"]), fields("PartnerBotLogsPage"));
    assert_eq!(keys(&logs["data"]["items"][0]), fields("PartnerBotLogLine"));
    let last = logs["data"]["items"].as_array().unwrap().last().unwrap()["lineNumber"].as_i64().unwrap();
    assert_eq!(logs["data"]["nextPageId"], json!(LineCursor { line: last }.encode()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_comes_first_and_a_missing_backend_is_9503() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway, false).await;
    for route in ["orders", "logs"] {
        let response = test_support::http_client()
            .post(gateway.url(&format!("/partner/v1/bots/{route}")))
            .header("x-api-key", "wrong")
            .body("{")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{route}");
        assert_eq!(response.json::<Value>().await.unwrap()["code"], 1401, "{route}");
    }
    // The ledger answers; no runner does.
    for route in ["orders", "logs"] {
        let answer = refusal(&gateway, route, &format!(r#"{{"botId": "{BOT}"}}"#)).await;
        assert_eq!((answer.0, answer.1), (503, json!(9503)), "{route}");
    }
    assert_eq!(fakes.seen.lock().unwrap().ledger.len(), 1, "asked once, then cached");
    drop(fakes);

    // Only `authenticate` answers: the ledger's `hosted_bot` has no responder.
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    for route in ["orders", "logs"] {
        let answer = refusal(&gateway, route, &format!(r#"{{"botId": "{BOT}"}}"#)).await;
        assert_eq!((answer.0, answer.1), (503, json!(9503)), "{route}");
    }
    shutdown.cancel();
}
