//! What every handler shares: the NATS client, subjects, limits, the caches of the ledger's
//! answers and the OpenAPI document.

use crate::auth_cache::{AuthCache, HostedBotCache};
use crate::settings::GatewayLimits;
use actix_web::web::Bytes;
use bus::Subjects;
use std::time::Duration;

/// Shared, cheap to clone (the NATS client is a handle).
#[derive(Clone)]
pub struct AppState {
    /// NATS.
    pub nats: async_nats::Client,
    /// Subject builder for the configured prefix.
    pub subjects: Subjects,
    /// Limits and timeouts.
    pub limits: GatewayLimits,
    /// Recent positive bot authentications.
    pub auth_cache: std::sync::Arc<AuthCache>,
    /// Recent answers that a hosted bot is a partner's (`bots/orders`, `bots/logs`,
    /// `bots/positions/...`).
    pub hosted_bot_cache: std::sync::Arc<HostedBotCache>,
    /// The OpenAPI document as JSON, serialized once at start; `/openapi.json` serves it.
    pub openapi_json: Bytes,
}

impl AppState {
    /// How long an API request waits for its backend.
    pub fn backend_timeout(&self) -> Duration {
        Duration::from_millis(self.limits.backend_timeout_ms)
    }

    /// How long `/status` waits for one ping.
    pub fn status_timeout(&self) -> Duration {
        Duration::from_millis(self.limits.status_timeout_ms)
    }
}
