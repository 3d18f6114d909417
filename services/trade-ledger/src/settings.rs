//! The ledger's settings: the backend sections of `platform::settings` plus the sweep that
//! recovers participations whose fetch request was lost.

use platform::BackendSettings;
use platform::settings::{
    DatabaseSettings, HttpSettings, LogSettings, NatsSettings, Settings, SettingsError, positive,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The sweep that publishes `participation created` again for participations still waiting
/// for their broker order (the message may have been lost from the stream).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSweepSettings {
    /// A participation still `pending_fetch` this long after its last request is asked for again.
    pub after_secs: u64,
    /// How often the sweep runs.
    pub interval_secs: u64,
    /// Participations re-requested per round at most.
    pub batch_size: i64,
}

impl Default for FetchSweepSettings {
    fn default() -> Self {
        Self { after_secs: 60, interval_secs: 15, batch_size: 1000 }
    }
}

impl FetchSweepSettings {
    /// [`Self::after_secs`] as a duration.
    pub fn after(&self) -> Duration {
        Duration::from_secs(self.after_secs)
    }

    /// [`Self::interval_secs`] as a duration.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }
}

/// Everything the ledger reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    /// The `/health` + `/ready` listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// The ledger's database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// Recovery of lost fetch requests.
    pub fetch_sweep: FetchSweepSettings,
}

impl LedgerSettings {
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

impl Settings for LedgerSettings {
    fn log(&self) -> &LogSettings {
        &self.log
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.backend().validate()?;
        positive("fetch_sweep.after_secs", self.fetch_sweep.after_secs)?;
        positive("fetch_sweep.interval_secs", self.fetch_sweep.interval_secs)?;
        positive("fetch_sweep.batch_size", u64::try_from(self.fetch_sweep.batch_size).unwrap_or(0))
    }
}

/// Compiled defaults: HTTP on 8081, database `ledger` on the local Postgres.
pub fn defaults() -> LedgerSettings {
    with_backend(BackendSettings::local(8081, "ledger"))
}

/// The given backend sections with the ledger's own defaults (tests use it).
pub fn with_backend(backend: BackendSettings) -> LedgerSettings {
    LedgerSettings {
        http: backend.http,
        nats: backend.nats,
        database: backend.database,
        log: backend.log,
        fetch_sweep: FetchSweepSettings::default(),
    }
}
