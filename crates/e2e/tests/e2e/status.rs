//! `/status` sees every backend over NATS, and names the one that stops.

use crate::system::System;
use domain::ServiceName;
use serde_json::Value;

async fn get(url: String) -> (u16, Value) {
    let response = test_support::http_client().get(url).send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_every_backend_and_names_the_one_that_stops() {
    let mut system = System::start().await.expect("the system starts");

    let (code, body) = get(system.url("/status")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "ok");
    for service in ServiceName::ALL {
        assert_eq!(body["services"][service.as_str()]["up"], true, "{service}: {body}");
        assert!(body["services"][service.as_str()]["latencyMs"].as_f64().is_some(), "{body}");
    }

    system.stop(ServiceName::TradeLedger).await;

    let (code, body) = get(system.url("/status")).await;
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["services"]["trade-ledger"]["up"], false, "{body}");
    // Up or down and nothing more: no internal error text reaches a caller.
    assert_eq!(body["services"]["trade-ledger"].as_object().map(|o| o.len()), Some(1), "{body}");
    for service in ServiceName::ALL.into_iter().filter(|s| *s != ServiceName::TradeLedger) {
        assert_eq!(body["services"][service.as_str()]["up"], true, "{service}: {body}");
    }

    let (code, body) = get(system.url("/ready")).await;
    assert_eq!(code, 200, "the gateway itself still serves: {body}");
}
