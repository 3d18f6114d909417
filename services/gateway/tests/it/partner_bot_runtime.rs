//! A hosted bot's open orders and log (`bots/orders`, `bots/logs`) against an in-test ledger
//! and runner: the ledger is asked whether the bot is the partner's (a yes cached), then the
//! runner; what each route refuses before asking anybody; the log's paging by offset and by
//! cursor; and how not-found and missing backends map to codes.

use crate::partner_backtest::partner;
use crate::partner_runtime_fakes::{
    BOT, Fakes, NOT_A_STRING, Route, bot_id, bot_only, check_a_bot_the_runner_does_not_know_is_1002,
    check_others_unknown_or_malformed_bot_is_1002, check_the_dashed_form_names_the_same_bot,
    check_the_key_comes_first_and_a_missing_backend_is_9503, check_the_ledgers_yes_is_reused_and_its_no_is_not,
    decimal, ledger, refusal, serve_runner, sorted_keys, success,
};
use crate::support::Gateway;
use bus::messages::hosted::GetHostedBot;
use bus::messages::live::{BotLogLine, BotLogPage, BotOrder, GetBotLogs, GetBotOrders};
use gateway::api::partner::paging::LineCursor;
use serde_json::{Value, json};

/// Lines in `BOT`'s log.
const LINES: i64 = 12;

/// Both routes take the bot alone.
const ROUTES: [Route; 2] = [Route { name: "orders", body: bot_only }, Route { name: "logs", body: bot_only }];

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

/// The runner's page of `BOT`'s `LINES` log lines: from line `after_line + 1`, at most `limit`.
fn log_page(query: GetBotLogs) -> BotLogPage {
    let first = query.after_line.saturating_add(1).max(1);
    let last = first.saturating_add(i64::from(query.limit) - 1).min(LINES);
    BotLogPage { items: (first..=last).map(line).collect(), more: last < LINES }
}

/// The ledger ([`ledger`]) and the runner's `bot_orders` and `bot_logs`.
async fn fakes(gateway: &Gateway) -> Fakes {
    let fakes = ledger(gateway).await;
    let subjects = gateway.nats.subjects();
    serve_runner(gateway, &fakes, subjects.bot_orders(), |seen, query| seen.orders.push(query), |_| orders()).await;
    serve_runner(gateway, &fakes, subjects.bot_logs(), |seen, query| seen.logs.push(query), log_page).await;
    fakes
}

/// A page of the log: the line numbers and the `nextPageId`.
async fn page(gateway: &Gateway, body: &str) -> (Vec<i64>, Option<String>) {
    let (_, data) = success(gateway, "logs", body).await;
    let lines = data["items"].as_array().unwrap().iter().map(|line| line["lineNumber"].as_i64().unwrap());
    (lines.collect(), data["nextPageId"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn open_orders_are_forwarded_as_the_runner_sends_them() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let (text, data) = success(&gateway, "orders", &bot_only(BOT)).await;
    assert_eq!(data, serde_json::to_value(orders()).unwrap());
    assert!(text.contains(r#""price":42500.5,"triggerPrice":0,"tradePrice":42500.5,"amount":0.1,"#), "{text}");
    assert_eq!(data[0]["positionId"], "");
    assert_eq!(data[1]["note"], "Grid sell #5");
    {
        let seen = fakes.seen.lock().unwrap();
        assert_eq!(seen.ledger, [GetHostedBot { partner_id: partner(), user_id: None, bot_id: BOT.into() }]);
        assert_eq!(seen.orders, [GetBotOrders { bot_id: bot_id(BOT) }]);
    }
    let data = check_the_dashed_form_names_the_same_bot(&gateway, &fakes, &ROUTES[0]).await;
    assert_eq!(data.as_array().unwrap().len(), 2, "{data}");
    assert_eq!(fakes.seen.lock().unwrap().orders.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_is_paged_by_cursor_or_by_offset() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let first = format!(r#"{{"botId": "{BOT}", "limit": 5, "nextPageId": "", "offset": 0}}"#);
    let (_, data) = success(&gateway, "logs", &first).await;
    assert_eq!(data["items"][1], serde_json::to_value(line(2)).unwrap(), "lines as the runner sends them");
    assert_eq!(data["items"][0]["color"], Value::Null);
    let token = data["nextPageId"].as_str().unwrap().to_string();
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
    let fakes = fakes(&gateway).await;
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
    check_others_unknown_or_malformed_bot_is_1002(fakes, &ROUTES).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_the_runner_does_not_know_is_1002_worded_like_the_ledgers() {
    let fakes = check_a_bot_the_runner_does_not_know_is_1002(fakes, &ROUTES).await;
    let seen = fakes.seen.lock().unwrap();
    assert_eq!((seen.orders.len(), seen.logs.len()), (2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledgers_yes_is_reused_and_its_no_is_not() {
    let [orders, logs] = &ROUTES;
    let fakes = check_the_ledgers_yes_is_reused_and_its_no_is_not(fakes, &[orders, logs, logs, logs]).await;
    let seen = fakes.seen.lock().unwrap();
    assert_eq!((seen.orders.len(), seen.logs.len()), (1, 3));
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

    let fields = |schema: &str| sorted_keys(&schemas[schema]["properties"]);
    let example = |path: &str| {
        document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["example"].clone()
    };
    let orders = example("/partner/v1/bots/orders");
    assert_eq!(sorted_keys(&orders["data"][0]), fields("PartnerBotOrder"));
    let wire = serde_json::to_value(&self::orders()[0]).unwrap();
    assert_eq!(sorted_keys(&orders["data"][0]), sorted_keys(&wire), "the wire shape");
    let logs = example("/partner/v1/bots/logs");
    assert_eq!(sorted_keys(&logs["data"]), fields("PartnerBotLogsPage"));
    assert_eq!(sorted_keys(&logs["data"]["items"][0]), fields("PartnerBotLogLine"));
    let last = logs["data"]["items"].as_array().unwrap().last().unwrap()["lineNumber"].as_i64().unwrap();
    assert_eq!(logs["data"]["nextPageId"], json!(LineCursor { line: last }.encode()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_comes_first_and_a_missing_backend_is_9503() {
    check_the_key_comes_first_and_a_missing_backend_is_9503(&ROUTES).await;
}
