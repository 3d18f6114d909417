//! Operational routes: `/health`, `/ready`, `/status` (docs/api/common.md#operational-routes).

use super::Router;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use domain::ServiceName;
use futures::future::join_all;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use utoipa::ToSchema;

pub(super) fn routes(router: &mut Router<'_>) {
    router.route(Method::GET, "/health", health).route(Method::GET, "/ready", ready).route(
        Method::GET,
        "/status",
        status,
    );
}

/// `{"status": "ok"}` and similar one-word answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimpleStatus {
    /// `ok`, `ready` or `not_ready`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process runs", body = SimpleStatus)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(SimpleStatus { status: "ok" })
}

/// The gateway can serve: its NATS connection is up. Used by Kubernetes readiness probes.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "NATS is connected", body = SimpleStatus),
    (status = 503, description = "NATS is not connected", body = SimpleStatus)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.nats.connection_state() == async_nats::connection::State::Connected {
        HttpResponse::Ok().json(SimpleStatus { status: "ready" })
    } else {
        HttpResponse::ServiceUnavailable().json(SimpleStatus { status: "not_ready" })
    }
}

/// One backend service as `/status` sees it: up or down and the ping's latency, never an error
/// text (the reason a service is down is logged by the gateway, not shown to callers).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// Whether it answered the ping (it answers only while its database does).
    pub up: bool,
    /// Round trip of the ping, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// The answer of `/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusReport {
    /// `ok` when every service is up, else `degraded`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Per service name (`trade-ledger`, `outbox-broker-fetcher`, `backtest-executor`,
    /// `live-session-runner`).
    pub services: BTreeMap<&'static str, ServiceStatus>,
}

/// Pings the four backend services over NATS, all at once, each within the status timeout.
#[utoipa::path(get, path = "/status", tag = "operations", responses(
    (status = 200, description = "All four backend services answer", body = StatusReport),
    (status = 503, description = "At least one service does not answer; `up: false` names it", body = StatusReport)))]
pub async fn status(state: web::Data<AppState>) -> HttpResponse {
    let pings = ServiceName::ALL.map(|service| {
        let state = state.clone();
        async move { (service, ping(&state, service).await) }
    });
    let services: BTreeMap<_, _> =
        join_all(pings).await.into_iter().map(|(service, status)| (service.as_str(), status)).collect();
    let all_up = services.values().all(|service| service.up);
    let report = StatusReport { status: if all_up { "ok" } else { "degraded" }, services };
    if all_up { HttpResponse::Ok().json(report) } else { HttpResponse::ServiceUnavailable().json(report) }
}

async fn ping(state: &AppState, service: ServiceName) -> ServiceStatus {
    let started = Instant::now();
    let endpoint = state.subjects.ping(service);
    match bus::request(&state.nats, &endpoint, &Default::default(), state.status_timeout()).await {
        Ok(_reply) => ServiceStatus { up: true, latency_ms: Some(round_ms(started.elapsed())) },
        Err(error) => {
            tracing::warn!(service = %service, error = %error, "status: service did not answer its ping");
            ServiceStatus { up: false, latency_ms: None }
        }
    }
}

/// Milliseconds with microsecond precision (`0.153`), without float noise in the JSON.
fn round_ms(elapsed: std::time::Duration) -> f64 {
    // Whole microseconds divided once: the shortest decimal form prints cleanly.
    u32::try_from(elapsed.as_micros()).map_or(f64::MAX, |micros| f64::from(micros) / 1000.0)
}
