//! The gateway path: plain HTTP/1.1 with a keep-alive pool sized for every client, the
//! bot's `x-api-key`, and the body read to its end so each connection is reused.

use crate::runner::Failure;
use anyhow::{Context, Result};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use std::time::Duration;

/// How much of an error body is kept in its description.
const BODY_EXCERPT: usize = 160;

/// A Bot API client for one bot.
#[derive(Clone)]
pub struct Gateway {
    client: reqwest::Client,
    base: String,
    api_key: HeaderValue,
}

impl Gateway {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`) that keeps up to `connections` idle
    /// connections, one per concurrent client.
    pub fn new(base: &str, api_key: &str, connections: usize) -> Result<Self> {
        // The workspace's reqwest has rustls without a built-in provider: install ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        let api_key = HeaderValue::from_str(api_key).context("the bot API key is not a valid header value")?;
        Ok(Self { client, base: base.trim_end_matches('/').to_string(), api_key })
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST path` with a JSON body; its status and body.
    pub async fn post(&self, path: &str, body: Vec<u8>) -> Result<(StatusCode, Vec<u8>), reqwest::Error> {
        let response = self
            .client
            .post(self.url(path))
            .header("x-api-key", self.api_key.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok((status, body.to_vec()))
    }

    /// `POST path`: success on 2xx, else a failure naming the status and the body's start.
    pub async fn post_ok(&self, path: &str, body: Vec<u8>) -> Result<(), Failure> {
        match self.post(path, body).await {
            Ok((status, _)) if status.is_success() => Ok(()),
            Ok((status, body)) => Err(describe(status, &body)),
            Err(error) => Err(format!("HTTP client: {}", without_url(&error))),
        }
    }

    /// `GET path` with the bot's key: its status and body.
    pub async fn get(&self, path: &str) -> Result<(StatusCode, String)> {
        let response = self
            .client
            .get(self.url(path))
            .header("x-api-key", self.api_key.clone())
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        Ok((status, response.text().await.with_context(|| format!("GET {path}: reading the body"))?))
    }
}

/// `HTTP 500: {"error":...}` with the body cut to [`BODY_EXCERPT`] characters.
pub fn describe(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let excerpt: String = text.chars().take(BODY_EXCERPT).collect();
    if excerpt.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {excerpt}", status.as_u16())
    }
}

/// The error without its URL, so equal failures of different requests group together.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    };
    let mut source = std::error::Error::source(error);
    let mut cause = String::new();
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() { kind.to_string() } else { format!("{kind}: {cause}") }
}

/// True when a 404 is the router's bare "no such route" rather than the Bot API's own
/// `{"error", "code": "NOT_FOUND"}` (a missing bot or trade).
pub fn is_missing_route(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::NOT_FOUND
        && serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| v.get("code").cloned()).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_404_is_a_missing_route_and_a_coded_one_is_not() {
        assert!(is_missing_route(StatusCode::NOT_FOUND, b""));
        assert!(!is_missing_route(StatusCode::NOT_FOUND, br#"{"error":"Trade not found","code":"NOT_FOUND"}"#));
        assert!(!is_missing_route(StatusCode::BAD_REQUEST, b""));
    }

    #[test]
    fn failures_name_the_status_and_the_start_of_the_body() {
        assert_eq!(describe(StatusCode::SERVICE_UNAVAILABLE, b""), "HTTP 503");
        let long = vec![b'x'; 500];
        assert_eq!(describe(StatusCode::BAD_REQUEST, &long).len(), "HTTP 400: ".len() + BODY_EXCERPT);
    }
}
