//! Remembers which broker accounts are rate limited and until when, so other jobs of the same
//! account wait for the reset instead of spending a request to hear 429 again.

use domain::BrokerAccountId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Per-account "blocked until" instants (in memory: another replica learns on its own).
#[derive(Debug, Default)]
pub struct RateGate {
    blocked: Mutex<HashMap<BrokerAccountId, Instant>>,
}

impl RateGate {
    /// Records that `account` may not call before `wait` has passed.
    pub fn block(&self, account: BrokerAccountId, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut blocked) = self.blocked.lock() {
            let entry = blocked.entry(account).or_insert(until);
            *entry = (*entry).max(until);
        }
    }

    /// How long `account` must still wait, if it is blocked.
    pub fn wait(&self, account: BrokerAccountId) -> Option<Duration> {
        let mut blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&account)?;
        let now = Instant::now();
        if until <= now {
            blocked.remove(&account);
            return None;
        }
        Some(until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_waits_until_its_reset_and_others_do_not() {
        let gate = RateGate::default();
        let (limited, other) = (BrokerAccountId::new(), BrokerAccountId::new());
        gate.block(limited, Duration::from_secs(60));
        gate.block(limited, Duration::from_secs(1));
        assert!(gate.wait(limited).unwrap() > Duration::from_secs(50), "the later reset wins");
        assert_eq!(gate.wait(other), None);
        gate.block(other, Duration::ZERO);
        assert_eq!(gate.wait(other), None, "a reset in the past is forgotten");
    }
}
