//! A worker's writes to the job it runs: the claim, the lease (checkpoints, the timer's
//! renewals, giving it back) and the end (failed or completed).
//!
//! Every write a worker makes is fenced ([`BACKTESTS`]): it names the token of its claim and
//! only applies while the row is unfinished, so a worker that lost its lease (it stalled, the
//! job was taken over or cancelled) changes nothing.

use super::schema::backtests;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, SmallInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::BacktestId;
use lease::{Claim, Claiming, LeaseTable, Token};
use platform::db::JsonText;
use std::time::Duration;

/// The jobs' lease: unfinished backtests are claimed, and their runs' writes fenced, by it.
pub static BACKTESTS: LeaseTable = LeaseTable {
    table: "backtests",
    id: "id",
    token: "claim_token",
    tokens: "backtests_lease_tokens",
    expiry: "lease_until",
    unfinished: "state IN ('loading_script', 'loading_data', 'executing')",
};

const UNFINISHED: [&str; 3] = crate::domain::State::UNFINISHED;

/// The row `id` while `token` holds its lease and it is unfinished: [`BACKTESTS`]'s fence, for
/// diesel's own `UPDATE`s.
macro_rules! fenced {
    ($id:expr, $token:expr) => {
        backtests::table
            .filter(backtests::id.eq($id))
            .filter(backtests::claim_token.eq($token))
            .filter(backtests::state.eq_any(UNFINISHED))
    };
}

/// A job a worker claimed.
#[derive(Clone, Debug, QueryableByName)]
pub struct ClaimedJob {
    /// The backtest.
    #[diesel(sql_type = SqlUuid)]
    pub id: BacktestId,
    /// The partner's user.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub user_id: Option<String>,
    /// Market symbol.
    #[diesel(sql_type = Text)]
    pub market: String,
    /// Timeframe.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub timeframe_secs: i32,
    /// `{"type", "settings"}`.
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub settings: JsonText,
    /// Range start.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub start_unix: i64,
    /// Range end.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub end_unix: i64,
    /// How many times it was claimed (this claim included).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
    /// When execution first started, unix seconds.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub execution_start: i64,
    /// The token of this claim, which the run's writes name.
    #[diesel(sql_type = BigInt)]
    pub claim_token: Token,
}

impl ClaimedJob {
    /// The job and the claim the run holds it by.
    pub fn held(&self) -> Claim {
        Claim { id: self.id.into(), token: self.claim_token }
    }
}

/// Marks `failed` every unfinished job whose lease is free or expired and that was claimed
/// `max_attempts` times already: each of its runs died (a crash, a panic, a lost lease), so a
/// further claim would most likely die the same way. Returns their ids.
pub async fn fail_exhausted(connection: &mut AsyncPgConnection, max_attempts: i32) -> QueryResult<Vec<BacktestId>> {
    diesel::update(
        backtests::table
            .filter(backtests::state.eq_any(UNFINISHED))
            .filter(backtests::lease_until.is_null().or(backtests::lease_until.lt(diesel::dsl::now)))
            .filter(backtests::attempts.ge(max_attempts)),
    )
    .set((
        backtests::state.eq("failed"),
        backtests::message.eq(format!("stopped after {max_attempts} attempts")),
        backtests::claim_token.eq(None::<Token>),
        backtests::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
        backtests::execution_end.eq(Some(chrono::Utc::now())),
    ))
    .returning(backtests::id)
    .get_results(connection)
    .await
}

/// Claims the oldest unfinished job whose lease is free or expired and that has had fewer than
/// `max_attempts` claims: takes the next lease token and sets the worker's name in one
/// statement (committed at once, so the claim is never held across the run). A job taken over
/// from a crashed worker starts again from its first candle.
pub async fn claim(
    connection: &mut AsyncPgConnection,
    service_id: &str,
    lease: Duration,
    max_attempts: i32,
) -> QueryResult<Option<ClaimedJob>> {
    const OLDEST: Claiming = Claiming {
        due: "attempts < $3",
        order_by: "created_at",
        also_set: "service_id = $4, attempts = attempts + 1, state = 'loading_script', progress = 0, \
                   message = 'Loading bot script', execution_start = coalesce(execution_start, now())",
    };
    let claimed: Vec<ClaimedJob> = BACKTESTS
        .claim_query(
            &OLDEST,
            "id, user_id, market, timeframe_secs, settings, start_unix, end_unix, attempts, \
             extract(epoch FROM execution_start)::bigint AS execution_start, claim_token",
            lease,
            1,
        )
        .bind::<Integer, _>(max_attempts)
        .bind::<Text, _>(service_id.to_string())
        .load(connection)
        .await?;
    Ok(claimed.into_iter().next())
}

/// A fenced progress write that also renews the lease. `false`: the lease is lost or the job
/// was cancelled; the worker must stop.
pub async fn checkpoint(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
    token: Token,
    state: &str,
    progress: i16,
    message: &str,
    lease_secs: f64,
) -> QueryResult<bool> {
    let updated = BACKTESTS
        .fenced_update(
            "state = $3, progress = $4, message = $5, lease_until = now() + make_interval(secs => $6)",
            Claim { id: id.into(), token },
        )
        .bind::<Text, _>(state.to_string())
        .bind::<SmallInt, _>(progress)
        .bind::<Text, _>(message.to_string())
        .bind::<Double, _>(lease_secs)
        .execute(connection)
        .await?;
    Ok(updated == 1)
}

/// A fenced end of a job: `failed` with its reason. `false` if the lease was lost.
pub async fn fail(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
    token: Token,
    message: &str,
) -> QueryResult<bool> {
    let updated = diesel::update(fenced!(id, token))
        .set((
            backtests::state.eq("failed"),
            backtests::message.eq(message),
            backtests::claim_token.eq(None::<Token>),
            backtests::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            backtests::execution_end.eq(Some(chrono::Utc::now())),
        ))
        .execute(connection)
        .await?;
    Ok(updated == 1)
}

/// Why a worker gives a job back before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Shutdown: not the job's doing, so the claim does not count toward its attempts.
    Shutdown,
    /// The run crashed (the engine panicked): the claim counts, and the job is free at once.
    Crashed,
}

/// Gives a job back: its lease ends now so another worker takes it at once.
pub async fn release(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
    token: Token,
    why: Release,
) -> QueryResult<()> {
    let uncounted = i32::from(why == Release::Shutdown);
    BACKTESTS
        .fenced_update(
            "claim_token = NULL, lease_until = NULL, attempts = attempts - $3",
            Claim { id: id.into(), token },
        )
        .bind::<Integer, _>(uncounted)
        .execute(connection)
        .await
        .map(|_| ())
}

/// The fenced completion: results and equity on the row. Call it in the transaction that
/// also inserts the logs and positions; `false` means the lease was lost (roll back).
pub async fn complete(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
    token: Token,
    results: JsonText,
    equity: JsonText,
) -> QueryResult<bool> {
    let updated = diesel::update(fenced!(id, token))
        .set((
            backtests::state.eq("completed"),
            backtests::progress.eq(100),
            backtests::message.eq("Backtest completed"),
            backtests::results.eq(Some(results)),
            backtests::equity.eq(Some(equity)),
            backtests::claim_token.eq(None::<Token>),
            backtests::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            backtests::execution_end.eq(Some(chrono::Utc::now())),
        ))
        .execute(connection)
        .await?;
    Ok(updated == 1)
}
