//! Who is calling: the checks every Bot API route makes before it reads the body, in the
//! order of CONTRACTS §1 (slug format → key present → bot exists → key is the bot's).
//!
//! The ledger answers; a positive answer is cached for a few seconds (keyed by a hash of slug
//! and key, never the key itself) so a busy bot does not cost a NATS round trip per request.

use super::errors::BotApiError;
use crate::state::AppState;
use actix_web::HttpRequest;
use bus::messages::ledger_auth::{Credential, Principal};
use domain::BotId;
use domain::api_key::KeyProof;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An authenticated bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedBot {
    /// Its id.
    pub bot_id: BotId,
    /// Its slug.
    pub slug: String,
}

/// How long a positive answer is reused.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// A bound on memory: past it the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

/// Positive authentication answers, reused for [`CACHE_TTL`].
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<[u8; 32], (AuthenticatedBot, Instant)>>,
}

impl AuthCache {
    fn key(slug: &str, api_key: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(slug.as_bytes());
        hasher.update([0]);
        hasher.update(api_key.as_bytes());
        hasher.finalize().into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<AuthenticatedBot> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(_, at)| at.elapsed() < CACHE_TTL).map(|(bot, _)| bot.clone())
    }

    fn put(&self, key: [u8; 32], bot: AuthenticatedBot) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(key, (bot, Instant::now()));
        }
    }
}

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
    let cache_key = AuthCache::key(slug, api_key);
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
