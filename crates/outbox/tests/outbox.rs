//! The outbox against real Postgres and NATS. The tables come from the trade-ledger's
//! migrations: every service with an outbox creates the same tables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use async_nats::jetstream;
use bus::Subjects;
use bus::messages::ParticipationCreated;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use domain::{BotId, BrokerAccountId, EventId, ParticipationId, ServiceName, TradeId, UserId};
use outbox::schema::outbox as table;
use outbox::{Relay, RelayConfig};
use std::path::Path;
use std::time::Duration;
use test_support::{TestDb, TestNats, eventually};
use tokio_util::sync::CancellationToken;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../services/trade-ledger/migrations");

struct Fixture {
    db: TestDb,
    /// Held so the test's streams are deleted when the fixture drops.
    _nats: TestNats,
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
    Fixture { db, _nats: nats, jetstream, subjects }
}

impl Fixture {
    fn relay(&self, config: RelayConfig) -> Relay {
        let settings = platform::settings::DatabaseSettings {
            url: self.db.url().to_string(),
            ..platform::settings::DatabaseSettings::local("unused")
        };
        Relay::new(platform::db::pool(&settings).unwrap(), self.db.url().to_string(), self.jetstream.clone(), config)
    }

    async fn enqueue(&self, count: usize) -> Vec<EventId> {
        let mut connection = self.db.connect().await;
        let mut ids = Vec::new();
        for n in 0..count {
            ids.push(
                outbox::enqueue(&mut connection, &self.subjects.participation_created(), &event(n)).await.unwrap(),
            );
        }
        ids
    }

    async fn stream_messages(&self) -> u64 {
        let name = self.subjects.stream_name(ServiceName::TradeLedger);
        self.jetstream.get_stream(name).await.unwrap().info().await.unwrap().state.messages
    }

    async fn unpublished(&self) -> i64 {
        let mut connection = self.db.connect().await;
        table::table.filter(table::published_at.is_null()).count().get_result(&mut connection).await.unwrap()
    }
}

fn event(n: usize) -> ParticipationCreated {
    ParticipationCreated {
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
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_exists_only_if_its_transaction_commits() {
    let fixture = fixture().await;
    let mut connection = fixture.db.connect().await;
    let topic = fixture.subjects.participation_created();
    let rolled_back = connection
        .transaction::<(), diesel::result::Error, _>(async |tx| {
            outbox::enqueue(tx, &topic, &event(0)).await?;
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(rolled_back.is_err());
    assert_eq!(fixture.unpublished().await, 0);
    fixture.enqueue(1).await;
    assert_eq!(fixture.unpublished().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_publishes_each_row_once_with_its_event_id_as_message_id() {
    let fixture = fixture().await;
    let ids = fixture.enqueue(3).await;
    let relay = fixture.relay(RelayConfig::default());
    assert_eq!(relay.run_once().await.unwrap(), 3);
    assert_eq!(relay.run_once().await.unwrap(), 0, "published rows are not claimed again");
    assert_eq!(fixture.unpublished().await, 0);
    assert_eq!(fixture.stream_messages().await, 3);

    let stream = fixture.jetstream.get_stream(fixture.subjects.stream_name(ServiceName::TradeLedger)).await.unwrap();
    for (sequence, id) in (1..).zip(&ids) {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let msg_id = message.headers.get(bus::envelope::MSG_ID_HEADER).unwrap().to_string();
        assert_eq!(msg_id, id.to_string(), "published in insertion order with the event id");
        let envelope: bus::Event<ParticipationCreated> = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(envelope.id, *id);
        assert_eq!(envelope.event_type, "participation_created.v1");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_between_ack_and_mark_does_not_duplicate_the_event_in_the_stream() {
    let fixture = fixture().await;
    fixture.enqueue(1).await;
    fixture.relay(RelayConfig::default()).run_once().await.unwrap();
    // As if the relay died after JetStream's ack but before marking the row published.
    let mut connection = fixture.db.connect().await;
    diesel::update(table::table)
        .set(table::published_at.eq(None::<chrono::DateTime<chrono::Utc>>))
        .execute(&mut connection)
        .await
        .unwrap();
    assert_eq!(fixture.relay(RelayConfig::default()).run_once().await.unwrap(), 1);
    assert_eq!(fixture.stream_messages().await, 1, "the duplicate window dropped the same Nats-Msg-Id");
    assert_eq!(fixture.unpublished().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deliberate_republish_gets_a_fresh_message_id() {
    let fixture = fixture().await;
    let ids = fixture.enqueue(1).await;
    fixture.relay(RelayConfig::default()).run_once().await.unwrap();
    let mut connection = fixture.db.connect().await;
    diesel::sql_query("UPDATE outbox SET published_at = NULL, republish_count = republish_count + 1")
        .execute(&mut connection)
        .await
        .unwrap();
    fixture.relay(RelayConfig::default()).run_once().await.unwrap();
    assert_eq!(fixture.stream_messages().await, 2, "the recovery publish is not dropped as a duplicate");
    let stream = fixture.jetstream.get_stream(fixture.subjects.stream_name(ServiceName::TradeLedger)).await.unwrap();
    let second = stream.get_raw_message(2).await.unwrap();
    assert_eq!(second.headers.get(bus::envelope::MSG_ID_HEADER).unwrap().to_string(), format!("{}.1", ids[0]));
}

#[tokio::test(flavor = "multi_thread")]
async fn competing_relays_publish_every_row_exactly_once() {
    let fixture = fixture().await;
    fixture.enqueue(300).await;
    let config = RelayConfig { batch_size: 16, ..RelayConfig::default() };
    let relays: Vec<_> = (0..3).map(|_| fixture.relay(config.clone())).collect();
    let rounds = relays.iter().map(|relay| async move {
        let mut total = 0;
        loop {
            match relay.run_once().await.unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    let published: usize = futures::future::join_all(rounds).await.into_iter().sum();
    assert_eq!(published, 300);
    assert_eq!(fixture.stream_messages().await, 300);
    assert_eq!(fixture.unpublished().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_relay_wakes_on_notify_long_before_its_poll_interval() {
    let fixture = fixture().await;
    let relay = fixture.relay(RelayConfig { poll_interval: Duration::from_secs(3600), ..RelayConfig::default() });
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(relay.run(shutdown.clone()));
    // Let the relay drain the (empty) outbox and start listening before the insert.
    tokio::time::sleep(Duration::from_millis(300)).await;
    fixture.enqueue(1).await;
    eventually("the event to reach the stream", Duration::from_secs(10), || async {
        (fixture.stream_messages().await == 1).then_some(())
    })
    .await;
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_whose_listening_connection_dies_listens_again_and_still_wakes_on_notify() {
    let fixture = fixture().await;
    let relay = fixture.relay(RelayConfig { poll_interval: Duration::from_secs(3600), ..RelayConfig::default() });
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(relay.run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A Postgres restart, or an administrator, ends the relay's LISTEN connection.
    let mut connection = fixture.db.connect().await;
    let ended: Vec<Terminated> = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .load(&mut connection)
    .await
    .unwrap();
    assert_eq!(ended.len(), 1, "the relay listened on a connection of its own");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!running.is_finished(), "the relay carries on");

    fixture.enqueue(1).await;
    eventually("the event to reach the stream", Duration::from_secs(10), || async {
        (fixture.stream_messages().await == 1).then_some(())
    })
    .await;
    shutdown.cancel();
    running.await.expect("the relay did not panic").unwrap();
}

#[derive(diesel::QueryableByName)]
struct Terminated {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    #[allow(dead_code)]
    ended: bool,
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_accepts_an_event_id_once_per_consumer() {
    let fixture = fixture().await;
    let mut connection = fixture.db.connect().await;
    let id = EventId::new();
    assert!(outbox::inbox::first_time(&mut connection, "fetcher_participation_created", id).await.unwrap());
    assert!(!outbox::inbox::first_time(&mut connection, "fetcher_participation_created", id).await.unwrap());
    assert!(outbox::inbox::first_time(&mut connection, "another_consumer", id).await.unwrap());
}

/// A relay "restarted" after a fault: a fresh relay with short leases, like a new process.
fn restarted(fixture: &Fixture) -> Relay {
    fixture.relay(RelayConfig { lease: Duration::from_millis(200), ..RelayConfig::default() })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_stopped_between_commit_and_publish_publishes_once_after_a_restart() {
    let fixture = fixture().await;
    let faults = std::sync::Arc::new(outbox::Faults::default());
    faults.before_publish.store(true, std::sync::atomic::Ordering::SeqCst);
    let crashing = fixture.relay(RelayConfig {
        lease: Duration::from_millis(200),
        faults: Some(faults),
        ..RelayConfig::default()
    });
    fixture.enqueue(1).await;
    assert!(crashing.run_once().await.is_err(), "the fault stops the relay");
    assert_eq!(fixture.stream_messages().await, 0);
    assert_eq!(fixture.unpublished().await, 1, "the committed event waits in Postgres");

    let relay = restarted(&fixture);
    eventually("the lease to expire and the event to be published", Duration::from_secs(10), || async {
        relay.run_once().await.ok();
        (fixture.unpublished().await == 0).then_some(())
    })
    .await;
    assert_eq!(fixture.stream_messages().await, 1, "exactly once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_stopped_between_ack_and_mark_publishes_once_after_a_restart() {
    let fixture = fixture().await;
    let faults = std::sync::Arc::new(outbox::Faults::default());
    faults.after_ack.store(true, std::sync::atomic::Ordering::SeqCst);
    let crashing = fixture.relay(RelayConfig {
        lease: Duration::from_millis(200),
        faults: Some(faults),
        ..RelayConfig::default()
    });
    fixture.enqueue(1).await;
    assert!(crashing.run_once().await.is_err(), "the fault stops the relay");
    assert_eq!(fixture.stream_messages().await, 1, "JetStream has the event");
    assert_eq!(fixture.unpublished().await, 1, "but the row was never marked");

    let relay = restarted(&fixture);
    eventually("the row to be marked published", Duration::from_secs(10), || async {
        relay.run_once().await.ok();
        (fixture.unpublished().await == 0).then_some(())
    })
    .await;
    assert_eq!(fixture.stream_messages().await, 1, "the re-publish was dropped as a duplicate: exactly once");
}
