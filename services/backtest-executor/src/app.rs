//! The running service: built from settings, run until the shutdown token fires. Tests build
//! the same `App` in-process.
//!
//! Tasks: one responder per subject and the durable consumer of `backtest queued` (only wakes
//! workers: the job lives in Postgres), both wired in `bus/`; the outbox relay (publishes
//! `backtest queued`); and `worker.workers` worker tasks.

use crate::settings::Settings;
use crate::usecase::worker::Workers;
use domain::ServiceName;
use outbox::Relay;
use platform::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Hooks that let a test hold a run where it wants it. Not settings: production never sets
/// them, and only [`App::build_with_test_hooks`] takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestHooks {
    /// A worker stops at the first checkpoint at or above this progress (0 to 100; its lease
    /// timer keeps renewing the lease, as during a long chunk) until [`App::pause_release`]
    /// lets it go on.
    pub pause_at_progress: Option<u8>,
}

/// Releases workers paused by the [`TestHooks::pause_at_progress`] hook.
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
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_test_hooks(settings, TestHooks::default()).await
    }

    /// [`App::build`] with test hooks: for tests only.
    pub async fn build_with_test_hooks(settings: Settings, hooks: TestHooks) -> anyhow::Result<Self> {
        anyhow::ensure!(
            hooks.pause_at_progress.is_none_or(|at| at <= 100),
            "the pause_at_progress test hook must be between 0 and 100"
        );
        let database_url = settings.database.url.clone();
        let backend = Backend::start(ServiceName::BacktestExecutor, settings.backend()).await?;
        let wake = Arc::new(Notify::new());
        crate::bus::serve(&backend);
        crate::bus::consumers::start(&backend, wake.clone());
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
        let release = Arc::new(Notify::new());
        let workers = Arc::new(Workers {
            pool: backend.pool.clone(),
            settings: settings.worker.clone(),
            instance: backend.instance.clone(),
            wake,
            pause_at_progress: hooks.pause_at_progress,
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

    /// Test hook: a handle that lets workers paused at [`TestHooks::pause_at_progress`] go on.
    pub fn pause_release(&self) -> PauseRelease {
        PauseRelease(self.release.clone())
    }

    /// Runs until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        self.backend.run_until_stopped(shutdown).await;
    }
}
