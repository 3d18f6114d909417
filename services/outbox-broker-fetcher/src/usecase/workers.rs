//! The fetch loop of one process.
//!
//! ```text
//!  intake (new jobs, leased) ──┐
//!                              ├─► queue (bounded) ─► dispatcher ─► up to `concurrency`
//!  scheduler (due retries,  ───┘                                   attempts at once
//!   expired leases) every poll_interval
//! ```
//!
//! The queue is bounded so that claimed jobs never wait in memory long enough for their
//! lease to run out. On shutdown the dispatcher stops taking jobs, gives back the leases of
//! the queued ones and waits for the attempts in flight.

use crate::store::jobs::{self, ClaimedJob};
use crate::usecase::fetch::Fetcher;
use futures::FutureExt;
use platform::db::PgPool;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info_span, warn};

/// Where new and due jobs are queued for the dispatcher.
pub type JobQueue = mpsc::Sender<ClaimedJob>;

/// A bounded queue for `concurrency` workers.
pub fn queue(concurrency: usize) -> (JobQueue, mpsc::Receiver<ClaimedJob>) {
    mpsc::channel(concurrency.max(1) * 2)
}

/// The receiving end of the queue, shared so that a dispatcher restarted after a panic takes
/// over where the last one stopped.
pub type JobReceiver = Arc<tokio::sync::Mutex<mpsc::Receiver<ClaimedJob>>>;

/// Runs attempts from `queue`, at most `concurrency` at once, until `shutdown`.
pub async fn dispatch(
    fetcher: Arc<Fetcher>,
    queue: JobReceiver,
    concurrency: usize,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut queue = queue.lock().await;
    let slots = Arc::new(Semaphore::new(concurrency));
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot?,
        };
        let job = tokio::select! {
            () = shutdown.cancelled() => break,
            job = queue.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        let fetcher = fetcher.clone();
        let span = info_span!("fetch.attempt", participation.id = %job.participation_id, attempt = job.attempts + 1);
        tokio::spawn(
            async move {
                match AssertUnwindSafe(fetcher.attempt(&job)).catch_unwind().await {
                    Ok(Ok(_)) => {}
                    // The lease runs out and the scheduler retries the job.
                    Ok(Err(error)) => {
                        warn!(error = format!("{error:#}"), "fetch attempt could not be recorded; will be retried")
                    }
                    Err(panic) => {
                        let panic = panic_text(panic.as_ref());
                        error!(panic = %panic, "fetch attempt panicked; counted as a failure");
                        if let Err(error) = fetcher.record_panic(&job, &panic).await {
                            warn!(error = format!("{error:#}"), "the crash could not be recorded; will be retried");
                        }
                    }
                }
                drop(slot);
            }
            .instrument(span),
        );
    }
    queue.close();
    let mut unstarted = Vec::new();
    while let Ok(job) = queue.try_recv() {
        unstarted.push(job);
    }
    if !unstarted.is_empty() {
        let released = async {
            let mut connection = fetcher.pool.get().await?;
            anyhow::Ok(jobs::release(&mut connection, &unstarted).await?)
        };
        if let Err(error) = released.await {
            warn!(error = format!("{error:#}"), "could not give back leases; they expire on their own");
        }
    }
    // Every slot back means every attempt in flight has finished.
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    let _drained = slots.acquire_many(all).await?;
    Ok(())
}

/// Every `poll_interval`, claims the jobs that are due (retries whose time has come, jobs
/// whose holder's lease ran out) as far as the queue has room.
pub async fn schedule(
    pool: PgPool,
    queue: JobQueue,
    lease: Duration,
    poll_interval: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval(poll_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            _ = interval.tick() => {}
        }
        let room = i64::try_from(queue.capacity()).unwrap_or(0);
        if room == 0 {
            continue;
        }
        let claimed = async {
            let mut connection = pool.get().await?;
            anyhow::Ok(jobs::claim_due(&mut connection, lease, room).await?)
        };
        match claimed.await {
            Ok(due) => {
                for job in due {
                    if queue.send(job).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Err(error) => warn!(error = format!("{error:#}"), "claiming due fetch jobs failed; retrying"),
        }
    }
}

/// The text a panic was raised with.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_string(),
        (None, Some(text)) => text.clone(),
        (None, None) => "a panic without a message".to_string(),
    }
}
