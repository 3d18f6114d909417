//! The running service: built from settings, run until the shutdown token fires. Tests build
//! the same `App` in-process.
//!
//! ```text
//!  JetStream: hosted bot changed ─► the bot's run, newer revision only (+ inbox, one tx)
//!  every live.reconcile_secs: ledger revisions ─► missing / outdated definitions ─► same upsert
//! ```

use crate::settings::Settings;
use crate::usecase::reconcile::{self, Ledger};
use domain::ServiceName;
use platform::Backend;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The live-session-runner service.
pub struct App {
    backend: Backend,
}

impl App {
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let retention = settings.database.retention.clone();
        let backend = Backend::start(ServiceName::LiveSessionRunner, settings.backend()).await?;
        crate::bus::start(&backend);
        backend.spawn("reconciliation", {
            let (pool, shutdown, interval) =
                (backend.pool.clone(), backend.shutdown(), settings.live.reconcile_interval());
            let ledger = Ledger {
                client: backend.nats.clone(),
                subjects: backend.subjects.clone(),
                timeout: Duration::from_millis(settings.nats.request_timeout_ms),
            };
            move || reconcile::run(pool.clone(), ledger.clone(), interval, shutdown.clone())
        });
        backend.spawn("pruner", {
            let (pool, shutdown) = (backend.pool.clone(), backend.shutdown());
            let jobs = outbox::prune::jobs(&retention);
            move || platform::prune::run(pool.clone(), jobs.clone(), retention.clone(), shutdown.clone())
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
