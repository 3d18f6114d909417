//! `backtest-executor import-candles`: a CSV of `timestamp_ms,open,high,low,close,volume`
//! into `candles`, idempotently (rows already stored are skipped).

use crate::domain;
use crate::store::candles::{self, NewCandle};
use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::Path;

/// Rows per multi-row insert (8 parameters each, below Postgres's 65,535).
const BATCH: usize = 5_000;

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
    /// Rows stored by this import.
    pub inserted: usize,
    /// Rows that were already stored.
    pub skipped: usize,
    /// First and last open time, unix seconds.
    pub first_open_time: Option<i64>,
    /// Last open time.
    pub last_open_time: Option<i64>,
}

/// Parses the CSV text into candles (prices as written, exact).
pub fn parse(market: &str, timeframe_secs: i32, text: &str) -> anyhow::Result<Vec<NewCandle>> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == "timestamp_ms,open,high,low,close,volume" => {}
        _ => bail!("the first line must be the header timestamp_ms,open,high,low,close,volume"),
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = index + 1;
        let fields: Vec<&str> = line.trim().split(',').collect();
        let [timestamp, open, high, low, close, volume] = fields[..] else {
            bail!("line {line_number}: expected 6 fields");
        };
        let timestamp: i64 = timestamp.parse().with_context(|| format!("line {line_number}: timestamp_ms"))?;
        if timestamp % 1000 != 0 {
            bail!("line {line_number}: timestamp_ms is not a whole second");
        }
        let number = |name: &str, text: &str| -> anyhow::Result<Decimal> {
            Decimal::from_str_exact(text).with_context(|| format!("line {line_number}: {name} is not a decimal"))
        };
        rows.push(NewCandle {
            market: market.to_string(),
            timeframe_secs,
            open_time: timestamp / 1000,
            open: number("open", open)?,
            high: number("high", high)?,
            low: number("low", low)?,
            close: number("close", close)?,
            volume: number("volume", volume)?,
        });
    }
    Ok(rows)
}

/// Imports `file` for `market` and `timeframe` into the database at `database_url`.
pub async fn run(database_url: &str, market: &str, timeframe: &str, file: &Path) -> anyhow::Result<ImportReport> {
    if domain::market(market).is_none() {
        bail!("unknown market {market:?} (SIM_BTC_USDT_, SIM_ETH_USDT_)");
    }
    let timeframe_secs =
        domain::parse_timeframe(timeframe).with_context(|| format!("timeframe {timeframe:?}: use e.g. 1m, 5m, 1h"))?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let rows = parse(market, timeframe_secs, &text)?;
    let mut connection = AsyncPgConnection::establish(database_url).await.context("connecting to the database")?;
    let mut inserted = 0;
    for batch in rows.chunks(BATCH) {
        inserted += candles::insert(&mut connection, batch).await.context("inserting candles")?;
    }
    if inserted > 0 {
        // Fresh statistics for the planner after a bulk load (autovacuum would come later).
        diesel_async::RunQueryDsl::execute(diesel::sql_query("ANALYZE candles"), &mut connection)
            .await
            .context("analysing candles")?;
    }
    Ok(ImportReport {
        market: market.to_string(),
        timeframe: timeframe.to_string(),
        file: file.display().to_string(),
        rows: rows.len(),
        inserted,
        skipped: rows.len() - inserted,
        first_open_time: rows.iter().map(|row| row.open_time).min(),
        last_open_time: rows.iter().map(|row| row.open_time).max(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_the_marketdata_format_exactly() {
        let text = "timestamp_ms,open,high,low,close,volume\n1689677460000,30015.32,30020,30015.32,30016.89,21.93033\n";
        let rows = parse("SIM_BTC_USDT_", 60, text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].open_time, 1_689_677_460);
        assert_eq!(rows[0].volume.to_string(), "21.93033");
        assert!(parse("SIM_BTC_USDT_", 60, "nope\n").is_err());
        assert!(parse("SIM_BTC_USDT_", 60, "timestamp_ms,open,high,low,close,volume\n1,2\n").is_err());
    }
}
