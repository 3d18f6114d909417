//! What to do after a failed fetch attempt: retry (when, and whether it uses up one of the
//! job's allowed failures) or park the job as a dead letter.
//!
//! - Transport errors and timeouts say nothing about the order: they retry with capped
//!   exponential backoff and never count toward the limit, so a broker outage parks nothing.
//! - 429 waits until the broker's limit resets (plus a little jitter so waiting workers do
//!   not return all at once); it does not count either.
//! - 5xx and "order not visible yet" retry with backoff and count: after `max_failures` of
//!   them the job is parked with the last error.
//! - Everything else (refused credentials, malformed answers, unknown broker, missing
//!   credentials) cannot get better by waiting: the job is parked at once.
//! - Transport errors and rate limits get a wall-clock budget instead (`give_up_after`, from
//!   the job's first attempt or its last admin retry): a failure after it has run out parks
//!   the job as timed out, so a broker that never answers does not keep a job forever.

use std::time::Duration;

/// How an attempt failed, in the terms the policy needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// No usable answer (connection, reset, timeout).
    Transport,
    /// Rate limited until the given wait has passed.
    RateLimited(Duration),
    /// The broker answered but could not serve it now (5xx, order not visible yet).
    Transient,
    /// Waiting will not help.
    Permanent,
}

/// The decision for a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again after `delay`; `counts` says whether it used up an allowed failure.
    Retry {
        /// How long to wait.
        delay: Duration,
        /// Whether the failure counts toward the limit.
        counts: bool,
    },
    /// Park the job as a dead letter.
    Park,
    /// Park the job as a dead letter because its time budget ran out.
    TimedOut,
}

/// Backoff and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry's backoff.
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
    /// Counting failures after which a job is parked.
    pub max_failures: i32,
    /// How long transport errors and rate limits are retried.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// The capped exponential backoff before retry number `attempt` (0-based), with jitter:
    /// uniformly within the upper half of the window, so retries spread out but never come
    /// sooner than half the nominal backoff. `jitter` is a sample from `[0, 1)`.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let nominal = self.base.saturating_mul(2u32.saturating_pow(attempt.min(30))).min(self.cap);
        nominal.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// Decides what follows a failure of `kind`, for a job that had `attempts` tries and
    /// `failures` counting failures before this one, and has been retrying for `retrying_for`.
    pub fn decide(
        &self,
        kind: FailureKind,
        attempts: i32,
        failures: i32,
        retrying_for: Duration,
        jitter: f64,
    ) -> Decision {
        let attempt = u32::try_from(attempts).unwrap_or(0);
        match kind {
            FailureKind::Permanent => Decision::Park,
            FailureKind::Transient if failures + 1 >= self.max_failures => Decision::Park,
            FailureKind::Transient => Decision::Retry { delay: self.backoff(attempt, jitter), counts: true },
            FailureKind::Transport | FailureKind::RateLimited(_) if retrying_for >= self.give_up_after => {
                Decision::TimedOut
            }
            FailureKind::Transport => Decision::Retry { delay: self.backoff(attempt, jitter), counts: false },
            FailureKind::RateLimited(reset) => {
                Decision::Retry { delay: reset + self.base.mul_f64(jitter.clamp(0.0, 1.0)), counts: false }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const POLICY: RetryPolicy = RetryPolicy {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(10),
        max_failures: 3,
        give_up_after: Duration::from_secs(3600),
    };
    const EARLY: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_until_the_cap() {
        assert_eq!(POLICY.backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(POLICY.backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(POLICY.backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(POLICY.backoff(20, 1.0), Duration::from_secs(10));
        assert_eq!(POLICY.backoff(u32::MAX, 1.0), Duration::from_secs(10));
        assert_eq!(POLICY.backoff(1, 0.0), Duration::from_millis(100), "jitter keeps at least half");
    }

    #[test]
    fn transient_failures_park_the_job_at_the_limit() {
        assert_eq!(
            POLICY.decide(FailureKind::Transient, 0, 0, EARLY, 1.0),
            Decision::Retry { delay: Duration::from_millis(100), counts: true }
        );
        assert!(matches!(
            POLICY.decide(FailureKind::Transient, 1, 1, EARLY, 1.0),
            Decision::Retry { counts: true, .. }
        ));
        assert_eq!(POLICY.decide(FailureKind::Transient, 2, 2, EARLY, 1.0), Decision::Park);
    }

    #[test]
    fn transport_errors_never_park_a_job_within_its_budget() {
        for failures in [0, 2, 100] {
            assert!(matches!(
                POLICY.decide(FailureKind::Transport, 50, failures, EARLY, 0.5),
                Decision::Retry { counts: false, .. }
            ));
        }
    }

    #[test]
    fn rate_limits_wait_for_the_reset() {
        let reset = Duration::from_secs(30);
        assert_eq!(
            POLICY.decide(FailureKind::RateLimited(reset), 0, 2, EARLY, 0.0),
            Decision::Retry { delay: reset, counts: false },
            "longer than the cap, and not counted even at the limit"
        );
    }

    #[test]
    fn transport_errors_and_rate_limits_time_out_when_the_budget_is_spent() {
        let spent = Duration::from_secs(3600);
        for kind in [FailureKind::Transport, FailureKind::RateLimited(Duration::from_secs(5))] {
            assert!(matches!(POLICY.decide(kind, 9, 0, spent - EARLY, 0.5), Decision::Retry { .. }), "{kind:?}");
            assert_eq!(POLICY.decide(kind, 9, 0, spent, 0.5), Decision::TimedOut, "{kind:?}");
        }
        // Counting failures keep their own limit; a permanent error parks as it is.
        assert!(matches!(
            POLICY.decide(FailureKind::Transient, 1, 0, spent, 0.5),
            Decision::Retry { counts: true, .. }
        ));
        assert_eq!(POLICY.decide(FailureKind::Permanent, 0, 0, spent, 0.5), Decision::Park);
    }

    #[test]
    fn permanent_errors_park_at_once() {
        assert_eq!(POLICY.decide(FailureKind::Permanent, 0, 0, EARLY, 0.5), Decision::Park);
    }

    proptest! {
        #[test]
        fn backoff_stays_within_half_and_whole_of_the_capped_window(attempt in 0u32..64, jitter in 0.0f64..1.0) {
            let delay = POLICY.backoff(attempt, jitter);
            let nominal = POLICY.base.saturating_mul(2u32.saturating_pow(attempt.min(30))).min(POLICY.cap);
            prop_assert!(delay <= nominal && delay >= nominal / 2);
            prop_assert!(delay <= POLICY.cap);
        }
    }
}
