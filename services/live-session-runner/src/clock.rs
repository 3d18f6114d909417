//! The runner's clock: what "now" is for the stale-feed watchdog, the checkpoint interval, the
//! RSI bar ticks and the times of the runner's own log lines. The engines keep their own clock,
//! the time of the quotes they are fed.
//!
//! Tests give the runner a [`ManualClock`] and stamp their quotes from it, so one clock rules:
//! moving it forward makes the feed stale without a sleep, and fresh quotes never look old.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The current time, Unix milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now, Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The machine's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that moves only when told (tests). Clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now_ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn at(now_ms: i64) -> Self {
        Self { now_ms: Arc::new(AtomicI64::new(now_ms)) }
    }

    /// A clock showing the wall clock's time now, then moving only when told.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now_ms())
    }

    /// Moves the clock forward by `ms`; returns the new time.
    pub fn advance(&self, ms: i64) -> i64 {
        self.now_ms.fetch_add(ms, Ordering::SeqCst) + ms
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// The clock a runner is built with.
pub type SharedClock = Arc<dyn Clock>;
