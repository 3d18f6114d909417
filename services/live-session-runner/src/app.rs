//! The running service: built from settings, run until the shutdown token fires. Tests build
//! the same `App` in-process.

use crate::settings::Settings;
use domain::ServiceName;
use platform::Backend;
use std::net::SocketAddr;
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
