//! Stored candles: idempotent import and keyset pages in time order.

use super::schema::candles;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;

/// A candle to store.
#[derive(Clone, Debug, PartialEq, Insertable)]
#[diesel(table_name = candles)]
pub struct NewCandle {
    /// Market symbol.
    pub market: String,
    /// Candle length in seconds.
    pub timeframe_secs: i32,
    /// Open time, unix seconds.
    pub open_time: i64,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Volume (base).
    pub volume: Decimal,
}

/// A stored candle, as the worker reads it.
#[derive(Clone, Debug, PartialEq, Queryable)]
pub struct CandleRow {
    /// Open time, unix seconds.
    pub open_time: i64,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Volume.
    pub volume: Decimal,
}

/// Inserts candles, skipping those already stored. Returns how many were new.
pub async fn insert(connection: &mut AsyncPgConnection, rows: &[NewCandle]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(candles::table).values(rows).on_conflict_do_nothing().execute(connection).await
}

/// Per timeframe, how many candles of `market` open in `[start, end)`, finest first.
pub async fn coverage(
    connection: &mut AsyncPgConnection,
    market: &str,
    start: i64,
    end: i64,
) -> QueryResult<Vec<(i32, i64)>> {
    candles::table
        .filter(candles::market.eq(market))
        .filter(candles::open_time.ge(start))
        .filter(candles::open_time.lt(end))
        .group_by(candles::timeframe_secs)
        .select((candles::timeframe_secs, diesel::dsl::count_star()))
        .order_by(candles::timeframe_secs)
        .load(connection)
        .await
}

/// How many candles of one timeframe open in `[start, end)`.
pub async fn count(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    start: i64,
    end: i64,
) -> QueryResult<i64> {
    candles::table
        .filter(candles::market.eq(market))
        .filter(candles::timeframe_secs.eq(timeframe_secs))
        .filter(candles::open_time.ge(start))
        .filter(candles::open_time.lt(end))
        .count()
        .get_result(connection)
        .await
}

/// The next page: candles opening after `after` (exclusive) and before `end`, in time order.
pub async fn page(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    after: i64,
    end: i64,
    limit: i64,
) -> QueryResult<Vec<CandleRow>> {
    candles::table
        .filter(candles::market.eq(market))
        .filter(candles::timeframe_secs.eq(timeframe_secs))
        .filter(candles::open_time.gt(after))
        .filter(candles::open_time.lt(end))
        .order_by(candles::open_time)
        .limit(limit)
        .select((candles::open_time, candles::open, candles::high, candles::low, candles::close, candles::volume))
        .load(connection)
        .await
}
