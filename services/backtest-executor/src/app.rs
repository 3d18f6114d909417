//! The running service: built from settings, stopped by the shutdown token. Tests build the
//! same `App` in-process.
//!
//! Tasks: one responder per subject, the outbox relay (publishes `backtest queued`), the
//! durable consumer of `backtest queued` (only wakes workers: the job lives in Postgres), and
//! `worker.workers` worker tasks.

use crate::settings::ExecutorSettings;
use crate::usecase::worker::Workers;
use domain::ServiceName;
use outbox::consumer::{self, ConsumerConfig};
use outbox::{Relay, RelayConfig};
use platform::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Releases workers paused by the `worker.pause_at_progress` test hook.
#[derive(Clone, Debug)]
pub struct PauseRelease(Arc<Notify>);

impl PauseRelease {
    /// Lets every currently paused worker go on.
    pub fn release(&self) {
        self.0.notify_waiters();
    }
}

/// The backtest-executor service.
pub struct App {
    backend: Backend,
    release: Arc<Notify>,
}

impl App {
    /// Connects and starts serving; returns once the service answers. Takes the executor's
    /// settings, or just the backend sections (the worker pool then has its defaults).
    pub async fn build(settings: impl Into<ExecutorSettings>, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let settings: ExecutorSettings = settings.into();
        let database_url = settings.database.url.clone();
        let backend = Backend::start(ServiceName::BacktestExecutor, settings.backend(), shutdown).await?;
        crate::bus::serve(&backend);
        let shutdown = backend.shutdown();
        let relay = Relay::new(backend.pool.clone(), database_url, backend.jetstream.clone(), RelayConfig::default());
        backend.spawn("outbox relay", relay.run(shutdown.clone()));
        backend
            .spawn("idempotency purge", platform::idempotency::purge_expired(backend.pool.clone(), shutdown.clone()));
        let wake = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let subjects = backend.subjects.clone();
        let on_message = wake.clone();
        backend.spawn(
            "backtest queued consumer",
            consumer::run(
                backend.jetstream.clone(),
                subjects.stream_name(ServiceName::BacktestExecutor),
                subjects.durable_name(ServiceName::BacktestExecutor, "backtest_queued"),
                ConsumerConfig::default(),
                shutdown.clone(),
                move |_batch| {
                    // A wake-up only: the workers claim from Postgres, so nothing to dedupe.
                    on_message.notify_waiters();
                    async { Ok(()) }
                },
            ),
        );
        let workers = Arc::new(Workers {
            pool: backend.pool.clone(),
            settings: settings.worker.clone(),
            instance: backend.instance.clone(),
            wake,
            release: release.clone(),
        });
        for index in 0..settings.worker.workers {
            backend.spawn("backtest worker", workers.clone().run(index, shutdown.clone()));
        }
        Ok(Self { backend, release })
    }

    /// Where `/health` and `/ready` are served.
    pub fn health_addr(&self) -> SocketAddr {
        self.backend.health_addr()
    }

    /// This process's instance name (the `serviceId` of what it accepts; workers add `/w<n>`).
    pub fn instance(&self) -> &str {
        &self.backend.instance
    }

    /// Test hook: a handle that lets workers paused at `worker.pause_at_progress` go on.
    pub fn pause_release(&self) -> PauseRelease {
        PauseRelease(self.release.clone())
    }

    /// Runs until the shutdown token fires, then drains.
    pub async fn run_until_stopped(self) {
        self.backend.run_until_stopped().await;
    }
}
