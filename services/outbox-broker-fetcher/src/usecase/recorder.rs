//! Writes attempt outcomes in batches: every outcome that is ready when the recorder looks
//! goes into one transaction of three statements (jobs, snapshots, outbox events), instead of
//! a transaction of five statements per participation. Each worker waits for its own answer,
//! so an attempt still ends only once its outcome is committed (or known to be lost).

use crate::domain::failure::FailureCause;
use crate::store::jobs::{self, ClaimedJob, Finish, status};
use crate::store::snapshots::{self, Snapshot};
use bus::Subjects;
use bus::messages::fetch::{OrderFetchFailed, OrderFetched};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use domain::EventId;
use platform::db::PgPool;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};
use uuid::Uuid;

/// What an outcome writes besides the job's own row (its revision is filled in when known).
#[derive(Debug)]
pub enum Effect {
    /// Every order was read: the snapshots and `order fetched`.
    Fetched {
        /// One row per order, parent first.
        snapshots: Vec<Snapshot>,
        /// The event, revision still 0.
        event: OrderFetched,
    },
    /// Parked as a dead letter: `order fetch failed`.
    Parked {
        /// The event, revision still 0. It carries the code only.
        event: OrderFetchFailed,
        /// The detailed reason, stored with the job and never published.
        reason: String,
    },
}

/// One outcome to record, and where to say whether it was.
#[derive(Debug)]
pub struct Recording {
    /// The job, with the lease the attempt held.
    pub job: ClaimedJob,
    /// Broker calls the attempt made.
    pub calls: i32,
    /// What to write.
    pub effect: Effect,
    /// `true` once committed, `false` when the lease was lost; dropped on a database error.
    pub done: oneshot::Sender<bool>,
}

/// Where workers send outcomes.
pub type Recorder = mpsc::Sender<Recording>;

/// The largest batch written in one transaction.
const MAX_BATCH: usize = 256;

/// Records outcomes until every sender is gone (the dispatcher's attempts have all ended).
pub async fn run(pool: PgPool, subjects: Subjects, mut outcomes: mpsc::Receiver<Recording>) -> anyhow::Result<()> {
    while let Some(first) = outcomes.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match outcomes.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match record(&pool, &subjects, &batch).await {
            Ok(recorded) => answer(batch, &recorded),
            Err(error) => {
                // One outcome the database refuses (say, a broker answer jsonb cannot hold) must
                // not hold back the others: write them one by one.
                warn!(error = format!("{error:#}"), outcomes = batch.len(), "batch not recorded; recording one by one");
                for recording in batch {
                    record_alone(&pool, &subjects, recording).await;
                }
            }
        }
    }
    Ok(())
}

fn answer(batch: Vec<Recording>, recorded: &HashMap<Attempt, i32>) {
    for recording in batch {
        let kept = recorded.contains_key(&(recording.job.participation_id, recording.job.locked_until));
        let _ = recording.done.send(kept);
    }
}

/// Records one outcome. If even that fails, a fetched outcome becomes a dead letter with the
/// database's reason (retrying would fail the same way forever); if that fails too, the
/// worker's answer is dropped and the lease runs out.
async fn record_alone(pool: &PgPool, subjects: &Subjects, recording: Recording) {
    let batch = vec![recording];
    match record(pool, subjects, &batch).await {
        Ok(recorded) => answer(batch, &recorded),
        Err(error) => {
            let Some(recording) = batch.into_iter().next() else { return };
            let Effect::Fetched { event, .. } = &recording.effect else {
                warn!(participation.id = %recording.job.participation_id, error = format!("{error:#}"), "outcome not recorded");
                return;
            };
            if !refused_by_database(&error) {
                // The database is unreachable or busy, not refusing this row: the lease runs
                // out and the job is tried again; nothing is parked for it.
                warn!(participation.id = %recording.job.participation_id, error = format!("{error:#}"), "outcome not recorded");
                return;
            }
            let reason = format!("the broker's answer could not be stored: {}", first_line(&format!("{error:#}")));
            warn!(participation.id = %recording.job.participation_id, reason, "fetched orders parked as a dead letter");
            let parked = OrderFetchFailed {
                participation_id: event.participation_id,
                revision: 0,
                failed_at: chrono::Utc::now(),
                code: FailureCause::UnstorableAnswer.code(),
                attempts: recording.job.attempts + recording.calls,
            };
            let batch = vec![Recording { effect: Effect::Parked { event: parked, reason }, ..recording }];
            match record(pool, subjects, &batch).await {
                Ok(recorded) => answer(batch, &recorded),
                Err(error) => {
                    warn!(error = format!("{error:#}"), "dead letter not recorded either; the lease will run out")
                }
            }
        }
    }
}

/// Whether Postgres refused a statement (a row it cannot hold), as opposed to failing to
/// answer (pool timeout, lost connection, serialization conflict), which retrying can fix.
fn refused_by_database(error: &anyhow::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error.downcast_ref::<Error>() {
        Some(Error::DatabaseError(kind, _)) => !matches!(
            kind,
            DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::SerializationFailure
        ),
        _ => false,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// A job and the lease an attempt held: two attempts of one job (one of them taken over) can
/// meet in a batch, and only the holder of the current lease is recorded.
type Attempt = (Uuid, Option<DateTime<Utc>>);

/// Writes a batch in one transaction; returns the new revision of each attempt whose lease held.
async fn record(pool: &PgPool, subjects: &Subjects, batch: &[Recording]) -> anyhow::Result<HashMap<Attempt, i32>> {
    let event_ids: Vec<EventId> = batch.iter().map(|_| EventId::new()).collect();
    let finishes: Vec<Finish> = batch
        .iter()
        .zip(&event_ids)
        .map(|(recording, event_id)| Finish {
            participation_id: recording.job.participation_id,
            lease: recording.job.locked_until,
            calls: recording.calls,
            status: match &recording.effect {
                Effect::Fetched { .. } => status::FETCHED,
                Effect::Parked { .. } => status::DEAD_LETTER,
            },
            error_code: match &recording.effect {
                Effect::Fetched { .. } => None,
                Effect::Parked { event, .. } => Some(event.code),
            },
            error: match &recording.effect {
                Effect::Fetched { .. } => None,
                Effect::Parked { reason, .. } => Some(reason.clone()),
            },
            outcome_event_id: *event_id.as_uuid(),
        })
        .collect();
    let mut connection = pool.get().await?;
    let revisions = connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let revisions: HashMap<Attempt, i32> = jobs::finish_many(tx, &finishes)
                .await?
                .into_iter()
                .map(|(job, lease, revision)| ((job, lease), revision))
                .collect();
            // One row per (participation, order): an order listed twice is stored once.
            let mut rows: HashMap<(Uuid, String), Snapshot> = HashMap::new();
            let mut fetched = Vec::new();
            let mut failed = Vec::new();
            for (recording, event_id) in batch.iter().zip(&event_ids) {
                let attempt = (recording.job.participation_id, recording.job.locked_until);
                let Some(&revision) = revisions.get(&attempt) else { continue };
                match &recording.effect {
                    Effect::Fetched { snapshots, event } => {
                        for row in snapshots {
                            rows.insert((row.participation_id, row.order_id.clone()), row.clone());
                        }
                        fetched.push((*event_id, OrderFetched { revision, ..event.clone() }));
                    }
                    Effect::Parked { event, .. } => {
                        failed.push((*event_id, OrderFetchFailed { revision, ..event.clone() }))
                    }
                }
            }
            if !rows.is_empty() {
                snapshots::upsert(tx, &rows.into_values().collect::<Vec<_>>()).await?;
            }
            let fetched: Vec<_> = fetched.iter().map(|(id, event)| (*id, event)).collect();
            outbox::enqueue_with_ids(tx, &subjects.order_fetched(), &fetched).await?;
            let failed: Vec<_> = failed.iter().map(|(id, event)| (*id, event)).collect();
            outbox::enqueue_with_ids(tx, &subjects.order_fetch_failed(), &failed).await?;
            Ok(revisions)
        })
        .await?;
    debug!(outcomes = batch.len(), recorded = revisions.len(), "outcomes recorded");
    Ok(revisions)
}
