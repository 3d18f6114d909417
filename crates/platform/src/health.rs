//! `/health` and `/ready` on a service's own port, for Kubernetes probes and `just up`.
//!
//! `/health` answers 200 while the process runs and its background loops are sound, 503 (naming
//! the loops) once one of them has restarted after panics too often (see
//! [`crate::supervisor`]): the liveness probe then fails and Kubernetes replaces the pod.
//! `/ready` answers 200 only while the service's database (if it has one) and NATS are
//! reachable, 503 with the failing checks otherwise.

use crate::db::{self, PgPool};
use crate::settings::HttpSettings;
use crate::supervisor::Supervision;
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;
use tracing::warn;

/// How long `/ready` waits for the database before calling it down.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/ready` checks.
#[derive(Clone)]
pub struct ReadinessProbe {
    database: Option<PgPool>,
    nats: async_nats::Client,
}

/// The answer of `/ready`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// `database` (when the service has one) and `nats`: `up` or `down`.
    pub checks: std::collections::BTreeMap<&'static str, &'static str>,
}

impl ReadinessProbe {
    /// A probe for a service with a database.
    pub fn new(database: Option<PgPool>, nats: async_nats::Client) -> Self {
        Self { database, nats }
    }

    /// Runs the checks.
    pub async fn check(&self) -> Readiness {
        let mut checks = std::collections::BTreeMap::new();
        if let Some(pool) = &self.database {
            let up = db::ping(pool, DATABASE_CHECK_TIMEOUT).await.is_ok();
            checks.insert("database", if up { "up" } else { "down" });
        }
        let nats_up = self.nats.connection_state() == async_nats::connection::State::Connected;
        checks.insert("nats", if nats_up { "up" } else { "down" });
        let ready = checks.values().all(|state| *state == "up");
        Readiness { status: if ready { "ready" } else { "not_ready" }, checks }
    }
}

async fn health(supervision: web::Data<Supervision>) -> HttpResponse {
    let failing = supervision.failing();
    if failing.is_empty() {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "failing", "loops": failing }))
    }
}

async fn ready(probe: web::Data<ReadinessProbe>) -> HttpResponse {
    let readiness = probe.check().await;
    if readiness.status == "ready" {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// A running health server.
pub struct HealthServer {
    addr: SocketAddr,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HealthServer {
    /// Binds `settings.host:settings.port` and serves until [`HealthServer::stop`]. `/health`
    /// reports on the loops of `supervision`.
    pub fn start(settings: &HttpSettings, probe: ReadinessProbe, supervision: Supervision) -> std::io::Result<Self> {
        let data = web::Data::new(probe);
        let loops = web::Data::new(supervision);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(loops.clone())
                .route("/health", web::get().to(health))
                .route("/ready", web::get().to(ready))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .bind((settings.host.as_str(), settings.port))?;
        let addr =
            server.addrs().first().copied().ok_or_else(|| std::io::Error::other("health server bound no address"))?;
        let server = server.run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        Ok(Self { addr, handle, task })
    }

    /// The bound address (the real port when settings asked for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight probes finish, and waits for the server to end.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        if let Err(error) = self.task.await.unwrap_or_else(|error| Err(std::io::Error::other(error))) {
            warn!(error = %error, "health server ended with an error");
        }
    }
}
