//! The HTTP server: Tradier's order endpoint plus the `/_sim` control API.
//!
//! ```text
//!  accept loop ──spawns──► one task per connection (hyper http1) ──► handle(request)
//!       │                                                              │
//!       └── stops when the TradierSim is shut down or dropped;          ├─ /v1/accounts/{a}/orders/{id}
//!           dropping the JoinSet aborts every connection task           └─ /_sim/...  (control)
//! ```
//!
//! All state (held orders, scripts, request counts, required tokens) sits behind one mutex
//! that is never held across an `.await`.

use crate::order::{self, HeldOrder};
use crate::script::{Step, TIMEOUT_HOLD_MS};
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Control request bodies are tiny; anything bigger is refused.
const MAX_CONTROL_BODY_BYTES: usize = 64 * 1024;
/// Tradier's standard limit for `/accounts` resources in production (requests per minute).
const RATE_LIMIT_ALLOWED: u64 = 120;
/// What Tradier answers for a missing or unknown bearer token (the body is not documented;
/// this is the text its API gateway sends).
const INVALID_TOKEN_BODY: &str = "Invalid Access Token";
/// What the simulator answers for an order that is unknown or not visible yet: Tradier's
/// documented `errors` payload shape.
const NOT_FOUND_BODY: &str = r#"{"errors":{"error":["Order not found"]}}"#;

type Body = Full<Bytes>;
type OrderKey = (String, String);

/// A running simulator. Stops when [`TradierSim::shutdown`] is awaited or when it is dropped.
pub struct TradierSim {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for TradierSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TradierSim").field("addr", &self.addr).finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    orders: HashMap<OrderKey, OrderEntry>,
    tokens: HashMap<String, String>,
}

#[derive(Default)]
struct OrderEntry {
    held: Option<HeldOrder>,
    script: VecDeque<Step>,
    requests: usize,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to a test double, so a poisoned lock is simply reused.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(account: &str, order_id: &str) -> OrderKey {
    (account.to_string(), order_id.to_string())
}

impl TradierSim {
    /// Binds `addr` (port 0 picks a free port) and starts serving on the current tokio runtime.
    pub async fn start(addr: SocketAddr) -> anyhow::Result<TradierSim> {
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding tradier-sim to {addr}"))?;
        let addr = listener.local_addr().context("reading tradier-sim's bound address")?;
        let state = Arc::new(State::default());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, Arc::clone(&state), stopped));
        Ok(TradierSim { addr, state, stop, task: Some(task) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL a Tradier client is pointed at (an unspecified bind
    /// address becomes loopback).
    pub fn base_url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{addr}")
    }

    /// Answers `order` for this account's order from now on (instead of the default).
    pub fn hold(&self, account: &str, order_id: &str, order: HeldOrder) {
        self.state.lock().orders.entry(key(account, order_id)).or_default().held = Some(order);
    }

    /// Forgets the held state and the pending script of one order (its request count stays).
    pub fn release(&self, account: &str, order_id: &str) {
        if let Some(entry) = self.state.lock().orders.get_mut(&key(account, order_id)) {
            entry.held = None;
            entry.script.clear();
        }
    }

    /// Replaces the pending script of one order: the next `steps.len()` GETs of it get these
    /// answers, one each, in order.
    pub fn script(&self, account: &str, order_id: &str, steps: Vec<Step>) {
        self.state.lock().orders.entry(key(account, order_id)).or_default().script = steps.into();
    }

    /// How many GETs this order has received (including unauthorized and scripted ones).
    pub fn requests(&self, account: &str, order_id: &str) -> usize {
        self.state.lock().orders.get(&key(account, order_id)).map_or(0, |entry| entry.requests)
    }

    /// From now on requests for `account` must carry `Authorization: Bearer <token>`; any
    /// other bearer gets Tradier's 401 answer. (By default any non-empty bearer is accepted.)
    pub fn require_token(&self, account: &str, token: &str) {
        self.state.lock().tokens.insert(account.to_string(), token.to_string());
    }

    /// Accepts any non-empty bearer for `account` again.
    pub fn accept_any_token(&self, account: &str) {
        self.state.lock().tokens.remove(account);
    }

    /// Forgets every held order, script, request count and required token.
    pub fn reset(&self) {
        let mut inner = self.state.lock();
        inner.orders.clear();
        inner.tokens.clear();
    }

    /// Stops accepting connections, closes the open ones (held requests included) and waits
    /// for the server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TradierSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // A send of `true` or the sender being dropped both end the loop.
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(request, Arc::clone(&state)));
                        // Errors here are the client going away or a scripted reset.
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "tradier-sim failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Returned by the service to make hyper drop the connection without a response.
#[derive(Debug)]
struct ResetConnection;

impl fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scripted connection reset")
    }
}

impl std::error::Error for ResetConnection {}

async fn handle(request: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, ResetConnection> {
    let started = Instant::now();
    let method = request.method().clone();
    // The path only: no query string, and never a header (the bearer token lives there).
    let path = request.uri().path().to_string();
    let result = route(request, &state).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match &result {
        Ok(response) => tracing::info!(
            http.method = %method,
            http.path = %path,
            http.status = response.status().as_u16(),
            duration_ms,
            "tradier-sim request"
        ),
        Err(ResetConnection) => tracing::info!(
            http.method = %method,
            http.path = %path,
            http.status = "reset",
            duration_ms,
            "tradier-sim request"
        ),
    }
    result
}

async fn route(request: Request<Incoming>, state: &State) -> Result<Response<Body>, ResetConnection> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["v1", "accounts", account, "orders", order_id]) => {
            get_order(request.headers(), state, account, order_id).await
        }
        (Method::GET, ["_sim", "health"]) => Ok(text(StatusCode::OK, "ok")),
        (Method::POST, ["_sim", "reset"]) => {
            let mut inner = state.lock();
            inner.orders.clear();
            inner.tokens.clear();
            Ok(no_content())
        }
        (Method::PUT, ["_sim", "accounts", account, "orders", order_id]) => {
            let (account, order_id) = (account.to_string(), order_id.to_string());
            Ok(match read_json::<HeldOrder>(request).await {
                Ok(held) => {
                    state.lock().orders.entry((account, order_id)).or_default().held = Some(held);
                    no_content()
                }
                Err(response) => response,
            })
        }
        (Method::DELETE, ["_sim", "accounts", account, "orders", order_id]) => {
            if let Some(entry) = state.lock().orders.get_mut(&key(account, order_id)) {
                entry.held = None;
                entry.script.clear();
            }
            Ok(no_content())
        }
        (Method::POST, ["_sim", "accounts", account, "orders", order_id, "script"]) => {
            let (account, order_id) = (account.to_string(), order_id.to_string());
            Ok(match read_json::<Vec<Step>>(request).await {
                Ok(steps) => {
                    state.lock().orders.entry((account, order_id)).or_default().script = steps.into();
                    no_content()
                }
                Err(response) => response,
            })
        }
        (Method::GET, ["_sim", "accounts", account, "orders", order_id, "requests"]) => {
            let requests = state.lock().orders.get(&key(account, order_id)).map_or(0, |entry| entry.requests);
            Ok(json(StatusCode::OK, serde_json::json!({ "requests": requests }).to_string()))
        }
        (Method::PUT, ["_sim", "accounts", account, "token"]) => {
            #[derive(Deserialize)]
            struct TokenBody {
                token: String,
            }
            let account = account.to_string();
            Ok(match read_json::<TokenBody>(request).await {
                Ok(body) => {
                    state.lock().tokens.insert(account, body.token);
                    no_content()
                }
                Err(response) => response,
            })
        }
        (Method::DELETE, ["_sim", "accounts", account, "token"]) => {
            state.lock().tokens.remove(*account);
            Ok(no_content())
        }
        _ => Ok(text(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// What one GET of an order should get, decided under the lock, acted on after it.
enum Decision {
    Unauthorized,
    Step(Step, String),
    Normal(String),
}

async fn get_order(
    headers: &HeaderMap,
    state: &State,
    account: &str,
    order_id: &str,
) -> Result<Response<Body>, ResetConnection> {
    let presented = bearer(headers);
    let decision = {
        let mut inner = state.lock();
        let required = inner.tokens.get(account).cloned();
        let entry = inner.orders.entry(key(account, order_id)).or_default();
        entry.requests += 1;
        let authorized = match (&required, presented) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(required), Some(presented)) => required == presented,
        };
        if !authorized {
            Decision::Unauthorized
        } else {
            let body = order::response_body(order_id, entry.held.as_ref());
            match entry.script.pop_front() {
                Some(step) => Decision::Step(step, body),
                None => Decision::Normal(body),
            }
        }
    };
    match decision {
        Decision::Unauthorized => Ok(text(StatusCode::UNAUTHORIZED, INVALID_TOKEN_BODY)),
        Decision::Normal(body) => Ok(order_response(body)),
        Decision::Step(step, body) => match step {
            Step::Delay { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(order_response(body))
            }
            Step::Timeout => {
                // Ends early only when the simulator stops (the connection task is aborted).
                tokio::time::sleep(Duration::from_millis(TIMEOUT_HOLD_MS)).await;
                Ok(order_response(body))
            }
            Step::RateLimited { reset_in_ms } => {
                let mut response = text(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
                rate_limit_headers(response.headers_mut(), RATE_LIMIT_ALLOWED, reset_in_ms);
                Ok(response)
            }
            Step::ServerError { status } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Ok(text(status, status.canonical_reason().unwrap_or("Server Error")))
            }
            Step::Reset => Err(ResetConnection),
            Step::NotFound => Ok(json(StatusCode::NOT_FOUND, NOT_FOUND_BODY.to_string())),
            Step::Malformed => {
                let mut cut = body.len() / 2;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                Ok(json(StatusCode::OK, body[..cut].to_string()))
            }
        },
    }
}

/// The bearer token, if the request carries a non-empty one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn order_response(body: String) -> Response<Body> {
    let mut response = json(StatusCode::OK, body);
    // Tradier sends its rate-limit headers on every answer; one request used of a fresh window.
    rate_limit_headers(response.headers_mut(), 1, 60_000);
    response
}

/// `X-Ratelimit-Allowed / -Used / -Available / -Expiry` as Tradier names them; the expiry is
/// epoch milliseconds (Tradier's documented example: `1369164360001`).
fn rate_limit_headers(headers: &mut HeaderMap, used: u64, reset_in_ms: u64) {
    let now_ms =
        u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(u64::MAX);
    let available = RATE_LIMIT_ALLOWED.saturating_sub(used);
    for (name, value) in [
        ("x-ratelimit-allowed", RATE_LIMIT_ALLOWED),
        ("x-ratelimit-used", used),
        ("x-ratelimit-available", available),
        ("x-ratelimit-expiry", now_ms.saturating_add(reset_in_ms)),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(request: Request<Incoming>) -> Result<T, Response<Body>> {
    let bytes = match Limited::new(request.into_body(), MAX_CONTROL_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(text(StatusCode::BAD_REQUEST, &format!("could not read the body: {error}"))),
    };
    serde_json::from_slice(&bytes).map_err(|error| text(StatusCode::BAD_REQUEST, &format!("invalid body: {error}")))
}

fn json(status: StatusCode, body: String) -> Response<Body> {
    with_type(status, body, "application/json;charset=utf-8")
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    with_type(status, body.to_string(), "text/plain;charset=utf-8")
}

fn with_type(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn no_content() -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
