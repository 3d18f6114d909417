//! `nats`: the connection to the bus, its credentials and TLS, and the limits of the streams
//! a backend service creates.

use super::{JetStreamSettings, SettingsError, positive, redacted_url};
use domain::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

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

    /// The subject builder for this prefix (validated by [`NatsSettings::validate`]).
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
