//! Pruning against real Postgres: the outbox, the inbox and the idempotency records (the
//! trade-ledger's migrations have all three).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::db::PgPool;
use platform::prune::{LOCK_CLASS, PruneJob, prune};
use platform::settings::{DatabaseSettings, RetentionSettings};
use std::path::Path;
use test_support::TestDb;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../services/trade-ledger/migrations");

async fn database() -> (TestDb, PgPool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/trade-ledger/migrations");
    let db = TestDb::new("outbox", MIGRATIONS, &dir).await;
    let settings = DatabaseSettings { url: db.url().to_string(), ..DatabaseSettings::local("unused") };
    let pool = platform::db::pool(&settings).unwrap();
    (db, pool)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn count(connection: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(connection).await.unwrap().count
}

async fn run(connection: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql).execute(connection).await.unwrap();
}

/// `rows` outbox rows created `created` ago and published `published` ago (or never).
async fn outbox_rows(connection: &mut AsyncPgConnection, rows: u32, created: &str, published: Option<&str>) {
    let published = published.map_or("NULL".to_string(), |age| format!("now() - interval '{age}'"));
    run(
        connection,
        &format!(
            "INSERT INTO outbox (id, subject, payload, created_at, published_at) \
             SELECT gen_random_uuid(), 'tb.evt.ledger.test.v1', '{{}}', now() - interval '{created}', {published} \
             FROM generate_series(1, {rows})"
        ),
    )
    .await;
}

fn outbox_job() -> PruneJob {
    outbox::prune::jobs(&RetentionSettings::default()).remove(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn published_outbox_rows_past_the_retention_go_in_batches_of_at_most_1000() {
    let (db, pool) = database().await;
    let mut connection = db.connect().await;
    outbox_rows(&mut connection, 2_500, "9 days", Some("8 days")).await;
    // Published recently, or never (still waiting, or given up on): they stay.
    outbox_rows(&mut connection, 7, "9 days", Some("6 days")).await;
    outbox_rows(&mut connection, 5, "30 days", None).await;

    let job = outbox_job();
    assert_eq!((job.name, job.keep.as_secs()), ("outbox", 7 * 24 * 3600));
    let pruned = prune(&pool, &job, 1_000).await.unwrap();

    assert_eq!(pruned.batches, [1_000, 1_000, 500], "each statement deletes at most 1,000 rows");
    assert!(!pruned.skipped);
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM outbox").await, 12);
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM outbox WHERE published_at IS NULL").await, 5);
    let again = prune(&pool, &job, 1_000).await.unwrap();
    assert_eq!(again.batches, [0], "nothing left to prune");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_larger_than_1000_is_capped() {
    let (db, pool) = database().await;
    let mut connection = db.connect().await;
    outbox_rows(&mut connection, 1_200, "9 days", Some("8 days")).await;
    let pruned = prune(&pool, &outbox_job(), 5_000).await.unwrap();
    assert_eq!(pruned.batches, [1_000, 200]);
}

#[tokio::test(flavor = "multi_thread")]
async fn processed_messages_past_the_retention_go_and_younger_ones_stay() {
    let (db, pool) = database().await;
    let mut connection = db.connect().await;
    for (rows, age) in [(2_500, "8 days"), (3, "1 day")] {
        run(
            &mut connection,
            &format!(
                "INSERT INTO processed_messages (consumer, event_id, processed_at) \
                 SELECT 'ledger_fetch_outcomes', gen_random_uuid(), now() - interval '{age}' \
                 FROM generate_series(1, {rows})"
            ),
        )
        .await;
    }
    let job = outbox::prune::jobs(&RetentionSettings::default()).remove(1);
    assert_eq!(job.name, "processed_messages");

    let pruned = prune(&pool, &job, 1_000).await.unwrap();

    assert_eq!(pruned.batches, [1_000, 1_000, 500]);
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM processed_messages").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_replica_skips_while_another_holds_the_lock() {
    let (db, pool) = database().await;
    let mut connection = db.connect().await;
    outbox_rows(&mut connection, 1_500, "9 days", Some("8 days")).await;
    // Another replica in the middle of its batch: it holds the job's lock.
    let mut other_replica = db.connect().await;
    run(&mut other_replica, &format!("SELECT pg_advisory_lock({LOCK_CLASS}, hashtext('outbox'))")).await;

    let pruned = prune(&pool, &outbox_job(), 1_000).await.unwrap();

    assert!(pruned.skipped, "the lock is tried, never waited for");
    assert!(pruned.batches.is_empty(), "{pruned:?}");
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM outbox").await, 1_500);

    run(&mut other_replica, &format!("SELECT pg_advisory_unlock({LOCK_CLASS}, hashtext('outbox'))")).await;
    let pruned = prune(&pool, &outbox_job(), 1_000).await.unwrap();
    assert_eq!(pruned.batches, [1_000, 500]);
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_run_one_after_another_and_each_takes_its_own_lock() {
    let (db, pool) = database().await;
    let mut connection = db.connect().await;
    outbox_rows(&mut connection, 10, "9 days", Some("8 days")).await;
    run(
        &mut connection,
        "INSERT INTO processed_messages (consumer, event_id, processed_at) \
         SELECT 'c', gen_random_uuid(), now() - interval '8 days' FROM generate_series(1, 4)",
    )
    .await;
    let mut other_replica = db.connect().await;
    run(&mut other_replica, &format!("SELECT pg_advisory_lock({LOCK_CLASS}, hashtext('processed_messages'))")).await;

    let rounds = platform::prune::prune_all(&pool, &outbox::prune::jobs(&RetentionSettings::default()), 1_000).await;

    let summary: Vec<_> = rounds.iter().map(|round| (round.job, round.deleted(), round.skipped)).collect();
    assert_eq!(summary, [("outbox", 10, false), ("processed_messages", 0, true)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_idempotency_purge_deletes_expired_records_in_batches_under_the_lock() {
    let (db, pool) = database().await;
    let mut connection = db.connect().await;
    for (rows, expires) in [(2_500, "now() - interval '1 hour'"), (4, "now() + interval '1 hour'")] {
        run(
            &mut connection,
            &format!(
                "INSERT INTO idempotency_records (scope, key, request_hash, response_status, response_body, expires_at) \
                 SELECT 'bot', 'key-' || n || '-' || gen_random_uuid(), '\\x00', 200, '{{}}', {expires} \
                 FROM generate_series(1, {rows}) AS n"
            ),
        )
        .await;
    }
    let mut other_replica = db.connect().await;
    run(&mut other_replica, &format!("SELECT pg_advisory_lock({LOCK_CLASS}, hashtext('idempotency_records'))")).await;
    let skipped = platform::idempotency::purge_once(&pool).await.unwrap();
    assert!(skipped.skipped && skipped.batches.is_empty(), "{skipped:?}");
    run(&mut other_replica, &format!("SELECT pg_advisory_unlock({LOCK_CLASS}, hashtext('idempotency_records'))")).await;

    let purged = platform::idempotency::purge_once(&pool).await.unwrap();

    assert_eq!(purged.batches, [1_000, 1_000, 500]);
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM idempotency_records").await, 4);
}
