//! The lease of a running backtest, renewed by a timer.
//!
//! Checkpoints renew the lease too, but only between chunks: a chunk the engine takes long
//! over, or a slow query, would let the lease run out and another worker take over a job that
//! is alive. The timer renews it every third of the lease while the run lasts, and says when
//! the lease is lost (taken over or cancelled) so the run stops early. It dies with the run
//! (dropped) or with the process, after which the lease runs out and the job is taken over.

use crate::store::runs;
use platform::db::PgPool;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;
use uuid::Uuid;

/// Renews one job's lease until dropped.
pub struct LeaseTimer {
    lost: CancellationToken,
    task: JoinHandle<()>,
}

impl LeaseTimer {
    /// Starts renewing the lease `token` holds on job `id` for `lease` every `lease / 3`.
    pub fn start(pool: PgPool, id: Uuid, token: Uuid, lease: Duration) -> Self {
        let lost = CancellationToken::new();
        let every = (lease / 3).max(Duration::from_millis(10));
        let signal = lost.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let renewed = async {
                    let mut connection = pool.get().await?;
                    anyhow::Ok(runs::renew(&mut connection, id, token, lease.as_secs_f64()).await?)
                };
                match renewed.await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Taken over after a stall, or cancelled: the run must stop.
                        signal.cancel();
                        return;
                    }
                    // The next tick tries again; the lease only runs out if every try fails.
                    Err(error) => warn!(backtest.id = %id, error = format!("{error:#}"), "lease renewal failed"),
                }
            }
        });
        Self { lost, task }
    }

    /// Whether the lease was found lost: the run must stop and write nothing more.
    pub fn lost(&self) -> bool {
        self.lost.is_cancelled()
    }
}

impl Drop for LeaseTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
