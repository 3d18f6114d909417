//! A lease renewed by a timer while the work runs.
//!
//! The holder's own writes may renew the lease too, but only between steps: a step that takes
//! long (a large chunk, a slow query, a broker that answers late) would let the lease run out
//! and another worker take over work that is alive. The timer renews it every third of the
//! lease and says when it was lost (taken over, given back, or the row finished), so the work
//! stops early. It dies with the work (dropped) or with the process, after which the lease
//! runs out and the row is taken over.

use crate::{Claim, LeaseTable};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Renews one held row's lease until dropped.
pub struct LeaseTimer {
    lost: CancellationToken,
    task: JoinHandle<()>,
}

impl LeaseTimer {
    /// Starts renewing `held`'s lease on `table` for `lease`, every `lease / 3`.
    pub fn start(pool: Pool<AsyncPgConnection>, table: &'static LeaseTable, held: Claim, lease: Duration) -> Self {
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
                    anyhow::Ok(table.renew(&mut connection, held, lease).await?)
                };
                match renewed.await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Taken over after a stall, or finished by someone else: stop the work.
                        signal.cancel();
                        return;
                    }
                    // The next tick tries again; the lease only runs out if every try fails.
                    Err(error) => warn!(
                        lease.table = table.table,
                        lease.id = %held.id,
                        error = format!("{error:#}"),
                        "lease renewal failed"
                    ),
                }
            }
        });
        Self { lost, task }
    }

    /// Whether the lease was found lost: the work must stop and write nothing more.
    pub fn lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    /// Completes once the lease is found lost (for a `select!` against the work).
    pub async fn wait_lost(&self) {
        self.lost.cancelled().await;
    }
}

impl Drop for LeaseTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
