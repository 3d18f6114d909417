//! Request deadlines: the `Tb-Deadline` header, and how a responder sees it.
//!
//! ```text
//!  bus::request(timeout) ── Tb-Deadline: <unix ms> ──► bus::serve
//!        │  (sent at + timeout − commit margin)            │ passed on arrival: dropped, no handler
//!        │                                                 │ else: handler runs in deadline::scope
//!        │                                                 │        ├─ deadline::check() right before COMMIT
//!        │                                                 │        │  (passed: roll back instead)
//!        ▼                                                 │ passed when the handler ends: no reply
//!  RequestError::Timeout (the gateway: 504)                ▼
//! ```
//!
//! A requester that stops waiting does not know whether the responder wrote anything: the
//! gateway answers 504 and the client may retry. The deadline lets the responder make "not in
//! time" mean "not written": a write whose deadline passed before its commit rolls back, so a
//! retry (best with the same `Idempotency-Key`) cannot duplicate it. The header carries the
//! requester's own timeout less a small margin ([`commit_margin`]) for the commit itself and
//! the reply's trip back, so that a write that passes the check has time to reach the
//! requester.
//!
//! The handler reads the deadline from a tokio task-local ([`current`], [`check`]) rather
//! than an argument: the check belongs right before each commit, deep in shared code
//! (`platform::idempotency::run`, a usecase's transaction), and threading an argument through
//! every handler and usecase signature would touch every service for one value. The scope
//! covers the handler's own task only: work it hands to `tokio::spawn` does not see the
//! deadline (pass it along with [`scope`] where that matters).
//!
//! The deadline is a wall-clock time, so requester and responder clocks must agree (NTP);
//! a responder whose clock runs ahead rolls back writes that were still in time.

use crate::error::BusError;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The NATS header holding a request's deadline, in milliseconds since the Unix epoch.
pub const DEADLINE_HEADER: &str = "Tb-Deadline";

/// The largest margin kept between the deadline sent and the requester's own timeout.
const MAX_COMMIT_MARGIN: Duration = Duration::from_millis(250);

/// The time a responder may no longer commit after, as Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    unix_ms: u64,
}

impl Deadline {
    /// The deadline at `unix_ms` milliseconds since the Unix epoch.
    pub fn from_unix_ms(unix_ms: u64) -> Self {
        Self { unix_ms }
    }

    /// `after` from now.
    pub fn after(after: Duration) -> Self {
        Self { unix_ms: now_unix_ms().saturating_add(millis(after)) }
    }

    /// `before` ago: a deadline that has already passed (tests, and a caller that already
    /// gave up).
    pub fn passed(before: Duration) -> Self {
        Self { unix_ms: now_unix_ms().saturating_sub(millis(before)) }
    }

    /// The deadline a requester that waits `timeout` sends: its timeout less
    /// [`commit_margin`], so a commit that starts in time also reaches it in time.
    pub fn for_request(timeout: Duration) -> Self {
        Self::after(timeout.saturating_sub(commit_margin(timeout)))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(self) -> u64 {
        self.unix_ms
    }

    /// Whether the deadline is behind us.
    pub fn has_passed(self) -> bool {
        now_unix_ms() >= self.unix_ms
    }

    /// How long is left; zero once it has passed.
    pub fn remaining(self) -> Duration {
        Duration::from_millis(self.unix_ms.saturating_sub(now_unix_ms()))
    }

    /// How long ago it passed; zero while it has not.
    pub fn overrun(self) -> Duration {
        Duration::from_millis(now_unix_ms().saturating_sub(self.unix_ms))
    }

    /// The header value: decimal Unix milliseconds.
    pub fn header_value(self) -> String {
        self.unix_ms.to_string()
    }

    /// Reads a header value written by [`Deadline::header_value`].
    pub fn parse(value: &str) -> Result<Self, InvalidDeadline> {
        value
            .trim()
            .parse::<u64>()
            .map(Self::from_unix_ms)
            .map_err(|_| InvalidDeadline { value: value.chars().take(40).collect() })
    }

    /// The deadline of a message: `None` without the header (a requester that set none).
    pub fn from_headers(headers: Option<&async_nats::HeaderMap>) -> Result<Option<Self>, InvalidDeadline> {
        headers.and_then(|headers| headers.get(DEADLINE_HEADER)).map(|value| Self::parse(value.as_str())).transpose()
    }
}

/// The margin a requester keeps between the deadline it sends and its own timeout: a tenth
/// of the timeout, at most 250 ms (a commit and a reply take a few milliseconds when healthy).
pub fn commit_margin(timeout: Duration) -> Duration {
    (timeout / 10).min(MAX_COMMIT_MARGIN)
}

/// A `Tb-Deadline` header that is not Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed {DEADLINE_HEADER} header {value:?}: expected milliseconds since the Unix epoch")]
pub struct InvalidDeadline {
    /// The value received (cut to 40 characters).
    pub value: String,
}

/// The request's deadline passed before its work could commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the request's deadline passed {} ms ago", overrun.as_millis())]
pub struct DeadlineExceeded {
    /// The deadline that passed.
    pub deadline: Deadline,
    /// How long ago it passed when checked.
    pub overrun: Duration,
}

impl From<DeadlineExceeded> for BusError {
    /// Retryable: nothing was written. The requester has stopped waiting, so this reply is
    /// normally never sent (see [`crate::serve`]).
    fn from(exceeded: DeadlineExceeded) -> Self {
        BusError::unavailable(format!("{exceeded}; nothing was written"))
    }
}

tokio::task_local! {
    static CURRENT: Deadline;
}

/// Runs `work` with `deadline` as the [`current`] one. `None` leaves the surrounding
/// deadline (if any) in force.
pub async fn scope<F: Future>(deadline: Option<Deadline>, work: F) -> F::Output {
    match deadline {
        Some(deadline) => CURRENT.scope(deadline, work).await,
        None => work.await,
    }
}

/// The deadline of the request this task is handling, if its requester sent one.
pub fn current() -> Option<Deadline> {
    CURRENT.try_with(|deadline| *deadline).ok()
}

/// Refuses when the current request's deadline has passed. A writer calls it right before
/// committing and rolls back on `Err`; without a deadline it always passes.
pub fn check() -> Result<(), DeadlineExceeded> {
    match current() {
        Some(deadline) if deadline.has_passed() => Err(DeadlineExceeded { deadline, overrun: deadline.overrun() }),
        _ => Ok(()),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn now_unix_ms() -> u64 {
    // A clock before 1970 is not a clock we can keep deadlines with; it reads as 0.
    SystemTime::now().duration_since(UNIX_EPOCH).map(millis).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_header_round_trips_and_refuses_garbage() {
        let deadline = Deadline::from_unix_ms(1_700_000_000_123);
        assert_eq!(deadline.header_value(), "1700000000123");
        assert_eq!(Deadline::parse("1700000000123").unwrap(), deadline);
        for bad in ["", "soon", "-5", "1.5", "99999999999999999999999"] {
            assert!(Deadline::parse(bad).is_err(), "{bad:?}");
        }
        let mut headers = async_nats::HeaderMap::new();
        assert_eq!(Deadline::from_headers(Some(&headers)).unwrap(), None);
        assert_eq!(Deadline::from_headers(None).unwrap(), None);
        headers.insert(DEADLINE_HEADER, "1700000000123");
        assert_eq!(Deadline::from_headers(Some(&headers)).unwrap(), Some(deadline));
        headers.insert(DEADLINE_HEADER, "tomorrow");
        assert!(Deadline::from_headers(Some(&headers)).is_err());
    }

    #[test]
    fn a_request_deadline_keeps_a_margin_before_the_timeout() {
        assert_eq!(commit_margin(Duration::from_secs(5)), Duration::from_millis(250));
        assert_eq!(commit_margin(Duration::from_millis(500)), Duration::from_millis(50));
        let before = now_unix_ms();
        let deadline = Deadline::for_request(Duration::from_secs(5));
        assert!((before + 4_750..=now_unix_ms() + 4_750).contains(&deadline.unix_ms()));
        assert!(!deadline.has_passed());
        assert!(Deadline::passed(Duration::from_millis(10)).has_passed());
        assert_eq!(Deadline::passed(Duration::from_secs(1)).remaining(), Duration::ZERO);
    }

    #[tokio::test]
    async fn the_deadline_is_visible_only_inside_its_scope() {
        assert_eq!(current(), None);
        assert!(check().is_ok(), "no deadline, nothing to miss");
        let future = Deadline::after(Duration::from_secs(60));
        scope(Some(future), async {
            assert_eq!(current(), Some(future));
            assert!(check().is_ok());
            scope(None, async { assert_eq!(current(), Some(future), "None keeps the outer one") }).await;
        })
        .await;
        let passed = Deadline::passed(Duration::from_millis(5));
        let refused = scope(Some(passed), async { check() }).await.unwrap_err();
        assert_eq!(refused.deadline, passed);
        assert!(matches!(BusError::from(refused), BusError::Unavailable { .. }));
        assert_eq!(current(), None);
    }
}
