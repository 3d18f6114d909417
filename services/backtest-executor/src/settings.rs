//! The executor's settings: the backend sections of `platform::settings` plus the workers.

use outbox::OutboxSettings;
use platform::BackendSettings;
use platform::settings::{DatabaseSettings, HttpSettings, LogSettings, NatsSettings, SettingsError, positive};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The worker pool of one process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Worker tasks per process (each runs one backtest at a time).
    pub workers: usize,
    /// Candles fed to the engine at a time (between two looks at progress, lease and cancel).
    pub chunk_size: i64,
    /// Progress is written at most this often while a run goes on (and always before the
    /// test hook `TestHooks::pause_at_progress` holds a run).
    pub checkpoint_ms: u64,
    /// How long a claim lasts; a timer renews it every third of this while the run goes on,
    /// so a crashed worker's job is taken over after it.
    pub lease_secs: u64,
    /// Claims a job gets: one whose runs died this often (crash, panic, lost lease) is marked
    /// `failed` with "stopped after <n> attempts" instead of being claimed again.
    pub max_attempts: u32,
    /// The fallback wake-up when no `backtest queued` message arrives.
    pub poll_interval_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            chunk_size: 10_000,
            checkpoint_ms: 250,
            lease_secs: 30,
            max_attempts: 3,
            poll_interval_ms: 1_000,
        }
    }
}

impl WorkerSettings {
    /// [`Self::lease_secs`] as a duration.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    /// [`Self::checkpoint_ms`] as a duration.
    pub fn checkpoint_interval(&self) -> Duration {
        Duration::from_millis(self.checkpoint_ms)
    }

    /// [`Self::poll_interval_ms`] as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

/// Everything the executor reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The `/health` + `/ready` listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// The executor's database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// The worker pool.
    pub worker: WorkerSettings,
    /// The outbox relay.
    pub outbox: OutboxSettings,
}

impl Default for Settings {
    /// Compiled defaults: HTTP on 8083, database `backtest` on the local Postgres.
    fn default() -> Self {
        Self::with_backend(BackendSettings::local(8083, "backtest"))
    }
}

impl Settings {
    /// The given backend sections with the executor's own defaults (tests use it).
    pub fn with_backend(backend: BackendSettings) -> Self {
        Self {
            http: backend.http,
            nats: backend.nats,
            database: backend.database,
            log: backend.log,
            worker: WorkerSettings::default(),
            outbox: OutboxSettings::default(),
        }
    }

    /// The sections the shared backend host needs.
    pub fn backend(&self) -> BackendSettings {
        BackendSettings {
            http: self.http.clone(),
            nats: self.nats.clone(),
            database: self.database.clone(),
            log: self.log.clone(),
        }
    }
}

impl platform::Settings for Settings {
    fn log(&self) -> &LogSettings {
        &self.log
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.backend().validate()?;
        positive("worker.workers", self.worker.workers as u64)?;
        positive("worker.chunk_size", u64::try_from(self.worker.chunk_size).unwrap_or(0))?;
        positive("worker.lease_secs", self.worker.lease_secs)?;
        positive("worker.max_attempts", u64::from(self.worker.max_attempts))?;
        positive("worker.poll_interval_ms", self.worker.poll_interval_ms)?;
        self.outbox.validate()
    }
}

#[cfg(test)]
mod growth_tests {
    use super::*;

    #[test]
    fn streams_forget_events_before_the_inbox_does() {
        test_support::conformance::streams_forget_events_before_the_inbox_does(
            &Settings::default(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
            |settings| (settings.nats.jetstream.max_age_secs, settings.database.retention.keep_secs),
        );
    }
}
