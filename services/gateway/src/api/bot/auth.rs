//! Who is calling: the checks every Bot API route makes before it reads the body, in the
//! order of docs/api/bot.md#authentication (slug format → key present → bot exists → key is
//! the bot's).
//!
//! The ledger answers; a positive answer is cached for a few seconds (see
//! [`crate::auth_cache`]) so a busy bot does not cost a NATS round trip per request.

use super::errors::BotApiError;
use crate::auth_cache::CacheKey;
use crate::state::AppState;
use actix_web::HttpRequest;
use bus::messages::ledger_auth::{Credential, Principal};
use domain::api_key::KeyProof;

pub use crate::auth_cache::AuthenticatedBot;

/// Runs the checks for `slug` and returns the bot, or the reference's error.
pub async fn authenticate(
    request: &HttpRequest,
    slug: &str,
    state: &AppState,
) -> Result<AuthenticatedBot, BotApiError> {
    if !domain::bot::is_valid_slug(slug) {
        return Err(BotApiError::invalid_slug());
    }
    let api_key = request
        .headers()
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .ok_or(BotApiError::MissingKey)?;
    let cache_key = CacheKey::of(slug, api_key);
    if let Some(bot) = state.auth_cache.get(&cache_key) {
        return Ok(bot);
    }
    // Only the key's lookup prefix and digest cross the bus, never the key.
    let credential = Credential::Bot { slug: slug.to_string(), key: KeyProof::of(api_key) };
    let principal = bus::request(&state.nats, &state.subjects.authenticate(), &credential, state.backend_timeout())
        .await
        .map_err(BotApiError::from_request)?;
    match principal {
        Principal::Bot { bot_id, slug } => {
            let bot = AuthenticatedBot { bot_id, slug };
            state.auth_cache.put(cache_key, bot.clone());
            Ok(bot)
        }
        Principal::Partner { .. } | Principal::User { .. } => Err(BotApiError::InvalidKey),
    }
}
