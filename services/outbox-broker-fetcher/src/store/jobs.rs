//! Fetch jobs: one per participation. A worker holds a job through a lease ([`FETCH_JOBS`]:
//! `locked_until`, and the token of its claim in `lease_token`); every write that ends or
//! reschedules the attempt names the token, so a worker whose lease expired (and whose job
//! was taken over) cannot record a second outcome.

use super::schema::fetch_jobs;
use bus::messages::fetch::FetchErrorCode;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BrokerAccountId, EventId, ParticipationId};
use lease::{Claim, Claiming, LeaseTable, Token};
use std::time::Duration;

/// The jobs' lease: pending jobs are claimed, and their attempts' writes fenced, by it.
pub static FETCH_JOBS: LeaseTable = LeaseTable {
    table: "fetch_jobs",
    id: "participation_id",
    token: "lease_token",
    tokens: "fetch_jobs_lease_tokens",
    expiry: "locked_until",
    unfinished: "status = 'pending'",
};

/// Job states, as stored.
pub mod status {
    /// Waiting for (or in) an attempt.
    pub const PENDING: &str = "pending";
    /// Every order was fetched and the outcome published.
    pub const FETCHED: &str = "fetched";
    /// Parked after a permanent error or too many failures; an admin may retry it.
    pub const DEAD_LETTER: &str = "dead_letter";
}

/// A job as the ledger asked for it.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The participation (the job's key).
    pub participation_id: ParticipationId,
    /// The `participation created` event.
    pub request_event_id: EventId,
    /// The account's broker.
    pub broker: String,
    /// The account in the ledger (credentials are keyed by it).
    pub broker_account_id: BrokerAccountId,
    /// The account's number at the broker.
    pub broker_account_number: String,
    /// The parent order.
    pub broker_order_id: String,
    /// The child orders.
    pub child_order_ids: Vec<String>,
    /// When the ledger committed the participation.
    pub requested_at: DateTime<Utc>,
}

/// A job a worker holds.
#[derive(Queryable, QueryableByName, Selectable, Debug, Clone)]
#[diesel(table_name = fetch_jobs)]
pub struct ClaimedJob {
    /// The participation.
    pub participation_id: ParticipationId,
    /// The account's broker.
    pub broker: String,
    /// The account in the ledger.
    pub broker_account_id: BrokerAccountId,
    /// The account's number at the broker.
    pub broker_account_number: String,
    /// The parent order.
    pub broker_order_id: String,
    /// The child orders (never null elements).
    pub child_order_ids: Vec<Option<String>>,
    /// Broker calls made so far.
    pub attempts: i32,
    /// Failures that count toward the limit so far.
    pub failures: i32,
    /// The token of this attempt's claim, which its writes name (never null in a claimed job).
    #[diesel(
        sql_type = diesel::sql_types::BigInt,
        select_expression = fetch_jobs::lease_token.assume_not_null(),
        select_expression_type = diesel::dsl::AssumeNotNull<fetch_jobs::lease_token>
    )]
    pub lease_token: Token,
    /// When the ledger committed the participation.
    pub requested_at: DateTime<Utc>,
    /// When the current run of attempts began (creation or the last admin retry): the start
    /// of the job's time budget.
    pub retrying_since: DateTime<Utc>,
}

impl ClaimedJob {
    /// The job and the claim this attempt holds it by.
    pub fn held(&self) -> Claim {
        Claim { id: self.participation_id.into(), token: self.lease_token }
    }

    /// The child order ids.
    pub fn child_orders(&self) -> impl Iterator<Item = &str> {
        self.child_order_ids.iter().flatten().map(String::as_str)
    }
}

/// Inserts the jobs that are new, already leased to the caller for `lease`, and returns them;
/// jobs that exist (a redelivered or re-published request) are left as they are.
pub async fn insert_leased(
    connection: &mut AsyncPgConnection,
    jobs: &[NewJob],
    lease: Duration,
) -> QueryResult<Vec<ClaimedJob>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let locked_until = lease::expiry_after(lease);
    let rows: Vec<_> = jobs
        .iter()
        .map(|job| {
            (
                fetch_jobs::participation_id.eq(job.participation_id),
                fetch_jobs::request_event_id.eq(job.request_event_id),
                fetch_jobs::broker.eq(&job.broker),
                fetch_jobs::broker_account_id.eq(job.broker_account_id),
                fetch_jobs::broker_account_number.eq(&job.broker_account_number),
                fetch_jobs::broker_order_id.eq(&job.broker_order_id),
                fetch_jobs::child_order_ids.eq(&job.child_order_ids),
                fetch_jobs::requested_at.eq(job.requested_at),
                fetch_jobs::locked_until.eq(locked_until.clone()),
                fetch_jobs::lease_token.eq(FETCH_JOBS.next_token()),
            )
        })
        .collect();
    diesel::insert_into(fetch_jobs::table)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(ClaimedJob::as_returning())
        .get_results(connection)
        .await
}

/// Leases up to `limit` pending jobs that are due and not held by a live lease.
pub async fn claim_due(
    connection: &mut AsyncPgConnection,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<ClaimedJob>> {
    const DUE: Claiming = Claiming { due: "next_attempt_at <= now()", order_by: "next_attempt_at", also_set: "" };
    FETCH_JOBS
        .claim_query(
            &DUE,
            "participation_id, broker, broker_account_id, broker_account_number, broker_order_id, \
             child_order_ids, attempts, failures, lease_token, requested_at, retrying_since",
            lease,
            limit,
        )
        .load(connection)
        .await
}

/// A failed attempt's error as the fetcher keeps it: the code a client would be told, and the
/// detailed reason that stays here.
#[derive(Debug, Clone, Copy)]
pub struct JobError<'a> {
    /// The client's code.
    pub code: FetchErrorCode,
    /// What happened, for `admin dead-letters` and the logs.
    pub reason: &'a str,
}

/// Ends an attempt that must be tried again after `delay`. `counts` says whether it uses up
/// one of the job's allowed failures. The lease ends; its expiry stays unset, as the due time
/// is `next_attempt_at`. Returns false when the lease was lost.
pub async fn reschedule(
    connection: &mut AsyncPgConnection,
    job: &ClaimedJob,
    calls: i32,
    counts: bool,
    delay: Duration,
    error: JobError<'_>,
) -> QueryResult<bool> {
    let updated = FETCH_JOBS
        .fenced_update(
            "next_attempt_at = now() + make_interval(secs => $3), locked_until = NULL, lease_token = NULL, \
             attempts = attempts + $4, failures = failures + $5, last_error = $6, error_code = $7, updated_at = now()",
            job.held(),
        )
        .bind::<Double, _>(delay.as_secs_f64())
        .bind::<Integer, _>(calls)
        .bind::<Integer, _>(i32::from(counts))
        .bind::<Text, _>(error.reason.to_string())
        .bind::<Text, _>(error.code.as_str())
        .execute(connection)
        .await?;
    Ok(updated == 1)
}

/// The outcome events already published for these participations (jobs that finished), to
/// publish again when the ledger asks a second time.
pub async fn outcome_events(
    connection: &mut AsyncPgConnection,
    participations: &[ParticipationId],
) -> QueryResult<Vec<EventId>> {
    fetch_jobs::table
        .filter(fetch_jobs::participation_id.eq_any(participations))
        .filter(fetch_jobs::status.ne(status::PENDING))
        .select(fetch_jobs::outcome_event_id)
        .load::<Option<EventId>>(connection)
        .await
        .map(|ids| ids.into_iter().flatten().collect())
}

/// A parked job, as the admin command lists it.
#[derive(Queryable, Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The participation.
    pub participation_id: ParticipationId,
    /// The account's broker.
    pub broker: String,
    /// The account in the ledger.
    pub broker_account_id: BrokerAccountId,
    /// The parent order.
    pub broker_order_id: String,
    /// Broker calls made.
    pub attempts: i32,
    /// The code the ledger was told (`None` only for jobs parked before codes existed and
    /// never mapped).
    pub code: Option<String>,
    /// Why it was parked, in detail (never sent to the ledger).
    pub last_error: Option<String>,
    /// When it was parked.
    pub updated_at: DateTime<Utc>,
}

/// Every parked job, oldest first.
pub async fn dead_letters(connection: &mut AsyncPgConnection) -> QueryResult<Vec<DeadLetter>> {
    fetch_jobs::table
        .filter(fetch_jobs::status.eq(status::DEAD_LETTER))
        .order(fetch_jobs::updated_at)
        .select((
            fetch_jobs::participation_id,
            fetch_jobs::broker,
            fetch_jobs::broker_account_id,
            fetch_jobs::broker_order_id,
            fetch_jobs::attempts,
            fetch_jobs::error_code,
            fetch_jobs::last_error,
            fetch_jobs::updated_at,
        ))
        .load(connection)
        .await
}

/// Puts parked jobs back in the queue with a fresh failure allowance and time budget: one
/// (`Some(id)`) or all.
/// Returns the participations requeued.
pub async fn requeue_dead(
    connection: &mut AsyncPgConnection,
    participation: Option<ParticipationId>,
) -> QueryResult<Vec<ParticipationId>> {
    let ids: Vec<ParticipationId> = match participation {
        Some(id) => vec![id],
        None => Vec::new(),
    };
    diesel::sql_query(
        "UPDATE fetch_jobs SET status = 'pending', failures = 0, next_attempt_at = now(), locked_until = NULL, lease_token = NULL, \
                               retrying_since = now(), updated_at = now() \
         WHERE status = 'dead_letter' AND (cardinality($1) = 0 OR participation_id = ANY($1)) \
         RETURNING participation_id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load::<Requeued>(connection)
    .await
    .map(|rows| rows.into_iter().map(|row| row.participation_id).collect())
}

#[derive(QueryableByName)]
struct Requeued {
    #[diesel(sql_type = SqlUuid)]
    participation_id: ParticipationId,
}

/// Gives back the leases of jobs this process claimed but will not start (shutdown), so
/// another replica takes them at once instead of after the lease. Only leases still held are
/// given back: a queued copy whose lease ran out (and was claimed again) is left alone.
pub async fn release(connection: &mut AsyncPgConnection, jobs: &[ClaimedJob]) -> QueryResult<usize> {
    FETCH_JOBS.release_many(connection, &jobs.iter().map(ClaimedJob::held).collect::<Vec<_>>()).await
}

/// One attempt's end, for [`finish_many`].
#[derive(Debug, Clone)]
pub struct Finish {
    /// The job.
    pub participation_id: ParticipationId,
    /// The token of the claim the attempt held.
    pub token: Token,
    /// Broker calls the attempt made.
    pub calls: i32,
    /// `fetched` or `dead_letter`.
    pub status: &'static str,
    /// The code the outcome event carries, for a dead letter.
    pub error_code: Option<FetchErrorCode>,
    /// Why it was parked, in detail.
    pub error: Option<String>,
    /// The outcome event's id.
    pub outcome_event_id: EventId,
}

/// Ends many attempts in one statement, each fenced by its token (the lease convention of
/// [`FETCH_JOBS`], spelled out for a statement that writes different values per row). Returns
/// `(job, token, new revision)` for each attempt whose lease still held; the others were
/// taken over and change nothing.
pub async fn finish_many(
    connection: &mut AsyncPgConnection,
    finishes: &[Finish],
) -> QueryResult<Vec<(ParticipationId, Token, i32)>> {
    #[derive(QueryableByName)]
    struct Finished {
        #[diesel(sql_type = SqlUuid)]
        participation_id: ParticipationId,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        token: Token,
        #[diesel(sql_type = Integer)]
        revision: i32,
    }
    if finishes.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Finished> = diesel::sql_query(
        "UPDATE fetch_jobs AS j SET status = v.status, locked_until = NULL, lease_token = NULL, \
                                    attempts = j.attempts + v.calls, last_error = v.error, error_code = v.error_code, \
                                    revision = j.revision + 1, outcome_event_id = v.event_id, updated_at = now() \
         FROM unnest($1::uuid[], $2::int8[], $3::int4[], $4::text[], $5::text[], $6::uuid[], $7::text[]) \
              AS v(id, token, calls, status, error, event_id, error_code) \
         WHERE j.participation_id = v.id AND j.lease_token = v.token AND j.status = 'pending' \
         RETURNING j.participation_id, v.token, j.revision",
    )
    .bind::<Array<SqlUuid>, _>(finishes.iter().map(|f| f.participation_id).collect::<Vec<_>>())
    .bind::<Array<diesel::sql_types::BigInt>, _>(finishes.iter().map(|f| f.token).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(finishes.iter().map(|f| f.calls).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(finishes.iter().map(|f| f.status).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(finishes.iter().map(|f| f.error.clone()).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(finishes.iter().map(|f| f.outcome_event_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(
        finishes.iter().map(|f| f.error_code.map(FetchErrorCode::as_str)).collect::<Vec<_>>(),
    )
    .load(connection)
    .await?;
    Ok(rows.into_iter().map(|row| (row.participation_id, row.token, row.revision)).collect())
}
