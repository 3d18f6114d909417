//! Writes attempt outcomes in batches: every outcome that is ready when the recorder looks
//! goes into one transaction of three statements (jobs, snapshots, outbox events), instead of
//! a transaction of five statements per participation. Each worker waits for its own answer,
//! so an attempt still ends only once its outcome is committed (or known to be lost).
//!
//! No outcome is dropped: a write the database fails to run (busy, unreachable, a deadlock, a
//! lock or statement timeout) is written again after a wait, and what the database refuses to
//! hold is replaced by what it can (see [`record_alone`]).

use crate::domain::failure::FailureCause;
use crate::store::jobs::{self, ClaimedJob, Finish, status};
use crate::store::snapshots::{self, Snapshot};
use bus::Subjects;
use bus::messages::fetch::{OrderFetchFailed, OrderFetched};
use diesel_async::AsyncConnection;
use domain::{EventId, ParticipationId};
use lease::Token;
use platform::db::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

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
    /// `true` once committed, `false` when the lease was lost (another worker holds the job);
    /// dropped only if the recorder itself dies (the lease then runs out and the job is retried).
    pub done: oneshot::Sender<bool>,
}

/// Where workers send outcomes.
pub type Recorder = mpsc::Sender<Recording>;

/// The largest batch written in one transaction.
const MAX_BATCH: usize = 256;

/// The receiving end of the recorder's channel, shared so that a recorder restarted after a
/// panic goes on with the outcomes still waiting.
pub type Outcomes = Arc<tokio::sync::Mutex<mpsc::Receiver<Recording>>>;

/// Records outcomes until every sender is gone (the dispatcher's attempts have all ended).
pub async fn run(pool: PgPool, subjects: Subjects, outcomes: Outcomes) -> anyhow::Result<()> {
    let mut outcomes = outcomes.lock().await;
    while let Some(first) = outcomes.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match outcomes.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        record_batch(&pool, &subjects, batch).await;
    }
    Ok(())
}

/// How long a write that failed for a reason of the database's own (busy, unreachable, a
/// deadlock or a timeout) waits before it is tried again: doubling from 100 ms to 5 s.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    async fn wait(&mut self) {
        let delay = Duration::from_millis(100).saturating_mul(2u32.saturating_pow(self.failures.min(10)));
        self.failures += 1;
        tokio::time::sleep(delay.min(Duration::from_secs(5))).await;
    }
}

/// Writes a batch. A database that fails to run the write is waited for and the same batch is
/// written again: nothing is wrong with the outcomes. One the database refuses (say, a broker
/// answer jsonb cannot hold) must not hold back the others: they are then written one by one.
async fn record_batch(pool: &PgPool, subjects: &Subjects, batch: Vec<Recording>) {
    let mut backoff = Backoff::default();
    loop {
        match record(pool, subjects, &batch).await {
            Ok(recorded) => return answer(batch, &recorded),
            Err(error) if refused_by_database(&error) => {
                warn!(error = format!("{error:#}"), outcomes = batch.len(), "batch refused; recording one by one");
                for recording in batch {
                    record_alone(pool, subjects, recording).await;
                }
                return;
            }
            Err(error) => {
                warn!(error = format!("{error:#}"), outcomes = batch.len(), "batch not recorded; writing it again");
                backoff.wait().await;
            }
        }
    }
}

fn answer(batch: Vec<Recording>, recorded: &HashMap<Attempt, i32>) {
    for recording in batch {
        let kept = recorded.contains_key(&(recording.job.participation_id, recording.job.lease_token));
        let _ = recording.done.send(kept);
    }
}

/// The reason stored for a dead letter whose own reason the database refused (it carried a
/// character Postgres cannot hold, say). The code and the event do not depend on it.
pub const UNSTORABLE_REASON: &str = "the reason for parking this job could not be stored";

/// Records one outcome, and never drops it: until it is written (or the fenced write shows
/// that another worker holds the job now), a database failing to run it is waited for, and
/// what the database refuses is replaced by what it can hold:
///
/// - fetched orders it refuses become a dead letter (`unstorable_answer`) with its reason;
/// - a dead letter whose reason it refuses is stored with [`UNSTORABLE_REASON`] instead.
///
/// The worker waits for the answer meanwhile, so its slot stays taken: no new attempt piles
/// up behind a database that cannot take outcomes.
async fn record_alone(pool: &PgPool, subjects: &Subjects, mut recording: Recording) {
    let mut backoff = Backoff::default();
    loop {
        let batch = vec![recording];
        let error = match record(pool, subjects, &batch).await {
            Ok(recorded) => return answer(batch, &recorded),
            Err(error) => error,
        };
        let Some(failed) = batch.into_iter().next() else { return };
        let participation = failed.job.participation_id;
        if !refused_by_database(&error) {
            warn!(participation.id = %participation, error = format!("{error:#}"), "outcome not recorded; writing it again");
            backoff.wait().await;
            recording = failed;
            continue;
        }
        recording = match failed.effect {
            Effect::Fetched { event, .. } => {
                let reason = format!("the broker's answer could not be stored: {}", first_line(&format!("{error:#}")));
                warn!(participation.id = %participation, reason, "fetched orders parked as a dead letter");
                let parked = OrderFetchFailed {
                    participation_id: event.participation_id,
                    revision: 0,
                    failed_at: chrono::Utc::now(),
                    code: FailureCause::UnstorableAnswer.code(),
                    attempts: failed.job.attempts + failed.calls,
                };
                Recording { effect: Effect::Parked { event: parked, reason }, ..failed }
            }
            Effect::Parked { event, reason } if reason != UNSTORABLE_REASON => {
                warn!(participation.id = %participation, error = format!("{error:#}"), "dead letter refused; storing it without its reason");
                Recording { effect: Effect::Parked { event, reason: UNSTORABLE_REASON.to_string() }, ..failed }
            }
            effect @ Effect::Parked { .. } => {
                // A fixed reason and a known code: nothing of it can be refused for what it
                // holds. Keep it and keep trying, as for a database that cannot answer.
                warn!(participation.id = %participation, error = format!("{error:#}"), "dead letter not recorded; writing it again");
                backoff.wait().await;
                Recording { effect, ..failed }
            }
        };
    }
}

/// The messages Postgres gives for statements it cancelled or could not run now, as opposed to
/// rows it cannot hold. diesel-async passes the server's message on but not its SQLSTATE, so
/// these are matched by text (the server's English messages): deadlock (40P01), statement
/// timeout and cancel (57014), lock timeout and `NOWAIT` (55P03), shutdown and restart
/// (57P01–57P03), too many connections (53300), out of memory or disk (53xxx).
const NOT_NOW: [&str; 10] = [
    "deadlock detected",
    "canceling statement due to",
    "could not obtain lock",
    "terminating connection",
    "the database system is",
    "sorry, too many clients",
    "remaining connection slots are reserved",
    "out of memory",
    "could not extend file",
    "no space left on device",
];

/// Whether Postgres refused a statement for what it holds (a row it cannot store), as opposed
/// to failing to run it now (pool timeout, lost connection, serialization conflict, deadlock,
/// lock or statement timeout, a read-only server during a failover), which waiting fixes.
fn refused_by_database(error: &anyhow::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error.downcast_ref::<Error>() {
        Some(Error::DatabaseError(kind, info)) => match kind {
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ReadOnlyTransaction => false,
            DatabaseErrorKind::Unknown => {
                let message = info.message().to_ascii_lowercase();
                !NOT_NOW.iter().any(|text| message.contains(text))
            }
            _ => true,
        },
        _ => false,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// A job and the token of the claim an attempt held: two attempts of one job (one of them
/// taken over) can meet in a batch, and only the holder of the current lease is recorded.
type Attempt = (ParticipationId, Token);

/// Writes a batch in one transaction; returns the new revision of each attempt whose lease held.
async fn record(pool: &PgPool, subjects: &Subjects, batch: &[Recording]) -> anyhow::Result<HashMap<Attempt, i32>> {
    let event_ids: Vec<EventId> = batch.iter().map(|_| EventId::new()).collect();
    let finishes: Vec<Finish> = batch
        .iter()
        .zip(&event_ids)
        .map(|(recording, event_id)| Finish {
            participation_id: recording.job.participation_id,
            token: recording.job.lease_token,
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
            outcome_event_id: *event_id,
        })
        .collect();
    let mut connection = pool.get().await?;
    let revisions = connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let revisions: HashMap<Attempt, i32> = jobs::finish_many(tx, &finishes)
                .await?
                .into_iter()
                .map(|(job, token, revision)| ((job, token), revision))
                .collect();
            // One row per (participation, order): an order listed twice is stored once.
            let mut rows: HashMap<(ParticipationId, String), Snapshot> = HashMap::new();
            let mut fetched = Vec::new();
            let mut failed = Vec::new();
            for (recording, event_id) in batch.iter().zip(&event_ids) {
                let attempt = (recording.job.participation_id, recording.job.lease_token);
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn database(kind: DatabaseErrorKind, message: &str) -> anyhow::Error {
        Error::DatabaseError(kind, Box::new(message.to_string())).into()
    }

    #[test]
    fn deadlocks_timeouts_and_lost_connections_are_not_refusals() {
        for message in [
            "deadlock detected",
            "canceling statement due to statement timeout",
            "canceling statement due to lock timeout",
            "canceling statement due to user request",
            "could not obtain lock on row in relation \"fetch_jobs\"",
            "terminating connection due to administrator command",
            "the database system is starting up",
            "sorry, too many clients already",
        ] {
            assert!(!refused_by_database(&database(DatabaseErrorKind::Unknown, message)), "{message}");
        }
        assert!(!refused_by_database(&database(DatabaseErrorKind::SerializationFailure, "could not serialize")));
        assert!(!refused_by_database(&database(DatabaseErrorKind::ReadOnlyTransaction, "read-only transaction")));
        assert!(!refused_by_database(&database(DatabaseErrorKind::ClosedConnection, "closed")));
        assert!(!refused_by_database(&anyhow::anyhow!("timed out waiting for a connection")));
    }

    #[test]
    fn rows_postgres_cannot_hold_are_refusals() {
        for message in ["unsupported Unicode escape sequence", "invalid byte sequence for encoding \"UTF8\": 0x00"] {
            assert!(refused_by_database(&database(DatabaseErrorKind::Unknown, message)), "{message}");
        }
        assert!(refused_by_database(&database(DatabaseErrorKind::CheckViolation, "violates check constraint")));
        assert!(refused_by_database(&database(DatabaseErrorKind::NotNullViolation, "null value")));
    }
}
