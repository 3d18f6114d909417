//! Rows the relay cannot publish end as dead after `max_attempts` claims, without holding back
//! the rows behind them, and `retry_dead` queues them again. The tables come from the
//! trade-ledger's migrations (every service with an outbox creates the same tables).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use async_nats::jetstream;
use bus::Subjects;
use bus::messages::ParticipationCreated;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use domain::{BotId, BrokerAccountId, EventId, ParticipationId, ServiceName, TradeId, UserId};
use outbox::relay::{Retry, dead_rows, retry_dead};
use outbox::schema::outbox as table;
use outbox::{Faults, Relay, RelayConfig};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use test_support::{TestDb, TestNats, eventually};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../services/trade-ledger/migrations");

struct Fixture {
    db: TestDb,
    nats: TestNats,
    jetstream: jetstream::Context,
    subjects: Subjects,
}

async fn fixture() -> Fixture {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/trade-ledger/migrations");
    let db = TestDb::new("outbox", MIGRATIONS, &dir).await;
    let nats = TestNats::new();
    let subjects = nats.subjects();
    let jetstream = jetstream::new(nats.client().await);
    bus::jetstream::ensure(&jetstream, &bus::jetstream::topology(&subjects, ServiceName::TradeLedger)).await.unwrap();
    Fixture { db, nats, jetstream, subjects }
}

impl Fixture {
    fn relay(&self, config: RelayConfig) -> Relay {
        let settings = platform::settings::DatabaseSettings {
            url: self.db.url().to_string(),
            ..platform::settings::DatabaseSettings::local("unused")
        };
        Relay::new(platform::db::pool(&settings).unwrap(), self.db.url().to_string(), self.jetstream.clone(), config)
    }

    /// A subject of this test's prefix that no stream listens to: JetStream refuses it.
    fn unroutable(&self) -> String {
        format!("{}.evt.test.poisoned.v1", self.nats.prefix())
    }

    /// Writes a row as `outbox::enqueue` would, to `subject`.
    async fn insert(&self, subject: &str) -> EventId {
        let id = EventId::new();
        let payload =
            serde_json::json!({"id": id, "type": "poisoned.v1", "occurredAt": "2026-01-01T00:00:00Z", "data": {}});
        let mut connection = self.db.connect().await;
        diesel::insert_into(table::table)
            .values((table::id.eq(id), table::subject.eq(subject), table::payload.eq(payload)))
            .execute(&mut connection)
            .await
            .unwrap();
        id
    }

    async fn enqueue_good(&self, n: usize) {
        let mut connection = self.db.connect().await;
        let event = ParticipationCreated {
            participation_id: ParticipationId::new(),
            bot_id: BotId::new(),
            bot_trade_id: TradeId::new(),
            user_id: UserId::new(),
            broker_account_id: BrokerAccountId::new(),
            broker: "SIM".into(),
            broker_account_number: "SIM-1".into(),
            broker_order_id: format!("order-{n}"),
            child_order_ids: vec![],
            units: rust_decimal::Decimal::ONE,
        };
        outbox::enqueue(&mut connection, &self.subjects.participation_created(), &event).await.unwrap();
    }

    async fn messages(&self, stream: &str) -> u64 {
        match self.jetstream.get_stream(stream).await {
            Ok(mut stream) => stream.info().await.unwrap().state.messages,
            Err(_) => 0,
        }
    }

    /// `(attempts, dead, published)` of a row.
    async fn row(&self, id: EventId) -> (i32, bool, bool) {
        type Time = Option<chrono::DateTime<chrono::Utc>>;
        let mut connection = self.db.connect().await;
        let (attempts, dead_at, published_at): (i32, Time, Time) = table::table
            .filter(table::id.eq(id))
            .select((table::attempts, table::dead_at, table::published_at))
            .first(&mut connection)
            .await
            .unwrap();
        (attempts, dead_at.is_some(), published_at.is_some())
    }
}

fn quick(max_attempts: i32) -> RelayConfig {
    RelayConfig {
        retry_after: Duration::ZERO,
        lease: Duration::from_millis(100),
        max_attempts,
        ..RelayConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_jetstream_keeps_refusing_is_dead_after_max_attempts_and_the_others_flow() {
    let fixture = fixture().await;
    let ledger_stream = fixture.subjects.stream_name(ServiceName::TradeLedger);
    fixture.enqueue_good(0).await;
    let poisoned = fixture.insert(&fixture.unroutable()).await;
    fixture.enqueue_good(1).await;
    let relay = fixture.relay(quick(3));

    eventually("the poisoned row to be parked", Duration::from_secs(20), || async {
        relay.run_once().await.unwrap();
        fixture.row(poisoned).await.1.then_some(())
    })
    .await;
    assert_eq!(fixture.row(poisoned).await, (3, true, false), "exactly max_attempts claims, then dead");
    assert_eq!(fixture.messages(&ledger_stream).await, 2, "the rows around it were published");
    fixture.enqueue_good(2).await;
    relay.run_once().await.unwrap();
    assert_eq!(fixture.messages(&ledger_stream).await, 3, "a dead row holds nothing back");
    assert_eq!(relay.run_once().await.unwrap(), 0, "a dead row is not claimed again");
    assert_eq!(fixture.row(poisoned).await.0, 3);

    let mut connection = fixture.db.connect().await;
    let dead = dead_rows(&mut connection).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id, dead[0].attempts), (poisoned, 3));
    assert_eq!(dead[0].subject, fixture.unroutable());
    assert!(dead[0].last_error.as_deref().is_some_and(|error| !error.is_empty()), "{:?}", dead[0]);

    // The operator fixes the cause (here: a stream for the subject), then retries the row.
    let stream = format!("{}_test_events", fixture.nats.prefix());
    fixture
        .jetstream
        .create_stream(jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![fixture.unroutable()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(retry_dead(&mut connection, Retry::Rows(&[EventId::new()])).await.unwrap(), Vec::<EventId>::new());
    assert_eq!(retry_dead(&mut connection, Retry::Rows(&[poisoned])).await.unwrap(), vec![poisoned]);
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(fixture.row(poisoned).await, (0, false, true), "published, with a fresh allowance");
    assert_eq!(fixture.messages(&stream).await, 1);
    assert!(dead_rows(&mut connection).await.unwrap().is_empty());
    assert_eq!(retry_dead(&mut connection, Retry::All).await.unwrap(), Vec::<EventId>::new(), "nothing left to retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_whose_claims_never_end_is_parked_too() {
    let fixture = fixture().await;
    fixture.enqueue_good(0).await;
    let faults = Arc::new(Faults::default());
    faults.before_publish.store(true, Ordering::SeqCst);
    // A relay that dies after every claim: the row's lease runs out, it is claimed again...
    let crashing = fixture.relay(RelayConfig { faults: Some(faults), ..quick(2) });
    let mut connection = fixture.db.connect().await;
    eventually("the row to be parked after two claims without an end", Duration::from_secs(20), || async {
        let _ = crashing.run_once().await;
        (!dead_rows(&mut fixture.db.connect().await).await.unwrap().is_empty()).then_some(())
    })
    .await;
    let dead = dead_rows(&mut connection).await.unwrap();
    assert_eq!(dead[0].attempts, 2);
    assert!(dead[0].last_error.as_deref().unwrap().contains("stopped while publishing"), "{:?}", dead[0]);

    // Retried all at once, a healthy relay publishes it.
    assert_eq!(retry_dead(&mut connection, Retry::All).await.unwrap(), vec![dead[0].id]);
    let relay = fixture.relay(quick(2));
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(fixture.messages(&fixture.subjects.stream_name(ServiceName::TradeLedger)).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_row_published_again_gets_a_fresh_allowance() {
    let fixture = fixture().await;
    fixture.enqueue_good(0).await;
    let relay = fixture.relay(quick(2));
    for _ in 0..3 {
        assert_eq!(relay.run_once().await.unwrap(), 1);
        let mut connection = fixture.db.connect().await;
        let ids: Vec<EventId> = table::table.select(table::id).load(&mut connection).await.unwrap();
        // A deliberate re-publish (the ledger's sweep) three times over a limit of two.
        assert_eq!(outbox::republish(&mut connection, &ids).await.unwrap(), 1);
    }
    assert_eq!(relay.run_once().await.unwrap(), 1);
    let mut connection = fixture.db.connect().await;
    assert!(dead_rows(&mut connection).await.unwrap().is_empty());
}
