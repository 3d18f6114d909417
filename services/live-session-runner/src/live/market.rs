//! One market's task: it holds the engines of the runs this replica owns on that market,
//! feeds them the market's quotes and the clock's ticks, and commits what they did.
//!
//! ```text
//!  quotes (bounded; dropped when the task falls behind: missed quotes are not replayed)
//!  inputs (adopt a claimed run, apply a newer definition, drop a lost run)
//!  pending signals (looked for at a quote after a NOTIFY signals_pending or an adoption)
//!  tick every live.tick_ms ─► stale-feed watchdog, RSI bars, checkpoints due
//!      │
//!      ▼
//!  engines ─► writes of the runs with effects ─► one fenced commit ─► runs whose claim did
//!                                                                    not hold are dropped
//! ```
//!
//! Inputs with effects are committed before the next input is taken: a committed batch is
//! each engine's consistent prefix (its checkpoint after the input, its effects up to it). A
//! run whose input had no effects is only marked dirty and checkpointed within
//! `live.checkpoint_secs`, batched with the market's other dirty runs.

use super::lines;
use super::run::{Adoption, Applied, LiveRun};
use super::{Context, MarketInput};
use crate::store::runtime::{self, HeldDefinition, RunWrite};
use crate::store::signals::{self, PendingReceipt};
use bus::messages::market::QuoteMsg;
use domain::{BotId, LiveRunId};
use engine::{LogLevel, Quote};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

/// The most inputs (claims, definitions) taken before their writes are committed together.
const INPUT_BATCH: usize = 1000;

/// The most runs written in one transaction (`just bench live`: at 10,000 runs one
/// transaction of every checkpoint took seconds).
const COMMIT_CHUNK: usize = 500;

/// One market's runs and feed state.
pub struct MarketTask {
    symbol: String,
    context: Arc<Context>,
    runs: BTreeMap<LiveRunId, LiveRun>,
    /// The time of the latest quote, or when the task began (the watchdog's reference).
    last_quote_ms: i64,
    /// In a stale episode: its warning is written, "Market data resumed" is due.
    stale: bool,
    /// When the dirty runs were last checkpointed (the runner's clock).
    last_checkpoint_ms: i64,
    /// The count of pending-signal wake-ups this task has looked for receipts after.
    signals_seen: u64,
    /// A run was adopted since: it may have receipts from before.
    signals_due: bool,
}

impl MarketTask {
    /// A task for `symbol` with no runs yet.
    pub fn new(symbol: String, context: Arc<Context>) -> Self {
        let now = context.clock.now_ms();
        Self {
            symbol,
            context,
            runs: BTreeMap::new(),
            last_quote_ms: now,
            stale: false,
            last_checkpoint_ms: now,
            signals_seen: 0,
            signals_due: true,
        }
    }

    /// Runs until `stop` fires, then checkpoints its dirty runs and gives every run back.
    /// Aborting the task instead (a killed process) leaves the leases to run out: what was
    /// committed is all another replica restores.
    pub async fn run(
        mut self,
        mut inputs: mpsc::UnboundedReceiver<MarketInput>,
        mut quotes: mpsc::Receiver<QuoteMsg>,
        stop: CancellationToken,
    ) {
        let mut ticks = tokio::time::interval(self.context.live.tick());
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                Some(input) = inputs.recv() => {
                    // Inputs come in bursts (a claim of hundreds of runs): all that are
                    // waiting are taken, then written in one commit.
                    self.on_input(input).await;
                    for _ in 1..INPUT_BATCH {
                        let Ok(input) = inputs.try_recv() else { break };
                        self.on_input(input).await;
                    }
                    self.write(false).await;
                }
                Some(quote) = quotes.recv() => self.on_quote(&quote).await,
                _ = ticks.tick() => self.on_tick().await,
            }
        }
        self.shut_down().await;
    }

    async fn on_input(&mut self, input: MarketInput) {
        let now = self.context.clock.now_ms();
        match input {
            MarketInput::Adopt(row) => {
                // A run claimed again after this replica's own lease ran out: the claim just
                // made is the one that holds; the engine in memory may be ahead of what was
                // committed, so it is rebuilt from the checkpoint.
                self.runs.remove(&row.id);
                match LiveRun::adopt(*row, &self.context.defaults, now) {
                    Adoption::Run(run) => {
                        info!(run.id = %run.id, bot.id = %run.bot_id, market = %self.symbol, "run adopted");
                        self.runs.insert(run.id, *run);
                        self.signals_due = true;
                    }
                    Adoption::Purge(held) => self.purge(LiveRunId::from_uuid(held.id), held).await,
                    Adoption::Failed(write) => {
                        warn!(run.id = %write.held.id, "run cannot be run at this revision");
                        self.commit(vec![*write]).await;
                    }
                }
            }
            MarketInput::Apply(definition) => self.apply(&definition, now).await,
            MarketInput::Lost(held) => {
                let run = LiveRunId::from_uuid(held.id);
                if self.runs.get(&run).is_some_and(|live| live.held == held) {
                    warn!(run.id = %run, "lease lost: the run is dropped here");
                    self.runs.remove(&run);
                }
                self.context.forget(run, held);
            }
        }
    }

    async fn apply(&mut self, definition: &HeldDefinition, now: i64) {
        let Some(run) = self.runs.get_mut(&definition.id) else { return };
        match run.apply(definition, now) {
            Applied::Keep => self.context.applied(run.id, run.revision),
            Applied::Purge => {
                let held = run.held;
                self.purge(definition.id, held).await;
            }
        }
    }

    async fn purge(&mut self, run: LiveRunId, held: lease::Claim) {
        self.runs.remove(&run);
        self.context.forget(run, held);
        let purged = async {
            let mut connection = self.context.pool.get().await?;
            anyhow::Ok(runtime::purge(&mut connection, held).await?)
        };
        match purged.await {
            Ok(true) => info!(run.id = %run, "deleted bot's run purged"),
            Ok(false) => warn!(run.id = %run, "lease lost before the purge; its new holder purges it"),
            Err(error) => {
                error!(run.id = %run, error = format!("{error:#}"), "purge failed; retried once the lease runs out")
            }
        }
    }

    async fn on_quote(&mut self, quote: &QuoteMsg) {
        let now = self.context.clock.now_ms();
        if self.stale {
            self.stale = false;
            for run in self.runs.values_mut() {
                run.note(now, LogLevel::Info, lines::MARKET_DATA_RESUMED.to_string());
            }
        }
        // A quote stamped ahead of the clock counts as now: one stamped far in the future must
        // not silence the watchdog until then.
        self.last_quote_ms = self.last_quote_ms.max(quote.time_ms.min(now));
        let stale_after = self.context.live.stale_after_ms;
        let mut signals = self.pending_signals().await;
        let started = Instant::now();
        for run in self.runs.values_mut() {
            let converted = Quote::from_decimals(run.market(), quote.time_ms, quote.bid, quote.ask, quote.last);
            let Ok(converted) = converted else {
                debug!(run.id = %run.id, "quote does not fit the run's market; skipped");
                self.signals_due |= signals.remove(&run.bot_id).is_some();
                continue;
            };
            if let Some(before) = run.take_quiet_since().filter(|before| quote.time_ms - before > stale_after) {
                run.note(now, LogLevel::Warning, lines::resumed_after(quote.time_ms - before));
            }
            if let Some(pending) = signals.remove(&run.bot_id) {
                if run.takes_quote_at(quote.time_ms) {
                    pending.iter().for_each(|signal| run.deliver(signal, now));
                } else {
                    // The engine skips this quote: the signals wait for the next one.
                    self.signals_due = true;
                }
            }
            run.on_quote(&converted);
        }
        self.context.latency.decided(started.elapsed(), self.runs.len());
        if self.write(false).await {
            self.context.latency.persisted(started.elapsed());
        }
        self.checkpoint_if_due(now).await;
    }

    /// The pending receipts of this task's runs, by bot, when a signal may have come since the
    /// last look (a wake-up, or a run adopted); none otherwise, without asking the database. A
    /// failed look is tried again at the next quote.
    async fn pending_signals(&mut self) -> HashMap<BotId, Vec<PendingReceipt>> {
        let generation = self.context.signals_generation(&self.symbol);
        if (!self.signals_due && generation == self.signals_seen) || self.runs.is_empty() {
            return HashMap::new();
        }
        let bots: Vec<BotId> = self.runs.values().map(|run| run.bot_id).collect();
        let loaded = async {
            let mut connection = self.context.pool.get().await?;
            anyhow::Ok(signals::pending_for(&mut connection, &bots).await?)
        };
        match loaded.await {
            Ok(pending) => {
                (self.signals_seen, self.signals_due) = (generation, false);
                let mut by_bot: HashMap<BotId, Vec<PendingReceipt>> = HashMap::new();
                for receipt in pending {
                    by_bot.entry(receipt.bot_id).or_default().push(receipt);
                }
                by_bot
            }
            Err(error) => {
                warn!(market = %self.symbol, error = format!("{error:#}"), "pending signals not read; tried again");
                HashMap::new()
            }
        }
    }

    async fn on_tick(&mut self) {
        let now = self.context.clock.now_ms();
        let quiet = now - self.last_quote_ms;
        if !self.stale && !self.runs.is_empty() && quiet > self.context.live.stale_after_ms {
            self.stale = true;
            let line = lines::market_data_stale(&self.symbol, quiet);
            for run in self.runs.values_mut() {
                run.note(now, LogLevel::Warning, line.clone());
            }
        }
        for run in self.runs.values_mut() {
            run.on_tick(now);
        }
        self.write(false).await;
        self.checkpoint_if_due(now).await;
    }

    async fn checkpoint_if_due(&mut self, now: i64) {
        let every = i64::try_from(self.context.live.checkpoint_secs).unwrap_or(i64::MAX).saturating_mul(1000);
        if now - self.last_checkpoint_ms < every {
            return;
        }
        self.last_checkpoint_ms = now;
        self.write(true).await;
    }

    /// Commits what the runs did since their last write; with `checkpoint`, also the
    /// checkpoints of runs that only processed inputs without effects. Returns whether a
    /// commit was made.
    async fn write(&mut self, checkpoint: bool) -> bool {
        let mut writes = Vec::new();
        let mut broken = Vec::new();
        for (id, run) in &mut self.runs {
            match run.take_write(checkpoint && run.is_dirty()) {
                Ok(Some(write)) => writes.push(write),
                Ok(None) => {}
                Err(error) => {
                    error!(run.id = %id, error = %error, "run state could not be serialised; dropped");
                    broken.push(*id);
                }
            }
        }
        for id in broken {
            if let Some(run) = self.runs.remove(&id) {
                self.context.forget(id, run.held);
            }
        }
        let wrote = !writes.is_empty();
        self.commit(writes).await;
        wrote
    }

    /// Commits `writes` in one transaction (tried twice: a transaction that failed wrote
    /// nothing, so it can be replayed); drops the runs whose claim did not hold and those given
    /// back. If both tries fail, every run of the batch is dropped from memory: what is
    /// committed is what another claim restores once their leases run out.
    async fn commit(&mut self, mut writes: Vec<RunWrite>) {
        // A transaction per chunk: one of ten thousand runs' checkpoints would outlast the
        // statement timeout and hold the runs' row locks the renewals wait for.
        while writes.len() > COMMIT_CHUNK {
            let rest = writes.split_off(COMMIT_CHUNK);
            self.commit_chunk(writes).await;
            writes = rest;
        }
        self.commit_chunk(writes).await;
    }

    async fn commit_chunk(&mut self, writes: Vec<RunWrite>) {
        if writes.is_empty() {
            return;
        }
        let mut outcome = self.try_commit(&writes).await;
        if let Err(error) = &outcome {
            warn!(market = %self.symbol, runs = writes.len(), error = format!("{error:#}"), "commit failed; trying once more");
            outcome = self.try_commit(&writes).await;
        }
        match outcome {
            Ok(applied) => {
                for write in &writes {
                    let id = LiveRunId::from_uuid(write.held.id);
                    if !applied.contains(&id) {
                        warn!(run.id = %id, "lease lost: the run is dropped here");
                        self.drop_run(id, write.held);
                    } else if write.release {
                        debug!(run.id = %id, state = write.state.as_str(), "run finished; given back");
                        self.drop_run(id, write.held);
                    }
                }
            }
            Err(error) => {
                error!(market = %self.symbol, runs = writes.len(), error = format!("{error:#}"), "commit failed; runs dropped until their leases run out");
                for write in &writes {
                    self.drop_run(LiveRunId::from_uuid(write.held.id), write.held);
                }
            }
        }
    }

    async fn try_commit(&self, writes: &[RunWrite]) -> anyhow::Result<std::collections::HashSet<LiveRunId>> {
        let mut connection = self.context.pool.get().await?;
        Ok(runtime::commit(&mut connection, &self.context.subjects, writes).await?)
    }

    /// Drops a run held by `held` (a newer claim of the same run, adopted meanwhile, stays).
    fn drop_run(&mut self, run: LiveRunId, held: lease::Claim) {
        if self.runs.get(&run).is_some_and(|live| live.held == held) {
            self.runs.remove(&run);
        }
        self.context.forget(run, held);
    }

    /// A graceful stop: the dirty runs are checkpointed, then every run is given back.
    async fn shut_down(&mut self) {
        self.write(true).await;
        let held: Vec<lease::Claim> = self.runs.values().map(|run| run.held).collect();
        let released = async {
            let mut connection = self.context.pool.get().await?;
            anyhow::Ok(runtime::release(&mut connection, &held).await?)
        };
        match released.await {
            Ok(count) => debug!(market = %self.symbol, runs = count, "runs given back"),
            Err(error) => {
                warn!(market = %self.symbol, error = format!("{error:#}"), "runs not given back; their leases run out")
            }
        }
        for (id, held) in self.runs.values().map(|run| (run.id, run.held)).collect::<Vec<_>>() {
            self.drop_run(id, held);
        }
    }
}
