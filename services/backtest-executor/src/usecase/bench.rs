//! `backtest-executor run-backtest`: the benchmark hook. Stores backtests exactly as the
//! `start backtest` request does (row + outbox event), then runs worker tasks in this process
//! until every one has finished, and reports the wall-clock time of each phase and the
//! process's peak resident memory.

use crate::settings::Settings;
use crate::store::backtests;
use crate::usecase::worker::{Outcome, Timings, Workers};
use anyhow::{Context, bail};
use bus::messages::backtest::{StartBacktest, StartBacktestReply};
use bus::messages::idempotency::{Command, Replayable};
use domain::PartnerId;
use serde_json::{json, value::RawValue};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What to run: `count` copies of one backtest, on `workers` worker tasks of this process.
#[derive(Clone, Debug)]
pub struct BenchPlan {
    /// Script type, e.g. `spot_grid`.
    pub script_type: String,
    /// The bot settings as JSON.
    pub settings: String,
    /// Range start, unix seconds.
    pub start: i64,
    /// Range end (exclusive).
    pub end: i64,
    /// Backtests stored at once.
    pub count: usize,
    /// Worker tasks running them.
    pub workers: usize,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs the plan's backtests end to end against the configured database; returns the JSON
/// report: the phases of one backtest, or with several, the wall time of all and each one's
/// phases.
pub async fn run(settings: &Settings, plan: &BenchPlan) -> anyhow::Result<serde_json::Value> {
    let pool = platform::db::pool(&settings.database).context("building the database pool")?;
    let subjects = settings.nats.subjects()?;
    let instance = platform::backend::instance_name("backtest-executor-bench");
    let partner = PartnerId::new();
    let began = Instant::now();
    let mut ids = Vec::with_capacity(plan.count);
    for _ in 0..plan.count.max(1) {
        let request = StartBacktest {
            partner_id: partner,
            user_id: None,
            script_type: plan.script_type.clone(),
            exchange_id: None,
            settings: RawValue::from_string(plan.settings.clone()).context("--settings is not JSON")?,
            start_unix: plan.start,
            end_unix: plan.end,
        };
        let reply = match super::start::start(&pool, &subjects, &instance, Command::new(request)).await? {
            Replayable::Fresh(reply) => reply,
            Replayable::Replayed(raw) => serde_json::from_str(raw.get())?,
        };
        match reply {
            StartBacktestReply::Started(started) => ids.push(started.backtest_id),
            StartBacktestReply::NoPriceHistory { message } => bail!(message),
        }
    }
    let stored_ms = ms(began.elapsed());
    let workers = Arc::new(Workers {
        pool: pool.clone(),
        settings: settings.worker.clone(),
        instance: instance.clone(),
        wake: Arc::new(Notify::new()),
        pause_at_progress: None,
        release: Arc::new(Notify::new()),
    });
    let run_began = Instant::now();
    // Each worker task claims backtests until none is left unclaimed.
    let tasks: Vec<_> = (0..plan.workers.max(1))
        .map(|index| {
            let (workers, service_id) = (workers.clone(), format!("{instance}/w{index}"));
            tokio::spawn(async move {
                let shutdown = CancellationToken::new();
                let mut completed = Vec::new();
                while let Some(outcome) = workers.run_once(&service_id, &shutdown).await? {
                    if let Outcome::Completed(timings) = outcome {
                        completed.push(timings);
                    }
                }
                anyhow::Ok(completed)
            })
        })
        .collect();
    let mut runs = Vec::new();
    for task in tasks {
        runs.extend(task.await??);
    }
    let run_s = run_began.elapsed().as_secs_f64();
    let total_s = began.elapsed().as_secs_f64();
    let mut states = Vec::new();
    for id in &ids {
        let mut connection = pool.get().await?;
        let status = backtests::status(&mut connection, *id, partner).await?.context("a backtest vanished")?;
        states.push(status.state);
    }
    let candles: u64 = runs.iter().map(|timings| timings.candles).sum();
    let phases = |timings: &Timings| {
        json!({
            "candles": timings.candles,
            "loadMs": ms(timings.load),
            "readMs": ms(timings.read),
            "engineMs": ms(timings.run),
            "checkpointMs": ms(timings.checkpoints),
            "storeMs": ms(timings.store),
        })
    };
    let peak_rss_mb = peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    if let ([id], [state], [timings]) = (ids.as_slice(), states.as_slice(), runs.as_slice()) {
        let mut report = json!({
            "backtestId": id,
            "state": state,
            "startMs": stored_ms,
            "runSeconds": run_s,
            "totalSeconds": total_s,
            "candlesPerSecond": if total_s > 0.0 { candles as f64 / total_s } else { 0.0 },
            "peakRssMb": peak_rss_mb,
        });
        if let (Some(report), serde_json::Value::Object(phases)) = (report.as_object_mut(), phases(timings)) {
            report.extend(phases);
        }
        return Ok(report);
    }
    Ok(json!({
        "count": ids.len(),
        "workers": plan.workers.max(1),
        "completed": states.iter().filter(|state| *state == "completed").count(),
        "candles": candles,
        "startMs": stored_ms,
        "runSeconds": run_s,
        "candlesPerSecond": if run_s > 0.0 { candles as f64 / run_s } else { 0.0 },
        "peakRssMb": peak_rss_mb,
        "runs": runs.iter().map(phases).collect::<Vec<_>>(),
    }))
}

/// This process's peak resident set (`VmHWM` in `/proc/self/status`), in KiB; `None` off Linux.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes `candles` candles derived from the CSV `source` (`timestamp_ms,open,high,low,close,
/// volume`) by ping-pong replication, re-stamped every `step_secs` from `start_unix`: the
/// series forward, then time-reversed with open and close swapped (high, low and volume
/// kept), then forward again, ... so the price path stays continuous and inside the real range
/// (plain repetition would jump at every seam). Prices keep their written digits.
pub fn ping_pong(
    source: &str,
    candles: u64,
    start_unix: i64,
    step_secs: i64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let rows: Vec<[&str; 5]> = source
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.trim().split(',').collect();
            match fields[..] {
                [_, open, high, low, close, volume] => Ok([open, high, low, close, volume]),
                _ => Err(anyhow::anyhow!("expected 6 fields in {line:?}")),
            }
        })
        .collect::<anyhow::Result<_>>()?;
    if rows.is_empty() {
        bail!("the source has no candles");
    }
    writeln!(out, "timestamp_ms,open,high,low,close,volume")?;
    let period = rows.len() as u64;
    for index in 0..candles {
        let lap = index / period;
        let offset = usize::try_from(index % period)?;
        let [open, high, low, close, volume] = if lap.is_multiple_of(2) {
            rows[offset]
        } else {
            let [open, high, low, close, volume] = rows[rows.len() - 1 - offset];
            [close, high, low, open, volume]
        };
        let time_ms = (start_unix + i64::try_from(index)? * step_secs) * 1000;
        writeln!(out, "{time_ms},{open},{high},{low},{close},{volume}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ping_pong_mirrors_the_series_with_open_and_close_swapped() {
        let source = "timestamp_ms,open,high,low,close,volume\n0,1,3,0.5,2,10\n60000,2,4,1.5,3,20\n";
        let mut out = Vec::new();
        ping_pong(source, 5, 100, 60, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "timestamp_ms,open,high,low,close,volume",
                "100000,1,3,0.5,2,10",
                "160000,2,4,1.5,3,20",
                "220000,3,4,1.5,2,20",
                "280000,2,3,0.5,1,10",
                "340000,1,3,0.5,2,10",
            ]
        );
        assert!(peak_rss_kb().is_some_and(|kb| kb > 0));
    }
}
