//! Decrypted credentials kept in memory for a few seconds, so a burst of fetches for one
//! account reads and decrypts its credential once rather than once per participation.
//!
//! A credential replaced by `admin set-credentials` (another process) is seen here after at
//! most the TTL; a cached token the broker refuses is evicted and the attempt retried with the
//! stored one (see `fetch.rs`), so a rotation never parks a job. Re-sealing under a new
//! encryption key (`admin rotate-keys`) leaves the token as it was, so cached entries stay
//! right through a key rotation.

use crate::broker::BrokerToken;
use domain::BrokerAccountId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Per-account decrypted tokens with their expiry.
#[derive(Debug)]
pub struct CredentialCache {
    ttl: Duration,
    entries: Mutex<HashMap<BrokerAccountId, (Instant, BrokerToken)>>,
}

impl CredentialCache {
    /// A cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The account's token, if cached and fresh.
    pub fn get(&self, account: BrokerAccountId) -> Option<BrokerToken> {
        let entries = self.entries.lock().ok()?;
        let (expires, token) = entries.get(&account)?;
        (*expires > Instant::now()).then(|| token.clone())
    }

    /// Caches the account's token.
    pub fn put(&self, account: BrokerAccountId, token: BrokerToken) {
        if let Ok(mut entries) = self.entries.lock() {
            let now = Instant::now();
            entries.retain(|_, (expires, _)| *expires > now);
            entries.insert(account, (now + self.ttl, token));
        }
    }

    /// Forgets the account's token (the broker refused it).
    pub fn evict(&self, account: BrokerAccountId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::TradierEnvironment;
    use domain::Secret;

    fn token(value: &str) -> BrokerToken {
        BrokerToken { token: Secret::new(value), environment: TradierEnvironment::Live }
    }

    #[test]
    fn entries_expire_and_can_be_evicted() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let account = BrokerAccountId::new();
        assert_eq!(cache.get(account), None);
        cache.put(account, token("a"));
        assert_eq!(cache.get(account), Some(token("a")));
        cache.evict(account);
        assert_eq!(cache.get(account), None);
        let short = CredentialCache::new(Duration::ZERO);
        short.put(account, token("b"));
        assert_eq!(short.get(account), None, "expired at once");
    }
}
