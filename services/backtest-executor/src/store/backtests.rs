//! Backtest rows: the request, status, results and the logs and positions written once. The
//! writes of a worker to the job it runs are in [`super::runs`].

use super::schema::{backtest_logs, backtest_positions, backtests};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BacktestId, PartnerId};
use platform::db::JsonText;

const UNFINISHED: [&str; 3] = crate::domain::State::UNFINISHED;

/// A new backtest row.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = backtests)]
pub struct NewBacktest {
    /// Its id.
    pub id: BacktestId,
    /// The owner.
    pub partner_id: PartnerId,
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
pub async fn status(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
    partner: PartnerId,
) -> QueryResult<Option<StatusRow>> {
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
    id: BacktestId,
    partner: PartnerId,
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
    id: BacktestId,
    partner: PartnerId,
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
pub async fn cancel(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
    partner: PartnerId,
) -> QueryResult<Option<String>> {
    let cancelled = diesel::update(
        backtests::table
            .filter(backtests::id.eq(id))
            .filter(backtests::partner_id.eq(partner))
            .filter(backtests::state.eq_any(UNFINISHED)),
    )
    .set((
        backtests::state.eq("cancelled"),
        backtests::message.eq("Backtest cancelled by user"),
        backtests::claim_token.eq(None::<lease::Token>),
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

/// A log line to store.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = backtest_logs)]
pub struct NewLogLine {
    /// The backtest.
    pub backtest_id: BacktestId,
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
    pub backtest_id: BacktestId,
    /// 0-based position number.
    pub position_no: i32,
    /// Compact JSON.
    pub body: JsonText,
}

/// Rows per insert. Each statement binds one array per column (`unnest`), so its size does
/// not grow with parameters: a multi-row `VALUES` of 10,000 log lines took a tenth of a
/// second to build and parse.
const INSERT_BATCH: usize = 10_000;

/// Inserts log lines in batches.
pub async fn insert_logs(connection: &mut AsyncPgConnection, lines: &[NewLogLine]) -> QueryResult<()> {
    use diesel::sql_types::{Array, BigInt, Integer, SmallInt, Text, Uuid as SqlUuid};
    for batch in lines.chunks(INSERT_BATCH) {
        diesel::sql_query(
            "INSERT INTO backtest_logs (backtest_id, line_number, time, level, message) \
             SELECT * FROM unnest($1::uuid[], $2::int4[], $3::int8[], $4::int2[], $5::text[])",
        )
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|line| line.backtest_id).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(batch.iter().map(|line| line.line_number).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(batch.iter().map(|line| line.time).collect::<Vec<_>>())
        .bind::<Array<SmallInt>, _>(batch.iter().map(|line| line.level).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|line| line.message.as_str()).collect::<Vec<_>>())
        .execute(connection)
        .await?;
    }
    Ok(())
}

/// Inserts positions in batches.
pub async fn insert_positions(connection: &mut AsyncPgConnection, positions: &[NewPosition]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Integer, Text, Uuid as SqlUuid};
    for batch in positions.chunks(INSERT_BATCH) {
        diesel::sql_query(
            "INSERT INTO backtest_positions (backtest_id, position_no, body) \
             SELECT id, number, body::jsonb FROM unnest($1::uuid[], $2::int4[], $3::text[]) AS p(id, number, body)",
        )
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|position| position.backtest_id).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(batch.iter().map(|position| position.position_no).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|position| position.body.0.as_str()).collect::<Vec<_>>())
        .execute(connection)
        .await?;
    }
    Ok(())
}

/// Log lines after `after` (exclusive), at most `limit`.
pub async fn logs_page(
    connection: &mut AsyncPgConnection,
    id: BacktestId,
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
    id: BacktestId,
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
pub async fn timeframe_of(connection: &mut AsyncPgConnection, id: BacktestId) -> QueryResult<(i32, String)> {
    backtests::table
        .filter(backtests::id.eq(id))
        .select((backtests::timeframe_secs, backtests::market))
        .first(connection)
        .await
}
