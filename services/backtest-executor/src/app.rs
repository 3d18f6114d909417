//! The running service: built from settings, stopped by the shutdown token. Tests build the
//! same `App` in-process.
//!
//! Tasks: one responder per subject, the outbox relay (publishes `backtest queued`), the
//! durable consumer of `backtest queued` (only wakes workers: the job lives in Postgres), and
//! `worker.workers` worker tasks.

use crate::settings::ExecutorSettings;
use crate::usecase::worker::Workers;
use domain::ServiceName;
use outbox::Relay;
use outbox::consumer::{self, ConsumerConfig, Delivery};
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
        // Each loop is built by a closure, so that a loop that panics can be built again.
        let shutdown = backend.shutdown();
        let relay =
            Relay::new(backend.pool.clone(), database_url, backend.jetstream.clone(), settings.outbox.relay_config());
        backend.spawn("outbox relay", {
            let shutdown = shutdown.clone();
            move || relay.clone().run(shutdown.clone())
        });
        backend.spawn("idempotency purge", {
            let (pool, shutdown) = (backend.pool.clone(), shutdown.clone());
            move || platform::idempotency::purge_expired(pool.clone(), shutdown.clone())
        });
        backend.spawn("pruner", {
            let (pool, shutdown) = (backend.pool.clone(), shutdown.clone());
            let retention = settings.database.retention.clone();
            let jobs = outbox::prune::jobs(&retention);
            move || platform::prune::run(pool.clone(), jobs.clone(), retention.clone(), shutdown.clone())
        });
        let wake = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let subjects = backend.subjects.clone();
        let on_message = wake.clone();
        let wake_workers = move |_batch: Vec<Delivery>| {
            // A wake-up only: the workers claim from Postgres, so nothing to dedupe.
            on_message.notify_waiters();
            async { Ok(()) }
        };
        backend.spawn("backtest queued consumer", {
            let (jetstream, shutdown) = (backend.jetstream.clone(), shutdown.clone());
            let stream = subjects.stream_name(ServiceName::BacktestExecutor);
            let durable = subjects.durable_name(ServiceName::BacktestExecutor, "backtest_queued");
            move || {
                let config = ConsumerConfig::default();
                let (stream, durable, wake) = (stream.clone(), durable.clone(), wake_workers.clone());
                consumer::run(jetstream.clone(), stream, durable, config, shutdown.clone(), wake)
            }
        });
        let workers = Arc::new(Workers {
            pool: backend.pool.clone(),
            settings: settings.worker.clone(),
            instance: backend.instance.clone(),
            wake,
            release: release.clone(),
        });
        for index in 0..settings.worker.workers {
            let (workers, shutdown) = (workers.clone(), shutdown.clone());
            backend.spawn("backtest worker", move || workers.clone().run(index, shutdown.clone()));
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
