//! `metadata` and `state` come back byte for byte as the bot sent them: key order, duplicate
//! keys, number spellings and whitespace included, on every route that shows them.

use super::fixture::Fixture;
use reqwest::Method;
use serde_json::Value;

/// Sends `body` (raw text) and returns the status and the reply's raw text.
async fn send(fixture: &Fixture, method: Method, path: &str, body: Option<String>) -> (u16, String) {
    let url = fixture.system.url(&format!("/api/bots/{}{path}", fixture.bot.slug));
    let mut request = test_support::http_client().request(method, url).header("x-api-key", &fixture.bot.key);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// What `GET` of `path` answers, as text.
async fn read(fixture: &Fixture, path: &str) -> String {
    let (status, text) = send(fixture, Method::GET, path, None).await;
    assert_eq!(status, 200, "{text}");
    text
}

/// Asserts `text` holds `"<field>":<value>` exactly as `value` was sent.
fn shows(text: &str, field: &str, value: &str) {
    assert!(text.contains(&format!(r#""{field}":{value}"#)), "{field} not as sent: {value}\nin {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_and_state_read_back_byte_for_byte() {
    let fixture = Fixture::start().await;
    // Keys out of order, a duplicate key, exponents, trailing zeros, escapes and spaces: jsonb
    // would reorder, deduplicate, expand `1e3` to `1000` and drop the spaces.
    let trade_metadata = r#"{"z": 1, "a": [1e3, 0.10, -0E+0], "dup": 1, "dup": 2, "s": "\u00e9\ud83d\ude00\/"}"#;
    let entry_metadata = r#"{ "b" : 2.50 ,"a":1E+2 }"#;
    let body = format!(
        r#"{{"symbol":"AAPL","tradeType":"long","signalAt":"2024-01-15T10:30:00Z","metadata":{trade_metadata},
            "transactions":[{{"transactionGroup":"entry","symbol":"AAPL","assetType":"stock","side":"buy",
            "type":"market","quantity":1,"transactionDate":"2024-01-15T10:30:00Z","metadata":{entry_metadata}}}]}}"#
    );
    let (status, created) = send(&fixture, Method::POST, "/trades", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    shows(&created, "metadata", trade_metadata);
    shows(&created, "metadata", entry_metadata);
    let reply: Value = serde_json::from_str(&created).unwrap();
    let trade_id = reply["trade"]["id"].as_str().unwrap().to_string();
    let transaction_id = reply["trade"]["transactions"][0]["id"].as_str().unwrap().to_string();

    for path in [format!("/trades/{trade_id}"), "/trades".to_string(), format!("/trades/{trade_id}/transactions")] {
        let text = read(&fixture, &path).await;
        if !path.ends_with("/transactions") {
            shows(&text, "metadata", trade_metadata);
        }
        shows(&text, "metadata", entry_metadata);
    }

    // Replacing them keeps the new text as sent, too.
    let patched_trade = r#"{"y":1e3 , "x":{}}"#;
    let (status, text) = send(
        &fixture,
        Method::PATCH,
        &format!("/trades/{trade_id}"),
        Some(format!(r#"{{"metadata":{patched_trade}}}"#)),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    shows(&text, "metadata", patched_trade);
    let patched_entry = r#"{"n":12.3400,"m":[ ]}"#;
    let path = format!("/trades/{trade_id}/transactions/{transaction_id}");
    let (status, text) = send(&fixture, Method::PATCH, &path, Some(format!(r#"{{"metadata":{patched_entry}}}"#))).await;
    assert_eq!(status, 200, "{text}");
    shows(&text, "metadata", patched_entry);
    let text = read(&fixture, &format!("/trades/{trade_id}")).await;
    shows(&text, "metadata", patched_trade);
    shows(&text, "metadata", patched_entry);

    // State: in the upsert's reply, in the state list and in the bot's configuration.
    let state = r#"{"b": 1e3, "a":"x",  "b": 1.50}"#;
    let body = format!(
        r#"{{"states":[{{"accountId":"{}","tickerId":"{}","state":{state}}}]}}"#,
        fixture.account_id, fixture.ticker_id
    );
    let (status, text) = send(&fixture, Method::POST, "/state", Some(body)).await;
    assert_eq!(status, 200, "{text}");
    shows(&text, "state", state);
    shows(&read(&fixture, "/state").await, "state", state);
    shows(&read(&fixture, "").await, "state", state);

    // And in the database, as the text that was sent.
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    use diesel_async::RunQueryDsl;
    let mut connection = fixture.system.db(domain::ServiceName::TradeLedger).connect().await;
    let stored: Text =
        diesel::sql_query(format!("SELECT metadata::text AS text FROM bot_trades WHERE id = '{trade_id}'"))
            .get_result(&mut connection)
            .await
            .unwrap();
    assert_eq!(stored.text, patched_trade);
    let stored: Text =
        diesel::sql_query("SELECT state::text AS text FROM user_bot_states").get_result(&mut connection).await.unwrap();
    assert_eq!(stored.text, state);
}

/// The migration that moved `metadata` and `state` from `jsonb` to `json`: run backwards
/// and forwards on a database holding `jsonb` values, which keep jsonb's rendering.
#[tokio::test(flavor = "multi_thread")]
async fn the_migration_converts_stored_jsonb_values() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    const MIGRATION: &str = "2026-12-07-000004_opaque_json_as_sent";
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/trade-ledger/migrations");
    let script = |name: &str| std::fs::read_to_string(migrations.join(MIGRATION).join(name)).unwrap();
    let db =
        test_support::TestDb::new(domain::ServiceName::TradeLedger.context(), trade_ledger::MIGRATIONS, &migrations)
            .await;
    let mut connection = db.connect().await;
    connection.batch_execute(&script("down.sql")).await.unwrap();
    let (user, account, ticker, bot, trade) =
        (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    connection
        .batch_execute(&format!(
            "INSERT INTO users (id, email) VALUES ('{user}', 'old@example.com');
             INSERT INTO broker_accounts (id, user_id, broker, account_number) VALUES ('{account}', '{user}', 'TRADIER', 'OLD1');
             INSERT INTO tickers (id, symbol, asset_type, base_currency, quote_currency)
                 VALUES ('{ticker}', 'OLD', 'stock', 'OLD', 'USD');
             INSERT INTO bots (id, slug, name) VALUES ('{bot}', 'old-bot', 'old');
             INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at, metadata)
                 VALUES ('{trade}', '{bot}', 'OLD', 'long', 'pending', now(), '{{\"b\": 1, \"a\": 1e3}}');
             INSERT INTO transactions (id, bot_trade_id, transaction_group, symbol, asset_type, side, order_type, quantity, transaction_date)
                 VALUES (gen_random_uuid(), '{trade}', 'entry', 'OLD', 'stock', 'buy', 'market', 1, now());
             INSERT INTO user_bot_states (id, bot_id, broker_account_id, ticker_id, state)
                 VALUES (gen_random_uuid(), '{bot}', '{account}', '{ticker}', '{{\"z\":[1.50, 2e1]}}');"
        ))
        .await
        .unwrap();
    connection.batch_execute(&script("up.sql")).await.unwrap();

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    let read = |sql: &'static str| diesel::sql_query(sql);
    let rows: Vec<Row> = read(
        "SELECT pg_typeof(metadata)::text AS kind, metadata::text AS text FROM bot_trades \
         UNION ALL SELECT pg_typeof(metadata)::text, metadata::text FROM transactions \
         UNION ALL SELECT pg_typeof(state)::text, state::text FROM user_bot_states",
    )
    .load(&mut connection)
    .await
    .unwrap();
    let expected = [("json", r#"{"a": 1000, "b": 1}"#), ("json", "{}"), ("json", r#"{"z": [1.50, 20]}"#)];
    let expected: Vec<Row> =
        expected.iter().map(|(kind, text)| Row { kind: kind.to_string(), text: text.to_string() }).collect();
    assert_eq!(rows, expected, "existing values keep jsonb's rendering, now in json columns");
    // A new value is kept as written, and the defaults still apply.
    connection
        .batch_execute(&format!(
            "INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at) \
             VALUES (gen_random_uuid(), '{bot}', 'NEW', 'long', 'pending', now());
             UPDATE bot_trades SET metadata = '{{\"b\": 1, \"a\": 1e3}}' WHERE id = '{trade}';"
        ))
        .await
        .unwrap();
    let rows: Vec<Row> =
        read("SELECT pg_typeof(metadata)::text AS kind, metadata::text AS text FROM bot_trades ORDER BY symbol")
            .load(&mut connection)
            .await
            .unwrap();
    assert_eq!(rows[0].text, "{}");
    assert_eq!(rows[1].text, r#"{"b": 1, "a": 1e3}"#);
}
