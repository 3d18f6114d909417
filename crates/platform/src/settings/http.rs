//! `http`: the listener of a process (the gateway's API, a backend's `/health` and `/ready`).

use super::SettingsError;
use serde::{Deserialize, Serialize};

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
