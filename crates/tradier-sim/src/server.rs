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
//! that is never held across an `.await`. `routes` dispatches a request, `orders` answers
//! Tradier's endpoint, `responses` builds the answers.

mod orders;
mod responses;
mod routes;

use crate::order::HeldOrder;
use crate::script::Step;
use anyhow::Context;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use responses::Body;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

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
    let result = routes::route(request, &state).await;
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
