//! `start backtest`: validate, pick the timeframe, store the row and its `backtest queued`
//! event in one transaction; with an `Idempotency-Key`, the reply is stored in the same
//! transaction and a repeat replays it (see [`platform::idempotency`]).

use super::storage_error;
use crate::domain;
use crate::store::{backtests, candles};
use ::domain::BacktestId;
use bus::messages::BacktestQueued;
use bus::messages::backtest::{BacktestStarted, StartBacktest, StartBacktestReply};
use bus::messages::idempotency::{Command, Replayable};
use bus::{BusError, Subjects, Topic};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::db::{JsonText, PgPool};
use platform::idempotency;

/// The most candles a backtest may span, of the timeframe it would read: a bound on how long
/// one run keeps a worker (a 1-minute run of 5,000,000 candles is about 9.5 years).
pub const MAX_RANGE_CANDLES: i64 = 5_000_000;

/// How many candle slots of `timeframe_secs` the range `[start, end)` holds.
fn candles_in(start: i64, end: i64, timeframe_secs: i32) -> i64 {
    let step = i64::from(timeframe_secs.max(1));
    let span = end.saturating_sub(start).max(0);
    span / step + i64::from(span % step != 0)
}

/// Validates and queues a backtest, once per `Idempotency-Key` of the partner. `instance`
/// names the accepting executor.
pub async fn start(
    pool: &PgPool,
    subjects: &Subjects,
    instance: &str,
    command: Command<StartBacktest>,
) -> Result<Replayable<StartBacktestReply>, BusError> {
    let scope = command.command.partner_id;
    let topic = subjects.backtest_queued();
    let instance = instance.to_string();
    idempotency::run(pool, scope, command, move |connection, request| {
        Box::pin(async move { queue(connection, &topic, &instance, request).await })
    })
    .await
}

/// The work of [`start`] on one connection (inside the idempotency transaction when keyed).
async fn queue(
    connection: &mut AsyncPgConnection,
    topic: &Topic<BacktestQueued>,
    instance: &str,
    request: StartBacktest,
) -> Result<StartBacktestReply, BusError> {
    let valid = domain::validate(
        &request.script_type,
        &request.settings,
        request.exchange_id.as_deref(),
        request.start_unix,
        request.end_unix,
    )
    .map_err(BusError::invalid)?;
    let symbol = valid.market.symbol.clone();
    let coverage =
        candles::timeframes(connection, &symbol, request.start_unix, request.end_unix).await.map_err(storage_error)?;
    let Some(&finest) = coverage.first() else {
        return Ok(StartBacktestReply::NoPriceHistory {
            message: format!("No price history for {symbol} between {} and {}", request.start_unix, request.end_unix),
        });
    };
    let timeframe_secs = match valid.settings.interval() {
        None => finest,
        Some(minutes) => {
            let wanted = i32::try_from(u64::from(minutes) * 60).unwrap_or(i32::MAX);
            if !coverage.contains(&wanted) {
                let stored: Vec<String> = coverage.iter().map(|secs| (secs / 60).to_string()).collect();
                return Err(BusError::invalid(format!(
                    "settings.interval: no {minutes}-minute candles stored for {symbol} in the range (stored: {} minutes)",
                    stored.join(", ")
                )));
            }
            wanted
        }
    };
    // Checked only once history exists, so a range without any still answers "no price
    // history" (1007), however long.
    if candles_in(request.start_unix, request.end_unix, timeframe_secs) > MAX_RANGE_CANDLES {
        return Err(BusError::invalid(format!("startUnix..endUnix spans more than {MAX_RANGE_CANDLES} candles")));
    }
    let id = BacktestId::new();
    let row = backtests::NewBacktest {
        id,
        partner_id: request.partner_id,
        user_id: request.user_id,
        script_type: request.script_type,
        exchange_id: valid.exchange_id,
        market: symbol,
        timeframe_secs,
        settings: JsonText(valid.frozen),
        start_unix: request.start_unix,
        end_unix: request.end_unix,
        accepted_by: instance.to_string(),
        message: "Queued: waiting for a worker".to_string(),
    };
    connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            backtests::insert(tx, &row).await?;
            outbox::enqueue(tx, topic, &BacktestQueued { backtest_id: id }).await?;
            Ok(())
        })
        .await
        .map_err(storage_error)?;
    Ok(StartBacktestReply::Started(BacktestStarted {
        backtest_id: id,
        service_id: instance.to_string(),
        message: "Backtest started successfully. Use GET /bots/backtest/{id}/status to track progress.".to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_counts_every_started_candle_slot() {
        assert_eq!(candles_in(0, 60, 60), 1);
        assert_eq!(candles_in(0, 61, 60), 2);
        assert_eq!(candles_in(0, MAX_RANGE_CANDLES * 60, 60), MAX_RANGE_CANDLES);
        assert_eq!(candles_in(0, MAX_RANGE_CANDLES * 3600 + 1, 3600), MAX_RANGE_CANDLES + 1);
        assert_eq!(candles_in(i64::MIN, i64::MAX, 60), i64::MAX / 60 + 1);
        assert_eq!(candles_in(10, 0, 60), 0);
    }
}
