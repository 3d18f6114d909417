//! The migration that replaced the free-text `fetch_error` with a fixed code reads the texts
//! the fetcher used to send.

use diesel::QueryableByName;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::MigrationHarness;
use domain::ServiceName;
use std::path::Path;
use trade_ledger::MIGRATIONS;
use uuid::Uuid;

/// The migration under test.
const CODE_MIGRATION: &str = "2026-11-22-000007";

/// Reverts migrations down to and including the code migration, with diesel's synchronous
/// harness (later migrations, if any, first).
async fn revert_code_migration(url: &str) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut connection =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url).unwrap();
        loop {
            let reverted = connection.revert_last_migration(MIGRATIONS).unwrap().to_string().replace('-', "");
            if reverted == CODE_MIGRATION.replace('-', "") {
                break;
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn old_fetch_error_texts_become_the_best_code() {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let db = test_support::TestDb::new(ServiceName::TradeLedger.context(), MIGRATIONS, &migrations_dir).await;
    revert_code_migration(db.url()).await;

    let (user, account, bot, trade) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut connection = db.connect().await;
    connection
        .batch_execute(&format!(
            "INSERT INTO users (id, email) VALUES ('{user}', 'old@example.com');
             INSERT INTO broker_accounts (id, user_id, broker, account_number)
                 VALUES ('{account}', '{user}', 'TRADIER', 'VA1');
             INSERT INTO bots (id, slug, name) VALUES ('{bot}', 'old-bot', 'old');
             INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at)
                 VALUES ('{trade}', '{bot}', 'AAPL', 'long', 'open', now());"
        ))
        .await
        .unwrap();
    let cases = [
        ("no credentials stored for broker account 0198c0de-0000-7000-8000-000000000000", "no_credentials"),
        ("order 1: broker refused the credentials", "broker_refused"),
        ("order 1: broker refused the request (HTTP 400): bad account", "broker_refused"),
        ("order 1: order not found at the broker (it may not be visible yet)", "order_not_found"),
        ("the broker's answer could not be stored: value too long", "unstorable_answer"),
        ("order 1: broker did not answer within the request timeout", "broker_unavailable"),
        ("credentials of broker account 0198c0de-0000-7000-8000-000000000000 could not be opened", "no_credentials"),
        ("order 1: malformed order JSON at line 1 column 7", "unstorable_answer"),
        ("order 1: broker answered HTTP 503", "broker_unavailable"),
        ("credential store unavailable: pool timed out", "broker_unavailable"),
    ];
    for (n, (text, _)) in cases.iter().enumerate() {
        connection
            .batch_execute(&format!(
                "INSERT INTO participations
                     (id, bot_trade_id, user_id, broker_account_id, broker_order_id, fetch_status, fetch_error)
                 VALUES ('{}', '{trade}', '{user}', '{account}', 'F-{n}', 'fetch_failed', '{}')",
                Uuid::now_v7(),
                text.replace('\'', "''"),
            ))
            .await
            .unwrap();
    }
    connection
        .batch_execute(&format!(
            "INSERT INTO participations (id, bot_trade_id, user_id, broker_account_id, broker_order_id, fetch_status)
             VALUES ('{}', '{trade}', '{user}', '{account}', 'PENDING', 'pending_fetch')",
            Uuid::now_v7()
        ))
        .await
        .unwrap();

    platform::db::run_pending(db.url(), MIGRATIONS).await.unwrap();

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        broker_order_id: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        fetch_error_code: Option<String>,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT broker_order_id, fetch_error_code FROM participations ORDER BY broker_order_id")
            .load(&mut connection)
            .await
            .unwrap();
    let mut expected: Vec<(String, Option<String>)> =
        cases.iter().enumerate().map(|(n, (_, code))| (format!("F-{n}"), Some(code.to_string()))).collect();
    expected.push(("PENDING".into(), None));
    let found: Vec<(String, Option<String>)> =
        rows.into_iter().map(|row| (row.broker_order_id, row.fetch_error_code)).collect();
    assert_eq!(found, expected);

    // A failed fetch without a code (or a code on anything else) cannot be stored.
    let failed_without_code = connection
        .batch_execute(&format!(
            "INSERT INTO participations (id, bot_trade_id, user_id, broker_account_id, broker_order_id, fetch_status)
             VALUES ('{}', '{trade}', '{user}', '{account}', 'F-X', 'fetch_failed')",
            Uuid::now_v7()
        ))
        .await;
    assert!(failed_without_code.is_err());
    let unknown_code = connection
        .batch_execute(&format!(
            "INSERT INTO participations
                 (id, bot_trade_id, user_id, broker_account_id, broker_order_id, fetch_status, fetch_error_code)
             VALUES ('{}', '{trade}', '{user}', '{account}', 'F-Y', 'fetch_failed', 'order 1: HTTP 500')",
            Uuid::now_v7()
        ))
        .await;
    assert!(unknown_code.is_err());
}
