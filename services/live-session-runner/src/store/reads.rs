//! What the runner answers about a hosted bot's runtime: its open orders and its log.

use super::runs::HOSTED;
use super::schema::{run_log_lines, run_orders, run_positions, runs};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, LiveRunId};

/// The run of a hosted bot the runner knows and has not deleted, with its market (JSON).
pub async fn known_hosted_run(
    connection: &mut AsyncPgConnection,
    bot: BotId,
) -> QueryResult<Option<(LiveRunId, serde_json::Value)>> {
    runs::table
        .filter(runs::kind.eq(HOSTED))
        .filter(runs::bot_id.eq(bot))
        .filter(runs::desired.ne("deleted"))
        .filter(runs::state.ne("deleted"))
        .select((runs::id, runs::market))
        .first(connection)
        .await
        .optional()
}

/// The open orders of a run, oldest first: the engine's order objects.
pub async fn open_orders(connection: &mut AsyncPgConnection, run: LiveRunId) -> QueryResult<Vec<serde_json::Value>> {
    run_orders::table
        .filter(run_orders::run_id.eq(run))
        .filter(run_orders::status.eq("OPEN"))
        .order(run_orders::order_id)
        .select(run_orders::body)
        .load(connection)
        .await
}

/// One log line as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = run_log_lines, check_for_backend(diesel::pg::Pg))]
pub struct StoredLine {
    /// From 1.
    pub line_number: i64,
    /// Unix seconds.
    pub time: i64,
    /// `info`, `trade`, `warning`, `error` or `custom`.
    pub severity: String,
    /// The message.
    pub message: String,
}

/// Up to `limit` lines of a run's log after line `after_line`, in order.
pub async fn log_lines(
    connection: &mut AsyncPgConnection,
    run: LiveRunId,
    after_line: i64,
    limit: i64,
) -> QueryResult<Vec<StoredLine>> {
    run_log_lines::table
        .filter(run_log_lines::run_id.eq(run))
        .filter(run_log_lines::line_number.gt(after_line))
        .order(run_log_lines::line_number)
        .limit(limit)
        .select(StoredLine::as_select())
        .load(connection)
        .await
}

/// The open positions of a run, oldest first: the engine's position objects.
pub async fn open_positions(connection: &mut AsyncPgConnection, run: LiveRunId) -> QueryResult<Vec<serde_json::Value>> {
    run_positions::table
        .filter(run_positions::run_id.eq(run))
        .filter(run_positions::status.eq("OPEN"))
        .order(run_positions::position_id)
        .select(run_positions::body)
        .load(connection)
        .await
}

/// A closed position as stored, with where it sits in the newest-first order.
#[derive(Queryable, Debug, Clone, PartialEq)]
pub struct ClosedPosition {
    /// Its close time, Unix seconds.
    pub close_time: Option<i64>,
    /// The engine's number.
    pub position_id: i64,
    /// The engine's position object.
    pub body: serde_json::Value,
}

/// Up to `limit` closed positions of a run, newest first (by close time, then number), after
/// `after` (`(close time, number)` of the last one shown).
pub async fn closed_positions(
    connection: &mut AsyncPgConnection,
    run: LiveRunId,
    after: Option<(i64, i64)>,
    limit: i64,
) -> QueryResult<Vec<ClosedPosition>> {
    let mut query = run_positions::table
        .filter(run_positions::run_id.eq(run))
        .filter(run_positions::status.eq("CLOSED"))
        .into_boxed();
    if let Some((close_time, position)) = after {
        query = query.filter(
            run_positions::close_time
                .lt(close_time)
                .or(run_positions::close_time.eq(close_time).and(run_positions::position_id.lt(position))),
        );
    }
    query
        .order((run_positions::close_time.desc(), run_positions::position_id.desc()))
        .limit(limit)
        .select((run_positions::close_time, run_positions::position_id, run_positions::body))
        .load(connection)
        .await
}

/// The position of a run the API shows as `public_id`, if any.
pub async fn position_by_public_id(
    connection: &mut AsyncPgConnection,
    run: LiveRunId,
    public_id: &str,
) -> QueryResult<Option<serde_json::Value>> {
    run_positions::table
        .filter(run_positions::run_id.eq(run))
        .filter(run_positions::public_id.eq(public_id))
        .select(run_positions::body)
        .first(connection)
        .await
        .optional()
}
