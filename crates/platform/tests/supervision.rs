//! A backend's background loops under supervision, against real Postgres and NATS: a loop
//! that panics is restarted, the others go on, and `/health` fails once it has restarted five
//! times within five minutes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::ServiceName;
use platform::Backend;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use test_support::{TestDb, TestNats, eventually};
use tokio_util::sync::CancellationToken;

async fn health(backend: &Backend) -> (u16, serde_json::Value) {
    let url = format!("http://{}/health", backend.health_addr());
    let response = test_support::http_client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loop_that_keeps_panicking_is_restarted_and_fails_health_after_five_restarts() {
    test_support::init_logging();
    let (db, nats) = (TestDb::empty("platform").await, TestNats::new());
    let backend = Backend::start(ServiceName::TradeLedger, test_support::backend_settings(&db, &nats)).await.unwrap();
    // What the backend's loops stop on; the caller's token below cancels it.
    let shutdown = backend.shutdown();

    // A healthy loop that counts its rounds, to show it is unaffected.
    let rounds = Arc::new(AtomicUsize::new(0));
    backend.spawn("steady loop", {
        let (rounds, shutdown) = (rounds.clone(), shutdown.clone());
        move || {
            let (rounds, shutdown) = (rounds.clone(), shutdown.clone());
            async move {
                while !shutdown.is_cancelled() {
                    rounds.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Ok(())
            }
        }
    });
    // A loop that panics on a poisoned item every time it runs.
    let runs = Arc::new(AtomicUsize::new(0));
    backend.spawn("poisoned loop", {
        let runs = runs.clone();
        move || {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                panic!("poisoned item in round {run}");
            }
        }
    });

    eventually("the loop to be restarted", Duration::from_secs(10), || async {
        (runs.load(Ordering::SeqCst) >= 3).then_some(())
    })
    .await;
    let (status, body) = health(&backend).await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})), "a few restarts are tolerated");
    assert!(!shutdown.is_cancelled(), "a panic does not stop the service");

    let body = eventually("/health to fail", Duration::from_secs(30), || async {
        let (status, body) = health(&backend).await;
        (status == 503).then_some(body)
    })
    .await;
    assert!(runs.load(Ordering::SeqCst) >= 5, "it panicked five times, and was restarted each time");
    assert_eq!(body["status"], "failing");
    assert_eq!(body["loops"][0]["name"], "poisoned loop", "{body}");
    assert!(body["loops"][0]["restarts"].as_u64().unwrap() >= 5, "{body}");
    assert_eq!(body["loops"].as_array().unwrap().len(), 1, "the steady loop is fine: {body}");

    let before = rounds.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rounds.load(Ordering::SeqCst) > before, "the other loops kept running");

    let stop = CancellationToken::new();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), backend.run_until_stopped(stop)).await.unwrap();
    assert!(shutdown.is_cancelled(), "the loops were told to stop");
}
