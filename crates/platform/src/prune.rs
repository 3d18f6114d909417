//! Deleting what a service no longer needs, so its tables stop growing: published outbox
//! rows, processed messages, expired idempotency records, finished jobs.
//!
//! ```text
//!  every interval ─► for each job: cutoff = now() - keep (fixed for the round)
//!     batch tx: try the job's advisory lock ─► taken elsewhere? skip the job this round
//!               DELETE at most batch_size rows older than the cutoff ─► COMMIT
//!     again while a batch came back full
//! ```
//!
//! - **Small batches**: each statement deletes at most [`MAX_PRUNE_BATCH`] rows in its own
//!   short transaction, so pruning never holds many row locks or a long-lived snapshot.
//! - **One replica at a time**: each batch first tries a transaction-scoped advisory lock on
//!   the job's name. A replica that finds it taken skips the job until its next round rather
//!   than wait, so replicas never delete the same rows concurrently. Being transaction-scoped,
//!   the lock cannot outlive a crashed or cancelled batch (a session lock would stay with the
//!   pooled connection).
//! - **It ends**: the cutoff is fixed when the round starts, so rows that age past it during
//!   the round wait for the next one.

use crate::db::PgPool;
use crate::settings::{MAX_PRUNE_BATCH, RetentionSettings};
use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Double, Integer, Text, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// The first key of every pruning advisory lock (the two-key form, so it can never collide
/// with the one-key locks that `idempotency` takes): "prun" in ASCII.
pub const LOCK_CLASS: i32 = 0x7072_756e;

/// One kind of row to delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PruneJob {
    /// What is pruned (`outbox`, `processed_messages`, ...): the lock's second key and the
    /// name in logs.
    pub name: &'static str,
    /// One batch: a statement deleting at most `$2` (bigint) rows that are finished and older
    /// than `$1` (timestamptz). It must never delete a row something still needs.
    pub delete_batch: &'static str,
    /// How old a row must be: the cutoff is `now() - keep` (zero for rows whose own column
    /// says when they expire).
    pub keep: Duration,
}

/// What one round did for one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pruned {
    /// The job.
    pub job: &'static str,
    /// Rows deleted by each statement, in order.
    pub batches: Vec<usize>,
    /// Whether another replica held the job's lock, so this one stopped.
    pub skipped: bool,
}

impl Pruned {
    /// Rows deleted in the round.
    pub fn deleted(&self) -> usize {
        self.batches.iter().sum()
    }
}

#[derive(QueryableByName)]
struct Cutoff {
    #[diesel(sql_type = Timestamptz)]
    cutoff: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Runs one round of `job`: batches of at most `batch_size` rows (capped at
/// [`MAX_PRUNE_BATCH`]) until one comes back short, or another replica holds the lock.
pub async fn prune(pool: &PgPool, job: &PruneJob, batch_size: u32) -> anyhow::Result<Pruned> {
    let batch_size = batch_size.clamp(1, MAX_PRUNE_BATCH);
    let mut connection = pool.get().await.context("no database connection for pruning")?;
    // The database's clock, as the rows' timestamps are written with it.
    let Cutoff { cutoff } = diesel::sql_query("SELECT now() - make_interval(secs => $1) AS cutoff")
        .bind::<Double, _>(job.keep.as_secs_f64())
        .get_result(&mut connection)
        .await
        .with_context(|| format!("computing the cutoff of {}", job.name))?;
    let mut pruned = Pruned { job: job.name, batches: Vec::new(), skipped: false };
    loop {
        let deleted = connection
            .transaction::<_, diesel::result::Error, _>(async |tx| {
                let Locked { locked } =
                    diesel::sql_query("SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked")
                        .bind::<Integer, _>(LOCK_CLASS)
                        .bind::<Text, _>(job.name)
                        .get_result(tx)
                        .await?;
                if !locked {
                    return Ok(None);
                }
                let deleted = diesel::sql_query(job.delete_batch)
                    .bind::<Timestamptz, _>(cutoff)
                    .bind::<BigInt, _>(i64::from(batch_size))
                    .execute(tx)
                    .await?;
                Ok(Some(deleted))
            })
            .await
            .with_context(|| format!("pruning {}", job.name))?;
        match deleted {
            None => {
                pruned.skipped = true;
                debug!(job = job.name, "another replica is pruning; skipped this round");
                return Ok(pruned);
            }
            Some(deleted) => {
                pruned.batches.push(deleted);
                if deleted < batch_size as usize {
                    return Ok(pruned);
                }
            }
        }
    }
}

/// Runs one round of every job; a job that fails is logged and the others still run.
pub async fn prune_all(pool: &PgPool, jobs: &[PruneJob], batch_size: u32) -> Vec<Pruned> {
    let mut rounds = Vec::with_capacity(jobs.len());
    for job in jobs {
        match prune(pool, job, batch_size).await {
            Ok(pruned) => {
                if pruned.deleted() > 0 {
                    info!(job = job.name, deleted = pruned.deleted(), batches = pruned.batches.len(), "pruned");
                }
                rounds.push(pruned);
            }
            Err(error) => warn!(job = job.name, error = format!("{error:#}"), "pruning failed; retrying next round"),
        }
    }
    rounds
}

/// Prunes `jobs` every `settings.interval_secs` until `shutdown` (a batch in flight finishes
/// first).
pub async fn run(
    pool: PgPool,
    jobs: Vec<PruneJob>,
    settings: RetentionSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval(settings.interval());
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            _ = interval.tick() => {}
        }
        prune_all(&pool, &jobs, settings.batch_size).await;
    }
}
