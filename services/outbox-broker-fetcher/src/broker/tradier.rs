//! Tradier's REST API: `GET /v1/accounts/{account_id}/orders/{id}?includeTags=true` with
//! `Authorization: Bearer <token>` and `Accept: application/json`.
//!
//! One `reqwest::Client` (one connection pool) serves every account; HTTPS goes through rustls
//! with the *ring* crypto provider and the platform's certificate verifier (reqwest's default
//! provider would build aws-lc). How each answer maps to a [`BrokerError`]:
//!
//! | answer | error |
//! |---|---|
//! | connect / TLS / reset / body read failure | `Transport` |
//! | nothing within `request_timeout` | `Timeout` |
//! | `429` | `RateLimited`, waiting until `X-Ratelimit-Expiry` (epoch ms; seconds accepted), else `Retry-After`, else 1 s; clamped to 100 ms..=2 min |
//! | `5xx` | `Server` |
//! | `404`, or an `errors` payload saying "not found" | `NotVisible` |
//! | `401`, `403`, no token | `Unauthorized` |
//! | unreadable `2xx` body | `Malformed` |
//! | any other status, any other `errors` payload | `Refused` |

use super::tradier_wire::{parse_order_response, shorten};
use super::{Broker, BrokerError, BrokerOrder, BrokerToken, OrderRef, TradierEnvironment};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wait when a `429` says nothing usable about its reset.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// Shortest wait after a `429`: an expiry already in the past (clock skew) must not make the
/// caller hammer the broker.
const MIN_RATE_LIMIT_WAIT: Duration = Duration::from_millis(100);
/// Longest wait after a `429`: Tradier's windows are one minute; a far-future expiry is a bad
/// clock or a bad header, not a reason to stall a job for hours.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(120);
/// An order is a few KiB; a bigger answer is not an order.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// `X-Ratelimit-Expiry` values below this are seconds, above it milliseconds (year 5138 in
/// seconds, 1973 in milliseconds).
const EXPIRY_SECONDS_BELOW: u64 = 100_000_000_000;

/// Where Tradier lives and how long to wait for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradierConfig {
    /// Base URL for live tokens: `https://api.tradier.com` (or the local `tradier-sim`).
    pub live_base_url: String,
    /// Base URL for sandbox tokens: `https://sandbox.tradier.com` (or the local `tradier-sim`).
    pub sandbox_base_url: String,
    /// Whole-request timeout (connect, send, answer and body).
    pub request_timeout: Duration,
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TradierClientError {
    /// A base URL is not an absolute http(s) URL.
    #[error("{name} is not an absolute http(s) URL: {url:?}")]
    BaseUrl {
        /// Which setting (`live_base_url` or `sandbox_base_url`).
        name: &'static str,
        /// The value given.
        url: String,
    },
    /// The HTTP client (TLS included) could not be set up.
    #[error("could not set up the Tradier HTTP client: {0}")]
    Http(String),
}

/// Tradier's order endpoint, for both environments.
#[derive(Clone, Debug)]
pub struct TradierClient {
    http: reqwest::Client,
    live_base_url: Url,
    sandbox_base_url: Url,
}

fn base_url(name: &'static str, url: &str) -> Result<Url, TradierClientError> {
    let error = || TradierClientError::BaseUrl { name, url: url.to_string() };
    let parsed = Url::parse(url.trim()).map_err(|_| error())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(error());
    }
    Ok(parsed)
}

impl TradierClient {
    /// Builds the client: one connection pool, `Accept: application/json`, no redirects (a
    /// redirect would be a misconfigured base URL, and must not carry the token elsewhere).
    pub fn new(config: TradierConfig) -> Result<Self, TradierClientError> {
        let live_base_url = base_url("live_base_url", &config.live_base_url)?;
        let sandbox_base_url = base_url("sandbox_base_url", &config.sandbox_base_url)?;
        // reqwest's `rustls-no-provider` uses the process-wide default provider; install ring
        // unless a provider is already installed (then that one is used, which is fine too).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("outbox-broker-fetcher/", env!("CARGO_PKG_VERSION")))
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .tls_backend_rustls()
            .build()
            .map_err(|error| TradierClientError::Http(describe(&error)))?;
        Ok(Self { http, live_base_url, sandbox_base_url })
    }

    fn order_url(&self, environment: TradierEnvironment, order: OrderRef<'_>) -> Url {
        let mut url = match environment {
            TradierEnvironment::Live => self.live_base_url.clone(),
            TradierEnvironment::Sandbox => self.sandbox_base_url.clone(),
        };
        if let Ok(mut segments) = url.path_segments_mut() {
            // Each id is one path segment, percent-encoded: an id cannot change the path.
            segments.pop_if_empty().extend(["v1", "accounts", order.account_number, "orders", order.order_id]);
        }
        url.query_pairs_mut().clear().append_pair("includeTags", "true");
        url
    }
}

impl Broker for TradierClient {
    async fn fetch_order(&self, token: Option<&BrokerToken>, order: OrderRef<'_>) -> Result<BrokerOrder, BrokerError> {
        let token = token.ok_or(BrokerError::Unauthorized)?;
        // A token with characters a header cannot carry can never authenticate.
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.token.expose()))
            .map_err(|_| BrokerError::Unauthorized)?;
        authorization.set_sensitive(true);
        let url = self.order_url(token.environment, order);
        let started = Instant::now();
        let result = self.exchange(url, authorization, token).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(fetched) => tracing::debug!(
                broker.environment = token.environment.as_str(),
                broker.order_id = order.order_id,
                broker.status = %fetched.broker_status,
                duration_ms,
                "tradier order fetched"
            ),
            Err(error) => tracing::debug!(
                broker.environment = token.environment.as_str(),
                broker.order_id = order.order_id,
                %error,
                duration_ms,
                "tradier order fetch failed"
            ),
        }
        result
    }
}

impl TradierClient {
    async fn exchange(
        &self,
        url: Url,
        authorization: HeaderValue,
        token: &BrokerToken,
    ) -> Result<BrokerOrder, BrokerError> {
        let mut response = self.http.get(url).header(AUTHORIZATION, authorization).send().await.map_err(transport)?;
        let status = response.status();
        match status {
            status if status.is_success() => {
                let body = read_body(&mut response).await?;
                parse_order_response(&body)
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(BrokerError::Unauthorized),
            StatusCode::NOT_FOUND => Err(BrokerError::NotVisible),
            StatusCode::TOO_MANY_REQUESTS => {
                Err(BrokerError::RateLimited { retry_after: rate_limit_wait(response.headers(), SystemTime::now()) })
            }
            status if status.is_server_error() => Err(BrokerError::Server { status: status.as_u16() }),
            status => {
                let body = read_body(&mut response).await.unwrap_or_default();
                let message = String::from_utf8_lossy(&body).replace(token.token.expose(), "***");
                let message = shorten(&message);
                let message = if message.is_empty() {
                    status.canonical_reason().unwrap_or("no message").to_string()
                } else {
                    message
                };
                Err(BrokerError::Refused { status: status.as_u16(), message })
            }
        }
    }
}

/// The body, at most [`MAX_BODY_BYTES`].
async fn read_body(response: &mut reqwest::Response) -> Result<Vec<u8>, BrokerError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BrokerError::Malformed(format!("broker answered more than {MAX_BODY_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(error: reqwest::Error) -> BrokerError {
    if error.is_timeout() { BrokerError::Timeout } else { BrokerError::Transport(describe(&error)) }
}

/// The error and its causes on one line, without the URL (which names the account).
fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_connect() {
        "connect failed".to_string()
    } else if error.is_body() || error.is_decode() {
        "reading the answer failed".to_string()
    } else if error.is_request() {
        "request failed".to_string()
    } else {
        "HTTP client error".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.ends_with(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    shorten(&message)
}

/// How long a `429` asks us to wait (see the module table).
fn rate_limit_wait(headers: &HeaderMap, now: SystemTime) -> Duration {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    let wait = if let Some(expiry) = number("x-ratelimit-expiry") {
        let expiry_ms = if expiry < EXPIRY_SECONDS_BELOW { expiry.saturating_mul(1_000) } else { expiry };
        let now_ms = u64::try_from(now.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(expiry_ms.saturating_sub(now_ms))
    } else if let Some(seconds) = number(RETRY_AFTER.as_str()) {
        Duration::from_secs(seconds)
    } else {
        DEFAULT_RATE_LIMIT_WAIT
    };
    wait.clamp(MIN_RATE_LIMIT_WAIT, MAX_RATE_LIMIT_WAIT)
}

#[cfg(test)]
mod tests;
