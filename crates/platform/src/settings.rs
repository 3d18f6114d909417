//! Typed settings loaded through the `config` crate.
//!
//! Layers, later wins: compiled defaults → `<dir>/default.toml` → `<dir>/<environment>.toml`
//! → `APP_<SECTION>__<KEY>` environment variables. `<dir>` is `APP_CONFIG_DIR` (default
//! `config`), `<environment>` is `APP_ENVIRONMENT` (default `local`). Unknown keys are refused so
//! a typo (`APP_HTTP__PROT`) fails start-up instead of being ignored.

mod database;
mod growth;
mod http;
mod log;
mod nats;

pub use database::{DatabaseSettings, redacted_url};
pub use growth::{JetStreamSettings, MAX_PRUNE_BATCH, RetentionSettings};
pub use http::HttpSettings;
pub use log::{LogFormat, LogSettings};
pub use nats::{NatsSettings, NatsTlsSettings};

use config::{Config, Environment, File, FileFormat};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::path::PathBuf;

/// Why settings could not be used. The message always names the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A file or variable could not be read or has the wrong type.
    #[error("settings could not be loaded: {0}")]
    Load(#[from] config::ConfigError),
    /// A value was read but breaks a rule.
    #[error("invalid setting `{key}` (env {env}): {reason}")]
    Invalid {
        /// The dotted key, e.g. `nats.prefix`.
        key: String,
        /// The environment variable that sets it.
        env: String,
        /// What is wrong.
        reason: String,
    },
}

impl SettingsError {
    /// An [`SettingsError::Invalid`] for a dotted key.
    pub fn invalid(key: &str, reason: impl Into<String>) -> Self {
        SettingsError::Invalid { key: key.to_string(), env: env_var_for(key), reason: reason.into() }
    }
}

/// The environment variable that sets a dotted key: `nats.prefix` → `APP_NATS__PREFIX`.
pub fn env_var_for(key: &str) -> String {
    format!("APP_{}", key.to_uppercase().replace('.', "__"))
}

/// A settings type: serialisable defaults plus the rules values must follow.
pub trait Settings: Serialize + DeserializeOwned {
    /// The logging section, so start-up can initialise logging for any settings type.
    fn log(&self) -> &LogSettings;

    /// Checks values that parse but make no sense (an empty URL, a zero pool).
    fn validate(&self) -> Result<(), SettingsError>;
}

/// Where settings come from, so tests can load without touching the process environment.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The folder holding `default.toml` and `<environment>.toml`; both are optional.
    pub config_dir: PathBuf,
    /// The environment name (`local`, `production`, ...).
    pub environment: String,
    /// `APP_...` variables.
    pub env: HashMap<String, String>,
}

impl Sources {
    /// The process's own: `APP_CONFIG_DIR`, `APP_ENVIRONMENT` and every `APP_` variable.
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().filter(|(key, _)| key.starts_with("APP_")).collect();
        Self {
            config_dir: PathBuf::from(env.get("APP_CONFIG_DIR").map_or("config", String::as_str)),
            environment: env.get("APP_ENVIRONMENT").cloned().unwrap_or_else(|| "local".to_string()),
            env,
        }
    }
}

/// Loads `S` from `defaults` and `sources`, then validates it.
pub fn load<S: Settings>(defaults: &S, sources: &Sources) -> Result<S, SettingsError> {
    // These two choose the sources; they are not settings themselves.
    let env: HashMap<String, String> = sources
        .env
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "APP_CONFIG_DIR" | "APP_ENVIRONMENT"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let settings: S = Config::builder()
        .add_source(Config::try_from(defaults)?)
        .add_source(File::from(sources.config_dir.join("default.toml")).format(FileFormat::Toml).required(false))
        .add_source(
            File::from(sources.config_dir.join(format!("{}.toml", sources.environment)))
                .format(FileFormat::Toml)
                .required(false),
        )
        .add_source(
            Environment::with_prefix("APP").prefix_separator("_").separator("__").try_parsing(true).source(Some(env)),
        )
        .build()?
        .try_deserialize()?;
    settings.validate()?;
    Ok(settings)
}

/// The settings every backend service (one with a database) shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSettings {
    /// The `/health` + `/ready` listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// The service's own database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
}

impl BackendSettings {
    /// Local defaults: HTTP on `port`, database `database`.
    pub fn local(port: u16, database: &str) -> Self {
        Self {
            http: HttpSettings::local(port),
            nats: NatsSettings::default(),
            database: DatabaseSettings::local(database),
            log: LogSettings::default(),
        }
    }
}

impl Settings for BackendSettings {
    fn log(&self) -> &LogSettings {
        &self.log
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.http.validate()?;
        self.nats.validate()?;
        self.database.validate()?;
        growth::check_stream_age_below_retention(&self.nats.jetstream, &self.database.retention)?;
        self.log.validate()
    }
}

/// Refuses zero for a duration or count that must be positive.
pub fn positive(key: &str, value: u64) -> Result<(), SettingsError> {
    if value == 0 { Err(SettingsError::invalid(key, "must be greater than 0")) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Secret;

    fn sources(env: &[(&str, &str)]) -> Sources {
        Sources {
            config_dir: PathBuf::from("/nonexistent"),
            environment: "local".into(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn load_backend(env: &[(&str, &str)]) -> Result<BackendSettings, SettingsError> {
        load(&BackendSettings::local(8081, "ledger"), &sources(env))
    }

    #[test]
    fn defaults_load_and_env_overrides_them() {
        let settings = load_backend(&[("APP_HTTP__PORT", "9999"), ("APP_NATS__PREFIX", "t_abc")]).unwrap();
        assert_eq!(settings.http.port, 9999);
        assert_eq!(settings.nats.prefix, "t_abc");
        assert_eq!(settings.database.url, "postgres://tb:tb@127.0.0.1:5432/ledger");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        let error = load_backend(&[("APP_HTTP__PORT", "eighty")]).unwrap_err().to_string();
        assert!(error.contains("http.port"), "{error}");
    }

    #[test]
    fn a_value_that_breaks_a_rule_names_its_key_and_variable() {
        let error = load_backend(&[("APP_NATS__PREFIX", "a.b")]).unwrap_err().to_string();
        assert!(error.contains("`nats.prefix`") && error.contains("APP_NATS__PREFIX"), "{error}");
        let error = load_backend(&[("APP_DATABASE__MAX_CONNECTIONS", "0")]).unwrap_err().to_string();
        assert!(error.contains("database.max_connections"), "{error}");
        let error = load_backend(&[("APP_LOG__FORMAT", "xml")]).unwrap_err().to_string();
        assert!(error.contains("log.format"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let error = load_backend(&[("APP_HTTP__PROT", "1")]).unwrap_err().to_string();
        assert!(error.contains("prot"), "{error}");
    }

    #[test]
    fn files_layer_under_the_environment() {
        let dir = std::env::temp_dir().join(format!("settings-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("default.toml"), "[http]\nport = 7000\nworkers = 3\n").unwrap();
        std::fs::write(dir.join("production.toml"), "[http]\nport = 7001\n").unwrap();
        let sources = Sources {
            config_dir: dir.clone(),
            environment: "production".into(),
            env: [("APP_HTTP__WORKERS".to_string(), "5".to_string())].into(),
        };
        let settings = load(&BackendSettings::local(8081, "ledger"), &sources).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!((settings.http.port, settings.http.workers), (7001, 5));
    }

    #[test]
    fn nats_credentials_come_as_a_user_and_password_or_an_nkey_seed() {
        let ok = load_backend(&[("APP_NATS__USER", "gateway"), ("APP_NATS__PASSWORD", "pw")]).unwrap();
        assert_eq!(ok.nats.user.as_deref(), Some("gateway"));
        assert_eq!(ok.nats.password.as_ref().map(Secret::expose), Some("pw"));
        let seed = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
        assert!(load_backend(&[("APP_NATS__NKEY_SEED", seed)]).is_ok());
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[("APP_NATS__USER", "gateway")], "nats.password"),
            (&[("APP_NATS__PASSWORD", "pw")], "nats.user"),
            (
                &[("APP_NATS__USER", "gateway"), ("APP_NATS__PASSWORD", "pw"), ("APP_NATS__NKEY_SEED", seed)],
                "nats.nkey_seed",
            ),
            (&[("APP_NATS__NKEY_SEED", "not-a-seed")], "nats.nkey_seed"),
            (&[("APP_NATS__TLS__CERT_FILE", "/tls/client.pem")], "nats.tls.key_file"),
            (&[("APP_NATS__TLS__KEY_FILE", "/tls/client.key")], "nats.tls.cert_file"),
        ];
        for (env, key) in cases {
            let error = load_backend(env).unwrap_err().to_string();
            assert!(error.contains(&format!("`{key}`")), "{env:?}: {error}");
        }
        let tls = load_backend(&[("APP_NATS__TLS__CA_FILE", "/tls/ca.pem")]).unwrap();
        assert!(tls.nats.tls.enabled());
    }
}
