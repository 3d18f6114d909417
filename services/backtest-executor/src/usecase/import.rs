//! `backtest-executor import-candles`: a CSV of `timestamp_ms,open,high,low,close,volume`
//! into `candle_chunks`. The file's range `[first, last]` replaces exactly the stored candles
//! of that range: stored candles outside it stay, stored candles inside it that the file lacks
//! go, and a chunk whose candles did not change is not written, so a second import of the
//! same file writes nothing.
//!
//! ```text
//!  parse (columns, sorted, no repeated time) → tx { advisory lock on (market, timeframe)
//!    → read the stored chunks of the periods [first, last] touches
//!    → per period: stored candles outside [first, last] + the file's → canonical chunk
//!    → write the chunks that differ, delete the ones left empty }
//! ```

use crate::domain;
use crate::domain::series::{Fixed, Series};
use crate::store::candles::{self, NewChunk};
use crate::store::chunk;
use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Market symbol.
    pub market: String,
    /// Timeframe as given.
    pub timeframe: String,
    /// The file read.
    pub file: String,
    /// Data rows in the file.
    pub rows: usize,
    /// Candles stored by this import at open times that had none.
    pub inserted: usize,
    /// Candles that were already stored with the same values.
    pub skipped: usize,
    /// Candles stored with other values, now replaced by the file's.
    pub replaced: usize,
    /// Stored candles inside the file's range that the file does not have, now deleted.
    pub removed: usize,
    /// Chunk rows written or deleted.
    pub chunks_written: usize,
    /// First and last open time, unix seconds.
    pub first_open_time: Option<i64>,
    /// Last open time.
    pub last_open_time: Option<i64>,
}

/// Parses the CSV text into a series in time order (prices as written, exact). A repeated
/// open time is refused: which of the two would be the candle is not for the import to guess.
pub fn parse(text: &str) -> anyhow::Result<Series> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == "timestamp_ms,open,high,low,close,volume" => {}
        _ => bail!("the first line must be the header timestamp_ms,open,high,low,close,volume"),
    }
    let mut series = Series::with_capacity(text.len() / 48, 0, 0);
    let mut line_numbers = Vec::with_capacity(text.len() / 48);
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = index + 1;
        let mut fields = line.trim().split(',');
        let mut field = || fields.next();
        let (Some(timestamp), Some(open), Some(high), Some(low), Some(close), Some(volume), None) =
            (field(), field(), field(), field(), field(), field(), field())
        else {
            bail!("line {line_number}: expected 6 fields");
        };
        let timestamp: i64 = timestamp.parse().with_context(|| format!("line {line_number}: timestamp_ms"))?;
        if timestamp % 1000 != 0 {
            bail!("line {line_number}: timestamp_ms is not a whole second");
        }
        let number = |name: &str, text: &str| {
            Fixed::parse(text)
                .with_context(|| format!("line {line_number}: {name} is not a decimal of at most 18 digits"))
        };
        let prices = [number("open", open)?, number("high", high)?, number("low", low)?, number("close", close)?];
        series
            .push(timestamp / 1000, prices, number("volume", volume)?)
            .with_context(|| format!("line {line_number}: more digits than a column holds"))?;
        line_numbers.push(line_number);
    }
    let sorted = series.open_time.windows(2).all(|pair| pair[0] < pair[1]);
    if !sorted {
        let mut order: Vec<usize> = (0..series.len()).collect();
        order.sort_by_key(|index| series.open_time[*index]);
        if let Some(pair) = order.windows(2).find(|pair| series.open_time[pair[0]] == series.open_time[pair[1]]) {
            let (first, second) =
                (line_numbers[pair[0]].min(line_numbers[pair[1]]), line_numbers[pair[0]].max(line_numbers[pair[1]]));
            bail!("line {second}: open time {} repeats line {first}", series.open_time[pair[0]] * 1000);
        }
        let permute = |column: &Vec<i64>| order.iter().map(|index| column[*index]).collect::<Vec<i64>>();
        series = Series {
            open_time: permute(&series.open_time),
            open: permute(&series.open),
            high: permute(&series.high),
            low: permute(&series.low),
            close: permute(&series.close),
            volume: permute(&series.volume),
            ..series
        };
    }
    Ok(series)
}

/// The counts of one period's merge.
#[derive(Default)]
struct Counts {
    inserted: usize,
    skipped: usize,
    replaced: usize,
    removed: usize,
}

/// One period after the import: the stored candles outside `[first, last]`, then the file's.
fn merge(
    stored: Option<&Series>,
    file: &Series,
    (first, last): (i64, i64),
    counts: &mut Counts,
) -> anyhow::Result<Series> {
    let Some(stored) = stored else {
        counts.inserted += file.len();
        return Ok(file.clone());
    };
    let inside = stored.range(first, last.saturating_add(1));
    let mut at = inside.start;
    for index in 0..file.len() {
        let time = file.open_time[index];
        while at < inside.end && stored.open_time[at] < time {
            counts.removed += 1;
            at += 1;
        }
        if at < inside.end && stored.open_time[at] == time {
            if stored.same_candle(at, file, index) {
                counts.skipped += 1;
            } else {
                counts.replaced += 1;
            }
            at += 1;
        } else {
            counts.inserted += 1;
        }
    }
    counts.removed += inside.end - at;
    let mut merged = Series::with_capacity(stored.len() + file.len(), 0, 0);
    merged.extend_from(stored, 0..inside.start)?;
    merged.extend_from(file, 0..file.len())?;
    merged.extend_from(stored, inside.end..stored.len())?;
    merged.canonicalize();
    Ok(merged)
}

/// Imports `file` for `market` and `timeframe` into the database at `database_url`.
pub async fn run(database_url: &str, market: &str, timeframe: &str, file: &Path) -> anyhow::Result<ImportReport> {
    if domain::market(market).is_none() {
        bail!("unknown market {market:?} (SIM_BTC_USDT_, SIM_ETH_USDT_)");
    }
    let timeframe_secs =
        domain::parse_timeframe(timeframe).with_context(|| format!("timeframe {timeframe:?}: use e.g. 1m, 5m, 1h"))?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let series = parse(&text)?;
    drop(text);
    let mut report = ImportReport {
        market: market.to_string(),
        timeframe: timeframe.to_string(),
        file: file.display().to_string(),
        rows: series.len(),
        inserted: 0,
        skipped: 0,
        replaced: 0,
        removed: 0,
        chunks_written: 0,
        first_open_time: series.open_time.first().copied(),
        last_open_time: series.open_time.last().copied(),
    };
    let (Some(first), Some(last)) = (report.first_open_time, report.last_open_time) else {
        return Ok(report);
    };
    // The file's candles by period, each part canonical as a chunk would hold it.
    let mut parts: BTreeMap<i64, Series> = BTreeMap::new();
    let mut begin = 0;
    while begin < series.len() {
        let period = chunk::period_start(series.open_time[begin], timeframe_secs);
        let end = series.open_time.partition_point(|time| *time < period + chunk::period_secs(timeframe_secs));
        let mut part = Series::with_capacity(end - begin, 0, 0);
        part.extend_from(&series, begin..end)?;
        part.canonicalize();
        parts.insert(period, part);
        begin = end;
    }
    drop(series);
    let periods = (chunk::period_start(first, timeframe_secs), chunk::period_start(last, timeframe_secs));
    let mut connection = AsyncPgConnection::establish(database_url).await.context("connecting to the database")?;
    let counts = connection
        .transaction::<_, anyhow::Error, _>(async |tx| {
            candles::lock_series(tx, market, timeframe_secs).await?;
            let mut counts = Counts::default();
            let mut writes = Vec::new();
            let mut emptied = Vec::new();
            let mut rows: BTreeMap<i64, _> = candles::periods(tx, market, timeframe_secs, periods)
                .await?
                .into_iter()
                .map(|row| (row.period_start, row))
                .collect();
            // Every period holding a stored or a new candle of the range, in order.
            let mut keys: Vec<i64> = parts.keys().chain(rows.keys()).copied().collect();
            keys.sort_unstable();
            keys.dedup();
            for period in keys {
                let row = rows.remove(&period);
                let decoded = row.as_ref().map(|row| row.decode()).transpose().context("reading a stored chunk")?;
                let empty = Series::default();
                let file = parts.get(&period).unwrap_or(&empty);
                let merged = merge(decoded.as_ref(), file, (first, last), &mut counts)?;
                match (&row, merged.is_empty()) {
                    (Some(_), true) => emptied.push(period),
                    (None, true) => {}
                    (_, false) => {
                        let chunk = NewChunk::encode(market, timeframe_secs, period, &merged);
                        if !row.as_ref().is_some_and(|row| chunk.same_as(row)) {
                            writes.push(chunk);
                        }
                    }
                }
            }
            candles::upsert(tx, &writes).await?;
            candles::delete(tx, market, timeframe_secs, &emptied).await?;
            Ok((counts, writes.len() + emptied.len()))
        })
        .await;
    let (counts, chunks_written) = counts?;
    report.inserted = counts.inserted;
    report.skipped = counts.skipped;
    report.replaced = counts.replaced;
    report.removed = counts.removed;
    report.chunks_written = chunks_written;
    if chunks_written > 0 {
        // Fresh statistics for the planner after a bulk load (autovacuum would come later).
        diesel_async::RunQueryDsl::execute(diesel::sql_query("ANALYZE candle_chunks"), &mut connection)
            .await
            .context("analysing candle_chunks")?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_the_marketdata_format_exactly() {
        let text = "timestamp_ms,open,high,low,close,volume\n1689677460000,30015.32,30020,30015.32,30016.89,21.93033\n";
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows.open_time[0], 1_689_677_460);
        assert_eq!(rows.volume_at(0).to_string(), "21.93033");
        assert!(parse("nope\n").is_err());
        assert!(parse("timestamp_ms,open,high,low,close,volume\n1,2\n").is_err());
    }

    #[test]
    fn an_unsorted_file_is_sorted_and_a_repeated_time_refused() {
        let text = "timestamp_ms,open,high,low,close,volume\n120000,2,2,2,2,1\n60000,1,1,1,1,1\n";
        assert_eq!(parse(text).unwrap().open_time, [60, 120]);
        let repeated = format!("{text}120000,3,3,3,3,1\n");
        let error = parse(&repeated).unwrap_err().to_string();
        assert_eq!(error, "line 4: open time 120000 repeats line 2");
    }
}
