//! What the runner answers about a hosted bot's runtime: its open orders and its log.

use super::runs::HOSTED;
use super::schema::{run_log_lines, run_orders, runs};
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
