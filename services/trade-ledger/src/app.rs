//! The running service: built from settings, stopped by the shutdown token. Tests build the
//! same `App` in-process.

use crate::settings::LedgerSettings;
use crate::usecase::fetches;
use domain::ServiceName;
use outbox::consumer::{self, ConsumerConfig};
use outbox::{Relay, RelayConfig};
use platform::Backend;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

/// The trade-ledger service.
pub struct App {
    backend: Backend,
}

impl App {
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: LedgerSettings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let database_url = settings.database.url.clone();
        let backend = Backend::start(ServiceName::TradeLedger, settings.backend(), shutdown).await?;
        crate::bus::serve(&backend);
        let relay = Relay::new(backend.pool.clone(), database_url, backend.jetstream.clone(), RelayConfig::default());
        let shutdown = backend.shutdown();
        backend.spawn("outbox relay", relay.run(shutdown.clone()));
        backend
            .spawn("idempotency purge", platform::idempotency::purge_expired(backend.pool.clone(), shutdown.clone()));
        backend
            .spawn("fetch sweep", fetches::sweep(backend.pool.clone(), settings.fetch_sweep.clone(), shutdown.clone()));
        let (pool, subjects) = (backend.pool.clone(), backend.subjects.clone());
        backend.spawn(
            "fetch outcome consumer",
            consumer::run(
                backend.jetstream.clone(),
                subjects.stream_name(ServiceName::OutboxBrokerFetcher),
                subjects.durable_name(ServiceName::TradeLedger, "fetch_outcomes"),
                ConsumerConfig::default(),
                shutdown,
                move |batch| {
                    let (pool, subjects) = (pool.clone(), subjects.clone());
                    async move { fetches::apply(&pool, &subjects, batch).await }
                },
            ),
        );
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
