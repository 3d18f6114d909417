//! The worker pool: each task claims one job at a time from Postgres, runs the engine over
//! the stored candles chunk by chunk, and writes the results once.
//!
//! ```text
//!  `backtest queued` (JetStream) ──► wake ─┐
//!  poll interval ─────────────────────────┼─► claim (SKIP LOCKED, lease token) ─► run:
//!                                          │     loading_script → loading_data → executing
//!                                          │     every chunk: feed engine, fenced checkpoint
//!                                          │     (progress + lease renewal; lost → stop)
//!                                          └──── completed: results, logs, positions in one tx
//! ```
//!
//! A worker that dies leaves its lease to expire; the next claim restarts the job from its
//! first candle with a new token, and the dead worker's late writes are fenced out.

use crate::domain::results::{self, RunFacts};
use crate::domain::{self, State};
use crate::settings::WorkerSettings;
use crate::store::backtests::{self, ClaimedJob, NewLogLine, NewPosition};
use crate::store::candles;
use anyhow::Context;
use bus::messages::backtest::EquitySample;
use diesel_async::AsyncConnection;
use engine::{BotSettings, Candle, Engine, RunConfig};
use platform::db::{JsonText, PgPool};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};
use uuid::Uuid;

/// What every worker task of a process shares.
pub struct Workers {
    /// The executor's database.
    pub pool: PgPool,
    /// Pool settings.
    pub settings: WorkerSettings,
    /// The process's instance name; a worker is `<instance>/w<n>`.
    pub instance: String,
    /// Woken when a `backtest queued` message arrives.
    pub wake: Arc<Notify>,
    /// Test hook: releases workers paused at `pause_at_progress`.
    pub release: Arc<Notify>,
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Results are stored.
    Completed(Timings),
    /// Marked failed with the reason.
    Failed,
    /// The lease was lost or the job cancelled; nothing more was written.
    Abandoned,
    /// Shutdown: the lease was given back for another worker.
    Released,
}

/// Where a completed run spent its time (logged, and printed by `run-backtest`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Candles fed to the engine.
    pub candles: u64,
    /// Counting and reading the candles from Postgres, and converting them for the engine.
    pub load: Duration,
    /// The engine: `on_candles` and `finish`.
    pub run: Duration,
    /// Progress checkpoints (lease renewals) between chunks.
    pub checkpoints: Duration,
    /// Encoding the results and writing them, the logs and the positions in one transaction.
    pub store: Duration,
}

impl Workers {
    fn lease_secs(&self) -> f64 {
        self.settings.lease().as_secs_f64()
    }

    /// Runs worker `index` until shutdown.
    pub async fn run(self: Arc<Self>, index: usize, shutdown: CancellationToken) -> anyhow::Result<()> {
        let service_id = format!("{}/w{index}", self.instance);
        while !shutdown.is_cancelled() {
            match self.run_once(&service_id, &shutdown).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(error) => warn!(worker = %service_id, error = format!("{error:#}"), "worker round failed"),
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval()) => {}
                () = shutdown.cancelled() => {}
            }
        }
        Ok(())
    }

    /// Claims one job and runs it. `None` when no job was free.
    pub async fn run_once(&self, service_id: &str, shutdown: &CancellationToken) -> anyhow::Result<Option<Outcome>> {
        let token = Uuid::new_v4();
        let job = {
            let mut connection = self.pool.get().await?;
            backtests::claim(&mut connection, token, service_id, self.lease_secs()).await?
        };
        let Some(job) = job else { return Ok(None) };
        let span = info_span!("backtest.run", backtest.id = %job.id, worker = service_id, attempt = job.attempts);
        let outcome = self.execute(&job, token, shutdown).instrument(span).await?;
        info!(backtest.id = %job.id, worker = service_id, outcome = ?outcome, "backtest run ended");
        Ok(Some(outcome))
    }

    async fn checkpoint(
        &self,
        job: &ClaimedJob,
        token: Uuid,
        state: State,
        progress: u8,
        message: &str,
    ) -> anyhow::Result<bool> {
        let mut connection = self.pool.get().await?;
        let kept = backtests::checkpoint(
            &mut connection,
            job.id,
            token,
            state.as_str(),
            i16::from(progress),
            message,
            self.lease_secs(),
        )
        .await?;
        Ok(kept)
    }

    async fn fail(&self, job: &ClaimedJob, token: Uuid, message: &str) -> anyhow::Result<Outcome> {
        let mut connection = self.pool.get().await?;
        let failed = backtests::fail(&mut connection, job.id, token, message).await?;
        Ok(if failed { Outcome::Failed } else { Outcome::Abandoned })
    }

    async fn execute(&self, job: &ClaimedJob, token: Uuid, shutdown: &CancellationToken) -> anyhow::Result<Outcome> {
        let settings: BotSettings = match serde_json::from_str(&job.settings.0) {
            Ok(settings) => settings,
            Err(error) => return self.fail(job, token, &format!("Stored settings are unreadable: {error}")).await,
        };
        let Some(market) = domain::market(&job.market) else {
            return self.fail(job, token, &format!("Unknown market {}", job.market)).await;
        };
        let futures = matches!(settings, BotSettings::FuturesGrid(_) | BotSettings::FuturesDca(_));
        let config = RunConfig { interval_seconds: i64::from(job.timeframe_secs), ..RunConfig::default() };
        let mut run = match Engine::new(settings, market.clone(), config) {
            Ok(run) => run,
            Err(error) => return self.fail(job, token, &format!("The bot could not start: {error}")).await,
        };
        if !self.checkpoint(job, token, State::LoadingData, 0, "Loading historical price data from database").await? {
            return Ok(Outcome::Abandoned);
        }
        let mut timings = Timings::default();
        let loading = Instant::now();
        // Progress counts against the candle grid between the first and the last stored candle
        // (two index probes; a count would read every row): a gap only makes progress lag,
        // and it is 100 only once the results are stored.
        let span = {
            let mut connection = self.pool.get().await?;
            candles::span(&mut connection, &job.market, job.timeframe_secs, job.start_unix, job.end_unix).await?
        };
        let total = span.map_or(0, |(first, last)| {
            u64::try_from((last - first) / i64::from(job.timeframe_secs.max(1)) + 1).unwrap_or(0)
        });
        timings.load += loading.elapsed();
        if !self.checkpoint(job, token, State::Executing, 0, "Processing historical data...").await? {
            return Ok(Outcome::Abandoned);
        }
        let mut after = job.start_unix - 1;
        let mut done = 0u64;
        let mut paused = false;
        loop {
            let loading = Instant::now();
            let rows = {
                let mut connection = self.pool.get().await?;
                candles::page(
                    &mut connection,
                    &job.market,
                    job.timeframe_secs,
                    (after, job.end_unix),
                    self.settings.chunk_size,
                    market.price_decimals,
                )
                .await?
            };
            let Some(last) = rows.last() else { break };
            after = last.open_time;
            let mut chunk = Vec::with_capacity(rows.len());
            for row in &rows {
                match Candle::from_ticks(row.open_time, [row.open, row.high, row.low, row.close], row.volume) {
                    Ok(candle) => chunk.push(candle),
                    Err(error) => {
                        let message = format!("Bad candle at {}: {error}", row.open_time);
                        return self.fail(job, token, &message).await;
                    }
                }
            }
            timings.load += loading.elapsed();
            let running = Instant::now();
            run.on_candles(&chunk);
            timings.run += running.elapsed();
            done += chunk.len() as u64;
            let progress = domain::progress(done, total).min(99);
            if let Some(at) = self.settings.pause_at_progress.filter(|at| !paused && progress >= *at) {
                paused = true;
                info!(backtest.id = %job.id, progress, pause_at = at, "test hook: paused");
                tokio::select! {
                    () = self.release.notified() => {}
                    () = shutdown.cancelled() => {}
                }
            }
            if shutdown.is_cancelled() {
                let mut connection = self.pool.get().await?;
                backtests::release(&mut connection, job.id, token).await?;
                return Ok(Outcome::Released);
            }
            let checkpoint = Instant::now();
            if !self.checkpoint(job, token, State::Executing, progress, "Processing historical data...").await? {
                return Ok(Outcome::Abandoned);
            }
            timings.checkpoints += checkpoint.elapsed();
            if rows.len() < usize::try_from(self.settings.chunk_size).unwrap_or(usize::MAX) {
                break;
            }
        }
        let running = Instant::now();
        let report = run.finish();
        timings.run += running.elapsed();
        timings.candles = done;
        let storing = Instant::now();
        let facts = RunFacts {
            backtest_id: job.id,
            start_unix: job.start_unix,
            end_unix: job.end_unix,
            execution_start: job.execution_start,
            execution_end: chrono::Utc::now().timestamp(),
            user_id: job.user_id.clone(),
            futures,
        };
        let results = results::results_json(&report, &market, &facts).context("encoding results")?;
        let equity: Vec<EquitySample> = report
            .equity
            .iter()
            .map(|point| EquitySample { time: point.time, equity: point.equity, drawdown: point.drawdown })
            .collect();
        let equity = serde_json::to_string(&equity).context("encoding the equity curve")?;
        let logs: Vec<NewLogLine> = report
            .logs
            .iter()
            .enumerate()
            .map(|(number, line)| NewLogLine {
                backtest_id: job.id,
                line_number: i32::try_from(number).unwrap_or(i32::MAX),
                time: line.time,
                level: i16::from(u8::from(line.level)),
                message: line.message.clone(),
            })
            .collect();
        let positions: Vec<NewPosition> = report
            .positions
            .iter()
            .enumerate()
            .map(|(number, position)| NewPosition {
                backtest_id: job.id,
                position_no: i32::try_from(number).unwrap_or(i32::MAX),
                body: JsonText(results::compact_position(position, &report, &market, &facts)),
            })
            .collect();
        let mut connection = self.pool.get().await?;
        let written = connection
            .transaction::<_, diesel::result::Error, _>(async |tx| {
                if !backtests::complete(tx, job.id, token, JsonText(results), JsonText(equity)).await? {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                backtests::insert_logs(tx, &logs).await?;
                backtests::insert_positions(tx, &positions).await?;
                Ok(())
            })
            .await;
        match written {
            Ok(()) => {
                timings.store = storing.elapsed();
                Ok(Outcome::Completed(timings))
            }
            Err(diesel::result::Error::RollbackTransaction) => Ok(Outcome::Abandoned),
            Err(error) => Err(error).context("writing the results"),
        }
    }
}
