//! Recent positive answers of the ledger, so a busy client does not cost a NATS round trip per
//! request: bot authentications (Bot API; keyed by a hash of slug and key, never the key
//! itself) and which partner a hosted bot is (the Partner API's `bots/orders`, `bots/logs` and
//! `bots/positions/...`).
//!
//! Only positive answers are kept: a refusal is asked again every time, so a new key or a new
//! bot works at once, and an answer outlives a revocation or a deletion by at most [`CACHE_TTL`].
//!
//! Its own module so that [`crate::state`] can hold the caches and the API modules can use
//! both without either importing the other.

use domain::{BotId, PartnerId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
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
pub const CACHE_TTL: Duration = Duration::from_secs(5);
/// A bound on memory: past it a cache starts over.
pub const CACHE_CAPACITY: usize = 10_000;

/// What a bot authentication is found by: SHA-256 of slug and key.
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

/// What a hosted bot's owner is found by: the partner and the bot id as the client sent it
/// (only ids the ledger accepted are ever stored, so the text is short).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostedBotKey {
    /// The asking partner.
    pub partner_id: PartnerId,
    /// The bot id as sent (32 hex digits or the dashed form).
    pub bot_id: String,
}

/// Positive bot authentications.
pub type AuthCache = TtlCache<CacheKey, AuthenticatedBot>;

/// Hosted bots the ledger said are the partner's, with their ids.
pub type HostedBotCache = TtlCache<HostedBotKey, BotId>;

/// Positive answers, each reused for `ttl`; at most `capacity` of them.
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self::new(CACHE_TTL, CACHE_CAPACITY)
    }
}

impl<K, V> TtlCache<K, V> {
    /// An empty cache.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), ttl, capacity }
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// What a recent answer said for `key`, if it is still fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(value, _)| value.clone())
    }

    /// Remembers a positive answer.
    pub fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            // Clearing is cheaper than evicting one by one, and costs at most one round trip
            // per client.
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (value, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn key(bot: &str) -> HostedBotKey {
        HostedBotKey { partner_id: PartnerId::from_uuid(Uuid::from_u128(7)), bot_id: bot.into() }
    }

    #[test]
    fn an_answer_is_reused_for_its_partner_and_bot_only() {
        let cache = HostedBotCache::default();
        let bot = BotId::new();
        assert_eq!(cache.get(&key("a")), None);
        cache.put(key("a"), bot);
        assert_eq!(cache.get(&key("a")), Some(bot));
        assert_eq!(cache.get(&key("b")), None);
        let other_partner = HostedBotKey { partner_id: PartnerId::new(), bot_id: "a".into() };
        assert_eq!(cache.get(&other_partner), None);
    }

    #[test]
    fn a_stale_answer_is_not_reused() {
        let cache = HostedBotCache::new(Duration::ZERO, 10);
        cache.put(key("a"), BotId::new());
        assert_eq!(cache.get(&key("a")), None);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = HostedBotCache::new(CACHE_TTL, 2);
        let (a, b, c) = (BotId::new(), BotId::new(), BotId::new());
        cache.put(key("a"), a);
        cache.put(key("b"), b);
        assert_eq!((cache.get(&key("a")), cache.get(&key("b"))), (Some(a), Some(b)));
        cache.put(key("c"), c);
        assert_eq!((cache.get(&key("a")), cache.get(&key("b")), cache.get(&key("c"))), (None, None, Some(c)));
    }
}
