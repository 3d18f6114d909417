//! Pruning finished fetch jobs and their order snapshots (run by `platform::prune` with the
//! outbox and inbox jobs: batches of at most 1,000 rows, one replica at a time).
//!
//! A job is finished, and may go, only when nothing can still need it:
//! - it is `fetched` (a `dead_letter` is never pruned: it stays for `admin dead-letters` and
//!   `admin retry` until a person has dealt with it, and a retried one that succeeds becomes
//!   `fetched` like any other);
//! - its outcome was last written longer ago than the retention (`updated_at`);
//! - its outcome event is published (its outbox row is published, or already pruned itself), so
//!   the ledger has been told.
//!
//! The snapshots go first (their own batches), then the jobs left without snapshots, so no
//! statement deletes more than a batch of rows. A request asked again after its job was
//! pruned (only possible past the retention, when the streams have long forgotten it) finds no
//! job and publishes nothing; the ledger then already holds the outcome.

use platform::prune::PruneJob;
use platform::settings::RetentionSettings;

/// The condition on `j` (a `fetch_jobs` row) that makes it finished before `$1`.
macro_rules! finished {
    () => {
        "j.status = 'fetched' AND j.updated_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = j.outcome_event_id AND o.published_at IS NULL)"
    };
}

/// Snapshots of finished jobs, at most `$2`.
const SNAPSHOTS: &str = concat!(
    "DELETE FROM order_snapshots WHERE (participation_id, order_id) IN \
     (SELECT s.participation_id, s.order_id FROM order_snapshots s \
      JOIN fetch_jobs j ON j.participation_id = s.participation_id WHERE ",
    finished!(),
    " ORDER BY j.updated_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED)"
);

/// Finished jobs whose snapshots are gone, oldest first, at most `$2`.
const JOBS: &str = concat!(
    "DELETE FROM fetch_jobs WHERE participation_id IN \
     (SELECT j.participation_id FROM fetch_jobs j WHERE ",
    finished!(),
    " AND NOT EXISTS (SELECT 1 FROM order_snapshots s WHERE s.participation_id = j.participation_id) \
      ORDER BY j.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
);

/// The jobs that prune finished fetch jobs after `retention.keep_secs`: snapshots, then jobs.
pub fn jobs(retention: &RetentionSettings) -> Vec<PruneJob> {
    vec![
        PruneJob { name: "order_snapshots", delete_batch: SNAPSHOTS, keep: retention.keep() },
        PruneJob { name: "fetch_jobs", delete_batch: JOBS, keep: retention.keep() },
    ]
}
