//! The worker pool: each task claims one job at a time from Postgres, runs the engine over
//! the stored candles chunk by chunk, and writes the results once.
//!
//! ```text
//!  `backtest queued` (JetStream) ──► wake ─┐
//!  poll interval ─────────────────────────┼─► fail jobs claimed `max_attempts` times
//!                                          ├─► claim (SKIP LOCKED, lease token) ─► run:
//!                                          │     lease timer: renew every lease/3 (lost → stop)
//!                                          │     loading_script → loading_data → executing
//!                                          │     every chunk (from the read-ahead reader):
//!                                          │     feed the engine on a blocking thread;
//!                                          │     fenced checkpoint (progress) every 250 ms
//!                                          └──── completed: results, logs, positions in one tx
//! ```
//!
//! A worker that dies leaves its lease to expire; the next claim restarts the job from its
//! first candle with a new token, and the dead worker's late writes are fenced out. A job whose
//! runs keep dying (a crash, an engine panic) is claimed `worker.max_attempts` times, then
//! marked `failed` ("stopped after 3 attempts"). The engine runs off the async runtime
//! (`spawn_blocking`), so a long chunk never stalls the responders, the relay or the lease
//! timer of the process.

use crate::domain::results::{self, RunFacts};
use crate::domain::{self, State};
use crate::settings::WorkerSettings;
use crate::store::backtests::{self, NewLogLine, NewPosition};
use crate::store::candles;
use crate::store::runs::{self, BACKTESTS, ClaimedJob, Release};
use crate::usecase::reader::{ReadError, ReadPlan, Reader};
use anyhow::Context;
use bus::messages::backtest::EquitySample;
use diesel_async::AsyncConnection;
use engine::{BotSettings, Engine, RunConfig};
use lease::{LeaseTimer, Token};
use platform::db::{JsonText, PgPool};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug_span, error, info, info_span, warn};

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
    /// Test hook (`app::TestHooks`): the progress a worker pauses at; `None` in production.
    pub pause_at_progress: Option<u8>,
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
    /// The engine panicked: the lease was given back at once and the claim counts toward
    /// `worker.max_attempts`.
    Crashed,
}

/// Where a completed run spent its time (logged, and printed by `run-backtest`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Candles fed to the engine.
    pub candles: u64,
    /// Waiting for candles: the range's bounds, then each batch the reader had not ready yet.
    pub load: Duration,
    /// The reader's own time fetching and decoding candles, mostly while the engine ran.
    pub read: Duration,
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
            // Listening before the claim: a wake-up that comes while this round finds nothing
            // is kept for the wait below instead of being missed until the next poll.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.run_once(&service_id, &shutdown).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(error) => warn!(worker = %service_id, error = format!("{error:#}"), "worker round failed"),
            }
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(self.settings.poll_interval()) => {}
                () = shutdown.cancelled() => {}
            }
        }
        Ok(())
    }

    /// Claims one job and runs it. `None` when no job was free.
    pub async fn run_once(&self, service_id: &str, shutdown: &CancellationToken) -> anyhow::Result<Option<Outcome>> {
        let max_attempts = i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX);
        let job = {
            let mut connection = self.pool.get().await?;
            for id in runs::fail_exhausted(&mut connection, max_attempts).await? {
                warn!(backtest.id = %id, max_attempts, "backtest failed: every claim of it died");
            }
            runs::claim(&mut connection, service_id, self.settings.lease(), max_attempts).await?
        };
        let Some(job) = job else { return Ok(None) };
        let span = info_span!("backtest.run", backtest.id = %job.id, worker = service_id, attempt = job.attempts);
        let token = job.claim_token;
        let lease = LeaseTimer::start(self.pool.clone(), &BACKTESTS, job.held(), self.settings.lease());
        let outcome = self.execute(&job, token, &lease, shutdown).instrument(span).await?;
        drop(lease);
        info!(backtest.id = %job.id, worker = service_id, outcome = ?outcome, "backtest run ended");
        Ok(Some(outcome))
    }

    /// Runs `work` (the engine) on a blocking thread, so the runtime's threads stay free for
    /// the process's other tasks. A panic in it is `Err` with the panic's text.
    async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
        let span = debug_span!("backtest.engine");
        let work = move || span.in_scope(work);
        tokio::task::spawn_blocking(work).await.map_err(|error| match error.try_into_panic() {
            Ok(panic) => match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
                (Some(text), _) => (*text).to_string(),
                (None, Some(text)) => text.clone(),
                (None, None) => "a panic without a message".to_string(),
            },
            Err(error) => error.to_string(),
        })
    }

    /// Gives the lease back after the engine panicked: counted, and free for a retry at once.
    async fn crashed(&self, job: &ClaimedJob, token: Token, panic: &str) -> anyhow::Result<Outcome> {
        error!(backtest.id = %job.id, attempt = job.attempts, panic, "the engine panicked; the job is given back");
        let mut connection = self.pool.get().await?;
        runs::release(&mut connection, job.id, token, Release::Crashed).await?;
        Ok(Outcome::Crashed)
    }

    async fn checkpoint(
        &self,
        job: &ClaimedJob,
        token: Token,
        state: State,
        progress: u8,
        message: &str,
    ) -> anyhow::Result<bool> {
        let mut connection = self.pool.get().await?;
        let kept = runs::checkpoint(
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

    async fn fail(&self, job: &ClaimedJob, token: Token, message: &str) -> anyhow::Result<Outcome> {
        let mut connection = self.pool.get().await?;
        let failed = runs::fail(&mut connection, job.id, token, message).await?;
        Ok(if failed { Outcome::Failed } else { Outcome::Abandoned })
    }

    async fn execute(
        &self,
        job: &ClaimedJob,
        token: Token,
        lease: &LeaseTimer,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Outcome> {
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
        // near the range (chunk bounds, no body read; a count would decode every chunk): a gap
        // only makes progress lag, and it is 100 only once the results are stored.
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
        let mut reader = Reader::start(
            self.pool.clone(),
            ReadPlan {
                market: job.market.clone(),
                timeframe_secs: job.timeframe_secs,
                start: job.start_unix,
                end: job.end_unix,
                price_decimals: market.price_decimals,
                batch: usize::try_from(self.settings.chunk_size).unwrap_or(usize::MAX).max(1),
            },
        );
        let mut done = 0u64;
        let mut paused = false;
        let mut last_checkpoint = Instant::now();
        loop {
            // Only the wait counts as loading: the reader fetched and decoded this batch while
            // the engine ran the previous one.
            let waiting = Instant::now();
            let next = reader.next().await;
            timings.load += waiting.elapsed();
            let chunk = match next {
                None => break,
                Some(Ok(chunk)) => chunk,
                Some(Err(error @ ReadError::BadCandle { .. })) => {
                    return self.fail(job, token, &error.to_string()).await;
                }
                Some(Err(error)) => return Err(error.into()),
            };
            let running = Instant::now();
            let fed = Self::off_runtime(move || {
                run.on_candles(&chunk);
                (run, chunk.len())
            })
            .await;
            let fed_candles;
            (run, fed_candles) = match fed {
                Ok(fed) => fed,
                Err(panic) => return self.crashed(job, token, &panic).await,
            };
            timings.run += running.elapsed();
            done += fed_candles as u64;
            if lease.lost() {
                return Ok(Outcome::Abandoned);
            }
            let progress = domain::progress(done, total).min(99);
            let pause = self.pause_at_progress.filter(|at| !paused && progress >= *at);
            if let Some(at) = pause {
                paused = true;
                info!(backtest.id = %job.id, progress, pause_at = at, "test hook: paused");
                tokio::select! {
                    () = self.release.notified() => {}
                    () = shutdown.cancelled() => {}
                }
            }
            if shutdown.is_cancelled() {
                let mut connection = self.pool.get().await?;
                runs::release(&mut connection, job.id, token, Release::Shutdown).await?;
                return Ok(Outcome::Released);
            }
            // Progress is written at most every `worker.checkpoint_ms`: a write per chunk costs
            // more than the engine's work on it at a million candles. The lease timer renews
            // the lease meanwhile, and a cancel is seen at the next write, or by the fenced
            // write of the results, which then changes nothing.
            if pause.is_some() || last_checkpoint.elapsed() >= self.settings.checkpoint_interval() {
                let checkpoint = Instant::now();
                if !self.checkpoint(job, token, State::Executing, progress, "Processing historical data...").await? {
                    return Ok(Outcome::Abandoned);
                }
                timings.checkpoints += checkpoint.elapsed();
                last_checkpoint = Instant::now();
            }
        }
        timings.read = reader.busy().await;
        let mut facts = RunFacts {
            backtest_id: job.id,
            start_unix: job.start_unix,
            end_unix: job.end_unix,
            execution_start: job.execution_start,
            execution_end: 0,
            user_id: job.user_id.clone(),
            futures,
        };
        // Finishing the run and encoding what it produced is the engine's work too.
        let finished = Self::off_runtime(move || {
            let running = Instant::now();
            let report = run.finish();
            let run_time = running.elapsed();
            let storing = Instant::now();
            facts.execution_end = chrono::Utc::now().timestamp();
            encode(&report, &market, &facts).map(|encoded| (encoded, run_time, storing.elapsed()))
        })
        .await;
        let (Encoded { results, equity, logs, positions }, run_time, encoding) = match finished {
            Ok(finished) => finished?,
            Err(panic) => return self.crashed(job, token, &panic).await,
        };
        timings.run += run_time;
        timings.candles = done;
        let storing = Instant::now();
        let mut connection = self.pool.get().await?;
        let written = connection
            .transaction::<_, diesel::result::Error, _>(async |tx| {
                if !runs::complete(tx, job.id, token, JsonText(results), JsonText(equity)).await? {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                backtests::insert_logs(tx, &logs).await?;
                backtests::insert_positions(tx, &positions).await?;
                Ok(())
            })
            .await;
        match written {
            Ok(()) => {
                timings.store = encoding + storing.elapsed();
                Ok(Outcome::Completed(timings))
            }
            Err(diesel::result::Error::RollbackTransaction) => Ok(Outcome::Abandoned),
            Err(error) => Err(error).context("writing the results"),
        }
    }
}

/// What a finished run stores.
struct Encoded {
    results: String,
    equity: String,
    logs: Vec<NewLogLine>,
    positions: Vec<NewPosition>,
}

/// Encodes a finished run's report as stored: results, equity curve, log lines, positions.
fn encode(report: &engine::Report, market: &engine::MarketSpec, facts: &RunFacts) -> anyhow::Result<Encoded> {
    let results = results::results_json(report, market, facts).context("encoding results")?;
    let equity: Vec<EquitySample> = report
        .equity
        .iter()
        .map(|point| EquitySample { time: point.time, equity: point.equity, drawdown: point.drawdown })
        .collect();
    let equity = serde_json::to_string(&equity).context("encoding the equity curve")?;
    let logs = report
        .logs
        .iter()
        .enumerate()
        .map(|(number, line)| NewLogLine {
            backtest_id: facts.backtest_id,
            line_number: i32::try_from(number).unwrap_or(i32::MAX),
            time: line.time,
            level: i16::from(u8::from(line.level)),
            message: line.message.clone(),
        })
        .collect();
    let positions = report
        .positions
        .iter()
        .enumerate()
        .map(|(number, position)| NewPosition {
            backtest_id: facts.backtest_id,
            position_no: i32::try_from(number).unwrap_or(i32::MAX),
            body: JsonText(results::compact_position(position, report, market, facts)),
        })
        .collect();
    Ok(Encoded { results, equity, logs, positions })
}
