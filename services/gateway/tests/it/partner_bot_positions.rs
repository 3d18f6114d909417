//! A hosted bot's positions (`bots/positions/open`, `bots/positions/closed`,
//! `bots/positions/orders`) against an in-test ledger and runner: the ledger is asked whether
//! the bot is the partner's (a yes cached, shared with `bots/orders` and `bots/logs`), then the
//! runner; what each route refuses before asking anybody; the closed positions' paging by
//! cursor; and how not-found, an unknown position and missing backends map to codes.

use crate::partner_backtest::partner;
use crate::partner_runtime_fakes::{
    BOT, Fakes, NOT_A_STRING, Route, bot_id, bot_only, check_a_bot_the_runner_does_not_know_is_1002,
    check_others_unknown_or_malformed_bot_is_1002, check_the_dashed_form_names_the_same_bot,
    check_the_key_comes_first_and_a_missing_backend_is_9503, check_the_ledgers_yes_is_reused_and_its_no_is_not,
    decimal, ledger, refusal, serve_runner, sorted_keys, success,
};
use crate::support::Gateway;
use bus::messages::hosted::GetHostedBot;
use bus::messages::live::{
    BotPosition, BotPositionsPage, ClosedPositionCursor as Next, GetBotPositions, GetPositionOrders, PositionOrder,
    PositionOrders,
};
use gateway::api::partner::paging::{ClosedPositionCursor, LineCursor};
use serde_json::json;

/// `BOT`'s closed position whose orders the runner has.
const POSITION: &str = "0190d5e2a1b2c3d4e5f60718293a4b5c";
/// `BOT`'s closed positions.
const CLOSED: i64 = 7;

const NO_POSITION: &str = "positionId is required and must be a non-empty string";

/// The three routes; `positions/orders` names `POSITION` besides the bot.
const ROUTES: [Route; 3] = [
    Route { name: "positions/open", body: bot_only },
    Route { name: "positions/closed", body: bot_only },
    Route { name: "positions/orders", body: with_position },
];

fn with_position(bot: &str) -> String {
    format!(r#"{{"botId": "{bot}", "positionId": "{POSITION}"}}"#)
}

/// An open position.
fn open(id: &str, opened: i64, enter: &str, amount: &str, unrealized: &str) -> BotPosition {
    BotPosition {
        position_id: id.into(),
        status: "OPEN".into(),
        timestamp: opened,
        direction: "LONG".into(),
        enter_price: decimal(enter),
        exit_price: None,
        amount: decimal(amount),
        amount_label: format!("{amount} BTC"),
        unrealized_profit: decimal(unrealized),
        realized_profit: decimal("0"),
        profit_label: "0.00 USDT".into(),
        roi: decimal("0"),
        fee_costs: decimal("2.125025"),
        market: "SIM_BTC_USDT_".into(),
        leverage: 1,
        open_time: opened,
        close_time: 0,
        order_count: 1,
    }
}

fn open_positions() -> Vec<BotPosition> {
    vec![
        open("0190d5f4b2c36d7e8f9a0b1c2d3e4f5a", 1_766_070_000, "42500.50", "0.05", "15"),
        open("0190d5f6d4e58f9a0b1c2d3e4f5a6b7c", 1_766_073_600, "43000", "0.03", "-5.985"),
    ]
}

/// `BOT`'s closed position number `number` (1 to `CLOSED`): the higher, the later it closed;
/// positions 4 and 5 closed in the same second.
fn closed(number: i64) -> BotPosition {
    let close_time = 1_766_000_000 + 600 * if number >= 5 { number - 1 } else { number };
    BotPosition {
        position_id: format!("0190d5e2a1b2c3d4e5f60718293a4b{number:02x}"),
        status: "CLOSED".into(),
        timestamp: close_time - 300,
        exit_price: Some(decimal("42500")),
        amount: decimal("0.1"),
        amount_label: "0.1 BTC".into(),
        unrealized_profit: decimal("0"),
        realized_profit: decimal("50"),
        profit_label: "50.00 USDT".into(),
        roi: decimal("1.19"),
        fee_costs: decimal("8.45"),
        close_time,
        order_count: 2,
        ..open("", close_time - 300, "42000", "0.1", "0")
    }
}

/// Where position `number` stands in the closed list: `(close_time, number)`, newest first.
fn key(number: i64) -> (i64, i64) {
    (closed(number).close_time, number)
}

fn fill(id: &str, timestamp: i64, direction: &str, price: &str, fee: &str, profit: &str, roi: &str) -> PositionOrder {
    PositionOrder {
        order_id: id.into(),
        timestamp,
        direction: direction.into(),
        order_type: "Limit".into(),
        price: decimal(price),
        amount: decimal("0.1"),
        fee_costs: decimal(fee),
        fee_currency: "USDT".into(),
        profit: decimal(profit),
        roi: decimal(roi),
        note: format!("Grid {} #3", direction.to_lowercase()),
    }
}

fn position_orders() -> PositionOrders {
    PositionOrders {
        position_id: POSITION.into(),
        enter_orders: vec![fill("0190d5e2a0f1e2d3c4b5a69788796a5b", 1_766_024_000, "BUY", "42000", "4.2", "0", "0")],
        exit_orders: vec![fill(
            "0190d5e4c3d2e1f0a9b8c7d6e5f4a3b2",
            1_766_067_200,
            "SELL",
            "42500",
            "4.25",
            "50",
            "1.19",
        )],
    }
}

/// The runner's page of `BOT`'s closed positions: newest first by `(close_time, number)`,
/// after `after`, at most `limit`, with where the next starts while more remain.
fn closed_page(after: Option<Next>, limit: u32) -> BotPositionsPage {
    let after = after.map_or((i64::MAX, i64::MAX), |next| (next.close_time, next.position));
    let rest: Vec<i64> = (1..=CLOSED).rev().filter(|number| key(*number) < after).collect();
    let shown = &rest[..rest.len().min(limit as usize)];
    let next = shown.last().filter(|_| shown.len() < rest.len()).map(|number| {
        let (close_time, position) = key(*number);
        Next { close_time, position }
    });
    BotPositionsPage { items: shown.iter().copied().map(closed).collect(), next }
}

/// The runner's answer to `bot_positions` for `BOT`: all the open positions, or a page of the
/// closed ones.
fn positions(query: GetBotPositions) -> BotPositionsPage {
    match query.closed {
        false => BotPositionsPage { items: open_positions(), next: None },
        true => closed_page(query.after, query.limit),
    }
}

/// The runner's answer to `position_orders` for `BOT`: the orders of `POSITION`, none for any
/// other id.
fn orders_of(query: GetPositionOrders) -> Option<PositionOrders> {
    (query.position_id == POSITION).then(position_orders)
}

/// The ledger ([`ledger`]) and the runner's `bot_positions` and `position_orders`.
async fn fakes(gateway: &Gateway) -> Fakes {
    let fakes = ledger(gateway).await;
    let subjects = gateway.nats.subjects();
    serve_runner(gateway, &fakes, subjects.bot_positions(), |seen, query| seen.positions.push(query), positions).await;
    serve_runner(
        gateway,
        &fakes,
        subjects.position_orders(),
        |seen, query| seen.position_orders.push(query),
        orders_of,
    )
    .await;
    fakes
}

/// A page of the closed positions: their ids' last two digits (the numbers) and the
/// `nextPageId`.
async fn page(gateway: &Gateway, body: &str) -> (Vec<i64>, Option<String>) {
    let (_, data) = success(gateway, "positions/closed", body).await;
    let numbers = data["items"].as_array().unwrap().iter().map(|position| {
        let id = position["positionId"].as_str().unwrap();
        i64::from_str_radix(&id[30..], 16).unwrap()
    });
    (numbers.collect(), data["nextPageId"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn open_positions_are_forwarded_as_the_runner_sends_them() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let (text, data) = success(&gateway, "positions/open", &bot_only(BOT)).await;
    assert_eq!(data, serde_json::to_value(open_positions()).unwrap(), "the array, no page around it");
    assert!(text.contains(r#""enterPrice":42500.5,"exitPrice":null,"amount":0.05,"#), "{text}");
    assert!(text.contains(r#""unrealizedProfit":-5.985,"#), "{text}");
    {
        let seen = fakes.seen.lock().unwrap();
        assert_eq!(seen.ledger, [GetHostedBot { partner_id: partner(), user_id: None, bot_id: BOT.into() }]);
        let all = GetBotPositions { bot_id: bot_id(BOT), closed: false, after: None, limit: 10_000 };
        assert_eq!(seen.positions, [all]);
    }
    let data = check_the_dashed_form_names_the_same_bot(&gateway, &fakes, &ROUTES[0]).await;
    assert_eq!(data.as_array().unwrap().len(), 2, "{data}");
    assert_eq!(fakes.seen.lock().unwrap().positions.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_positions_are_paged_newest_first_by_the_runners_cursor() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let first = format!(r#"{{"botId": "{BOT}", "limit": 3, "nextPageId": ""}}"#);
    let (_, data) = success(&gateway, "positions/closed", &first).await;
    assert_eq!(data["items"][0], serde_json::to_value(closed(7)).unwrap(), "positions as the runner sends them");
    let token = data["nextPageId"].as_str().unwrap().to_string();
    let (close_time, position) = key(5);
    assert_eq!(token, ClosedPositionCursor { close_time, position }.encode(), "the runner's next, encoded");

    // 5 and 4 closed in the same second: the number breaks the tie, so none is lost or repeated.
    let next = |token: &str| format!(r#"{{"botId": "{BOT}", "limit": 3, "nextPageId": "{token}"}}"#);
    let (numbers, token) = page(&gateway, &next(&token)).await;
    assert_eq!(numbers, [4, 3, 2]);
    let (numbers, token) = page(&gateway, &next(&token.unwrap())).await;
    assert_eq!((numbers, token), (vec![1], None), "null on the last page");
    // No limit is 10,000: one page; -1 too.
    assert_eq!(page(&gateway, &bot_only(BOT)).await, ((1..=CLOSED).rev().collect(), None));
    let after_six = ClosedPositionCursor { close_time: key(6).0, position: 6 }.encode();
    let body = format!(r#"{{"botId": "{BOT}", "limit": -1, "nextPageId": "{after_six}"}}"#);
    assert_eq!(page(&gateway, &body).await, (vec![5, 4, 3, 2, 1], None));

    let seen = fakes.seen.lock().unwrap();
    let asked: Vec<_> = seen.positions.iter().map(|query| (query.closed, query.after, query.limit)).collect();
    let after = |number| {
        let (close_time, position) = key(number);
        Some(Next { close_time, position })
    };
    assert_eq!(
        asked,
        [(true, None, 3), (true, after(5), 3), (true, after(2), 3), (true, None, 10_000), (true, after(6), 10_000)]
    );
    assert!(seen.positions.iter().all(|query| query.bot_id == bot_id(BOT)));
    assert_eq!(seen.ledger.len(), 1, "the ledger's yes reused while paging");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_positions_orders_are_forwarded_and_an_unknown_position_is_1012() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let (text, data) = success(&gateway, "positions/orders", &with_position(BOT)).await;
    assert_eq!(data, serde_json::to_value(position_orders()).unwrap());
    assert!(text.contains(r#""data":{"positionId":"0190d5e2a1b2c3d4e5f60718293a4b5c","enterOrders":[{"#), "{text}");
    assert_eq!(data["exitOrders"][0]["profit"], json!(50));

    // Another position, another bot's, a malformed id: the runner has none, so 1012 names it.
    let open = "0190d5f4b2c36d7e8f9a0b1c2d3e4f5a";
    for position in [open, "pos_abc123xyz789", "0190D5E2A1B2C3D4E5F60718293A4B5C", " "] {
        let body = format!(r#"{{"botId": "{BOT}", "positionId": "{position}"}}"#);
        let expected = (404, json!(1012), json!(format!("Position '{position}' not found")));
        assert_eq!(refusal(&gateway, "positions/orders", &body).await, expected, "{position}");
    }
    let seen = fakes.seen.lock().unwrap();
    let asked: Vec<_> = seen.position_orders.iter().map(|query| query.position_id.as_str()).collect();
    assert_eq!(asked, [POSITION, open, "pos_abc123xyz789", "0190D5E2A1B2C3D4E5F60718293A4B5C", " "], "as sent");
    assert!(seen.position_orders.iter().all(|query| query.bot_id == bot_id(BOT)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_is_refused_before_anybody_is_asked() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let limit = "limit must be -1 or between 1 and 10000";
    let token = "nextPageId is not a valid page token";
    let line = LineCursor { line: 5 }.encode();
    let padded = format!("{}=", ClosedPositionCursor { close_time: 1, position: 10 }.encode());
    let signed = base64_url("+1766073600.7");
    for (route, body, message) in [
        ("open", "{".to_string(), "Invalid JSON in request body"),
        ("open", "{}".into(), NOT_A_STRING),
        ("open", r#"{"botId": ""}"#.into(), NOT_A_STRING),
        ("open", r#"{"botId": 7}"#.into(), NOT_A_STRING),
        ("open", format!(r#"{{"botId": "{BOT}", "limit": 5}}"#), "Unknown field 'limit'"),
        ("closed", String::new(), NOT_A_STRING),
        ("closed", r#"{"limit": 5}"#.into(), NOT_A_STRING),
        ("closed", r#"{"botId": null}"#.into(), NOT_A_STRING),
        ("closed", format!(r#"{{"botId": "{BOT}", "offset": 0}}"#), "Unknown field 'offset'"),
        ("closed", format!(r#"{{"botId": "{BOT}", "limit": 0}}"#), limit),
        ("closed", format!(r#"{{"botId": "{BOT}", "limit": 10001}}"#), limit),
        ("closed", format!(r#"{{"botId": "{BOT}", "limit": "5"}}"#), limit),
        ("closed", format!(r#"{{"botId": "{BOT}", "nextPageId": "not a token"}}"#), token),
        ("closed", format!(r#"{{"botId": "{BOT}", "nextPageId": 5}}"#), token),
        ("closed", format!(r#"{{"botId": "{BOT}", "nextPageId": "{line}"}}"#), token),
        ("closed", format!(r#"{{"botId": "{BOT}", "nextPageId": "{padded}"}}"#), token),
        ("closed", format!(r#"{{"botId": "{BOT}", "nextPageId": "{signed}"}}"#), token),
        ("orders", "{".into(), "Invalid JSON in request body"),
        ("orders", "{}".into(), NOT_A_STRING),
        ("orders", format!(r#"{{"positionId": "{POSITION}"}}"#), NOT_A_STRING),
        ("orders", format!(r#"{{"botId": "{BOT}"}}"#), NO_POSITION),
        ("orders", format!(r#"{{"botId": "{BOT}", "positionId": ""}}"#), NO_POSITION),
        ("orders", format!(r#"{{"botId": "{BOT}", "positionId": null}}"#), NO_POSITION),
        ("orders", format!(r#"{{"botId": "{BOT}", "positionId": 17}}"#), NO_POSITION),
        ("orders", format!(r#"{{"botId": "{BOT}", "positionId": "x", "limit": 5}}"#), "Unknown field 'limit'"),
    ] {
        let refused = refusal(&gateway, &format!("positions/{route}"), &body).await;
        assert_eq!(refused, (400, json!(1000), json!(message)), "{route} {body}");
    }
    assert_eq!(fakes.seen.lock().unwrap().asked(), 0, "refused before any request but the key's");
}

/// `text` in base64url without padding, as the cursors write theirs.
fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test(flavor = "multi_thread")]
async fn another_partners_unknown_or_malformed_bot_is_1002_as_bots_get_words_it() {
    check_others_unknown_or_malformed_bot_is_1002(fakes, &ROUTES).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_the_runner_does_not_know_is_1002_worded_like_the_ledgers() {
    let fakes = check_a_bot_the_runner_does_not_know_is_1002(fakes, &ROUTES).await;
    let seen = fakes.seen.lock().unwrap();
    assert_eq!((seen.positions.len(), seen.position_orders.len()), (4, 2), "open and closed ask bot_positions");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledgers_yes_is_reused_across_the_routes_and_its_no_is_not() {
    let [open, closed, orders] = &ROUTES;
    let fakes = check_the_ledgers_yes_is_reused_and_its_no_is_not(fakes, &[open, closed, orders, closed]).await;
    let seen = fakes.seen.lock().unwrap();
    assert_eq!((seen.positions.len(), seen.position_orders.len()), (3, 1));
}

#[test]
fn the_document_states_the_bodies_and_its_examples_have_the_schemas_fields() {
    use utoipa::OpenApi;
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    let schemas = &document["components"]["schemas"];
    let required =
        |schema: &str| (schemas[schema]["required"].clone(), schemas[schema]["additionalProperties"].clone());
    assert_eq!(required("ClosedPositionsBody"), (json!(["botId"]), json!(false)));
    assert_eq!(required("PositionOrdersBody"), (json!(["botId", "positionId"]), json!(false)));
    assert_eq!(schemas["PositionOrdersBody"]["properties"]["positionId"]["minLength"], 1);
    assert!(schemas["PartnerBotPosition"]["required"].as_array().unwrap().contains(&json!("exitPrice")));
    let body = |path: &str| &document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body("/partner/v1/bots/positions/open")["$ref"], "#/components/schemas/BotIdBody");

    let fields = |schema: &str| sorted_keys(&schemas[schema]["properties"]);
    let response = |path: &str| &document["paths"][path]["post"]["responses"];
    let example = |path: &str| response(path)["200"]["content"]["application/json"]["example"].clone();
    let wire = serde_json::to_value(open_positions()).unwrap();
    let open = example("/partner/v1/bots/positions/open");
    for position in open["data"].as_array().unwrap() {
        assert_eq!(sorted_keys(position), fields("PartnerBotPosition"));
        assert_eq!(sorted_keys(position), sorted_keys(&wire[0]), "the wire shape");
        assert_eq!(position["status"], "OPEN");
    }
    let closed = example("/partner/v1/bots/positions/closed");
    assert_eq!(sorted_keys(&closed["data"]), fields("PartnerClosedPositionsPage"));
    let items = closed["data"]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|position| sorted_keys(position) == fields("PartnerBotPosition") && position["status"] == "CLOSED")
    );
    let token = closed["data"]["nextPageId"].as_str().unwrap();
    let cursor = <ClosedPositionCursor as gateway::api::partner::paging::PageCursor>::decode(token).unwrap();
    assert_eq!(json!(cursor.close_time), items.last().unwrap()["closeTime"], "after the last position shown");
    let orders = example("/partner/v1/bots/positions/orders");
    let wire = serde_json::to_value(position_orders()).unwrap();
    assert_eq!(sorted_keys(&orders["data"]), fields("PartnerPositionOrders"));
    assert_eq!(sorted_keys(&orders["data"]), sorted_keys(&wire), "the wire shape");
    for side in ["enterOrders", "exitOrders"] {
        assert_eq!(sorted_keys(&orders["data"][side][0]), fields("PartnerPositionOrder"), "{side}");
        assert_eq!(sorted_keys(&orders["data"][side][0]), sorted_keys(&wire["enterOrders"][0]));
    }
    assert_eq!(orders["data"]["positionId"], items[0]["positionId"], "the closed example's first position");

    let codes = |path: &str, status: &str| {
        response(path)[status]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"]
            .clone()
    };
    assert_eq!(codes("/partner/v1/bots/positions/orders", "404"), json!([1002, 1012]));
    for path in ["/partner/v1/bots/positions/open", "/partner/v1/bots/positions/closed"] {
        assert_eq!(codes(path, "404"), json!([1002]), "{path}");
        assert_eq!(codes(path, "400"), json!([1000]), "{path}");
        assert_eq!(codes(path, "503"), json!([9503]), "{path}");
    }
    for path in ["/partner/v1/bots/positions/open", "/partner/v1/bots/positions/closed"] {
        let description = response(path)["200"]["description"].as_str().unwrap();
        assert!(description.contains("`realizedProfit` is GROSS"), "{path}: {description}");
    }
    let closed_description = response("/partner/v1/bots/positions/closed")["200"]["description"].as_str().unwrap();
    assert!(closed_description.contains("or near 256 KiB"), "{closed_description}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_comes_first_and_a_missing_backend_is_9503() {
    check_the_key_comes_first_and_a_missing_backend_is_9503(&ROUTES).await;
}
