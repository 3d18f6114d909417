//! The running service: built from settings, stopped by the shutdown token. Tests build the
//! same `App` in-process.

use crate::settings::FetcherSettings;
use domain::ServiceName;
use platform::Backend;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

/// The outbox-broker-fetcher service.
pub struct App {
    backend: Backend,
}

impl App {
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: FetcherSettings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let backend = Backend::start(ServiceName::OutboxBrokerFetcher, settings.backend(), shutdown).await?;
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
