//! The service's settings: the backend sections of `platform::settings` (its own sections come
//! with the live sessions).

use platform::BackendSettings;
use platform::settings::{DatabaseSettings, HttpSettings, LogSettings, NatsSettings, SettingsError};
use serde::{Deserialize, Serialize};

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
        Self { http: backend.http, nats: backend.nats, database: backend.database, log: backend.log }
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
        self.backend().validate()
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
