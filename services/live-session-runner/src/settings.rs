//! The service's settings: the backend sections of `platform::settings` plus its own `live`
//! section (which grows with the engines, leases and sessions).

use outbox::OutboxSettings;
use platform::BackendSettings;
use platform::settings::{DatabaseSettings, HttpSettings, LogSettings, NatsSettings, SettingsError, positive};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the runner keeps its runs in step with the ledger, holds them, and watches the feed.
/// Every time constant of the runner is here, so tests can shorten them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveSettings {
    /// How often the runs are reconciled with the ledger's hosted bot revisions (also once at
    /// start-up): the bound on how long a lost `hosted bot changed` goes unnoticed.
    pub reconcile_secs: u64,
    /// How long a replica's claim on a run lasts unless renewed (renewed every third of it):
    /// how long a run waits after its replica died before another takes it over.
    pub lease_secs: u64,
    /// The longest a run's checkpoint lags behind quotes that changed nothing but its
    /// indicators (inputs with effects are checkpointed with them, at once).
    pub checkpoint_secs: u64,
    /// No quote on a market for this long: its bots' logs say the market data is stale.
    pub stale_after_ms: i64,
    /// How often each market's task looks at the clock (stale feed, checkpoints, RSI bars
    /// ending without a quote).
    pub tick_ms: u64,
    /// The paper balance a hosted bot starts with, in the quote currency.
    pub sim_starting_quote: Decimal,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            reconcile_secs: 300,
            lease_secs: 10,
            checkpoint_secs: 5,
            stale_after_ms: 10_000,
            tick_ms: 250,
            sim_starting_quote: Decimal::from(10_000),
        }
    }
}

impl LiveSettings {
    /// [`Self::reconcile_secs`] as a duration.
    pub fn reconcile_interval(&self) -> Duration {
        Duration::from_secs(self.reconcile_secs)
    }

    /// [`Self::lease_secs`] as a duration.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    /// [`Self::tick_ms`] as a duration.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        positive("live.reconcile_secs", self.reconcile_secs)?;
        positive("live.lease_secs", self.lease_secs)?;
        positive("live.checkpoint_secs", self.checkpoint_secs)?;
        positive("live.stale_after_ms", u64::try_from(self.stale_after_ms).unwrap_or(0))?;
        positive("live.tick_ms", self.tick_ms)?;
        if self.sim_starting_quote <= Decimal::ZERO {
            return Err(SettingsError::invalid("live.sim_starting_quote", "must be greater than 0"));
        }
        Ok(())
    }
}

/// Everything the runner reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The `/health` + `/ready` listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// The runner's database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// The runner's own settings.
    pub live: LiveSettings,
    /// The outbox relay (fills and stops for the ledger).
    #[serde(default)]
    pub outbox: OutboxSettings,
}

impl Default for Settings {
    /// Compiled defaults: HTTP on 8084, database `live` on the local Postgres.
    fn default() -> Self {
        Self::with_backend(BackendSettings::local(8084, "live"))
    }
}

impl Settings {
    /// The given backend sections with the runner's own defaults (tests use it).
    pub fn with_backend(backend: BackendSettings) -> Self {
        Self {
            http: backend.http,
            nats: backend.nats,
            database: backend.database,
            log: backend.log,
            live: LiveSettings::default(),
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
        self.outbox.validate()?;
        self.live.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::Settings as _;

    #[test]
    fn reconciles_every_five_minutes_by_default_and_never_every_zero_seconds() {
        let mut settings = Settings::default();
        assert_eq!(settings.live.reconcile_interval(), Duration::from_secs(300));
        assert!(settings.validate().is_ok());
        settings.live.reconcile_secs = 0;
        let error = settings.validate().expect_err("0 is refused");
        assert!(error.to_string().contains("live.reconcile_secs"), "{error}");
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
