//! `trade-ledger admin outbox-dead` and `outbox-retry`: the outbox rows the relay gave up on.

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use domain::ServiceName;
use std::path::Path;
use test_support::TestDb;
use trade_ledger::MIGRATIONS;
use trade_ledger::admin::{self, AdminCommand};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread")]
async fn dead_outbox_rows_are_listed_and_queued_again() {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let db = TestDb::new(ServiceName::TradeLedger.context(), MIGRATIONS, &migrations_dir).await;
    let (dead, waiting) = (Uuid::now_v7(), Uuid::now_v7());
    db.connect()
        .await
        .batch_execute(&format!(
            "INSERT INTO outbox (id, subject, payload, attempts, publish_attempts, last_error, dead_at)
                 VALUES ('{dead}', 'tb.evt.ledger.participation_created.v1', '{{}}', 20, 20, 'no stream', now());
             INSERT INTO outbox (id, subject, payload) VALUES ('{waiting}', 'tb.evt.ledger.participation_created.v1', '{{}}');"
        ))
        .await
        .unwrap();

    let listed = admin::run(db.url(), AdminCommand::OutboxDead).await.unwrap();
    let rows = listed["dead"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["id"], dead.to_string());
    assert_eq!((rows[0]["attempts"].clone(), rows[0]["lastError"].clone()), (20.into(), "no stream".into()));

    let error =
        admin::run(db.url(), AdminCommand::OutboxRetry { ids: vec![dead.into(), waiting.into()], all: false }).await;
    assert!(error.unwrap_err().to_string().contains(&waiting.to_string()), "a row that is not dead is named");
    assert_eq!(
        admin::run(db.url(), AdminCommand::OutboxDead).await.unwrap()["dead"][0]["id"],
        dead.to_string(),
        "and nothing changed"
    );

    let retried = admin::run(db.url(), AdminCommand::OutboxRetry { ids: vec![dead.into()], all: false }).await.unwrap();
    assert_eq!(retried, serde_json::json!({ "requeued": [dead] }));
    assert_eq!(admin::run(db.url(), AdminCommand::OutboxDead).await.unwrap(), serde_json::json!({ "dead": [] }));
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
    }
    let row: Row = diesel::sql_query(format!("SELECT attempts FROM outbox WHERE id = '{dead}' AND dead_at IS NULL"))
        .get_result(&mut db.connect().await)
        .await
        .unwrap();
    assert_eq!(row.attempts, 0, "a fresh allowance of attempts");
}
