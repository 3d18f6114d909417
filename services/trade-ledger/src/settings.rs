//! The ledger's settings: the backend sections of `platform::settings` plus the sweep that
//! recovers participations whose fetch request was lost.

use outbox::OutboxSettings;
use platform::BackendSettings;
use platform::settings::{DatabaseSettings, HttpSettings, LogSettings, NatsSettings, SettingsError, positive};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The sweep that publishes `participation created` again for participations still waiting
/// for their broker order (the message may have been lost from the stream), with a backoff per
/// participation, until it gives up on them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSweepSettings {
    /// A participation still `pending_fetch` this long after its first request is asked for
    /// again; the wait doubles with each request made again.
    pub after_secs: u64,
    /// The longest wait between two requests.
    pub max_backoff_secs: u64,
    /// A participation still waiting this long after it was created is given up on:
    /// `fetch_failed` with the code `fetch_timed_out`.
    pub give_up_after_secs: u64,
    /// How often the sweep runs.
    pub interval_secs: u64,
    /// Participations re-requested (and given up on) per round at most.
    pub batch_size: i64,
}

impl Default for FetchSweepSettings {
    fn default() -> Self {
        // Asked again after 1, 2, 4 … 32 minutes, then hourly; given up on after a day.
        Self { after_secs: 60, max_backoff_secs: 3600, give_up_after_secs: 86_400, interval_secs: 15, batch_size: 1000 }
    }
}

impl FetchSweepSettings {
    /// [`Self::after_secs`] as a duration.
    pub fn after(&self) -> Duration {
        Duration::from_secs(self.after_secs)
    }

    /// [`Self::max_backoff_secs`] as a duration.
    pub fn max_backoff(&self) -> Duration {
        Duration::from_secs(self.max_backoff_secs)
    }

    /// [`Self::give_up_after_secs`] as a duration.
    pub fn give_up_after(&self) -> Duration {
        Duration::from_secs(self.give_up_after_secs)
    }

    /// [`Self::interval_secs`] as a duration.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }
}

/// Everything the ledger reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
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
    /// The outbox relay.
    pub outbox: OutboxSettings,
}

impl Default for Settings {
    /// Compiled defaults: HTTP on 8081, database `ledger` on the local Postgres.
    fn default() -> Self {
        Self::with_backend(BackendSettings::local(8081, "ledger"))
    }
}

impl Settings {
    /// The given backend sections with the ledger's own defaults (tests use it).
    pub fn with_backend(backend: BackendSettings) -> Self {
        Self {
            http: backend.http,
            nats: backend.nats,
            database: backend.database,
            log: backend.log,
            fetch_sweep: FetchSweepSettings::default(),
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
        positive("fetch_sweep.after_secs", self.fetch_sweep.after_secs)?;
        if self.fetch_sweep.max_backoff_secs < self.fetch_sweep.after_secs {
            return Err(SettingsError::invalid(
                "fetch_sweep.max_backoff_secs",
                "must be at least fetch_sweep.after_secs",
            ));
        }
        positive("fetch_sweep.give_up_after_secs", self.fetch_sweep.give_up_after_secs)?;
        positive("fetch_sweep.interval_secs", self.fetch_sweep.interval_secs)?;
        positive("fetch_sweep.batch_size", u64::try_from(self.fetch_sweep.batch_size).unwrap_or(0))?;
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
