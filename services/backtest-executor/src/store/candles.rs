//! Stored candles: chunk rows of `candle_chunks` (one per market, timeframe and period, its
//! columns encoded as [`super::chunk`] describes), read in period order and written whole.

use super::chunk::{self, CodecError, Header};
use super::schema::candle_chunks;
use crate::domain::series::Series;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored chunk.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = candle_chunks)]
pub struct ChunkRow {
    /// The period's first slot.
    pub period_start: i64,
    /// The first candle's open time.
    pub first_open: i64,
    /// The last candle's open time.
    pub last_open: i64,
    /// How many candles the body holds.
    pub candles: i32,
    /// How the body is encoded.
    pub format: i16,
    /// Scale of the price columns.
    pub price_scale: i16,
    /// Scale of the volume column.
    pub volume_scale: i16,
    /// The encoded columns.
    pub body: Vec<u8>,
}

impl ChunkRow {
    fn header(&self) -> Header {
        Header {
            period_start: self.period_start,
            candles: self.candles,
            format: self.format,
            price_scale: self.price_scale,
            volume_scale: self.volume_scale,
        }
    }

    /// The chunk's candles.
    pub fn decode(&self) -> Result<Series, CodecError> {
        chunk::decode(&self.header(), &self.body)
    }

    /// The chunk's open times only.
    pub fn open_times(&self) -> Result<Vec<i64>, CodecError> {
        chunk::decode_times(&self.header(), &self.body)
    }
}

/// A chunk to write (insert, or replace the stored one of its period).
#[derive(Clone, Debug, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = candle_chunks)]
pub struct NewChunk {
    /// Market symbol.
    pub market: String,
    /// Candle length in seconds.
    pub timeframe_secs: i32,
    /// The period's first slot.
    pub period_start: i64,
    /// The first candle's open time.
    pub first_open: i64,
    /// The last candle's open time.
    pub last_open: i64,
    /// How many candles.
    pub candles: i32,
    /// How the body is encoded.
    pub format: i16,
    /// Scale of the price columns.
    pub price_scale: i16,
    /// Scale of the volume column.
    pub volume_scale: i16,
    /// The encoded columns.
    pub body: Vec<u8>,
}

impl NewChunk {
    /// `series` (one period's candles, at least one, scales canonical) in [`chunk::FORMAT_DELTA`].
    pub fn encode(market: &str, timeframe_secs: i32, period_start: i64, series: &Series) -> Self {
        let narrow = |scale: u32| i16::try_from(scale).unwrap_or(i16::MAX);
        Self {
            market: market.to_string(),
            timeframe_secs,
            period_start,
            first_open: <[i64]>::first(&series.open_time).copied().unwrap_or(period_start),
            last_open: <[i64]>::last(&series.open_time).copied().unwrap_or(period_start),
            candles: i32::try_from(series.len()).unwrap_or(i32::MAX),
            format: chunk::FORMAT_DELTA,
            price_scale: narrow(series.price_scale),
            volume_scale: narrow(series.volume_scale),
            body: chunk::encode(series, period_start),
        }
    }

    /// Whether `stored` is this very chunk, byte for byte (so writing it would change nothing).
    pub fn same_as(&self, stored: &ChunkRow) -> bool {
        (self.first_open, self.last_open, self.candles, self.format, self.price_scale, self.volume_scale)
            == (
                stored.first_open,
                stored.last_open,
                stored.candles,
                stored.format,
                stored.price_scale,
                stored.volume_scale,
            )
            && self.body == stored.body
    }
}

/// Holds, until the transaction ends, the right to rewrite one market's timeframe: two imports
/// of overlapping files then apply one after the other instead of losing one's candles.
pub async fn lock_series(connection: &mut AsyncPgConnection, market: &str, timeframe_secs: i32) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('candle_chunks'), hashtext($1 || '/' || $2::text))")
        .bind::<Text, _>(market)
        .bind::<Integer, _>(timeframe_secs)
        .execute(connection)
        .await
        .map(|_| ())
}

/// The chunks of periods `first..=last` (period starts), in period order.
pub async fn periods(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    (first, last): (i64, i64),
) -> QueryResult<Vec<ChunkRow>> {
    candle_chunks::table
        .filter(candle_chunks::market.eq(market))
        .filter(candle_chunks::timeframe_secs.eq(timeframe_secs))
        .filter(candle_chunks::period_start.between(first, last))
        .order_by(candle_chunks::period_start)
        .select(ChunkRow::as_select())
        .load(connection)
        .await
}

/// The next chunks that may hold candles opening before `end`: periods after `after`
/// (exclusive), at most `limit`, in period order.
pub async fn next_chunks(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    (after, end): (i64, i64),
    limit: i64,
) -> QueryResult<Vec<ChunkRow>> {
    candle_chunks::table
        .filter(candle_chunks::market.eq(market))
        .filter(candle_chunks::timeframe_secs.eq(timeframe_secs))
        .filter(candle_chunks::period_start.gt(after))
        .filter(candle_chunks::period_start.lt(end))
        .order_by(candle_chunks::period_start)
        .limit(limit)
        .select(ChunkRow::as_select())
        .load(connection)
        .await
}

/// Writes chunks, each replacing the stored chunk of its period.
pub async fn upsert(connection: &mut AsyncPgConnection, chunks: &[NewChunk]) -> QueryResult<()> {
    for chunk in chunks {
        diesel::insert_into(candle_chunks::table)
            .values(chunk)
            .on_conflict((candle_chunks::market, candle_chunks::timeframe_secs, candle_chunks::period_start))
            .do_update()
            .set(chunk)
            .execute(connection)
            .await?;
    }
    Ok(())
}

/// Deletes the chunks of these periods.
pub async fn delete(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    period_starts: &[i64],
) -> QueryResult<usize> {
    if period_starts.is_empty() {
        return Ok(0);
    }
    diesel::delete(
        candle_chunks::table
            .filter(candle_chunks::market.eq(market))
            .filter(candle_chunks::timeframe_secs.eq(timeframe_secs))
            .filter(candle_chunks::period_start.eq_any(period_starts)),
    )
    .execute(connection)
    .await
}

/// The first chunks of a timeframe that meet a range.
#[derive(QueryableByName)]
struct Edge {
    #[diesel(sql_type = Integer)]
    timeframe_secs: i32,
    #[diesel(sql_type = BigInt)]
    period_start: i64,
    #[diesel(sql_type = Integer)]
    candles: i32,
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    format: i16,
    /// Only for a chunk whose first candle is before the range: its candles may all lie
    /// outside it.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
    body: Option<Vec<u8>>,
}

/// The timeframes of `market` with at least one candle opening in `[start, end)`, finest
/// first. Per stored timeframe, the first two chunks whose span meets the range (index
/// probes): the first holds a candle in the range when its first candle is inside it; when
/// that candle is earlier, a second chunk (which starts after the first's last candle and
/// before `end`) holds one, and otherwise the first chunk's open times say (a short range can
/// fall in a gap inside one chunk).
pub async fn timeframes(
    connection: &mut AsyncPgConnection,
    market: &str,
    start: i64,
    end: i64,
) -> QueryResult<Vec<i32>> {
    let edges: Vec<Edge> = diesel::sql_query(
        "SELECT c.timeframe_secs, c.period_start, c.candles, c.format, \
                CASE WHEN c.first_open < $2 THEN c.body END AS body \
         FROM (SELECT DISTINCT timeframe_secs FROM candle_chunks WHERE market = $1) AS stored \
         CROSS JOIN LATERAL ( \
             SELECT * FROM candle_chunks c \
             WHERE c.market = $1 AND c.timeframe_secs = stored.timeframe_secs \
               AND c.period_start > $2 - stored.timeframe_secs::bigint * $4 AND c.period_start < $3 \
               AND c.last_open >= $2 AND c.first_open < $3 \
             ORDER BY c.period_start LIMIT 2) AS c \
         ORDER BY c.timeframe_secs, c.period_start",
    )
    .bind::<Text, _>(market)
    .bind::<BigInt, _>(start)
    .bind::<BigInt, _>(end)
    .bind::<BigInt, _>(chunk::SLOTS)
    .load(connection)
    .await?;
    let mut found = Vec::new();
    for group in edges.chunk_by(|a, b| a.timeframe_secs == b.timeframe_secs) {
        let first = &group[0];
        let holds = match &first.body {
            None => true,
            Some(_) if group.len() > 1 => true,
            Some(body) => {
                let header = Header {
                    period_start: first.period_start,
                    candles: first.candles,
                    format: first.format,
                    price_scale: 0,
                    volume_scale: 0,
                };
                let times = chunk::decode_times(&header, body)
                    .map_err(|error| diesel::result::Error::DeserializationError(Box::new(error)))?;
                times.iter().any(|time| (start..end).contains(time))
            }
        };
        if holds {
            found.push(first.timeframe_secs);
        }
    }
    Ok(found)
}

#[derive(QueryableByName)]
struct Bounds {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    first: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    last: Option<i64>,
}

/// Where one timeframe's candles meet `[start, end)`: the first and last open time of the
/// chunks that overlap it, clipped to the range (so a gap at either end counts as candles).
/// `None` when no chunk overlaps. Progress only: two index probes, no body read.
pub async fn span(
    connection: &mut AsyncPgConnection,
    market: &str,
    timeframe_secs: i32,
    start: i64,
    end: i64,
) -> QueryResult<Option<(i64, i64)>> {
    let bounds: Bounds = diesel::sql_query(
        "SELECT min(first_open) AS first, max(last_open) AS last FROM candle_chunks \
         WHERE market = $1 AND timeframe_secs = $2 AND period_start > $3 - $5 AND period_start < $4 \
           AND last_open >= $3 AND first_open < $4",
    )
    .bind::<Text, _>(market)
    .bind::<Integer, _>(timeframe_secs)
    .bind::<BigInt, _>(start)
    .bind::<BigInt, _>(end)
    .bind::<BigInt, _>(chunk::period_secs(timeframe_secs))
    .get_result(connection)
    .await?;
    Ok(bounds.first.zip(bounds.last).map(|(first, last)| (first.max(start), last.min(end.saturating_sub(1)))))
}
