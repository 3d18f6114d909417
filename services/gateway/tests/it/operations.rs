//! `/health`, `/ready`, `/status` and the docs, with no backend running.

use crate::support::Gateway;
use serde_json::Value;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn health_and_ready_answer_without_backends() {
    let gateway = Gateway::start().await;
    let health = test_support::http_client().get(gateway.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap(), serde_json::json!({"status": "ok"}));
    let ready = test_support::http_client().get(gateway.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_answers_503_at_once_when_no_service_runs() {
    let gateway = Gateway::start().await;
    let started = Instant::now();
    let response = test_support::http_client().get(gateway.url("/status")).send().await.unwrap();
    // No responders is reported by NATS immediately: far below the status timeout.
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    for service in domain::ServiceName::ALL {
        let entry = &body["services"][service.as_str()];
        assert_eq!(entry["up"], false, "{body}");
        // Up or down, never the internal reason.
        assert_eq!(entry.as_object().map(|fields| fields.len()), Some(1), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_never_replies_is_down_after_the_status_timeout_not_a_hang() {
    let gateway = Gateway::start().await;
    // A subscriber that swallows pings: NATS sees a responder, so only the timeout ends it.
    let client = gateway.nats.client().await;
    let subject = gateway.nats.subjects().ping(domain::ServiceName::BacktestExecutor).subject().to_string();
    let _silent = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    // Wait until the server routes to the silent subscriber (a request then times out).
    test_support::eventually("the silent subscriber to be visible", Duration::from_secs(10), || {
        let client = client.clone();
        let subject = subject.clone();
        async move {
            let request = async_nats::Request::new().timeout(Some(Duration::from_millis(100)));
            match client.send_request(subject, request).await {
                Err(error) if error.kind() == async_nats::client::RequestErrorKind::TimedOut => Some(()),
                _ => None,
            }
        }
    })
    .await;
    let started = Instant::now();
    let response = test_support::http_client().get(gateway.url("/status")).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["services"]["backtest-executor"], serde_json::json!({"up": false}), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_docs_page_and_its_assets_are_served_from_the_binary() {
    let gateway = Gateway::start().await;
    let client = test_support::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = client.get(gateway.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");
    let page = client.get(gateway.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "the page must not load assets from the internet");
    let config = client.get(gateway.url("/docs/swagger-initializer.js")).send().await.unwrap();
    assert_eq!(config.status(), 200);
    assert!(config.text().await.unwrap().contains("/openapi.json"));
    let bundle = client.get(gateway.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000, "the real Swagger UI bundle");
}
