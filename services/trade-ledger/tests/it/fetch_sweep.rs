//! The fetch sweep: a participation still waiting for its broker order is asked for again
//! with a backoff of its own (1, 2, 4 … up to the cap), and given up on (`fetch_timed_out`)
//! once it has waited the sweep's time budget; an answer that comes after all still applies.

use diesel::QueryableByName;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use domain::ServiceName;
use outbox::consumer::Delivery;
use std::path::Path;
use test_support::TestDb;
use trade_ledger::MIGRATIONS;
use trade_ledger::settings::FetchSweepSettings;
use trade_ledger::usecase::fetches;
use uuid::Uuid;

struct Waiting {
    db: TestDb,
    pool: platform::db::PgPool,
    participation: Uuid,
}

/// A participation waiting for its broker order, whose request event was published.
async fn waiting() -> Waiting {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let db = TestDb::new(ServiceName::TradeLedger.context(), MIGRATIONS, &migrations_dir).await;
    let (user, account, bot, trade) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (participation, event) = (Uuid::now_v7(), Uuid::now_v7());
    let mut connection = db.connect().await;
    connection
        .batch_execute(&format!(
            "INSERT INTO users (id, email) VALUES ('{user}', 'sweep@example.com');
             INSERT INTO broker_accounts (id, user_id, broker, account_number)
                 VALUES ('{account}', '{user}', 'TRADIER', 'VA1');
             INSERT INTO bots (id, slug, name) VALUES ('{bot}', 'sweep-bot', 'sweep');
             INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at)
                 VALUES ('{trade}', '{bot}', 'AAPL', 'long', 'open', now());
             INSERT INTO outbox (id, subject, payload, published_at)
                 VALUES ('{event}', 'tb.evt.ledger.participation_created.v1', '{{}}', now());
             INSERT INTO participations (id, bot_trade_id, user_id, broker_account_id, broker_order_id,
                                         fetch_status, fetch_event_id)
                 VALUES ('{participation}', '{trade}', '{user}', '{account}', 'ORD-1', 'pending_fetch', '{event}');"
        ))
        .await
        .unwrap();
    let settings = platform::settings::DatabaseSettings {
        url: db.url().to_string(),
        ..platform::settings::DatabaseSettings::local("x")
    };
    let pool = platform::db::pool(&settings).unwrap();
    Waiting { db, pool, participation }
}

/// After 60 s, then 120 s, then 240 s (the cap); given up on after a day.
fn settings() -> FetchSweepSettings {
    FetchSweepSettings {
        after_secs: 60,
        max_backoff_secs: 240,
        give_up_after_secs: 86_400,
        ..FetchSweepSettings::default()
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Fetch {
    #[diesel(sql_type = diesel::sql_types::Text)]
    fetch_status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    fetch_error_code: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    fetch_request_count: i32,
}

impl Waiting {
    async fn sql(&self, statement: &str) {
        self.db
            .connect()
            .await
            .batch_execute(&statement.replace("$id", &self.participation.to_string()))
            .await
            .unwrap();
    }

    /// As if the last request was made (and published by the relay) `secs` ago.
    async fn last_asked(&self, secs: u32) {
        self.sql(&format!(
            "UPDATE participations SET fetch_requested_at = now() - interval '{secs} seconds' WHERE id = '$id';
             UPDATE outbox SET published_at = now() WHERE published_at IS NULL;"
        ))
        .await;
    }

    async fn fetch(&self) -> Fetch {
        diesel::sql_query(format!(
            "SELECT fetch_status, fetch_error_code, fetch_request_count FROM participations WHERE id = '{}'",
            self.participation
        ))
        .get_result(&mut self.db.connect().await)
        .await
        .unwrap()
    }

    async fn sweep(&self) -> fetches::SweepReport {
        fetches::sweep_once(&self.pool, &settings()).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_participation_is_asked_again_with_a_doubling_wait_up_to_the_cap() {
    let waiting = waiting().await;
    assert_eq!(waiting.sweep().await.republished, 0, "not before the first wait");
    waiting.last_asked(61).await;
    assert_eq!(waiting.sweep().await.republished, 1);
    assert_eq!(waiting.fetch().await.fetch_request_count, 1);

    // The second wait is twice the first.
    waiting.last_asked(61).await;
    assert_eq!(waiting.sweep().await.republished, 0, "60 s is not enough after one request");
    waiting.last_asked(121).await;
    assert_eq!(waiting.sweep().await.republished, 1);

    // Then 240 s, which stays the wait however many requests were made.
    waiting.last_asked(239).await;
    assert_eq!(waiting.sweep().await.republished, 0);
    waiting.sql("UPDATE participations SET fetch_request_count = 40 WHERE id = '$id'").await;
    waiting.last_asked(241).await;
    assert_eq!(waiting.sweep().await.republished, 1, "the cap holds for a long-waiting participation");
    let fetch = waiting.fetch().await;
    assert_eq!((fetch.fetch_status.as_str(), fetch.fetch_request_count), ("pending_fetch", 41));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_participation_waiting_past_the_budget_is_fetch_timed_out_and_a_late_answer_still_applies() {
    let waiting = waiting().await;
    waiting.sql("UPDATE participations SET created_at = now() - interval '86401 seconds' WHERE id = '$id'").await;
    waiting.last_asked(3600).await;
    let report = waiting.sweep().await;
    assert_eq!((report.timed_out, report.republished), (1, 0), "given up on, not asked again");
    let fetch = waiting.fetch().await;
    assert_eq!(fetch.fetch_status, "fetch_failed");
    assert_eq!(fetch.fetch_error_code.as_deref(), Some("fetch_timed_out"));
    assert_eq!(waiting.sweep().await, fetches::SweepReport::default(), "nothing is asked for forever");

    // The fetcher answers after all: its outcome is newer than nothing and applies.
    let subjects = bus::Subjects::new("tb".to_string()).unwrap();
    let event = serde_json::json!({
        "id": Uuid::now_v7(),
        "type": "order_fetched.v1",
        "occurredAt": "2026-01-01T00:00:00Z",
        "data": {
            "participationId": waiting.participation,
            "revision": 1,
            "fetchedAt": "2026-01-01T00:00:00Z",
            "order": {"orderId": "ORD-1", "status": "filled", "brokerStatus": "filled", "quantity": "1",
                      "filledQuantity": "1", "avgFillPrice": "10"},
            "children": []
        }
    });
    let delivery = Delivery {
        subject: subjects.order_fetched().subject().to_string(),
        payload: serde_json::to_vec(&event).unwrap().into(),
    };
    fetches::apply(&waiting.pool, &subjects, vec![delivery]).await.unwrap();
    let fetch = waiting.fetch().await;
    assert_eq!((fetch.fetch_status.as_str(), fetch.fetch_error_code), ("fetched", None));
}
