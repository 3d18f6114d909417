//! Bodies above 512 KiB get 413 in the family's shape, before any route runs.

use crate::support::Gateway;
use serde_json::{Value, json};

async fn post_oversized(gateway: &Gateway, path: &str) -> (u16, Value) {
    let body = vec![b' '; 512 * 1024 + 1];
    let response = reqwest::Client::new()
        .post(gateway.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_in_each_familys_shape() {
    let gateway = Gateway::start().await;
    let (code, body) = post_oversized(&gateway, "/api/bots/alpha/participations").await;
    assert_eq!((code, body), (413, json!({"error": "Request body too large", "code": "PAYLOAD_TOO_LARGE"})));
    let (code, body) = post_oversized(&gateway, "/partner/v1/bots/backtest").await;
    assert_eq!(code, 413);
    assert_eq!(body["isSuccess"], false);
    assert_eq!(body["code"], 1413);
    let (code, body) = post_oversized(&gateway, "/strategies").await;
    assert_eq!(code, 413);
    assert_eq!(body["error"], "payload_too_large");
}
