//! Recent positive bot authentications, so a busy bot does not cost a NATS round trip per
//! request. Keyed by a hash of slug and key, never the key itself.
//!
//! Its own module so that [`crate::state`] can hold the cache and `api::bot::auth` can use
//! both without either importing the other.

use domain::BotId;
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

/// What an entry is found by: SHA-256 of slug and key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The entry key of `slug` presented with `api_key`.
    pub fn of(slug: &str, api_key: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(slug.as_bytes());
        hasher.update([0]);
        hasher.update(api_key.as_bytes());
        Self(hasher.finalize().into())
    }
}

/// Positive authentication answers, reused for [`CACHE_TTL`].
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<CacheKey, (AuthenticatedBot, Instant)>>,
}

impl AuthCache {
    /// The bot a recent answer named for `key`, if it is still fresh.
    pub fn get(&self, key: &CacheKey) -> Option<AuthenticatedBot> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(_, at)| at.elapsed() < CACHE_TTL).map(|(bot, _)| bot.clone())
    }

    /// Remembers a positive answer.
    pub fn put(&self, key: CacheKey, bot: AuthenticatedBot) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(key, (bot, Instant::now()));
        }
    }
}
