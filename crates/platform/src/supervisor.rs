//! Supervision of a service's background loops (relays, consumers, workers, sweeps,
//! responders).
//!
//! ```text
//!  Backend::spawn(name, make) ─► make() ─► run ─┬─ Ok(())  → the loop is done
//!                                  ▲            ├─ Err(e)  → logged; the whole process stops
//!                                  │            └─ panic   → logged at error, counted,
//!                                  └──── backoff (100 ms, doubling, ≤ 10 s) ◄──┘
//!  /health ─► Supervision::failing(): a loop restarted `limit` times within `window` → 503
//! ```
//!
//! A panic is a bug meeting some input (a poisoned row, an unexpected answer). Restarting the
//! loop keeps the rest of the service working while the item that caused it is retried, parked
//! or skipped by the loop's own rules. A loop that keeps panicking is not hidden: `/health`
//! fails, so Kubernetes replaces the pod and the restarts show in its events.

use futures::FutureExt;
use serde::Serialize;
use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

/// How restarts are paced and when a loop counts as failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The wait before the first restart; it doubles with each restart inside `window`.
    pub backoff: Duration,
    /// The longest wait between restarts.
    pub max_backoff: Duration,
    /// How far back restarts are counted.
    pub window: Duration,
    /// Restarts within `window` at which the loop (and so `/health`) counts as failing.
    pub limit: usize,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            window: Duration::from_secs(300),
            limit: 5,
        }
    }
}

impl RestartPolicy {
    /// The wait before a restart, given the restarts within the window (this one included).
    pub fn delay(&self, restarts: usize) -> Duration {
        let doublings = u32::try_from(restarts.saturating_sub(1)).unwrap_or(u32::MAX).min(20);
        self.backoff.saturating_mul(2u32.saturating_pow(doublings)).min(self.max_backoff)
    }
}

/// A loop that restarted too often, as `/health` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailingLoop {
    /// The loop's name (`outbox relay`, `fetch sweep`, ...).
    pub name: &'static str,
    /// Its restarts within the policy's window.
    pub restarts: usize,
}

/// One supervised loop's restart history.
#[derive(Debug)]
struct Record {
    name: &'static str,
    restarts: VecDeque<Instant>,
}

/// The restart history of every loop of a process; cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Supervision {
    policy: RestartPolicy,
    loops: Arc<Mutex<Vec<Record>>>,
}

impl Default for Supervision {
    fn default() -> Self {
        Self::new(RestartPolicy::default())
    }
}

impl Supervision {
    /// No loops yet, restarted by `policy`.
    pub fn new(policy: RestartPolicy) -> Self {
        Self { policy, loops: Arc::new(Mutex::new(Vec::new())) }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RestartPolicy {
        &self.policy
    }

    /// The loops restarted `limit` times or more within the window (empty: healthy).
    pub fn failing(&self) -> Vec<FailingLoop> {
        let now = Instant::now();
        let mut loops = self.loops.lock().unwrap_or_else(PoisonError::into_inner);
        loops
            .iter_mut()
            .filter_map(|record| {
                forget_before(&mut record.restarts, now, self.policy.window);
                (record.restarts.len() >= self.policy.limit)
                    .then_some(FailingLoop { name: record.name, restarts: record.restarts.len() })
            })
            .collect()
    }

    fn register(&self, name: &'static str) -> usize {
        let mut loops = self.loops.lock().unwrap_or_else(PoisonError::into_inner);
        loops.push(Record { name, restarts: VecDeque::new() });
        loops.len() - 1
    }

    /// Records a restart of loop `id`; returns its restarts within the window.
    fn restarted(&self, id: usize) -> usize {
        let now = Instant::now();
        let mut loops = self.loops.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(record) = loops.get_mut(id) else { return 0 };
        forget_before(&mut record.restarts, now, self.policy.window);
        record.restarts.push_back(now);
        record.restarts.len()
    }

    /// Runs the loop `make()` builds on `tracker` until it ends: again after each panic (with
    /// backoff), never after `shutdown`. A loop that returns an error cancels `shutdown`: it
    /// met something it cannot go on without, and the orchestrator restarts the process.
    pub fn spawn<F, Fut>(&self, tracker: &TaskTracker, shutdown: CancellationToken, name: &'static str, mut make: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let id = self.register(name);
        let supervision = self.clone();
        tracker.spawn(async move {
            loop {
                // Building the loop may panic as well as running it.
                let run = AssertUnwindSafe(async { make().await }).catch_unwind().await;
                let panic = match run {
                    Ok(Ok(())) => return,
                    Ok(Err(error)) => {
                        // A background loop that dies leaves the service half-working: stop the
                        // whole process so the orchestrator restarts it, rather than limp on.
                        warn!(task = name, error = format!("{error:#}"), "background task failed; shutting down");
                        shutdown.cancel();
                        return;
                    }
                    Err(panic) => panic,
                };
                let restarts = supervision.restarted(id);
                let message = panic_message(panic.as_ref());
                if shutdown.is_cancelled() {
                    error!(task = name, panic = %message, "background task panicked during shutdown; not restarted");
                    return;
                }
                let delay = supervision.policy.delay(restarts);
                error!(
                    task = name,
                    panic = %message,
                    restarts.in_window = restarts,
                    restart_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "background task panicked; restarting it"
                );
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        });
    }
}

fn forget_before(restarts: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while restarts.front().is_some_and(|at| now.duration_since(*at) >= window) {
        restarts.pop_front();
    }
}

/// The text a panic was raised with (`panic!("...")` gives a `&str` or a `String`).
fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn quick() -> RestartPolicy {
        RestartPolicy {
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            window: Duration::from_secs(60),
            limit: 5,
        }
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        for _ in 0..500 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let policy = RestartPolicy::default();
        assert_eq!(policy.delay(1), Duration::from_millis(100));
        assert_eq!(policy.delay(2), Duration::from_millis(200));
        assert_eq!(policy.delay(4), Duration::from_millis(800));
        assert_eq!(policy.delay(100), Duration::from_secs(10));
        assert_eq!(policy.delay(usize::MAX), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_panicking_loop_is_restarted_and_fails_health_at_the_limit() {
        let supervision = Supervision::new(quick());
        let (tracker, shutdown) = (TaskTracker::new(), CancellationToken::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        // Panics on its first four runs, then stays up until shutdown.
        let token = shutdown.clone();
        supervision.spawn(&tracker, shutdown.clone(), "flaky", move || {
            let (run, shutdown) = (counted.fetch_add(1, Ordering::SeqCst), token.clone());
            async move {
                if run < 4 {
                    panic!("poisoned item {run}");
                }
                shutdown.cancelled().await;
                Ok(())
            }
        });
        until("the fifth run", || runs.load(Ordering::SeqCst) == 5).await;
        assert!(supervision.failing().is_empty(), "four restarts are below the limit");
        assert!(!shutdown.is_cancelled(), "a panic does not stop the process");

        let always = Arc::new(AtomicUsize::new(0));
        let counted = always.clone();
        supervision.spawn(&tracker, shutdown.clone(), "poisoned", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { panic!("always") }
        });
        until("five restarts", || always.load(Ordering::SeqCst) >= 6).await;
        let failing = supervision.failing();
        assert_eq!(failing.len(), 1, "{failing:?}");
        assert_eq!(failing[0].name, "poisoned");
        assert!(failing[0].restarts >= 5, "{failing:?}");

        shutdown.cancel();
        tracker.close();
        tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await.unwrap();
    }

    #[tokio::test]
    async fn restarts_older_than_the_window_are_forgotten() {
        let supervision = Supervision::new(RestartPolicy { window: Duration::from_millis(200), ..quick() });
        let id = supervision.register("old");
        for _ in 0..5 {
            supervision.restarted(id);
        }
        assert_eq!(supervision.failing().len(), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(supervision.failing().is_empty());
    }

    #[tokio::test]
    async fn an_error_stops_the_process_and_nothing_restarts_after_shutdown() {
        let supervision = Supervision::new(quick());
        let (tracker, shutdown) = (TaskTracker::new(), CancellationToken::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        supervision.spawn(&tracker, shutdown.clone(), "broken", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { anyhow::bail!("cannot subscribe") }
        });
        tracker.close();
        tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await.unwrap();
        assert!(shutdown.is_cancelled());
        assert_eq!(runs.load(Ordering::SeqCst), 1, "an error is not retried");

        let tracker = TaskTracker::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        supervision.spawn(&tracker, shutdown.clone(), "late", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { panic!("during shutdown") }
        });
        tracker.close();
        tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "not restarted once shutdown began");
    }
}
