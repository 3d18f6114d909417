//! The running service: built from settings, run until the shutdown token fires. Tests build
//! the same `App` in-process.

use crate::settings::Settings;
use crate::usecase::fetches;
use domain::ServiceName;
use outbox::Relay;
use platform::Backend;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

/// The trade-ledger service.
pub struct App {
    backend: Backend,
}

impl App {
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database_url = settings.database.url.clone();
        let backend = Backend::start(ServiceName::TradeLedger, settings.backend()).await?;
        crate::bus::serve(&backend);
        crate::bus::consumers::start(&backend);
        let relay =
            Relay::new(backend.pool.clone(), database_url, backend.jetstream.clone(), settings.outbox.relay_config());
        // Each loop is built by a closure, so that a loop that panics can be built again.
        let (pool, shutdown) = (backend.pool.clone(), backend.shutdown());
        backend.spawn("outbox relay", {
            let shutdown = shutdown.clone();
            move || relay.clone().run(shutdown.clone())
        });
        backend.spawn("idempotency purge", {
            let (pool, shutdown) = (pool.clone(), shutdown.clone());
            move || platform::idempotency::purge_expired(pool.clone(), shutdown.clone())
        });
        backend.spawn("pruner", {
            let (pool, shutdown, retention) = (pool.clone(), shutdown.clone(), settings.database.retention.clone());
            let jobs = outbox::prune::jobs(&retention);
            move || platform::prune::run(pool.clone(), jobs.clone(), retention.clone(), shutdown.clone())
        });
        backend.spawn("fetch sweep", {
            let (pool, sweep) = (pool.clone(), settings.fetch_sweep.clone());
            move || fetches::sweep(pool.clone(), sweep.clone(), shutdown.clone())
        });
        Ok(Self { backend })
    }

    /// Where `/health` and `/ready` are served.
    pub fn health_addr(&self) -> SocketAddr {
        self.backend.health_addr()
    }

    /// Runs until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        self.backend.run_until_stopped(shutdown).await;
    }
}
