//! The engine room: the runs this replica holds, trading on live quotes.
//!
//! ```text
//!  supervisor ── every lease/3, or woken by a change (NOTIFY runs_changed, any replica) ──┐
//!     renew the held runs' leases ─► newer definition ─► Apply ─┐
//!                                 └► not held any more ─► Lost ─┤
//!     claim runs that need an owner ───────────────────► Adopt ─┤
//!                                                               ▼
//!  quote listener ── <p>.md.feed.quote.v1.* (once) ──────► market task (one per symbol):
//!                                                          engines, fenced commits
//! ```
//!
//! A graceful stop checkpoints every run and gives it back at once; dropping the room without
//! one (a killed process) aborts every task, and the runs wait for their leases to run out
//! before another replica restores them from what was committed.

mod lines;
mod market;
pub mod run;
mod signals;

use crate::clock::SharedClock;
use crate::settings::LiveSettings;
use crate::store::runs::RUNS_CHANGED;
use crate::store::runtime::{self, ClaimedRun, HeldDefinition};
use crate::store::signals::{self as stored_signals, SIGNALS_PENDING};
use bus::Subjects;
use bus::messages::market::QuoteMsg;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::LiveRunId;
use futures::{FutureExt, StreamExt};
use lease::Claim;
use market::MarketTask;
use platform::db::PgPool;
use run::RunDefaults;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

/// The most runs claimed in one statement (a replica claims again at once while it gets this
/// many).
const CLAIM_BATCH: i64 = 500;

/// The most leases renewed in one statement.
const RENEW_CHUNK: usize = 1000;

/// Quotes waiting for one market's task; beyond this the task is behind and quotes are dropped
/// (missed quotes are never replayed).
const QUOTE_BACKLOG: usize = 1024;

/// What a market task is told besides quotes.
pub enum MarketInput {
    /// A run this replica just claimed.
    Adopt(Box<ClaimedRun>),
    /// A held run's row holds a newer definition.
    Apply(HeldDefinition),
    /// A held run (by this claim) was taken over or finished elsewhere.
    Lost(Claim),
}

/// What the renewal knows of a held run.
#[derive(Clone, Debug)]
struct HeldRun {
    claim: Claim,
    revision: i64,
    /// Its market (a run keeps its market for life: the symbol is not editable).
    symbol: Arc<str>,
}

/// Quote → decision and quote → persisted latencies, recorded only when asked for
/// (`just bench live`).
#[derive(Clone, Debug, Default)]
pub struct Latency {
    samples: Option<Arc<Mutex<LatencySamples>>>,
}

/// The samples of a [`Latency`] recorder.
#[derive(Clone, Debug, Default)]
pub struct LatencySamples {
    /// Around the engine calls of one quote on one market (every run of it), no database.
    pub decided: Vec<Duration>,
    /// From the quote's arrival at its market's task until its effects were committed.
    pub persisted: Vec<Duration>,
}

impl Latency {
    /// A recorder that keeps its samples.
    pub fn recording() -> Self {
        Self { samples: Some(Arc::default()) }
    }

    /// The samples so far, taken.
    pub fn take(&self) -> LatencySamples {
        self.samples
            .as_ref()
            .map(|samples| std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner)))
            .unwrap_or_default()
    }

    fn decided(&self, took: Duration, runs: usize) {
        if let (Some(samples), true) = (&self.samples, runs > 0) {
            samples.lock().unwrap_or_else(PoisonError::into_inner).decided.push(took);
        }
    }

    fn persisted(&self, took: Duration) {
        if let Some(samples) = &self.samples {
            samples.lock().unwrap_or_else(PoisonError::into_inner).persisted.push(took);
        }
    }
}

/// What every part of the room shares.
pub struct Context {
    pool: PgPool,
    /// The prefix's subjects, for the events written with the commits.
    subjects: Subjects,
    clock: SharedClock,
    live: LiveSettings,
    defaults: RunDefaults,
    latency: Latency,
    held: Mutex<HashMap<LiveRunId, HeldRun>>,
    /// Counts the wake-ups for new pending signals (`NOTIFY signals_pending`) of every market
    /// and of each: a market task that saw another count looks for its runs' pending receipts
    /// at its next quote.
    signals_pending: SignalWakeUps,
}

/// The wake-ups for pending signals so far: those for every market, and per market.
#[derive(Default)]
struct SignalWakeUps {
    every_market: AtomicU64,
    per_market: Mutex<HashMap<String, u64>>,
}

impl SignalWakeUps {
    /// Counts a `NOTIFY signals_pending` with its payload: the markets it names, or every one.
    fn heard(&self, payload: &str) {
        if payload.is_empty() {
            self.every_market.fetch_add(1, Ordering::AcqRel);
            return;
        }
        let mut per_market = self.per_market.lock().unwrap_or_else(PoisonError::into_inner);
        for symbol in payload.split(',') {
            *per_market.entry(symbol.to_string()).or_default() += 1;
        }
    }

    /// What `symbol`'s task compares with the count it looked at last.
    fn generation(&self, symbol: &str) -> u64 {
        let own = self.per_market.lock().unwrap_or_else(PoisonError::into_inner).get(symbol).copied().unwrap_or(0);
        AtomicU64::load(&self.every_market, Ordering::Acquire).wrapping_add(own)
    }
}

impl Context {
    /// The count of wake-ups for new pending signals on `symbol` so far.
    fn signals_generation(&self, symbol: &str) -> u64 {
        self.signals_pending.generation(symbol)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<LiveRunId, HeldRun>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A market task no longer holds `run` by `claim` (a newer claim of it stays).
    fn forget(&self, run: LiveRunId, claim: Claim) {
        let mut held = self.held();
        if held.get(&run).is_some_and(|entry| entry.claim == claim) {
            held.remove(&run);
        }
    }

    /// A market task applied `revision` of `run`.
    fn applied(&self, run: LiveRunId, revision: i64) {
        if let Some(held) = self.held().get_mut(&run) {
            held.revision = held.revision.max(revision);
        }
    }
}

/// One market task's queues.
#[derive(Clone)]
struct MarketHandle {
    inputs: mpsc::UnboundedSender<MarketInput>,
    quotes: mpsc::Sender<QuoteMsg>,
}

/// What the room needs to start.
pub struct RoomParts {
    /// The runner's database.
    pub pool: PgPool,
    /// NATS, for the quotes.
    pub nats: async_nats::Client,
    /// The prefix's subjects.
    pub subjects: Subjects,
    /// This replica's name: the lease owner.
    pub owner: String,
    /// The runner's clock.
    pub clock: SharedClock,
    /// The `live` settings.
    pub live: LiveSettings,
    /// Woken when a run's row changed (the consumer, the reconciliation).
    pub wake: Arc<Notify>,
    /// The database, for the connection that listens to run changes of every replica.
    pub database_url: String,
    /// Where the latest quote of each market is kept.
    pub last_quotes: LastQuotes,
    /// Latency recording (off unless benchmarking).
    pub latency: Latency,
}

/// The running engine room.
pub struct EngineRoom {
    /// Stops the supervisor: no more claims, renewals or inputs.
    stop_claims: CancellationToken,
    /// The supervisor's task.
    claims: TaskTracker,
    /// Stops the listener and the market tasks, once the supervisor has stopped.
    stop: CancellationToken,
    tasks: TaskTracker,
    aborts: Arc<Mutex<Vec<AbortHandle>>>,
}

/// Spawns tasks on the room's tracker, remembering how to abort them.
#[derive(Clone)]
struct Spawner {
    tasks: TaskTracker,
    aborts: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Spawner {
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let handle = self.tasks.spawn(task);
        self.aborts.lock().unwrap_or_else(PoisonError::into_inner).push(handle.abort_handle());
    }
}

impl EngineRoom {
    /// Starts the quote listener and the supervisor (which starts market tasks as it claims
    /// runs on them).
    pub async fn start(parts: RoomParts) -> anyhow::Result<Self> {
        let RoomParts { pool, nats, subjects, owner, clock, live, wake, database_url, last_quotes, latency } = parts;
        let stop = CancellationToken::new();
        let spawner = Spawner { tasks: TaskTracker::new(), aborts: Arc::default() };
        let context = Arc::new(Context {
            pool,
            subjects: subjects.clone(),
            clock,
            defaults: RunDefaults { starting_quote: live.sim_starting_quote },
            live,
            latency,
            held: Mutex::default(),
            signals_pending: SignalWakeUps::default(),
        });
        let markets: Markets = Arc::default();
        // Subscribed before anything is claimed, so a claimed run's market is already heard.
        let subscription = nats.subscribe(subjects.quotes().subject().to_string()).await?;
        nats.flush().await?;
        spawner.spawn(listen(subscription, markets.clone(), last_quotes, stop.clone()));
        spawner.spawn(hear_changes(database_url, wake.clone(), context.clone(), stop.clone()));
        let stop_claims = CancellationToken::new();
        let supervisor = Supervisor {
            context,
            owner,
            markets,
            wake,
            stop_claims: stop_claims.clone(),
            stop_markets: stop.clone(),
            spawner: spawner.clone(),
        };
        let claims = TaskTracker::new();
        let handle = claims.spawn(supervisor.run());
        spawner.aborts.lock().unwrap_or_else(PoisonError::into_inner).push(handle.abort_handle());
        Ok(Self { stop_claims, claims, stop, tasks: spawner.tasks, aborts: spawner.aborts })
    }

    /// A graceful stop: the supervisor first (nothing more is claimed), then every market task
    /// checkpoints its runs and gives them back.
    pub async fn stop(self) {
        self.stop_claims.cancel();
        self.claims.close();
        self.claims.wait().await;
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for EngineRoom {
    /// Without [`EngineRoom::stop`], every task is aborted: nothing more is written, and the
    /// leases run out (as when the process is killed).
    fn drop(&mut self) {
        for handle in self.aborts.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            handle.abort();
        }
    }
}

type Markets = Arc<RwLock<HashMap<String, MarketHandle>>>;

/// The latest quote heard on each market, by symbol (every replica hears every market): what
/// open positions are marked at.
pub type LastQuotes = Arc<RwLock<HashMap<String, QuoteMsg>>>;

/// Keeps each market's latest quote and hands the quote to its market's task, if this replica
/// holds runs on it.
async fn listen(
    mut subscription: async_nats::Subscriber,
    markets: Markets,
    last_quotes: LastQuotes,
    stop: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            () = stop.cancelled() => return,
            message = subscription.next() => message,
        };
        let Some(message) = message else {
            warn!("quote subscription ended");
            return;
        };
        let quote: QuoteMsg = match serde_json::from_slice(&message.payload) {
            Ok(quote) => quote,
            Err(error) => {
                warn!(subject = %message.subject, error = %error, "undecodable quote dropped");
                continue;
            }
        };
        if let Err(error) = quote.check() {
            warn!(subject = %message.subject, error = %error, "invalid quote dropped");
            continue;
        }
        last_quotes.write().unwrap_or_else(PoisonError::into_inner).insert(quote.symbol.to_string(), quote.clone());
        let handle = markets.read().unwrap_or_else(PoisonError::into_inner).get(quote.symbol.as_str()).cloned();
        if let Some(handle) = handle
            && let Err(mpsc::error::TrySendError::Full(quote)) = handle.quotes.try_send(quote)
        {
            debug!(market = %quote.symbol, "market task behind; quote dropped");
        }
    }
}

/// Wakes the supervisor whenever any replica changed a run (`NOTIFY runs_changed` in the
/// transaction of the change), and the market tasks whenever a signal left receipts pending
/// (`NOTIFY signals_pending`), on a connection of its own outside the pool; reconnects after a
/// second when it is lost. Without it the holder would learn of a change at its next renewal.
async fn hear_changes(database_url: String, wake: Arc<Notify>, context: Arc<Context>, stop: CancellationToken) {
    loop {
        let heard = async {
            let mut connection = AsyncPgConnection::establish(&database_url).await?;
            diesel::sql_query(format!("LISTEN {RUNS_CHANGED}")).execute(&mut connection).await?;
            diesel::sql_query(format!("LISTEN {SIGNALS_PENDING}")).execute(&mut connection).await?;
            // What was written while no connection listened is caught by these first wakes.
            wake.notify_one();
            context.signals_pending.heard("");
            let mut notifications = std::pin::pin!(connection.notifications_stream());
            while let Some(notification) = notifications.next().await {
                let notification = notification?;
                if notification.channel == SIGNALS_PENDING {
                    context.signals_pending.heard(&notification.payload);
                } else {
                    wake.notify_one();
                }
            }
            anyhow::Ok(())
        };
        tokio::select! {
            () = stop.cancelled() => return,
            outcome = heard => if let Err(error) = outcome {
                warn!(error = format!("{error:#}"), "listening to run changes failed; reconnecting");
            },
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Claims runs, renews their leases, and tells the market tasks.
struct Supervisor {
    context: Arc<Context>,
    owner: String,
    markets: Markets,
    wake: Arc<Notify>,
    stop_claims: CancellationToken,
    /// What the market tasks it starts stop on.
    stop_markets: CancellationToken,
    spawner: Spawner,
}

impl Supervisor {
    async fn run(self) {
        let every = (self.context.live.lease() / 3).max(Duration::from_millis(10));
        loop {
            if let Err(error) = self.round().await {
                error!(error = format!("{error:#}"), "claiming or renewing runs failed; retrying");
            }
            tokio::select! {
                () = self.stop_claims.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    async fn round(&self) -> anyhow::Result<()> {
        let mut connection = self.context.pool.get().await?;
        self.renew(&mut connection).await?;
        // A bot stopped before its owner delivered its signals has no owner left to do it. A
        // failed sweep is tried again next round; it never holds back the claims.
        match stored_signals::skip_for_stopped_bots(&mut connection).await {
            Ok(0) => {}
            Ok(skipped) => info!(receipts = skipped, "signals of stopped bots skipped"),
            Err(error) => warn!(error = %error, "sweeping stopped bots' signals failed; tried again next round"),
        }
        loop {
            let claimed = runtime::claim(&mut connection, &self.owner, self.context.live.lease(), CLAIM_BATCH).await?;
            let count = claimed.len();
            for run in claimed {
                self.adopt(run);
            }
            if count < usize::try_from(CLAIM_BATCH).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    async fn renew(&self, connection: &mut diesel_async::AsyncPgConnection) -> anyhow::Result<()> {
        let held: Vec<(LiveRunId, HeldRun)> =
            self.context.held().iter().map(|(id, held)| (*id, held.clone())).collect();
        if held.is_empty() {
            return Ok(());
        }
        let claims: Vec<(Claim, i64)> = held.iter().map(|(_, held)| (held.claim, held.revision)).collect();
        // In chunks: each statement locks its rows briefly, never all of a large replica's.
        let mut renewed = Vec::with_capacity(claims.len());
        for chunk in claims.chunks(RENEW_CHUNK) {
            renewed.extend(runtime::renew(connection, chunk, self.context.live.lease()).await?);
        }
        let still: HashMap<LiveRunId, &HeldDefinition> = renewed.iter().map(|row| (row.id, row)).collect();
        for (id, run) in held {
            let input = match still.get(&id) {
                None => MarketInput::Lost(run.claim),
                Some(definition) if definition.revision > run.revision => MarketInput::Apply((*definition).clone()),
                Some(_) => continue,
            };
            self.send(&run.symbol, input);
        }
        Ok(())
    }

    fn adopt(&self, run: ClaimedRun) {
        let symbol = serde_json::from_str::<serde_json::Value>(&run.market)
            .ok()
            .and_then(|market| market["symbol"].as_str().map(str::to_string))
            .unwrap_or_default();
        let held = HeldRun { claim: run.claim(), revision: run.revision, symbol: Arc::from(symbol.as_str()) };
        self.context.held().insert(run.id, held);
        info!(run.id = %run.id, bot.id = %run.bot_id, revision = run.revision, market = %symbol, "run claimed");
        self.send(&symbol, MarketInput::Adopt(Box::new(run)));
    }

    /// Sends `input` to `symbol`'s task, starting the task if it has none yet.
    fn send(&self, symbol: &str, input: MarketInput) {
        let handle = self.markets.read().unwrap_or_else(PoisonError::into_inner).get(symbol).cloned();
        let handle = handle.unwrap_or_else(|| self.start_market(symbol));
        if handle.inputs.send(input).is_err() {
            warn!(market = %symbol, "market task gone; input dropped");
        }
    }

    fn start_market(&self, symbol: &str) -> MarketHandle {
        let (inputs, input_rx) = mpsc::unbounded_channel();
        let (quotes, quote_rx) = mpsc::channel(QUOTE_BACKLOG);
        let handle = MarketHandle { inputs, quotes };
        self.markets.write().unwrap_or_else(PoisonError::into_inner).insert(symbol.to_string(), handle.clone());
        let task = MarketTask::new(symbol.to_string(), self.context.clone());
        let (context, markets, symbol_owned) = (self.context.clone(), self.markets.clone(), symbol.to_string());
        let run = AssertUnwindSafe(task.run(input_rx, quote_rx, self.stop_markets.clone())).catch_unwind();
        self.spawner.spawn(async move {
            if run.await.is_err() {
                // A bug met some input. The engines in memory are gone: the task's runs are let
                // go (no more renewals), so once their leases run out they are claimed again and
                // restored from what was committed, in a new task for the market.
                error!(market = %symbol_owned, "market task panicked; its runs are taken over once their leases run out");
                markets.write().unwrap_or_else(PoisonError::into_inner).remove(&symbol_owned);
                context.held().retain(|_, held| *held.symbol != *symbol_owned);
            }
        });
        info!(market = %symbol, "market task started");
        handle
    }
}

#[cfg(test)]
mod tests {
    use super::SignalWakeUps;

    #[test]
    fn a_wake_up_reaches_the_markets_it_names_or_every_market() {
        let wake_ups = SignalWakeUps::default();
        let before = ["SIM_BTC_USDT_", "SIM_ETH_USDT_", "AAPL"].map(|symbol| wake_ups.generation(symbol));
        wake_ups.heard("SIM_BTC_USDT_,SIM_ETH_USDT_");
        let named = ["SIM_BTC_USDT_", "SIM_ETH_USDT_", "AAPL"].map(|symbol| wake_ups.generation(symbol));
        assert_ne!(named[0], before[0]);
        assert_ne!(named[1], before[1]);
        assert_eq!(named[2], before[2], "a market not named is not woken");
        wake_ups.heard("");
        assert_ne!(wake_ups.generation("AAPL"), named[2], "an empty payload wakes every market");
        assert_ne!(wake_ups.generation("SIM_BTC_USDT_"), named[0]);
    }
}
