//! The fetcher's settings: the backend sections plus the credential store's keys and the
//! brokers it talks to.

mod credentials;
mod duration;

pub use credentials::{CredentialsSettings, DEVELOPMENT_KEY, LOCAL_ENVIRONMENT, PreviousKey};
pub use duration::Span;

use outbox::OutboxSettings;
use platform::BackendSettings;
use platform::settings::{DatabaseSettings, HttpSettings, LogSettings, NatsSettings, SettingsError, Sources, positive};
use serde::{Deserialize, Serialize};

/// Tradier's REST API. An account's credential says which environment it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradierSettings {
    /// Live accounts: `https://api.tradier.com`, or the local Tradier-compatible server
    /// (`http://127.0.0.1:8090`, the default).
    pub base_url: String,
    /// Sandbox (paper) accounts: `https://sandbox.tradier.com`, or the local server.
    pub sandbox_base_url: String,
    /// How long one HTTP request may take, in milliseconds.
    pub request_timeout_ms: u64,
}

/// How fetch jobs are run and retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSettings {
    /// Jobs fetched at the same time by one process.
    pub concurrency: u64,
    /// Failures that count (5xx, order not visible yet) before a job is parked.
    pub max_failures: u64,
    /// The first retry's backoff, in milliseconds; it doubles per attempt.
    pub backoff_base_ms: u64,
    /// The longest backoff, in milliseconds (a 429 waits for the broker's reset instead).
    pub backoff_cap_ms: u64,
    /// How long a worker holds a job; a crashed worker's jobs are taken over after it.
    pub lease_secs: u64,
    /// How often due retries and expired leases are looked for, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a job keeps retrying transport errors and rate limits (which never count
    /// toward `max_failures`) before it is parked as `fetch_timed_out`, from its first attempt
    /// (or its last admin retry): `24h`, `90m`, `30s`.
    pub give_up_after: Span,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            max_failures: 8,
            backoff_base_ms: 250,
            backoff_cap_ms: 60_000,
            lease_secs: 60,
            poll_interval_ms: 250,
            give_up_after: Span::hours(24),
        }
    }
}

impl FetchSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        positive("fetch.concurrency", self.concurrency)?;
        positive("fetch.max_failures", self.max_failures)?;
        positive("fetch.backoff_base_ms", self.backoff_base_ms)?;
        positive("fetch.lease_secs", self.lease_secs)?;
        positive("fetch.poll_interval_ms", self.poll_interval_ms)?;
        if self.give_up_after.0.is_zero() {
            return Err(SettingsError::invalid("fetch.give_up_after", "must be longer than 0"));
        }
        if self.backoff_cap_ms < self.backoff_base_ms {
            return Err(SettingsError::invalid("fetch.backoff_cap_ms", "must be at least fetch.backoff_base_ms"));
        }
        Ok(())
    }
}

/// The brokers the fetcher talks to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokersSettings {
    /// Tradier.
    pub tradier: TradierSettings,
}

/// Everything the fetcher reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The `/health` + `/ready` listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// The fetcher's database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// The credential store's keys.
    pub credentials: CredentialsSettings,
    /// Broker endpoints.
    pub brokers: BrokersSettings,
    /// Fetch jobs.
    pub fetch: FetchSettings,
    /// The outbox relay.
    pub outbox: OutboxSettings,
}

impl Default for Settings {
    /// Compiled defaults: HTTP on 8082, database `fetcher`, Tradier at the local server.
    fn default() -> Self {
        Self::with_backend(BackendSettings::local(8082, "fetcher"))
    }
}

impl Settings {
    /// The given backend sections with the fetcher's own defaults (tests use it).
    pub fn with_backend(backend: BackendSettings) -> Self {
        Self {
            http: backend.http,
            nats: backend.nats,
            database: backend.database,
            log: backend.log,
            credentials: CredentialsSettings::default(),
            brokers: BrokersSettings {
                tradier: TradierSettings {
                    base_url: LOCAL_TRADIER.to_string(),
                    sandbox_base_url: LOCAL_TRADIER.to_string(),
                    request_timeout_ms: 10_000,
                },
            },
            fetch: FetchSettings::default(),
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
        self.credentials.validate()?;
        let tradier = &self.brokers.tradier;
        for (key, url) in [
            ("brokers.tradier.base_url", &tradier.base_url),
            ("brokers.tradier.sandbox_base_url", &tradier.sandbox_base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(SettingsError::invalid(key, "must be an http:// or https:// URL"));
            }
        }
        positive("brokers.tradier.request_timeout_ms", tradier.request_timeout_ms)?;
        self.fetch.validate()?;
        self.outbox.validate()
    }
}

/// Loads the settings from `sources` (defaults → files → `APP_...`), validates them and
/// checks them against the environment they run in (`APP_ENVIRONMENT`): outside `local`, the
/// development encryption key is refused.
pub fn load(sources: &Sources) -> Result<Settings, SettingsError> {
    let settings = platform::settings::load(&Settings::default(), sources)?;
    settings.credentials.check_environment(&sources.environment)?;
    Ok(settings)
}

/// The local Tradier-compatible server (`tradier-sim`) that `just up` starts.
pub const LOCAL_TRADIER: &str = "http://127.0.0.1:8090";

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn sources(environment: &str, env: &[(&str, &str)]) -> Sources {
        Sources {
            config_dir: "/nonexistent".into(),
            environment: environment.into(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn load_with(env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        load(&sources("local", env))
    }

    fn encode(key: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    #[test]
    fn the_encryption_key_must_be_32_bytes_of_base64() {
        let good = encode(&[7u8; 32]);
        let settings = load_with(&[("APP_CREDENTIALS__ENCRYPTION_KEY", &good)]).unwrap();
        assert_eq!(settings.credentials.key().unwrap(), Some([7u8; 32]));
        let error = load_with(&[("APP_CREDENTIALS__ENCRYPTION_KEY", "c2hvcnQ=")]).unwrap_err().to_string();
        assert!(error.contains("credentials.encryption_key"), "{error}");
        assert!(!format!("{settings:?}").contains(&good), "the key never reaches debug output");
    }

    #[test]
    fn the_development_key_is_refused_at_start_up_outside_local() {
        let development = encode(&DEVELOPMENT_KEY);
        let env = [("APP_CREDENTIALS__ENCRYPTION_KEY", development.as_str())];
        let error = load(&sources("production", &env)).unwrap_err().to_string();
        assert!(error.contains("credentials.encryption_key") && error.contains("development key"), "{error}");
        assert!(load(&sources("local", &env)).is_ok());
        let real = encode(&[9u8; 32]);
        assert!(load(&sources("production", &[("APP_CREDENTIALS__ENCRYPTION_KEY", &real)])).is_ok());
    }

    #[test]
    fn the_local_config_file_loads_only_locally() {
        let config_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let local = Sources { config_dir: config_dir.clone(), ..sources("local", &[]) };
        assert_eq!(load(&local).unwrap().credentials.key().unwrap(), Some(DEVELOPMENT_KEY));
        // The development key reaching production through the environment is refused.
        let development = encode(&DEVELOPMENT_KEY);
        let production =
            Sources { config_dir, ..sources("production", &[("APP_CREDENTIALS__ENCRYPTION_KEY", &development)]) };
        assert!(load(&production).is_err());
    }

    #[test]
    fn key_ids_and_previous_keys_come_from_the_environment() {
        let (current, old) = (encode(&[2u8; 32]), encode(&[1u8; 32]));
        let previous = format!("initial:{old}, 2026-05:{}", encode(&[3u8; 32]));
        let settings = load_with(&[
            ("APP_CREDENTIALS__ENCRYPTION_KEY", &current),
            ("APP_CREDENTIALS__KEY_ID", "2027-01"),
            ("APP_CREDENTIALS__PREVIOUS_KEYS", &previous),
        ])
        .unwrap();
        assert_eq!(settings.credentials.key_id, "2027-01");
        let ids: Vec<&str> = settings.credentials.previous_keys.iter().map(|key| key.id.as_str()).collect();
        assert_eq!(ids, ["initial", "2026-05"]);
        assert_eq!(settings.credentials.cipher().unwrap().current_key_id(), Some("2027-01"));
        assert_eq!(Settings::default().credentials.key_id, crate::crypto::INITIAL_KEY_ID);

        let error = load_with(&[
            ("APP_CREDENTIALS__ENCRYPTION_KEY", &current),
            ("APP_CREDENTIALS__PREVIOUS_KEYS", &format!("initial:{}", encode(&[1u8; 8]))),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("credentials.previous_keys") && error.contains("`initial`"), "{error}");
    }

    #[test]
    fn the_time_budget_is_a_duration_with_its_unit() {
        assert_eq!(Settings::default().fetch.give_up_after.0, std::time::Duration::from_secs(86_400));
        let settings = load_with(&[("APP_FETCH__GIVE_UP_AFTER", "90m")]).unwrap();
        assert_eq!(settings.fetch.give_up_after.0, std::time::Duration::from_secs(5_400));
        for bad in ["24", "0s", "soon"] {
            let error = load_with(&[("APP_FETCH__GIVE_UP_AFTER", bad)]).unwrap_err().to_string();
            assert!(error.contains("give_up_after") || error.contains(bad), "{bad}: {error}");
        }
    }

    #[test]
    fn the_tradier_url_is_checked() {
        let error = load_with(&[("APP_BROKERS__TRADIER__BASE_URL", "api.tradier.com")]).unwrap_err().to_string();
        assert!(error.contains("brokers.tradier.base_url"), "{error}");
        let settings = load_with(&[("APP_BROKERS__TRADIER__BASE_URL", "https://sandbox.tradier.com")]).unwrap();
        assert_eq!(settings.brokers.tradier.base_url, "https://sandbox.tradier.com");
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
