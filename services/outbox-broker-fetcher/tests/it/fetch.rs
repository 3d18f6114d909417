//! The fetch path against a real local Tradier server, Postgres and JetStream.

use crate::harness::{ACCOUNT, Harness, fast};
use domain::EventId;
use outbox_broker_fetcher::admin::AdminCommand;
use outbox_broker_fetcher::store::snapshots;
use std::time::Duration;
use tradier_sim::{Fixture, HeldOrder, SimStatus, Step};

const FETCHED: &str = "tb.evt.fetcher.order_fetched.v1";
const FAILED: &str = "tb.evt.fetcher.order_fetch_failed.v1";

fn kind(subject: &str) -> &'static str {
    if subject.ends_with(".order_fetched.v1") {
        FETCHED
    } else if subject.ends_with(".order_fetch_failed.v1") {
        FAILED
    } else {
        "other"
    }
}

/// An `order fetch failed` event carries its code and nothing of the fetcher's detail: exactly
/// these fields, and none of `details` anywhere in its JSON.
fn assert_code_only(event: &serde_json::Value, code: &str, details: &[&str]) {
    assert_eq!(event["code"], code, "{event}");
    let mut fields: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["attempts", "code", "failedAt", "participationId", "revision"], "{event}");
    // Only the fields a broker detail could leak into: the participation id and the time are
    // ours, and a time-ordered id can itself contain "503".
    let mut shown = event.clone();
    let shown_fields = shown.as_object_mut().unwrap();
    shown_fields.remove("participationId");
    shown_fields.remove("failedAt");
    let text = shown.to_string().to_lowercase();
    for detail in details {
        assert!(!text.contains(&detail.to_lowercase()), "the event shows {detail:?}: {event}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fetches_the_parent_and_every_child_and_publishes_the_outcome_once() {
    let harness = Harness::start(|_| {}).await;
    harness.sim.hold(ACCOUNT, "5001", HeldOrder::status(SimStatus::PartiallyFilled));
    harness.sim.hold(ACCOUNT, "5003", HeldOrder::status(SimStatus::Canceled));
    let request = harness.send(harness.request("5001", &["5002", "5003"])).await;

    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    let (subject, event) = &outcomes[0];
    assert_eq!(kind(subject), FETCHED);
    assert_eq!(event["revision"], 1);
    assert_eq!(event["order"]["orderId"], "5001");
    assert_eq!(event["order"]["status"], "partially_filled");
    let children: Vec<_> = event["children"].as_array().unwrap().iter().map(|c| c["orderId"].clone()).collect();
    assert_eq!(children, ["5002", "5003"]);
    assert_eq!(event["children"][0]["status"], "filled");
    assert_eq!(event["children"][1]["status"], "cancelled");

    let mut connection = harness.db.connect().await;
    let stored = snapshots::of(&mut connection, request.participation_id).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored[0].is_parent && stored[0].order_id == "5001");
    assert_eq!(stored[0].raw["id"], 5001, "the broker's object is kept as received");
    for order in ["5001", "5002", "5003"] {
        assert_eq!(harness.sim.requests(ACCOUNT, order), 1, "order {order} fetched once");
    }
    let (attempts, error) = harness.wait_for(request.participation_id, "fetched").await;
    assert_eq!((attempts, error), (3, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_multileg_order_keeps_its_legs_in_the_snapshot() {
    let harness = Harness::start(|_| {}).await;
    harness.sim.hold(ACCOUNT, "229123", HeldOrder::Fixture { fixture: Fixture::Multileg });
    let request = harness.send(harness.request("229123", &[])).await;
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(kind(&outcomes[0].0), FETCHED);
    assert_eq!(outcomes[0].1["order"]["status"], "expired");
    let mut connection = harness.db.connect().await;
    let stored = snapshots::of(&mut connection, request.participation_id).await.unwrap();
    assert!(stored[0].raw["leg"].as_array().is_some_and(|legs| legs.len() == 4), "{}", stored[0].raw);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_waits_for_the_reset_then_succeeds() {
    let harness = Harness::start(|_| {}).await;
    harness.sim.script(ACCOUNT, "6001", vec![Step::RateLimited { reset_in_ms: 300 }]);
    let request = harness.send(harness.request("6001", &[])).await;
    let (attempts, _) = harness.wait_for(request.participation_id, "fetched").await;
    assert_eq!(attempts, 2);
    assert_eq!(harness.sim.requests(ACCOUNT, "6001"), 2, "no request before the reset");
    // The job's row commits before the relay publishes its event: wait for it.
    harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(harness.outcomes_of(request.participation_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_with_backoff_until_the_order_comes() {
    let harness = Harness::start(|settings| settings.fetch.max_failures = 5).await;
    let errors =
        vec![Step::ServerError { status: 502 }, Step::ServerError { status: 503 }, Step::ServerError { status: 500 }];
    harness.sim.script(ACCOUNT, "7001", errors);
    let request = harness.send(harness.request("7001", &[])).await;
    let (attempts, last_error) = harness.wait_for(request.participation_id, "fetched").await;
    assert_eq!(attempts, 4);
    assert_eq!(last_error, None, "cleared by the success");
    assert_eq!(kind(&harness.wait_outcomes(request.participation_id, 1).await[0].0), FETCHED);
}

#[tokio::test(flavor = "multi_thread")]
async fn transport_errors_never_park_a_job() {
    // Two counting failures would park it; five transport failures must not.
    let harness = Harness::start(|settings| {
        settings.fetch.max_failures = 2;
        settings.brokers.tradier.request_timeout_ms = 200;
    })
    .await;
    let steps = vec![Step::Reset, Step::Timeout, Step::Reset, Step::Reset, Step::Timeout];
    harness.sim.script(ACCOUNT, "7101", steps);
    let request = harness.send(harness.request("7101", &[])).await;
    let (attempts, _) = harness.wait_for(request.participation_id, "fetched").await;
    assert!(attempts >= 6, "five transport failures and a success (a slow machine may add timeouts): {attempts}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_that_never_appears_becomes_a_dead_letter_and_an_admin_retry_fetches_it() {
    let harness = Harness::start(|_| {}).await;
    harness.sim.script(ACCOUNT, "8001", vec![Step::NotFound, Step::NotFound, Step::NotFound]);
    let request = harness.send(harness.request("8001", &[])).await;

    let (attempts, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(attempts, 3, "max_failures = 3");
    let error = error.unwrap();
    assert!(error.contains("8001"), "{error}");
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(kind(&outcomes[0].0), FAILED);
    assert_code_only(&outcomes[0].1, "order_not_found", &[&error, "8001", "not visible"]);
    assert_eq!(outcomes[0].1["revision"], 1);

    // The detail stays with the fetcher: the admin sees both.
    let listed = harness.admin(AdminCommand::DeadLetters, "").await;
    let listed = listed["deadLetters"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["participationId"], request.participation_id.to_string());
    assert_eq!(listed[0]["code"], "order_not_found");
    assert_eq!(listed[0]["lastError"], error);

    let retried =
        harness.admin(AdminCommand::Retry { participation: Some(request.participation_id), all: false }, "").await;
    assert_eq!(retried["requeued"][0], request.participation_id.to_string());
    harness.wait_for(request.participation_id, "fetched").await;
    let outcomes = harness.wait_outcomes(request.participation_id, 2).await;
    assert_eq!(kind(&outcomes[1].0), FETCHED);
    assert_eq!(outcomes[1].1["revision"], 2, "newer than the failure it replaces");
    assert_eq!(harness.admin(AdminCommand::DeadLetters, "").await["deadLetters"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_broker_json_is_a_dead_letter_with_a_clear_reason() {
    let harness = Harness::start(|_| {}).await;
    harness.sim.script(ACCOUNT, "9001", vec![Step::Malformed]);
    let other = harness.send(harness.request("9002", &[])).await;
    let request = harness.send(harness.request("9001", &[])).await;
    let (attempts, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(attempts, 1, "waiting cannot fix a malformed answer");
    let error = error.unwrap();
    assert!(error.contains("order 9001") && error.to_lowercase().contains("json"), "{error}");
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("unstorable_answer"));
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(kind(&outcomes[0].0), FAILED);
    // Nothing of the broker's text or of our parser's message leaves the fetcher.
    assert_code_only(&outcomes[0].1, "unstorable_answer", &[&error, "json", "9001", "broker answered"]);
    harness.wait_for(other.participation_id, "fetched").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_past_the_limit_park_the_job_as_broker_unavailable() {
    let harness = Harness::start(|_| {}).await;
    let errors = vec![Step::ServerError { status: 503 }; 3];
    harness.sim.script(ACCOUNT, "7201", errors);
    let request = harness.send(harness.request("7201", &[])).await;
    let (attempts, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(attempts, 3, "max_failures = 3");
    let error = error.unwrap();
    assert!(error.contains("HTTP 503"), "{error}");
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_code_only(&outcomes[0].1, "broker_unavailable", &[&error, "503"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fetch_without_credentials_is_parked_until_they_are_set() {
    let harness = Harness::start(|_| {}).await;
    let mut request = harness.request("9101", &[]);
    let account = domain::BrokerAccountId::new();
    request.broker_account_id = account;
    let request = harness.send(request).await;
    let (_, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    let error = error.unwrap();
    assert_eq!(error, format!("no credentials stored for broker account {account}"));
    assert_eq!(harness.sim.requests(ACCOUNT, "9101"), 0);
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("no_credentials"));
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_code_only(&outcomes[0].1, "no_credentials", &[&error, &account.to_string(), ACCOUNT, "stored"]);
    let listed = harness.admin(AdminCommand::DeadLetters, "").await;
    assert_eq!(listed["deadLetters"][0]["code"], "no_credentials");
    assert_eq!(listed["deadLetters"][0]["lastError"], error);

    harness
        .admin(
            AdminCommand::SetCredentials { broker_account: account, environment: "live".into() },
            "tok-fetch-test-6f1c\n",
        )
        .await;
    harness.admin(AdminCommand::Retry { participation: None, all: true }, "").await;
    harness.wait_for(request.participation_id, "fetched").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_are_a_dead_letter() {
    let harness = Harness::start(|_| {}).await;
    harness
        .admin(AdminCommand::SetCredentials { broker_account: harness.account, environment: "live".into() }, "wrong")
        .await;
    let request = harness.send(harness.request("9201", &[])).await;
    let (attempts, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(attempts, 1);
    assert!(!error.unwrap().contains("wrong"), "the token never reaches an error");
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_code_only(&outcomes[0].1, "broker_refused", &["wrong", "credentials", "9201"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sim_accounts_are_fetched_without_credentials_or_http() {
    let harness = Harness::start(|_| {}).await;
    let mut request = harness.request("SIM-1", &["SIM-2"]);
    request.broker = "SIM".into();
    request.broker_account_id = domain::BrokerAccountId::new();
    let request = harness.send(request).await;
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    assert_eq!(kind(&outcomes[0].0), FETCHED);
    assert_eq!(outcomes[0].1["order"]["status"], "filled");
    assert_eq!(harness.sim.requests(ACCOUNT, "SIM-1"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_request_has_one_effect_and_a_late_one_republishes_the_outcome() {
    let harness = Harness::start(|_| {}).await;
    let request = harness.request("9301", &[]);
    let event_id = EventId::new();
    harness.publish(event_id, &request, 0).await;
    harness.publish(event_id, &request, 1).await;
    harness.wait_for(request.participation_id, "fetched").await;
    let outcomes = harness.wait_outcomes(request.participation_id, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.sim.requests(ACCOUNT, "9301"), 1, "one fetch for two deliveries");

    // The ledger asks again (its sweep) because it never heard the answer: the same outcome
    // event is published again, and nothing is fetched again.
    harness.publish(event_id, &request, 2).await;
    let again = harness.wait_outcomes(request.participation_id, 2).await;
    assert_eq!(again[1].1, outcomes[0].1);
    assert_eq!(harness.sim.requests(ACCOUNT, "9301"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_mid_flight_loses_nothing_and_fetches_each_participation_once() {
    let mut harness = Harness::start(|settings| {
        fast(settings);
        settings.fetch.lease_secs = 1;
    })
    .await;
    let mut requests = Vec::new();
    for n in 0..20 {
        let order = format!("95{n:02}");
        harness.sim.script(ACCOUNT, &order, vec![Step::Delay { ms: 600 }]);
        requests.push(harness.send(harness.request(&order, &[])).await);
    }
    // Every request is a job (held under this process's lease) and some attempts are waiting
    // on the broker when the process dies. (A request pulled but not yet a job would come back
    // from JetStream after the consumer's ack wait instead: that is JetStream's part.)
    test_support::eventually("jobs created and attempts in flight", Duration::from_secs(10), || async {
        let mut jobs = 0;
        for request in &requests {
            jobs += usize::from(harness.job(request.participation_id).await.is_some());
        }
        (jobs == requests.len() && harness.sim.requests(ACCOUNT, "9500") > 0).then_some(())
    })
    .await;
    harness.crash().await;
    harness.start_fetcher().await;

    for request in &requests {
        harness.wait_for(request.participation_id, "fetched").await;
    }
    let published = harness.published().await;
    for request in &requests {
        let outcomes =
            published.iter().filter(|(_, e)| e.data["participationId"] == request.participation_id.to_string()).count();
        assert_eq!(outcomes, 1, "exactly one outcome for {}", request.broker_order_id);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_stop_finishes_what_is_in_flight() {
    let mut harness = Harness::start(|_| {}).await;
    harness.sim.script(ACCOUNT, "9601", vec![Step::Delay { ms: 400 }]);
    let request = harness.send(harness.request("9601", &[])).await;
    test_support::eventually("attempt in flight", Duration::from_secs(10), || async {
        (harness.sim.requests(ACCOUNT, "9601") > 0).then_some(())
    })
    .await;
    harness.stop().await;
    let (status, _, _) = harness.job(request.participation_id).await.unwrap();
    assert_eq!(status, "fetched", "the attempt in flight was recorded before the process ended");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_token_is_read_again_instead_of_parking_the_job() {
    let harness = Harness::start(|_| {}).await;
    let first = harness.send(harness.request("9701", &[])).await;
    harness.wait_for(first.participation_id, "fetched").await;

    // The token is rotated at the broker and in the store; the fetcher still has the old one cached.
    harness.sim.require_token(ACCOUNT, "tok-rotated");
    let command = AdminCommand::SetCredentials { broker_account: harness.account, environment: "live".into() };
    harness.admin(command, "tok-rotated").await;
    let second = harness.send(harness.request("9702", &[])).await;
    let (attempts, _) = harness.wait_for(second.participation_id, "fetched").await;
    assert_eq!(attempts, 2, "one refusal with the cached token, then the stored one");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_the_database_cannot_store_is_parked_and_the_others_are_recorded() {
    let harness = Harness::start(|_| {}).await;
    // Valid JSON, but Postgres's jsonb refuses a NUL character: the outcome cannot be written.
    let body = r#"{"order":{"id":9801,"type":"market","symbol":"AAPL","side":"buy","quantity":1.00000000,
        "status":"filled","duration":"day","avg_fill_price":10.00000000,"exec_quantity":1.00000000,
        "last_fill_price":10.00000000,"last_fill_quantity":1.00000000,"remaining_quantity":0.00000000,
        "create_date":"2024-01-01T00:00:00.000Z","transaction_date":"2024-01-01T00:00:00.000Z",
        "class":"equity","tag":"bad\u0000tag"}}"#;
    harness.sim.hold(ACCOUNT, "9801", HeldOrder::Raw { body: body.into() });
    let mut others = Vec::new();
    for order in ["9802", "9803", "9804"] {
        others.push(harness.send(harness.request(order, &[])).await);
    }
    let poisoned = harness.send(harness.request("9801", &[])).await;
    let (_, error) = harness.wait_for(poisoned.participation_id, "dead_letter").await;
    let error = error.unwrap();
    assert!(error.starts_with("the broker's answer could not be stored"), "{error}");
    let outcomes = harness.wait_outcomes(poisoned.participation_id, 1).await;
    assert_code_only(&outcomes[0].1, "unstorable_answer", &[&error, "could not be stored", "jsonb"]);
    for other in &others {
        harness.wait_for(other.participation_id, "fetched").await;
    }
}
