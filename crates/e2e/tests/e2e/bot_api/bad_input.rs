//! Bad input gets a 400 in the Bot API's shape naming the field, and changes nothing: every
//! case below against the real ledger, then every table the Bot API writes compared with
//! how it was before.

use super::fixture::Fixture;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::ServiceName;
use reqwest::Method;
use serde_json::{Value, json};

/// The tables a Bot API request can write.
const TABLES: [&str; 6] =
    ["bot_trades", "transactions", "participations", "user_bot_states", "idempotency_records", "outbox"];

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq)]
struct Digest {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    digest: String,
}

/// Each table's row count and a digest of every row's text.
async fn snapshot(fixture: &Fixture) -> Vec<(&'static str, Digest)> {
    use diesel_async::RunQueryDsl;
    let mut connection = fixture.system.db(ServiceName::TradeLedger).connect().await;
    let mut tables = Vec::new();
    for table in TABLES {
        let digest = diesel::sql_query(format!(
            "SELECT count(*) AS count, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS digest FROM {table} t"
        ))
        .get_result::<Digest>(&mut connection)
        .await
        .unwrap();
        tables.push((table, digest));
    }
    tables
}

fn entry() -> Value {
    json!({"transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
           "quantity": 10, "transactionDate": "2024-01-15T10:30:00Z"})
}

fn with(mut value: Value, field: &str, set: Value) -> Value {
    value[field] = set;
    value
}

fn trade(field: &str, set: Value) -> String {
    with(json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"}), field, set).to_string()
}

fn transactions(field: &str, set: Value) -> String {
    json!({ "transactions": [with(entry(), field, set)] }).to_string()
}

/// One cursor of the `<micros>_<uuid>` kind, at `micros`.
fn time_cursor(micros: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{micros}_0190d5f0-0000-7000-8000-000000000001"))
}

struct Case {
    method: Method,
    path: String,
    body: Option<String>,
    message: String,
}

fn case(method: Method, path: &str, body: Option<String>, message: &str) -> Case {
    Case { method, path: path.to_string(), body, message: message.to_string() }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_400_naming_the_field_and_writes_nothing() {
    let fixture = Fixture::start().await;
    let trade_id = fixture.bot.trade_id;
    let transaction = uuid::Uuid::now_v7();
    fixture
        .execute(&format!(
            "INSERT INTO transactions (id, bot_trade_id, transaction_group, symbol, asset_type, side, order_type, quantity, transaction_date) \
             VALUES ('{transaction}', '{trade_id}', 'entry', 'AAPL', 'stock', 'buy', 'market', 1, now())"
        ))
        .await;
    let participation = |field: &str, set: Value| -> String {
        let item = json!({"botTradeId": trade_id, "userId": fixture.user_id, "brokerAccountId": fixture.account_id,
                          "brokerOrderId": "ORDER-1"});
        json!({ "participations": [with(item, field, set)] }).to_string()
    };
    let state = |text: &str| -> String {
        format!(
            r#"{{"states": [{{"accountId": "{}", "tickerId": "{}", "state": {text}}}]}}"#,
            fixture.account_id, fixture.ticker_id
        )
    };
    let nul = "A\u{0}B";
    let long_id = "X".repeat(129);
    let fifty_one: Vec<String> = (0..51).map(|n| format!("LEG-{n}")).collect();
    let huge = "50000000000000000000000000000"; // 5e28: fits a decimal, two of them do not
    let overflowing = format!(
        r#"{{"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z", "transactions": [
            {{"transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
              "quantity": {huge}, "transactionDate": "2024-01-15T10:30:00Z", "status": "filled"}},
            {{"transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
              "quantity": {huge}, "transactionDate": "2024-01-15T10:30:00Z", "status": "filled"}}]}}"#
    );
    let year_999 = time_cursor(-30_641_760_000_000_000);
    let year_10000 = time_cursor(253_402_300_800_000_000);
    let big_metadata = format!(r#"{{"k": "{}"}}"#, "x".repeat(16 * 1024 - 8));
    let big_state = format!(r#"{{"k": "{}"}}"#, "x".repeat(64 * 1024 - 8));
    let (post, get, patch) = (Method::POST, Method::GET, Method::PATCH);
    let trades = "/trades";
    let add = format!("/trades/{trade_id}/transactions");
    let one = format!("/trades/{trade_id}");
    let tx = format!("/trades/{trade_id}/transactions/{transaction}");
    let cases = vec![
        // NUL in any string, body or query.
        case(get.clone(), "/trades?symbol=%00", None, "symbol must not contain the \\u0000 character"),
        case(post.clone(), trades, Some(trade("symbol", json!(nul))), "symbol must not contain the \\u0000 character"),
        case(
            post.clone(),
            &add,
            Some(transactions("notes", json!(nul))),
            "transactions[0].notes must not contain the \\u0000 character",
        ),
        case(
            post.clone(),
            &add,
            Some(transactions("brokerOrderId", json!(nul))),
            "transactions[0].brokerOrderId must not contain the \\u0000 character",
        ),
        case(
            post.clone(),
            "/participations",
            Some(participation("brokerOrderId", json!(nul))),
            "participations[0].brokerOrderId must not contain the \\u0000 character",
        ),
        case(
            post.clone(),
            "/participations",
            Some(participation("childOrderIds", json!(["C-1", nul]))),
            "participations[0].childOrderIds[1] must not contain the \\u0000 character",
        ),
        case(
            patch.clone(),
            &one,
            Some(json!({"errorMessage": nul}).to_string()),
            "errorMessage must not contain the \\u0000 character",
        ),
        case(
            patch.clone(),
            &tx,
            Some(json!({"notes": nul}).to_string()),
            "notes must not contain the \\u0000 character",
        ),
        case(
            post.clone(),
            trades,
            Some(trade("metadata", json!({"k": nul}))),
            "metadata must not contain the \\u0000 character",
        ),
        // A lone surrogate in opaque JSON.
        case(
            post.clone(),
            trades,
            Some(trade("metadata", json!("PLACEHOLDER")).replace(r#""PLACEHOLDER""#, r#"{"a": "\ud800"}"#)),
            "metadata must not contain an unpaired surrogate escape (\\ud800 to \\udfff)",
        ),
        case(
            post.clone(),
            "/state",
            Some(state(r#"{"a": "x\udc00"}"#)),
            "states[0].state must not contain an unpaired surrogate escape (\\ud800 to \\udfff)",
        ),
        case(
            patch.clone(),
            &tx,
            Some(r#"{"metadata": {"a": "\ud83d"}}"#.to_string()),
            "metadata must not contain an unpaired surrogate escape (\\ud800 to \\udfff)",
        ),
        // Years before 1000 or after 9999, in timestamps and cursors.
        case(
            post.clone(),
            trades,
            Some(trade("signalAt", json!("0999-12-31T23:59:59Z"))),
            "signalAt is required and must be a valid ISO timestamp",
        ),
        case(
            post.clone(),
            trades,
            Some(trade("openedAt", json!("9999-12-31T23:00:00-05:00"))),
            "openedAt must be a valid ISO timestamp",
        ),
        case(
            post.clone(),
            &add,
            Some(transactions("filledAt", json!("0500-01-01T00:00:00Z"))),
            "transactions[0].filledAt must be a valid ISO timestamp",
        ),
        case(
            post.clone(),
            &add,
            Some(transactions("transactionDate", json!("0001-01-01T00:00:00"))),
            "transactions[0].transactionDate is required and must be a valid ISO timestamp",
        ),
        case(
            patch.clone(),
            &one,
            Some(json!({"closedAt": "0100-01-01T00:00:00Z"}).to_string()),
            "closedAt must be a valid ISO timestamp",
        ),
        case(
            patch.clone(),
            &tx,
            Some(json!({"filledAt": "0999-01-01T00:00:00Z"}).to_string()),
            "filledAt must be a valid ISO timestamp",
        ),
        case(get.clone(), &format!("/trades?cursor={year_999}"), None, "cursor is invalid"),
        case(
            get.clone(),
            &format!("/trades/{trade_id}?transactionsCursor={year_10000}"),
            None,
            "transactionsCursor is invalid",
        ),
        case(
            get.clone(),
            &format!("/trades/{trade_id}?participationsCursor={year_999}"),
            None,
            "participationsCursor is invalid",
        ),
        case(get.clone(), &format!("/trades/{trade_id}/transactions?cursor={year_10000}"), None, "cursor is invalid"),
        case(get.clone(), &format!("/trades/{trade_id}/participations?cursor=bogus"), None, "cursor is invalid"),
        case(get.clone(), "/state?cursor=bogus", None, "cursor is invalid"),
        case(get.clone(), "?followersCursor=bogus", None, "followersCursor is invalid"),
        case(get.clone(), "?statesCursor=bogus", None, "statesCursor is invalid"),
        case(get.clone(), "/state?limit=1001", None, "limit must be an integer from 1 to 1000"),
        // Broker order ids.
        case(
            post.clone(),
            "/participations",
            Some(participation("brokerOrderId", json!(long_id))),
            "participations[0].brokerOrderId must be at most 128 characters",
        ),
        case(
            post.clone(),
            "/participations",
            Some(participation("childOrderIds", json!(["C-1", long_id]))),
            "participations[0].childOrderIds[1] must be at most 128 characters",
        ),
        case(
            post.clone(),
            "/participations",
            Some(participation("childOrderIds", json!(fifty_one))),
            "participations[0].childOrderIds cannot contain more than 50 items",
        ),
        case(
            post.clone(),
            "/participations",
            Some(participation("childOrderIds", json!(["LEG-1", "LEG-2", "LEG-1"]))),
            "participations[0].childOrderIds contains 'LEG-1' twice",
        ),
        // Decimals above 1e15 or with more than 18 decimal places.
        case(
            post.clone(),
            &add,
            Some(transactions("quantity", json!(1_000_000_000_000_001u64))),
            "transactions[0].quantity must be within ±1e15 and have at most 18 decimal places",
        ),
        case(
            post.clone(),
            &add,
            Some(transactions("price", json!("0.0000000000000000001"))),
            "transactions[0].price must be within ±1e15 and have at most 18 decimal places",
        ),
        case(
            post.clone(),
            &add,
            Some(transactions("trimLevel", json!(-2e15))),
            "transactions[0].trimLevel must be within ±1e15 and have at most 18 decimal places",
        ),
        case(
            patch.clone(),
            &one,
            Some(json!({"netPnl": "-1000000000000000.5"}).to_string()),
            "netPnl must be within ±1e15 and have at most 18 decimal places",
        ),
        case(
            patch.clone(),
            &tx,
            Some(json!({"filledQuantity": 1e16}).to_string()),
            "filledQuantity must be within ±1e15 and have at most 18 decimal places",
        ),
        case(
            post.clone(),
            "/participations",
            Some(participation("units", json!(1e16))),
            "participations[0].units must be within ±1e15 and have at most 18 decimal places",
        ),
        // Quantities whose sum would overflow a decimal.
        case(
            post.clone(),
            trades,
            Some(overflowing),
            "transactions[0].quantity must be within ±1e15 and have at most 18 decimal places",
        ),
        // Opaque JSON: numbers that stand for far more than they weigh, and sizes.
        case(
            post.clone(),
            &add,
            Some(transactions("metadata", json!("PLACEHOLDER")).replace(r#""PLACEHOLDER""#, r#"{"a":1e99999}"#)),
            "transactions[0].metadata must not contain a number with more than 40 digits or an exponent beyond ±40",
        ),
        case(
            post.clone(),
            "/state",
            Some(state(&format!(r#"{{"n": {}}}"#, "1".repeat(41)))),
            "states[0].state must not contain a number with more than 40 digits or an exponent beyond ±40",
        ),
        case(
            patch.clone(),
            &one,
            Some(r#"{"metadata": {"n": 1E-41}}"#.to_string()),
            "metadata must not contain a number with more than 40 digits or an exponent beyond ±40",
        ),
        case(
            post.clone(),
            trades,
            Some(trade("metadata", json!("PLACEHOLDER")).replace(r#""PLACEHOLDER""#, &big_metadata)),
            "metadata must be at most 16 KiB (16384 bytes) of JSON",
        ),
        case(
            post.clone(),
            "/state",
            Some(state(&big_state)),
            "states[0].state must be at most 64 KiB (65536 bytes) of JSON",
        ),
    ];

    let before = snapshot(&fixture).await;
    let http = test_support::http_client();
    // Every case runs, and every wrong answer is reported together.
    let mut wrong = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let url = fixture.system.url(&format!("/api/bots/{}{}", fixture.bot.slug, case.path));
        let mut request = http.request(case.method.clone(), url).header("x-api-key", &fixture.bot.key);
        if let Some(body) = &case.body {
            // A key too: a refused request must not leave an idempotency record behind.
            request = request
                .header("content-type", "application/json")
                .header("idempotency-key", format!("bad-input-{index}"))
                .body(body.clone());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let reply: Value = response.json().await.unwrap_or(Value::Null);
        if (status, &reply) != (400, &json!({"error": case.message, "code": "BAD_REQUEST"})) {
            let reply: String = reply.to_string().chars().take(300).collect();
            wrong.push(format!(
                "case {index} ({} {}): {status} {reply}; expected: {}",
                case.method, case.path, case.message
            ));
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases answered wrongly:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    assert_eq!(snapshot(&fixture).await, before, "a refused request wrote something");
    // The ledger is still there and answers.
    assert_eq!(fixture.get("/trades").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_are_inclusive() {
    let fixture = Fixture::start().await;
    let id = |n: usize| format!("{n:0>128}");
    let item = json!({"botTradeId": fixture.bot.trade_id, "userId": fixture.user_id, "brokerAccountId": fixture.account_id,
                      "brokerOrderId": id(0), "childOrderIds": (1..=50).map(id).collect::<Vec<_>>(),
                      "units": 1e-18});
    let (status, reply) = fixture.post("/participations", json!({ "participations": [item] })).await;
    assert_eq!((status, &reply["summary"]), (200, &json!({"total": 1, "succeeded": 1, "failed": 0})), "{reply}");
    let metadata = format!(r#"{{"k": "{}", "n": [1e40, 1e-40, {}]}}"#, "x".repeat(16 * 1024 - 71), "9".repeat(40));
    let body = trade("metadata", json!("PLACEHOLDER")).replace(r#""PLACEHOLDER""#, &metadata);
    assert_eq!(metadata.len(), 16 * 1024);
    let path = format!("/api/bots/{}/trades", fixture.bot.slug);
    let (status, reply) = fixture.send(Method::POST, &path, Some(&fixture.bot.key.clone()), Some(body)).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = fixture
        .post(
            &format!("/trades/{}/transactions", fixture.bot.trade_id),
            json!({"transactions": [with(
            with(entry(), "quantity", json!(-1_000_000_000_000_000i64)), "filledAt", json!("1000-01-01T00:00:00Z"))]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
}
