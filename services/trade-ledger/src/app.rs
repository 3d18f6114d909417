//! The running service: built from settings, stopped by the shutdown token. Tests build the
//! same `App` in-process.

use domain::ServiceName;
use outbox::{Relay, RelayConfig};
use platform::{Backend, BackendSettings};
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

/// The trade-ledger service.
pub struct App {
    backend: Backend,
}

impl App {
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: BackendSettings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let database_url = settings.database.url.clone();
        let backend = Backend::start(ServiceName::TradeLedger, settings, shutdown).await?;
        crate::bus::serve(&backend);
        let relay = Relay::new(backend.pool.clone(), database_url, backend.jetstream.clone(), RelayConfig::default());
        let shutdown = backend.shutdown();
        backend.spawn("outbox relay", relay.run(shutdown.clone()));
        backend.spawn("idempotency purge", crate::usecase::idempotency::purge_expired(backend.pool.clone(), shutdown));
        Ok(Self { backend })
    }

    /// Where `/health` and `/ready` are served.
    pub fn health_addr(&self) -> SocketAddr {
        self.backend.health_addr()
    }

    /// Runs until the shutdown token fires, then drains.
    pub async fn run_until_stopped(self) {
        self.backend.run_until_stopped().await;
    }
}
