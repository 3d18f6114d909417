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

/// A stored candle as the worker reads it: prices already in ticks of the market's price
/// decimals (rounded half away from zero in SQL, as the engine rounds), so no row decodes
/// four `numeric`s.
#[derive(Clone, Debug, PartialEq, QueryableByName)]
pub struct CandleRow {
    /// Open time, unix seconds.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub open_time: i64,
    /// Open, high, low and close in ticks.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub open: i64,
    /// High.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub high: i64,
    /// Low.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub low: i64,
    /// Close.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub close: i64,
    /// Volume.
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    pub volume: Decimal,
}

/// Inserts candles, skipping those already stored. Returns how many were new.
pub async fn insert(connection: &mut AsyncPgConnection, rows: &[NewCandle]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(candles::table).values(rows).on_conflict_do_nothing().execute(connection).await
}

#[derive(QueryableByName)]
struct Timeframe {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    timeframe_secs: i32,
}

/// The timeframes of `market` with at least one candle opening in `[start, end)`, finest
/// first. A loose index scan (one index probe per stored timeframe) rather than a count, so
/// it costs the same for a million candles as for ten. The `LATERAL ... ORDER BY open_time
/// LIMIT 1` keeps the range check one primary-key probe per timeframe: an `EXISTS` was
/// planned as a semi-join reading every candle of the range, a plain `LIMIT 1` as a seq scan.
pub async fn timeframes(
    connection: &mut AsyncPgConnection,
    market: &str,
    start: i64,
    end: i64,
) -> QueryResult<Vec<i32>> {
    use diesel::sql_types::{BigInt, Text};
    let rows: Vec<Timeframe> = diesel::sql_query(
        "WITH RECURSIVE stored(timeframe_secs) AS ( \
             SELECT min(timeframe_secs) FROM candles WHERE market = $1 \
             UNION ALL \
             SELECT (SELECT min(c.timeframe_secs) FROM candles c \
                     WHERE c.market = $1 AND c.timeframe_secs > stored.timeframe_secs) \
             FROM stored WHERE stored.timeframe_secs IS NOT NULL) \
         SELECT stored.timeframe_secs FROM stored CROSS JOIN LATERAL ( \
             SELECT 1 FROM candles c WHERE c.market = $1 AND c.timeframe_secs = stored.timeframe_secs \
             AND c.open_time >= $2 AND c.open_time < $3 ORDER BY c.open_time LIMIT 1) AS hit \
         WHERE stored.timeframe_secs IS NOT NULL \
         ORDER BY stored.timeframe_secs",
    )
    .bind::<Text, _>(market)
    .bind::<BigInt, _>(start)
    .bind::<BigInt, _>(end)
    .load(connection)
    .await?;
    Ok(rows.into_iter().map(|row| row.timeframe_secs).collect())
}

/// The first and last open time of one timeframe's candles in `[start, end)` (two index
/// probes), or `None` when there are none.
pub async fn span(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    start: i64,
    end: i64,
) -> QueryResult<Option<(i64, i64)>> {
    use diesel::dsl::{max, min};
    let (first, last): (Option<i64>, Option<i64>) = candles::table
        .filter(candles::market.eq(market))
        .filter(candles::timeframe_secs.eq(timeframe_secs))
        .filter(candles::open_time.ge(start))
        .filter(candles::open_time.lt(end))
        .select((min(candles::open_time), max(candles::open_time)))
        .get_result(connection)
        .await?;
    Ok(first.zip(last))
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

/// The next page: candles opening after `after` (exclusive) and before `end`, in time order,
/// prices in ticks of `price_decimals`.
pub async fn page(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    range: (i64, i64),
    limit: i64,
    price_decimals: u32,
) -> QueryResult<Vec<CandleRow>> {
    use diesel::sql_types::{BigInt, Integer, Text};
    let (after, end) = range;
    diesel::sql_query(
        "SELECT open_time, \
             (round(open, $6) * 10::numeric ^ $6)::int8 AS open, \
             (round(high, $6) * 10::numeric ^ $6)::int8 AS high, \
             (round(low, $6) * 10::numeric ^ $6)::int8 AS low, \
             (round(close, $6) * 10::numeric ^ $6)::int8 AS close, \
             volume \
         FROM candles \
         WHERE market = $1 AND timeframe_secs = $2 AND open_time > $3 AND open_time < $4 \
         ORDER BY open_time LIMIT $5",
    )
    .bind::<Text, _>(market)
    .bind::<Integer, _>(timeframe_secs)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(end)
    .bind::<BigInt, _>(limit)
    .bind::<Integer, _>(i32::try_from(price_decimals).unwrap_or(i32::MAX))
    .load(connection)
    .await
}
