//! Bodies above 512 KiB get 413 in the family's shape, before any route runs.

use crate::support::Gateway;
use serde_json::{Value, json};

async fn post_oversized(gateway: &Gateway, path: &str) -> (u16, Value) {
    let body = vec![b' '; 512 * 1024 + 1];
    let response = test_support::http_client()
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

#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_body_that_overflows_gets_the_familys_413_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gateway = Gateway::start().await;
    let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    let head = "POST /api/bots/alpha/state HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n\
                content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..9 {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
        let _ = stream.write_all(&chunk).await;
        let _ = stream.write_all(b"\r\n").await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains(r#""code":"PAYLOAD_TOO_LARGE""#), "{response}");
}
