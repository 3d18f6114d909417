//! Every retry of the fetcher ends: a broker that never answers parks the job after the time
//! budget, a database that is busy or locked delays an outcome but never parks or drops it,
//! an outcome whose text the database refuses is stored without it, a participation's orders
//! are asked for a few at a time, and snapshots are written in bounded statements.

use crate::harness::{ACCOUNT, Harness};
use diesel_async::SimpleAsyncConnection;
use domain::{EventId, ParticipationId};
use outbox_broker_fetcher::admin::AdminCommand;
use outbox_broker_fetcher::settings::{Settings, Span};
use outbox_broker_fetcher::store::jobs::{self, NewJob};
use outbox_broker_fetcher::store::snapshots::{self, Snapshot};
use outbox_broker_fetcher::usecase::fetch::ORDERS_AT_ONCE;
use outbox_broker_fetcher::usecase::recorder::UNSTORABLE_REASON;
use rust_decimal::Decimal;
use std::time::Duration;
use tradier_sim::{HeldOrder, Step};

fn one_second_budget(settings: &mut Settings) {
    settings.fetch.give_up_after = Span(Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn transport_errors_past_the_time_budget_park_the_job_as_fetch_timed_out() {
    let harness = Harness::start(one_second_budget).await;
    harness.sim.script(ACCOUNT, "9911", vec![Step::Reset; 10_000]);
    let request = harness.send(harness.request("9911", &[])).await;
    let (attempts, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert!(attempts > 1, "retried within the budget: {attempts}");
    let error = error.unwrap();
    assert!(error.contains("time budget"), "{error}");
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("fetch_timed_out"));
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(outcomes[0].1["code"], "fetch_timed_out", "{:?}", outcomes[0]);

    // An admin retry gives the job a fresh budget: the broker is back, and it is fetched.
    harness.sim.release(ACCOUNT, "9911");
    let retry = AdminCommand::Retry { participation: Some(request.participation_id), all: false };
    harness.admin(retry, "").await;
    harness.wait_for(request.participation_id, "fetched").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_past_the_time_budget_park_the_job_as_fetch_timed_out() {
    let harness = Harness::start(one_second_budget).await;
    harness.sim.script(ACCOUNT, "9912", vec![Step::RateLimited { reset_in_ms: 50 }; 10_000]);
    let request = harness.send(harness.request("9912", &[])).await;
    harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("fetch_timed_out"));
}

/// Holds a lock on the snapshots table while a fetch completes: each write of its outcome is
/// cancelled (by `statement_timeout` or `lock_timeout`). The job must wait, not be parked,
/// and be recorded from the answer it has once the lock is gone.
async fn an_outcome_whose_write_is_cancelled_is_written_again(harness: &Harness, order: &str) {
    let mut locker = harness.db.connect().await;
    locker.batch_execute("BEGIN; LOCK TABLE order_snapshots IN EXCLUSIVE MODE").await.unwrap();
    let request = harness.send(harness.request(order, &[])).await;
    test_support::eventually("the broker to be asked", Duration::from_secs(10), || async {
        (harness.sim.requests(ACCOUNT, order) > 0).then_some(())
    })
    .await;
    // Several writes are cancelled meanwhile.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (status, _, _) = harness.job(request.participation_id).await.unwrap();
    assert_eq!(status, "pending", "a cancelled write is not a refusal: nothing is parked");
    locker.batch_execute("ROLLBACK").await.unwrap();

    harness.wait_for(request.participation_id, "fetched").await;
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert!(outcomes[0].0.ends_with(".order_fetched.v1"), "{outcomes:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.outcomes_of(request.participation_id).await.len(), 1, "one outcome");
    assert_eq!(harness.sim.requests(ACCOUNT, order), 1, "the answer in hand was written; not fetched again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_timeout_delays_an_outcome_but_never_parks_it() {
    let harness = Harness::start(|settings| settings.database.statement_timeout_ms = 300).await;
    an_outcome_whose_write_is_cancelled_is_written_again(&harness, "9913").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_timeout_delays_an_outcome_but_never_parks_it() {
    let mut harness = Harness::start(|_| {}).await;
    // Connections opened from now on wait at most 200 ms for a lock.
    harness.stop().await;
    let database = harness.db.url().rsplit('/').next().unwrap().to_string();
    let statement = format!("ALTER DATABASE \"{database}\" SET lock_timeout = '200ms'");
    harness.db.connect().await.batch_execute(&statement).await.unwrap();
    harness.start_fetcher().await;
    an_outcome_whose_write_is_cancelled_is_written_again(&harness, "9914").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_whose_reason_the_database_refuses_is_stored_without_it() {
    // A lease of 1 s: were the outcome dropped, the job would be fetched again and again.
    let harness = Harness::start(|settings| settings.fetch.lease_secs = 1).await;
    // A refusal whose text carries a NUL character, which no Postgres text column holds.
    let body = r#"{"errors":{"error":["Account\u0000disabled"]}}"#;
    harness.sim.hold(ACCOUNT, "9921", HeldOrder::Raw { body: body.into() });
    let request = harness.send(harness.request("9921", &[])).await;
    let (_, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(error.as_deref(), Some(UNSTORABLE_REASON));
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("broker_refused"));
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(outcomes[0].1["code"], "broker_refused");
    assert_eq!(harness.sim.requests(ACCOUNT, "9921"), 1, "parked from the first answer");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_participations_orders_are_asked_for_four_at_a_time() {
    let harness = Harness::start(|_| {}).await;
    let children: Vec<String> = (1..=11).map(|n| format!("99{:02}", 30 + n)).collect();
    let orders: Vec<&str> = std::iter::once("9930").chain(children.iter().map(String::as_str)).collect();
    for order in &orders {
        harness.sim.script(ACCOUNT, order, vec![Step::Delay { ms: 600 }]);
    }
    let asked = || orders.iter().filter(|order| harness.sim.requests(ACCOUNT, order) > 0).count();
    let request = harness.send(harness.request("9930", &orders[1..])).await;
    test_support::eventually("the first requests", Duration::from_secs(10), || async { (asked() > 0).then_some(()) })
        .await;
    // Each answer takes 600 ms (below the test's 1 s request timeout): the second wave
    // cannot have started yet.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(asked(), ORDERS_AT_ONCE, "the first wave");
    assert_eq!(ORDERS_AT_ONCE, 4);

    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(outcomes[0].1["children"].as_array().unwrap().len(), 11, "every child, in order");
    assert_eq!(outcomes[0].1["children"][10]["orderId"], "9941");
    for order in &orders {
        assert_eq!(harness.sim.requests(ACCOUNT, order), 1, "order {order} fetched once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_beyond_one_statements_bind_parameters_are_stored_in_chunks() {
    let harness = Harness::start(|_| {}).await;
    let participation = ParticipationId::new();
    let job = NewJob {
        participation_id: participation,
        request_event_id: EventId::new(),
        broker: "tradier".into(),
        broker_account_id: harness.account,
        broker_account_number: ACCOUNT.into(),
        broker_order_id: "P".into(),
        child_order_ids: vec![],
        requested_at: chrono::Utc::now(),
    };
    let mut connection = harness.db.connect().await;
    jobs::insert_leased(&mut connection, &[job], Duration::from_secs(60)).await.unwrap();
    // 7,000 rows of 10 columns: 70,000 parameters, more than one statement may carry.
    let rows: Vec<Snapshot> = (0..7_000)
        .map(|n| Snapshot {
            participation_id: participation,
            order_id: format!("O-{n}"),
            is_parent: n == 0,
            status: "filled".into(),
            broker_status: "filled".into(),
            quantity: Decimal::ONE,
            filled_quantity: Decimal::ONE,
            avg_fill_price: Some(Decimal::TEN),
            raw: serde_json::json!({"id": n}),
            fetched_at: chrono::Utc::now(),
        })
        .collect();
    snapshots::upsert(&mut connection, &rows).await.unwrap();
    let stored = snapshots::of(&mut connection, participation).await.unwrap();
    assert_eq!(stored.len(), 7_000);
    assert!(stored[0].is_parent);
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_outbox_rows_are_listed_and_published_after_an_admin_retry() {
    let harness = Harness::start(|_| {}).await;
    // An outcome event the relay gave up on (its stream was missing at the time, say).
    let (event, participation) = (EventId::new(), ParticipationId::new());
    let subject = harness.nats.subjects().order_fetch_failed().subject().to_string();
    let payload = serde_json::json!({
        "id": event, "type": "order_fetch_failed.v1", "occurredAt": "2026-01-01T00:00:00Z",
        "data": {"participationId": participation, "revision": 1, "failedAt": "2026-01-01T00:00:00Z",
                 "code": "no_credentials", "attempts": 1}
    });
    let statement = format!(
        "INSERT INTO outbox (id, subject, payload, attempts, last_error, dead_at)
         VALUES ('{event}', '{subject}', '{payload}', 20, 'no stream', now())"
    );
    harness.db.connect().await.batch_execute(&statement).await.unwrap();

    let listed = harness.admin(AdminCommand::OutboxDead, "").await;
    assert_eq!(listed["dead"][0]["id"], event.to_string(), "{listed}");
    assert_eq!(listed["dead"][0]["lastError"], "no stream");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(harness.outcomes_of(participation).await.is_empty(), "the relay leaves a dead row alone");

    let retried = harness.admin(AdminCommand::OutboxRetry { ids: vec![], all: true }, "").await;
    assert_eq!(retried, serde_json::json!({ "requeued": [event] }));
    let outcomes = harness.wait_outcomes(participation, 1).await;
    assert_eq!(outcomes[0].1["code"], "no_credentials");
    assert_eq!(harness.admin(AdminCommand::OutboxDead, "").await, serde_json::json!({ "dead": [] }));
}
