//! Typed settings loaded through the `config` crate.
//!
//! Layers, later wins: compiled defaults → `<dir>/default.toml` → `<dir>/<environment>.toml`
//! → `APP_<SECTION>__<KEY>` environment variables. `<dir>` is `APP_CONFIG_DIR` (default
//! `config`), `<environment>` is `APP_ENVIRONMENT` (default `local`). Unknown keys are refused so
//! a typo (`APP_HTTP__PROT`) fails start-up instead of being ignored.

mod growth;

pub use growth::{JetStreamSettings, MAX_PRUNE_BATCH, RetentionSettings};

use config::{Config, Environment, File, FileFormat};
use domain::Secret;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::fmt;
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

/// The HTTP listener of a process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to bind (`127.0.0.1` locally, `0.0.0.0` in a container).
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
}

impl HttpSettings {
    /// Local defaults on `port`.
    pub fn local(port: u16) -> Self {
        Self { host: "127.0.0.1".to_string(), port, shutdown_timeout_secs: 10, workers: 0 }
    }

    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.host.parse::<std::net::IpAddr>().is_err() && self.host != "localhost" {
            return Err(SettingsError::invalid("http.host", format!("{:?} is not an IP address", self.host)));
        }
        if self.shutdown_timeout_secs == 0 {
            return Err(SettingsError::invalid("http.shutdown_timeout_secs", "must be at least 1"));
        }
        Ok(())
    }
}

/// The NATS connection.
///
/// Local runs and tests connect without credentials. A deployment with an authenticated bus
/// gives each process its own user (see `deploy/nats/`): a user and password, or an nkey seed,
/// usually from a Kubernetes Secret through `APP_NATS__PASSWORD` / `APP_NATS__NKEY_SEED`, and
/// optionally TLS with a private CA and a client certificate.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    /// Server URL, e.g. `nats://127.0.0.1:4222` (`tls://` requires TLS). It may hold
    /// credentials, so it is never logged and `Debug` shows it redacted.
    pub url: String,
    /// First token of every subject and of stream names (`tb`; random in tests).
    pub prefix: String,
    /// How long a request waits for its reply.
    pub request_timeout_ms: u64,
    /// How long connecting may take at start-up.
    pub connect_timeout_ms: u64,
    /// The user to connect as (with `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The user's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// An nkey user seed (`SU...`), instead of a user and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nkey_seed: Option<Secret>,
    /// TLS to the server.
    #[serde(default)]
    pub tls: NatsTlsSettings,
    /// The limits of the streams a backend service creates.
    #[serde(default)]
    pub jetstream: JetStreamSettings,
}

/// TLS to the NATS server: a private CA to trust and an optional client certificate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsTlsSettings {
    /// Require TLS even when the URL says `nats://`.
    #[serde(default)]
    pub required: bool,
    /// PEM file of the CA that signed the server's certificate (system roots are trusted too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for servers that verify clients (with `key_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

impl NatsTlsSettings {
    /// Whether any TLS setting asks for TLS.
    pub fn enabled(&self) -> bool {
        self.required || self.ca_file.is_some() || self.cert_file.is_some()
    }
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".to_string(),
            prefix: "tb".to_string(),
            request_timeout_ms: 5_000,
            connect_timeout_ms: 5_000,
            user: None,
            password: None,
            nkey_seed: None,
            tls: NatsTlsSettings::default(),
            jetstream: JetStreamSettings::default(),
        }
    }
}

impl NatsSettings {
    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(self.url.starts_with("nats://") || self.url.starts_with("tls://")) {
            return Err(SettingsError::invalid("nats.url", "must start with nats:// or tls://"));
        }
        bus::Subjects::new(self.prefix.clone())
            .map_err(|error| SettingsError::invalid("nats.prefix", error.to_string()))?;
        positive("nats.request_timeout_ms", self.request_timeout_ms)?;
        positive("nats.connect_timeout_ms", self.connect_timeout_ms)?;
        self.validate_credentials()?;
        self.jetstream.validate()?;
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(_), None) => Err(SettingsError::invalid("nats.tls.key_file", "is required with nats.tls.cert_file")),
            (None, Some(_)) => Err(SettingsError::invalid("nats.tls.cert_file", "is required with nats.tls.key_file")),
            _ => Ok(()),
        }
    }

    fn validate_credentials(&self) -> Result<(), SettingsError> {
        if self.nkey_seed.is_some() && (self.user.is_some() || self.password.is_some()) {
            return Err(SettingsError::invalid(
                "nats.nkey_seed",
                "use either nats.user + nats.password or nats.nkey_seed",
            ));
        }
        if let Some(seed) = &self.nkey_seed
            && !seed.expose().starts_with("SU")
        {
            return Err(SettingsError::invalid("nats.nkey_seed", "must be an nkey user seed (it starts with SU)"));
        }
        match (self.user.as_deref(), &self.password) {
            (Some(""), _) => Err(SettingsError::invalid("nats.user", "must not be empty when set")),
            (Some(_), None) => Err(SettingsError::invalid("nats.password", "is required with nats.user")),
            (None, Some(_)) => Err(SettingsError::invalid("nats.user", "is required with nats.password")),
            _ => Ok(()),
        }
    }

    /// The subject builder for this prefix (validated by [`Settings::validate`]).
    pub fn subjects(&self) -> Result<bus::Subjects, SettingsError> {
        bus::Subjects::new(self.prefix.clone())
            .map_err(|error| SettingsError::invalid("nats.prefix", error.to_string()))
    }
}

impl fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSettings")
            .field("url", &redacted_url(&self.url))
            .field("prefix", &self.prefix)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("nkey_seed", &self.nkey_seed)
            .field("tls", &self.tls)
            .field("jetstream", &self.jetstream)
            .finish()
    }
}

/// The service's own Postgres database.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Pool size.
    pub max_connections: usize,
    /// How long a caller waits for a free connection before failing.
    pub acquire_timeout_ms: u64,
    /// How long opening a new connection may take.
    pub connect_timeout_ms: u64,
    /// Postgres `statement_timeout` set on every connection: no query holds locks forever.
    ///
    /// With the two timeouts above it must stay below the gateway's
    /// `gateway.backend_timeout_ms` (see [`DatabaseSettings::max_step_ms`]), so that a
    /// request stuck on the database fails in the service, which answers, before the gateway
    /// gives up on it.
    pub statement_timeout_ms: u64,
    /// How long finished rows stay (outbox, inbox, finished jobs).
    #[serde(default)]
    pub retention: RetentionSettings,
}

impl DatabaseSettings {
    /// Local defaults for database `name`.
    pub fn local(name: &str) -> Self {
        Self {
            url: format!("postgres://tb:tb@127.0.0.1:5432/{name}"),
            max_connections: 16,
            // 1 + 1 + 2.5 s: below the gateway's 5 s backend timeout (see `max_step_ms`).
            acquire_timeout_ms: 1_000,
            connect_timeout_ms: 1_000,
            statement_timeout_ms: 2_500,
            retention: RetentionSettings::default(),
        }
    }

    /// The longest one database step of a request can take before it fails: waiting for a
    /// pooled connection, opening it, and one statement. Every service keeps it below the
    /// gateway's `gateway.backend_timeout_ms`; a request of several steps is bounded by its
    /// deadline instead (a write whose deadline passed rolls back; see `bus::deadline`).
    pub fn max_step_ms(&self) -> u64 {
        self.acquire_timeout_ms.saturating_add(self.connect_timeout_ms).saturating_add(self.statement_timeout_ms)
    }

    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(SettingsError::invalid("database.url", "must start with postgres://"));
        }
        if self.max_connections == 0 {
            return Err(SettingsError::invalid("database.max_connections", "must be at least 1"));
        }
        positive("database.acquire_timeout_ms", self.acquire_timeout_ms)?;
        positive("database.connect_timeout_ms", self.connect_timeout_ms)?;
        positive("database.statement_timeout_ms", self.statement_timeout_ms)?;
        self.retention.validate("database.retention")
    }
}

/// The URL without its password, for logs.
pub fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => match url[scheme_end + 3..at].split_once(':') {
            Some((user, _password)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
            // A bare token (`nats://<token>@host`) is all secret.
            None => format!("{}***{}", &url[..scheme_end + 3], &url[at..]),
        },
        _ => url.to_string(),
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("retention", &self.retention)
            .finish()
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event, for people.
    Compact,
    /// One JSON object per event, for log collectors.
    Json,
}

/// Logging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `compact` or `json`.
    pub format: LogFormat,
    /// A tracing filter (`info`, `trade_ledger=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Compact, level: "info".to_string() }
    }
}

impl LogSettings {
    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        tracing_subscriber::EnvFilter::try_new(&self.level)
            .map(|_| ())
            .map_err(|error| SettingsError::invalid("log.level", error.to_string()))
    }
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
    fn nats_credentials_never_reach_debug_output() {
        let settings = NatsSettings {
            url: "nats://gateway:hunter2@nats:4222".into(),
            password: Some(Secret::new("s3cret-pass")),
            nkey_seed: Some(Secret::new("SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY")),
            ..NatsSettings::default()
        };
        let debug = format!("{settings:?}");
        for secret in ["hunter2", "s3cret-pass", "SUACSSL3"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("gateway:***@nats:4222"), "{debug}");
        assert_eq!(redacted_url("nats://t0ken@nats:4222"), "nats://***@nats:4222");
        assert_eq!(redacted_url("nats://nats:4222"), "nats://nats:4222");
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

    #[test]
    fn passwords_never_reach_debug_output() {
        let settings = DatabaseSettings::local("ledger");
        let debug = format!("{settings:?}");
        assert!(debug.contains("tb:***@127.0.0.1"), "{debug}");
        assert!(!debug.contains("tb:tb@"), "{debug}");
    }
}
