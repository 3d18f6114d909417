//! The gateway's settings: HTTP, NATS, logging, and its own limits.

use platform::settings::{HttpSettings, LogSettings, NatsSettings, SettingsError, positive};
use serde::{Deserialize, Serialize};

/// Limits and timeouts of the gateway itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayLimits {
    /// Largest accepted request body (docs/api/common.md#body-limits: 512 KiB).
    pub body_limit_bytes: usize,
    /// How long `/status` waits for each service's ping.
    pub status_timeout_ms: u64,
    /// How long an API request waits for the backend that serves it; then the client gets 504.
    /// The request carries the matching deadline (`Tb-Deadline`), and a backend rolls back a
    /// write it could not commit before it. Keep it above every backend's
    /// `database.acquire_timeout_ms + connect_timeout_ms + statement_timeout_ms` (1 + 1 + 2.5 s
    /// by default), so that one slow database step fails in the service, which still answers.
    pub backend_timeout_ms: u64,
    /// Requests per client and API family: a token bucket per API key (per client IP for a
    /// request without one), checked before anything else (see `api::rate_limit`).
    pub rate_limits: RateLimits,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self {
            body_limit_bytes: 512 * 1024,
            status_timeout_ms: 1_000,
            backend_timeout_ms: 5_000,
            rate_limits: RateLimits::default(),
        }
    }
}

/// One family's token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per second (the refill rate).
    pub per_second: u32,
    /// Requests a client may send at once after a quiet spell (the bucket's size).
    pub burst: u32,
}

/// The per-family limits and the bound on the memory they take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Bot API (`/api/bots/...`), per bot key. A bot reports trades, transactions,
    /// participations and state: 100 a second is far above what one bot needs, so only a
    /// runaway loop meets it.
    pub bot: RateLimit,
    /// Partner API (`/partner/v1/...`), per partner key. Shared by a partner's whole backend.
    pub partner: RateLimit,
    /// User API and operational routes (`/status`, `/openapi.json`, `/docs`), per user token
    /// or client IP. `/health` and `/ready` are never limited: probes must not be refused.
    pub user: RateLimit,
    /// Buckets kept per family, at most. A bucket that has refilled is dropped (it equals a
    /// fresh one); past this bound the oldest bucket goes first, so memory stays bounded even
    /// when every request brings a new key.
    pub max_clients: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            bot: RateLimit { per_second: 100, burst: 200 },
            partner: RateLimit { per_second: 100, burst: 200 },
            user: RateLimit { per_second: 50, burst: 100 },
            max_clients: 50_000,
        }
    }
}

/// Everything the gateway reads at start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The public listener.
    pub http: HttpSettings,
    /// NATS.
    pub nats: NatsSettings,
    /// Logging.
    pub log: LogSettings,
    /// Limits and timeouts.
    pub gateway: GatewayLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http: HttpSettings::local(8080),
            nats: NatsSettings::default(),
            log: LogSettings::default(),
            gateway: GatewayLimits::default(),
        }
    }
}

impl platform::Settings for Settings {
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
        positive("gateway.backend_timeout_ms", self.gateway.backend_timeout_ms)?;
        let limits = &self.gateway.rate_limits;
        for (family, limit) in [("bot", limits.bot), ("partner", limits.partner), ("user", limits.user)] {
            positive(&format!("gateway.rate_limits.{family}.per_second"), u64::from(limit.per_second))?;
            positive(&format!("gateway.rate_limits.{family}.burst"), u64::from(limit.burst))?;
        }
        positive("gateway.rate_limits.max_clients", u64::try_from(limits.max_clients).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::settings::{Sources, load};

    fn with_env(env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let sources = Sources {
            config_dir: "does-not-exist".into(),
            environment: "local".into(),
            env: env.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
        };
        load(&Settings::default(), &sources)
    }

    #[test]
    fn rate_limits_are_read_per_family_from_the_environment() {
        let settings = with_env(&[
            ("APP_GATEWAY__RATE_LIMITS__BOT__PER_SECOND", "7"),
            ("APP_GATEWAY__RATE_LIMITS__PARTNER__BURST", "9"),
            ("APP_GATEWAY__RATE_LIMITS__MAX_CLIENTS", "2000"),
        ])
        .unwrap();
        let limits = settings.gateway.rate_limits;
        assert_eq!(limits.bot, RateLimit { per_second: 7, burst: 200 });
        assert_eq!(limits.partner, RateLimit { per_second: 100, burst: 9 });
        assert_eq!(limits.user, RateLimits::default().user);
        assert_eq!(limits.max_clients, 2000);
    }

    #[test]
    fn a_zero_limit_stops_start_up_naming_the_key() {
        let error = with_env(&[("APP_GATEWAY__RATE_LIMITS__USER__BURST", "0")]).unwrap_err().to_string();
        assert!(error.contains("gateway.rate_limits.user.burst"), "{error}");
        let error = with_env(&[("APP_GATEWAY__RATE_LIMITS__BOT__PER_SECOND", "0")]).unwrap_err().to_string();
        assert!(error.contains("gateway.rate_limits.bot.per_second"), "{error}");
        let error = with_env(&[("APP_GATEWAY__RATE_LIMITS__BOT__PER_MINUTE", "5")]).unwrap_err().to_string();
        assert!(error.contains("per_minute"), "an unknown key is named: {error}");
    }
}
