//! Status, results, logs, positions, equity and cancel: one partner's backtest each. Another
//! partner's backtest is answered exactly like an unknown one.

use super::storage_error;
use crate::domain::results::log_item;
use crate::store::backtests;
use bus::BusError;
use bus::messages::backtest::{
    BacktestEquity, BacktestPage, BacktestRef, BacktestResults, BacktestStatus, EquitySample, GetBacktestLogs,
    GetBacktestPositions,
};
use domain::{BacktestId, PartnerId};
use platform::db::PgPool;
use serde_json::value::RawValue;

/// A page reply stops adding items past this many bytes, far below NATS's 1 MiB payload.
pub const PAGE_BYTES: usize = 256 * 1024;

fn unknown(id: BacktestId) -> BusError {
    BusError::not_found(format!("Backtest '{id}' not found"))
}

fn not_completed(state: &str) -> BusError {
    BusError::Conflict { message: format!("Backtest is not completed (state: {state})") }
}

/// `GET /bots/backtest/{id}/status`.
pub async fn status(pool: &PgPool, request: BacktestRef) -> Result<BacktestStatus, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let row = backtests::status(&mut connection, request.backtest_id, request.partner_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| unknown(request.backtest_id))?;
    Ok(BacktestStatus {
        backtest_id: request.backtest_id,
        state: row.state,
        progress: u8::try_from(row.progress.clamp(0, 100)).unwrap_or(0),
        message: row.message,
        service_id: row.service_id.unwrap_or(row.accepted_by),
    })
}

/// `GET /bots/backtest/{id}/results`.
pub async fn results(pool: &PgPool, request: BacktestRef) -> Result<BacktestResults, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let (state, results) = backtests::results(&mut connection, request.backtest_id, request.partner_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| unknown(request.backtest_id))?;
    match results {
        Some(json) if state == "completed" => RawValue::from_string(json.0).map(BacktestResults).map_err(storage_error),
        _ => Err(not_completed(&state)),
    }
}

/// `GET /bots/backtest/{id}/equity.svg`: the stored curve.
pub async fn equity(pool: &PgPool, request: BacktestRef) -> Result<BacktestEquity, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let (state, market, equity) = backtests::equity(&mut connection, request.backtest_id, request.partner_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| unknown(request.backtest_id))?;
    let Some(equity) = equity.filter(|_| state == "completed") else { return Err(not_completed(&state)) };
    let points: Vec<EquitySample> = serde_json::from_str(&equity.0).map_err(storage_error)?;
    let market = crate::domain::market(&market).map_or(market, |spec| spec.display_name());
    Ok(BacktestEquity { backtest_id: request.backtest_id, market, points })
}

/// Fails unless the partner's backtest exists and completed.
async fn require_completed(
    connection: &mut diesel_async::AsyncPgConnection,
    id: BacktestId,
    partner: PartnerId,
) -> Result<(), BusError> {
    let row = backtests::status(connection, id, partner).await.map_err(storage_error)?.ok_or_else(|| unknown(id))?;
    if row.state == "completed" { Ok(()) } else { Err(not_completed(&row.state)) }
}

fn cursor(next_page_id: Option<&str>) -> Result<i32, BusError> {
    match next_page_id.filter(|text| !text.is_empty()) {
        None => Ok(-1),
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| BusError::invalid("nextPageId: not a cursor of this backtest")),
    }
}

/// Joins items into a JSON array until the byte budget is spent. `rows` holds at most
/// `limit + 1` rows; the extra one only tells that a next page exists.
fn page(rows: Vec<(i32, String)>, limit: usize) -> Result<BacktestPage, BusError> {
    let mut text = String::from("[");
    let mut last = None;
    let mut taken = 0;
    for (number, item) in &rows {
        if taken == limit || (taken > 0 && text.len() + item.len() > PAGE_BYTES) {
            break;
        }
        if taken > 0 {
            text.push(',');
        }
        text.push_str(item);
        last = Some(*number);
        taken += 1;
    }
    text.push(']');
    let next_page_id = if taken < rows.len() { last.map(|n| n.to_string()) } else { None };
    let items = RawValue::from_string(text).map_err(storage_error)?;
    Ok(BacktestPage { items, next_page_id })
}

/// `GET /bots/backtest/{id}/logs`: one page of structured lines.
pub async fn logs(pool: &PgPool, request: GetBacktestLogs) -> Result<BacktestPage, BusError> {
    let after = cursor(request.next_page_id.as_deref())?;
    let limit = request.limit.clamp(1, 10_000);
    let mut connection = pool.get().await.map_err(storage_error)?;
    require_completed(&mut connection, request.backtest_id, request.partner_id).await?;
    let rows = backtests::logs_page(&mut connection, request.backtest_id, after, i64::from(limit) + 1)
        .await
        .map_err(storage_error)?;
    let items = rows
        .into_iter()
        .map(|(number, time, level, message)| (number, log_item(number, time, level, &message).to_string()))
        .collect();
    page(items, limit as usize)
}

/// `GET /bots/backtest/{id}/positions`: one page of compact positions.
pub async fn positions(pool: &PgPool, request: GetBacktestPositions) -> Result<BacktestPage, BusError> {
    let after = cursor(request.next_page_id.as_deref())?;
    let limit = request.limit.clamp(1, 10_000);
    let mut connection = pool.get().await.map_err(storage_error)?;
    require_completed(&mut connection, request.backtest_id, request.partner_id).await?;
    let rows = backtests::positions_page(&mut connection, request.backtest_id, after, i64::from(limit) + 1)
        .await
        .map_err(storage_error)?;
    page(rows.into_iter().map(|(number, body)| (number, body.0)).collect(), limit as usize)
}

/// `POST /bots/backtest/{id}/cancel`: `true` once the backtest is cancelled or had finished.
pub async fn cancel(pool: &PgPool, request: BacktestRef) -> Result<bool, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    backtests::cancel(&mut connection, request.backtest_id, request.partner_id)
        .await
        .map_err(storage_error)?
        .map(|_| true)
        .ok_or_else(|| unknown(request.backtest_id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pages_stop_at_the_limit_or_the_byte_budget() {
        let rows: Vec<(i32, String)> = (0..5).map(|n| (n, format!("{{\"n\":{n}}}"))).collect();
        let first = page(rows[..3].to_vec(), 2).unwrap();
        assert_eq!(first.items.get(), r#"[{"n":0},{"n":1}]"#);
        assert_eq!(first.next_page_id.as_deref(), Some("1"));
        let last = page(rows[3..].to_vec(), 2).unwrap();
        assert_eq!(last.next_page_id, None);
        let big: Vec<(i32, String)> = (0..3).map(|n| (n, format!("\"{}\"", "x".repeat(PAGE_BYTES / 2)))).collect();
        let capped = page(big, 10).unwrap();
        assert_eq!(capped.next_page_id.as_deref(), Some("0"), "one big item per page");
        assert_eq!(cursor(Some("7")).unwrap(), 7);
        assert!(cursor(Some("x")).is_err());
    }
}
