//! Pruning finished fetch jobs: only fetched jobs whose outcome is published and older than the
//! retention go, with their snapshots; dead letters, pending jobs and unpublished outcomes stay.

use crate::harness::{Harness, fast};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use outbox_broker_fetcher::settings::Settings;
use outbox_broker_fetcher::store::prune;
use platform::db::PgPool;
use platform::settings::RetentionSettings;
use std::time::Duration;
use uuid::Uuid;

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

/// Where a job's outcome event stands in the outbox.
#[derive(Clone, Copy)]
enum Outcome {
    /// Published (and acknowledged).
    Published,
    /// Still waiting for the relay.
    Unpublished,
    /// Published long ago and already pruned from the outbox.
    Gone,
}

/// `jobs` jobs in `status`, last written `age` ago, each with `snapshots` order snapshots and
/// its outcome event as `outcome` says.
async fn jobs(
    connection: &mut AsyncPgConnection,
    jobs: u32,
    status: &str,
    age: &str,
    snapshots: u32,
    outcome: Outcome,
) {
    let tag = Uuid::new_v4();
    run(
        connection,
        &format!(
            "INSERT INTO fetch_jobs (participation_id, request_event_id, broker, broker_account_id, \
                 broker_account_number, broker_order_id, child_order_ids, status, outcome_event_id, \
                 requested_at, created_at, updated_at, last_error) \
             SELECT gen_random_uuid(), gen_random_uuid(), 'tradier', gen_random_uuid(), 'VA000001', \
                 'order-' || n, '{{}}', '{status}', gen_random_uuid(), now() - interval '{age}', \
                 now() - interval '{age}', now() - interval '{age}', '{tag}' \
             FROM generate_series(1, {jobs}) AS n"
        ),
    )
    .await;
    let published = match outcome {
        Outcome::Published => "now() - interval '1 second'",
        Outcome::Unpublished => "NULL",
        Outcome::Gone => return snapshots_of(connection, tag, snapshots).await,
    };
    run(
        connection,
        &format!(
            "INSERT INTO outbox (id, subject, payload, published_at) \
             SELECT outcome_event_id, 'tb.evt.fetcher.order_fetched.v1', '{{}}', {published} \
             FROM fetch_jobs WHERE last_error = '{tag}'"
        ),
    )
    .await;
    snapshots_of(connection, tag, snapshots).await;
}

async fn snapshots_of(connection: &mut AsyncPgConnection, tag: Uuid, snapshots: u32) {
    run(
        connection,
        &format!(
            "INSERT INTO order_snapshots (participation_id, order_id, is_parent, status, broker_status, \
                 quantity, filled_quantity, raw, fetched_at) \
             SELECT j.participation_id, 'order-' || n, n = 1, 'filled', 'filled', 1, 1, '{{}}', j.updated_at \
             FROM fetch_jobs j CROSS JOIN generate_series(1, {snapshots}) AS n WHERE j.last_error = '{tag}'"
        ),
    )
    .await;
}

fn retention() -> RetentionSettings {
    RetentionSettings::default()
}

/// A stopped fetcher (so its scheduler leaves the rows alone) and a pool on its database.
async fn stopped() -> (Harness, PgPool) {
    let mut harness = Harness::start(fast).await;
    harness.stop().await;
    let pool = platform::db::pool(&harness.settings().database).unwrap();
    (harness, pool)
}

#[tokio::test(flavor = "multi_thread")]
async fn only_fetched_jobs_whose_outcome_was_published_long_ago_are_pruned_with_their_snapshots() {
    let (harness, pool) = stopped().await;
    let mut connection = harness.db.connect().await;
    jobs(&mut connection, 3, "fetched", "8 days", 2, Outcome::Published).await;
    jobs(&mut connection, 2, "fetched", "9 days", 1, Outcome::Gone).await;
    // Each of these must stay.
    jobs(&mut connection, 4, "fetched", "8 days", 1, Outcome::Unpublished).await;
    jobs(&mut connection, 5, "fetched", "6 days", 1, Outcome::Published).await;
    jobs(&mut connection, 6, "dead_letter", "30 days", 0, Outcome::Published).await;
    jobs(&mut connection, 7, "pending", "30 days", 0, Outcome::Gone).await;

    let rounds = platform::prune::prune_all(&pool, &prune::jobs(&retention()), 1_000).await;

    let deleted: Vec<_> = rounds.iter().map(|round| (round.job, round.deleted())).collect();
    assert_eq!(deleted, [("order_snapshots", 8), ("fetch_jobs", 5)]);
    let left = "SELECT count(*) AS count FROM fetch_jobs";
    assert_eq!(count(&mut connection, left).await, 4 + 5 + 6 + 7);
    let dead = "SELECT count(*) AS count FROM fetch_jobs WHERE status = 'dead_letter'";
    assert_eq!(count(&mut connection, dead).await, 6, "a dead letter waits for a person");
    let orphans = "SELECT count(*) AS count FROM order_snapshots s \
                   WHERE NOT EXISTS (SELECT 1 FROM fetch_jobs j WHERE j.participation_id = s.participation_id)";
    assert_eq!(count(&mut connection, orphans).await, 0);
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM order_snapshots").await, 4 + 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn many_finished_jobs_go_in_batches_of_at_most_1000_rows() {
    let (harness, pool) = stopped().await;
    let mut connection = harness.db.connect().await;
    jobs(&mut connection, 1_200, "fetched", "8 days", 2, Outcome::Published).await;

    let rounds = platform::prune::prune_all(&pool, &prune::jobs(&retention()), 1_000).await;

    let batches: Vec<_> = rounds.iter().map(|round| (round.job, round.batches.clone())).collect();
    assert_eq!(batches, [("order_snapshots", vec![1_000, 1_000, 400]), ("fetch_jobs", vec![1_000, 200])]);
    assert_eq!(count(&mut connection, "SELECT count(*) AS count FROM fetch_jobs").await, 0);
}

fn prune_every_second(settings: &mut Settings) {
    fast(settings);
    settings.database.retention.interval_secs = 1;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_running_fetcher_prunes_finished_jobs_and_old_outbox_and_inbox_rows() {
    let harness = Harness::start(prune_every_second).await;
    let mut connection = harness.db.connect().await;
    jobs(&mut connection, 3, "fetched", "8 days", 1, Outcome::Gone).await;
    jobs(&mut connection, 2, "dead_letter", "8 days", 0, Outcome::Gone).await;
    run(
        &mut connection,
        "INSERT INTO outbox (id, subject, payload, published_at) \
         SELECT gen_random_uuid(), 'tb.evt.fetcher.order_fetched.v1', '{}', now() - interval '8 days' \
         FROM generate_series(1, 4)",
    )
    .await;
    run(
        &mut connection,
        "INSERT INTO processed_messages (consumer, event_id, processed_at) \
         SELECT 'fetcher_participation_created', gen_random_uuid(), now() - interval '8 days' \
         FROM generate_series(1, 4)",
    )
    .await;

    test_support::eventually("the pruner ran", Duration::from_secs(15), || async {
        let mut connection = harness.db.connect().await;
        let left = count(
            &mut connection,
            "SELECT (SELECT count(*) FROM fetch_jobs) + (SELECT count(*) FROM outbox) \
                    + (SELECT count(*) FROM processed_messages) AS count",
        )
        .await;
        (left == 2).then_some(())
    })
    .await;
    let dead = "SELECT count(*) AS count FROM fetch_jobs WHERE status = 'dead_letter'";
    assert_eq!(count(&mut connection, dead).await, 2);
}
