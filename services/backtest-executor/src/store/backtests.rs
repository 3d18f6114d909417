//! Backtest rows: the request, the job's lease, progress, and the results written once.
//!
//! Every write a worker makes is fenced: it names the lease token it claimed with and only
//! applies while the row is unfinished, so a worker that lost its lease (it stalled, the job
//! was taken over or cancelled) changes nothing.

use super::schema::{backtest_logs, backtest_positions, backtests};
use diesel::prelude::*;
use diesel::sql_types::{Double, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::db::JsonText;
use uuid::Uuid;

const UNFINISHED: [&str; 3] = crate::domain::State::UNFINISHED;

/// The row `id` while `token` holds its lease and it is unfinished.
macro_rules! fenced {
    ($id:expr, $token:expr) => {
        backtests::table
            .filter(backtests::id.eq($id))
            .filter(backtests::lease_token.eq($token))
            .filter(backtests::state.eq_any(UNFINISHED))
    };
}

/// A new backtest row.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = backtests)]
pub struct NewBacktest {
    /// Its id.
    pub id: Uuid,
    /// The owner.
    pub partner_id: Uuid,
    /// The partner's user, as sent.
    pub user_id: Option<String>,
    /// Script type.
    pub script_type: String,
    /// Exchange.
    pub exchange_id: String,
    /// Market symbol.
    pub market: String,
    /// The timeframe the run reads.
    pub timeframe_secs: i32,
    /// `{"type", "settings"}`.
    pub settings: JsonText,
    /// Range start (inclusive).
    pub start_unix: i64,
    /// Range end (exclusive).
    pub end_unix: i64,
    /// The accepting instance.
    pub accepted_by: String,
    /// The first message.
    pub message: String,
}

/// What the status route shows.
#[derive(Clone, Debug, Queryable)]
pub struct StatusRow {
    /// State.
    pub state: String,
    /// Progress.
    pub progress: i16,
    /// Message.
    pub message: String,
    /// The accepting instance.
    pub accepted_by: String,
    /// The worker.
    pub service_id: Option<String>,
}

/// The status of one partner's backtest.
pub async fn status(connection: &mut AsyncPgConnection, id: Uuid, partner: Uuid) -> QueryResult<Option<StatusRow>> {
    backtests::table
        .filter(backtests::id.eq(id))
        .filter(backtests::partner_id.eq(partner))
        .select((
            backtests::state,
            backtests::progress,
            backtests::message,
            backtests::accepted_by,
            backtests::service_id,
        ))
        .first(connection)
        .await
        .optional()
}

/// The state and stored results of one partner's backtest.
pub async fn results(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    partner: Uuid,
) -> QueryResult<Option<(String, Option<JsonText>)>> {
    backtests::table
        .filter(backtests::id.eq(id))
        .filter(backtests::partner_id.eq(partner))
        .select((backtests::state, backtests::results))
        .first(connection)
        .await
        .optional()
}

/// The state, market and stored equity curve of one partner's backtest.
pub async fn equity(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    partner: Uuid,
) -> QueryResult<Option<(String, String, Option<JsonText>)>> {
    backtests::table
        .filter(backtests::id.eq(id))
        .filter(backtests::partner_id.eq(partner))
        .select((backtests::state, backtests::market, backtests::equity))
        .first(connection)
        .await
        .optional()
}

/// Inserts a new backtest.
pub async fn insert(connection: &mut AsyncPgConnection, row: &NewBacktest) -> QueryResult<()> {
    diesel::insert_into(backtests::table).values(row).execute(connection).await.map(|_| ())
}

/// Marks an unfinished backtest cancelled (dropping any lease). Returns its state after the
/// call, or `None` when the partner has no such backtest.
pub async fn cancel(connection: &mut AsyncPgConnection, id: Uuid, partner: Uuid) -> QueryResult<Option<String>> {
    let cancelled = diesel::update(
        backtests::table
            .filter(backtests::id.eq(id))
            .filter(backtests::partner_id.eq(partner))
            .filter(backtests::state.eq_any(UNFINISHED)),
    )
    .set((
        backtests::state.eq("cancelled"),
        backtests::message.eq("Backtest cancelled by user"),
        backtests::lease_token.eq(None::<Uuid>),
        backtests::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
        backtests::execution_end.eq(Some(chrono::Utc::now())),
    ))
    .execute(connection)
    .await?;
    if cancelled == 1 {
        return Ok(Some("cancelled".to_string()));
    }
    backtests::table
        .filter(backtests::id.eq(id))
        .filter(backtests::partner_id.eq(partner))
        .select(backtests::state)
        .first(connection)
        .await
        .optional()
}

/// A job a worker claimed.
#[derive(Clone, Debug, QueryableByName)]
pub struct ClaimedJob {
    /// The backtest.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
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
}

/// Claims the oldest unfinished job whose lease is free or expired: sets a fresh lease token
/// and the worker's name in one statement (committed at once, so the claim is never held
/// across the run). A job taken over from a crashed worker starts again from its first candle.
pub async fn claim(
    connection: &mut AsyncPgConnection,
    token: Uuid,
    service_id: &str,
    lease_secs: f64,
) -> QueryResult<Option<ClaimedJob>> {
    diesel::sql_query(
        "UPDATE backtests SET lease_token = $1, lease_until = now() + make_interval(secs => $2), \
                service_id = $3, attempts = attempts + 1, state = 'loading_script', progress = 0, \
                message = 'Loading bot script', execution_start = coalesce(execution_start, now()) \
         WHERE id = (SELECT id FROM backtests \
                     WHERE state IN ('loading_script', 'loading_data', 'executing') \
                       AND (lease_until IS NULL OR lease_until < now()) \
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, user_id, market, timeframe_secs, settings, start_unix, end_unix, attempts, \
                   extract(epoch FROM execution_start)::bigint AS execution_start",
    )
    .bind::<SqlUuid, _>(token)
    .bind::<Double, _>(lease_secs)
    .bind::<Text, _>(service_id)
    .get_result(connection)
    .await
    .optional()
}

/// A fenced progress write that also renews the lease. `false`: the lease is lost or the job
/// was cancelled; the worker must stop.
pub async fn checkpoint(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    token: Uuid,
    state: &str,
    progress: i16,
    message: &str,
    lease_secs: f64,
) -> QueryResult<bool> {
    let updated = diesel::sql_query(
        "UPDATE backtests SET state = $3, progress = $4, message = $5, \
                lease_until = now() + make_interval(secs => $6) \
         WHERE id = $1 AND lease_token = $2 AND state IN ('loading_script', 'loading_data', 'executing')",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(token)
    .bind::<Text, _>(state)
    .bind::<diesel::sql_types::SmallInt, _>(progress)
    .bind::<Text, _>(message)
    .bind::<Double, _>(lease_secs)
    .execute(connection)
    .await?;
    Ok(updated == 1)
}

/// A fenced end of a job: `failed` with its reason. `false` if the lease was lost.
pub async fn fail(connection: &mut AsyncPgConnection, id: Uuid, token: Uuid, message: &str) -> QueryResult<bool> {
    let updated = diesel::update(fenced!(id, token))
        .set((
            backtests::state.eq("failed"),
            backtests::message.eq(message),
            backtests::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            backtests::execution_end.eq(Some(chrono::Utc::now())),
        ))
        .execute(connection)
        .await?;
    Ok(updated == 1)
}

/// Gives a job back (shutdown): its lease ends now so another worker takes it at once.
pub async fn release(connection: &mut AsyncPgConnection, id: Uuid, token: Uuid) -> QueryResult<()> {
    diesel::update(fenced!(id, token))
        .set(backtests::lease_until.eq(Some(chrono::Utc::now())))
        .execute(connection)
        .await
        .map(|_| ())
}

/// The fenced completion: results and equity on the row. Call it in the transaction that
/// also inserts the logs and positions; `false` means the lease was lost (roll back).
pub async fn complete(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    token: Uuid,
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
            backtests::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            backtests::execution_end.eq(Some(chrono::Utc::now())),
        ))
        .execute(connection)
        .await?;
    Ok(updated == 1)
}

/// A log line to store.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = backtest_logs)]
pub struct NewLogLine {
    /// The backtest.
    pub backtest_id: Uuid,
    /// 0-based line number.
    pub line_number: i32,
    /// Unix seconds.
    pub time: i64,
    /// 0–4.
    pub level: i16,
    /// The message.
    pub message: String,
}

/// A position to store.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = backtest_positions)]
pub struct NewPosition {
    /// The backtest.
    pub backtest_id: Uuid,
    /// 0-based position number.
    pub position_no: i32,
    /// Compact JSON.
    pub body: JsonText,
}

/// Rows per multi-row insert (well below Postgres's 65,535 bind parameters).
const INSERT_BATCH: usize = 2_000;

/// Inserts log lines in batches.
pub async fn insert_logs(connection: &mut AsyncPgConnection, lines: &[NewLogLine]) -> QueryResult<()> {
    for batch in lines.chunks(INSERT_BATCH) {
        diesel::insert_into(backtest_logs::table).values(batch).execute(connection).await?;
    }
    Ok(())
}

/// Inserts positions in batches.
pub async fn insert_positions(connection: &mut AsyncPgConnection, positions: &[NewPosition]) -> QueryResult<()> {
    for batch in positions.chunks(INSERT_BATCH) {
        diesel::insert_into(backtest_positions::table).values(batch).execute(connection).await?;
    }
    Ok(())
}

/// Log lines after `after` (exclusive), at most `limit`.
pub async fn logs_page(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<(i32, i64, i16, String)>> {
    backtest_logs::table
        .filter(backtest_logs::backtest_id.eq(id))
        .filter(backtest_logs::line_number.gt(after))
        .order_by(backtest_logs::line_number)
        .limit(limit)
        .select((backtest_logs::line_number, backtest_logs::time, backtest_logs::level, backtest_logs::message))
        .load(connection)
        .await
}

/// Positions after `after` (exclusive), at most `limit`.
pub async fn positions_page(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<(i32, JsonText)>> {
    backtest_positions::table
        .filter(backtest_positions::backtest_id.eq(id))
        .filter(backtest_positions::position_no.gt(after))
        .order_by(backtest_positions::position_no)
        .limit(limit)
        .select((backtest_positions::position_no, backtest_positions::body))
        .load(connection)
        .await
}

/// The timeframe and market a backtest reads.
pub async fn timeframe_of(connection: &mut AsyncPgConnection, id: Uuid) -> QueryResult<(i32, String)> {
    backtests::table
        .filter(backtests::id.eq(id))
        .select((backtests::timeframe_secs, backtests::market))
        .first(connection)
        .await
}
