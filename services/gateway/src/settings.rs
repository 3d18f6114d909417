//! The gateway's settings: HTTP, NATS, logging, and its own limits.

use platform::settings::{HttpSettings, LogSettings, NatsSettings, Settings, SettingsError, positive};
use serde::{Deserialize, Serialize};

/// Limits and timeouts of the gateway itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayLimits {
    /// Largest accepted request body (CONTRACTS §0: 512 KiB).
    pub body_limit_bytes: usize,
    /// How long `/status` waits for each service's ping.
    pub status_timeout_ms: u64,
    /// How long an API request waits for the backend that serves it; then the client gets 504.
    /// The request carries the matching deadline (`Tb-Deadline`), and a backend rolls back a
    /// write it could not commit before it. Keep it above every backend's
    /// `database.acquire_timeout_ms + connect_timeout_ms + statement_timeout_ms` (1 + 1 + 2.5 s
    /// by default), so that one slow database step fails in the service, which still answers.
    pub backend_timeout_ms: u64,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self { body_limit_bytes: 512 * 1024, status_timeout_ms: 1_000, backend_timeout_ms: 5_000 }
    }
}

/// Everything the gateway reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// The public listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// Logging.
    pub log: LogSettings,
    /// Limits and timeouts.
    pub gateway: GatewayLimits,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            http: HttpSettings::local(8080),
            nats: NatsSettings::default(),
            log: LogSettings::default(),
            gateway: GatewayLimits::default(),
        }
    }
}

impl Settings for GatewaySettings {
    fn log(&self) -> &LogSettings {
        &self.log
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.http.validate()?;
        self.nats.validate()?;
        self.log.validate()?;
        if !(1024..=1024 * 1024).contains(&self.gateway.body_limit_bytes) {
            return Err(SettingsError::invalid(
                "gateway.body_limit_bytes",
                "must be between 1 KiB and 1 MiB (NATS max_payload)",
            ));
        }
        positive("gateway.status_timeout_ms", self.gateway.status_timeout_ms)?;
        positive("gateway.backend_timeout_ms", self.gateway.backend_timeout_ms)
    }
}
