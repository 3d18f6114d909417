//! `backtest-executor run-backtest`: the benchmark hook. Stores a backtest exactly as the
//! `start backtest` request does (row + outbox event), then runs worker rounds in this
//! process until that backtest has finished, and reports the wall-clock time of each phase.

use crate::settings::ExecutorSettings;
use crate::store::backtests;
use crate::usecase::worker::Workers;
use anyhow::{Context, bail};
use bus::messages::backtest::{StartBacktest, StartBacktestReply};
use domain::PartnerId;
use serde_json::{json, value::RawValue};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Runs one backtest end to end against the configured database; returns the JSON report.
pub async fn run(
    settings: &ExecutorSettings,
    script_type: &str,
    bot: &str,
    start: i64,
    end: i64,
) -> anyhow::Result<serde_json::Value> {
    let pool = platform::db::pool(&settings.database).context("building the database pool")?;
    let subjects = settings.nats.subjects()?;
    let instance = platform::backend::instance_name("backtest-executor-bench");
    let request = StartBacktest {
        partner_id: PartnerId::new(),
        user_id: None,
        script_type: script_type.to_string(),
        exchange_id: None,
        settings: RawValue::from_string(bot.to_string()).context("--settings is not JSON")?,
        start_unix: start,
        end_unix: end,
    };
    let partner = request.partner_id;
    let began = Instant::now();
    let id = match super::start::start(&pool, &subjects, &instance, request).await? {
        StartBacktestReply::Started(started) => started.backtest_id,
        StartBacktestReply::NoPriceHistory { message } => bail!(message),
    };
    let stored_ms = began.elapsed().as_secs_f64() * 1000.0;
    let workers = Workers {
        pool: pool.clone(),
        settings: settings.worker.clone(),
        instance: instance.clone(),
        wake: Arc::new(Notify::new()),
        release: Arc::new(Notify::new()),
    };
    let shutdown = CancellationToken::new();
    let service_id = format!("{instance}/w0");
    let run_began = Instant::now();
    let state = loop {
        let status = {
            let mut connection = pool.get().await?;
            backtests::status(&mut connection, id, *partner.as_uuid()).await?.context("the backtest vanished")?
        };
        if !crate::domain::State::UNFINISHED.contains(&status.state.as_str()) {
            break status.state;
        }
        if workers.run_once(&service_id, &shutdown).await?.is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let run_s = run_began.elapsed().as_secs_f64();
    let candles = {
        let mut connection = pool.get().await?;
        let (timeframe, market) = crate::store::backtests::timeframe_of(&mut connection, id).await?;
        crate::store::candles::count(&mut connection, &market, timeframe, start, end).await?
    };
    Ok(json!({
        "backtestId": id,
        "state": state,
        "candles": candles,
        "storeMs": stored_ms,
        "runSeconds": run_s,
        "candlesPerSecond": if run_s > 0.0 { candles as f64 / run_s } else { 0.0 },
    }))
}
