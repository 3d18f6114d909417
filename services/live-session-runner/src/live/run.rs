//! One hosted bot's run in memory: its engine, the claim it is held by, and the runner's own
//! lines of its log. It turns the runner's inputs (a claim, a newer definition, quotes, clock
//! ticks) into engine calls, and what the engine did into one [`RunWrite`].
//!
//! ```text
//!  claimed row ─► adopt ─┬─ desired deleted ───────────────► purge
//!                        ├─ engine cannot be built ────────► "Bot stopped: <why>", failed revision
//!                        └─ engine (restored or fresh) ─┬─ stopped → running: "Bot started", resume
//!                                                       ├─ running → stopped: "Bot stopped: …", stop
//!                                                       └─ running → running: an owner died; carry on
//!  newer definition ─► apply: settings edited live ("Settings updated: …"), then start / stop
//!  pending signals ─► deliver (with the quote that follows) ─► receipts
//!  quote, tick ─► engine ─► take_write: drain ─► effects + checkpoint (one fenced commit)
//! ```
//!
//! Nothing here touches the database: the market task commits the writes and drops a run
//! whose claim did not hold.

use crate::ids::{RuntimeKind, runtime_id};
use crate::live::{lines, signals};
use crate::store::runs::parse_desired;
use crate::store::runtime::{
    CHECKPOINT_FORMAT, ClaimedRun, Effects, FillRow, HeldDefinition, LineRow, LiveEvents, OrderRow, PositionRow,
    RunState, RunWrite,
};
use crate::store::signals::{BOT_IS_STOPPED, PendingReceipt, ReceiptRow};
use crate::wire::wire_name;
use bus::messages::hosted::Desired;
use bus::messages::live::{BotStopped, BotTotals, FillMsg, FillRecorded, FilledPosition};
use domain::{BotId, LiveRunId};
use engine::{
    BotSettings, Engine, EngineEvent, EngineState, EventKind, Fill, LiveConfig, LogLevel, MarketSpec, OrderStatus,
    PositionStatus, Quote, RunConfig,
};
use lease::Claim;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// A line of the runner's own, waiting for the next write.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Note {
    time: i64,
    level: LogLevel,
    message: String,
}

/// A hosted bot's run held by this replica.
pub struct LiveRun {
    /// The run.
    pub id: LiveRunId,
    /// The hosted bot.
    pub bot_id: BotId,
    /// The claim every write names.
    pub held: Claim,
    /// The ledger's revision applied.
    pub revision: i64,
    desired: Desired,
    state: RunState,
    script_type: String,
    market: MarketSpec,
    engine: Engine,
    next_log_line: i64,
    last_quote_ms: Option<i64>,
    notes: Vec<Note>,
    /// The row changed (state, revision applied) since the last write.
    changed: bool,
    /// Inputs were processed since the last checkpoint.
    dirty: bool,
    /// Restored after its owner died: the time of the last quote it saw then, to say how long
    /// it went without at the first quote.
    quiet_since: Option<i64>,
    /// The revision cannot run: the run stops and is given back, not claimed again until a
    /// newer revision.
    failed_revision: Option<i64>,
    /// The bot stopped itself (or cannot run): the ledger is told with the next write.
    stopped_event: Option<String>,
    /// The engine deactivated the bot (why): the ledger's stop that follows is not logged
    /// again, and a newer revision that still says running is told again (the ledger refused
    /// the stop because the bot changed since the revision it named).
    self_stopped: Option<String>,
    /// Signals settled since the last write (skipped here, or acted on by the engine).
    receipts: Vec<ReceiptRow>,
    /// The delivery ids handed to the engine and not settled yet: never handed twice.
    in_engine: BTreeSet<i64>,
}

/// What a claim becomes.
pub enum Adoption {
    /// A run to keep in memory (its first write is due at once).
    Run(Box<LiveRun>),
    /// A deleted bot: purge its rows.
    Purge(Claim),
    /// A run that cannot be run at this revision: write this and give it back.
    Failed(Box<RunWrite>),
}

/// What a newer definition asks of a held run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Keep the run (its next write says what changed).
    Keep,
    /// The bot was deleted: purge its rows.
    Purge,
}

/// What every run of this runner is built with.
#[derive(Clone, Debug)]
pub struct RunDefaults {
    /// A new bot's paper balance, quote currency.
    pub starting_quote: Decimal,
}

/// The settings of a definition, tagged with its script type, as the engine reads them.
pub fn bot_settings(script_type: &str, settings: &str) -> Result<BotSettings, String> {
    let script_type = serde_json::to_string(script_type).map_err(|error| error.to_string())?;
    let tagged = format!("{{\"type\":{script_type},\"settings\":{settings}}}");
    serde_json::from_str(&tagged).map_err(|error| format!("settings: {error}"))
}

impl LiveRun {
    /// Builds a just-claimed run: restores its engine from the checkpoint (or starts a fresh
    /// one) and brings it to the desired state.
    pub fn adopt(row: ClaimedRun, defaults: &RunDefaults, now_ms: i64) -> Adoption {
        let held = row.claim();
        let (Some(desired), Some(state)) = (parse_desired(&row.desired), RunState::parse(&row.state)) else {
            let reason = format!("unknown state {}/{}", row.desired, row.state);
            return Adoption::Failed(Box::new(failed(&row, reason, false, now_ms)));
        };
        if desired == Desired::Deleted || state == RunState::Deleted {
            return Adoption::Purge(held);
        }
        let market = match engine_market(&row) {
            Ok(market) => market,
            Err(reason) => return Adoption::Failed(Box::new(failed(&row, reason, false, now_ms))),
        };
        let restored = match restore(&row) {
            Ok(restored) => restored,
            Err(reason) => return Adoption::Failed(Box::new(failed(&row, reason, true, now_ms))),
        };
        if let Some(when) = row.checkpoint_abandoned_at.filter(|_| restored.is_none()) {
            let reason = format!(
                "its saved state was lost on {} and a new engine would reuse its order and position ids; \
                 create a new bot",
                when.format("%Y-%m-%d %H:%M:%S UTC")
            );
            return Adoption::Failed(Box::new(failed(&row, reason, false, now_ms)));
        }
        let settings = bot_settings(&row.script_type, &row.settings);
        let (engine, was_restored) = match (restored, &settings) {
            (Some(engine), _) => (engine, true),
            (None, Ok(settings)) => match fresh_engine(settings, &market, defaults) {
                Ok(engine) => (engine, false),
                Err(reason) => return Adoption::Failed(Box::new(failed(&row, reason, false, now_ms))),
            },
            (None, Err(reason)) => return Adoption::Failed(Box::new(failed(&row, reason.clone(), false, now_ms))),
        };
        let mut run = LiveRun {
            id: row.id,
            bot_id: row.bot_id,
            held,
            revision: row.revision,
            desired,
            state,
            script_type: row.script_type.clone(),
            market,
            engine,
            next_log_line: row.next_log_line,
            last_quote_ms: row.last_quote_ms,
            notes: Vec::new(),
            changed: true,
            dirty: false,
            quiet_since: None,
            failed_revision: None,
            stopped_event: None,
            self_stopped: None,
            receipts: Vec::new(),
            in_engine: BTreeSet::new(),
        };
        if row.next_log_line == 0 {
            run.note(row.created_at.timestamp_millis(), LogLevel::Info, "Bot created".to_string());
        }
        let settings = match settings {
            Ok(settings) => settings,
            // The saved engine is fine but this revision's settings are not: it stops (its
            // orders cancelled, positions kept) until the ledger sends a newer revision.
            Err(reason) => {
                run.fail(reason, now_ms);
                return Adoption::Run(Box::new(run));
            }
        };
        // An edit made while nobody held the run; one already applied (or refused) by the
        // engine that was saved is not applied again.
        if was_restored && row.applied_revision != Some(row.revision) {
            run.update_settings(settings, now_ms);
        }
        match (desired, state) {
            (Desired::Running, RunState::Running) => run.quiet_since = row.last_quote_ms,
            (Desired::Running, _) => run.start(was_restored, now_ms),
            (_, RunState::Running) => run.stop(now_ms),
            _ => {}
        }
        Adoption::Run(Box::new(run))
    }

    /// This revision cannot run: the reason in the log, the engine stopped (orders cancelled,
    /// positions kept), the revision marked failed and the run given back.
    fn fail(&mut self, reason: String, now_ms: i64) {
        self.note(now_ms, LogLevel::Error, format!("Bot stopped: {reason}"));
        self.stopped_event = Some(reason.clone());
        if !self.engine.is_stopped() {
            self.engine.stop(false);
        }
        self.state = RunState::Stopped;
        self.failed_revision = Some(self.revision);
    }

    /// Applies a newer definition: the edited settings, then a start or a stop. An older or
    /// equal revision changes nothing.
    pub fn apply(&mut self, definition: &HeldDefinition, now_ms: i64) -> Applied {
        if definition.revision <= self.revision {
            return Applied::Keep;
        }
        self.revision = definition.revision;
        self.changed = true;
        let Some(desired) = parse_desired(&definition.desired) else {
            self.note(now_ms, LogLevel::Error, format!("Unknown desired state {}", definition.desired));
            return Applied::Keep;
        };
        if desired == Desired::Deleted {
            return Applied::Purge;
        }
        match bot_settings(&self.script_type, &definition.settings) {
            Ok(settings) => self.update_settings(settings, now_ms),
            Err(error) => self.note(now_ms, LogLevel::Error, format!("Settings not applied: {error}")),
        }
        self.desired = desired;
        match (desired, self.state) {
            (Desired::Running, RunState::Stopped) => self.start(true, now_ms),
            (Desired::Stopped, RunState::Running) => self.stop(now_ms),
            // The engine stopped the bot, but the ledger's stop lost to this newer revision
            // (an edit): tell it again at this one, or the ledger says running for ever.
            (Desired::Running, RunState::Running) => {
                if let Some(reason) = &self.self_stopped {
                    self.stopped_event = Some(reason.clone());
                }
            }
            _ => {}
        }
        Applied::Keep
    }

    fn update_settings(&mut self, settings: BotSettings, now_ms: i64) {
        if &settings == self.engine.settings() {
            return;
        }
        let changes = lines::settings_changes(self.engine.settings(), &settings);
        match self.engine.update_settings(settings) {
            Ok(()) => self.note(now_ms, LogLevel::Info, format!("Settings updated: {changes}")),
            Err(error) => self.note(now_ms, LogLevel::Error, format!("Settings not applied: {error}")),
        }
    }

    /// Starts the engine: a restored one resumes ("Bot started"); a fresh one starts at its
    /// first quote and says so itself.
    fn start(&mut self, restored: bool, now_ms: i64) {
        self.self_stopped = None;
        if restored {
            self.note(now_ms, LogLevel::Info, "Bot started".to_string());
            self.engine.resume();
        }
        self.state = RunState::Running;
    }

    fn stop(&mut self, now_ms: i64) {
        // The ledger's stop after the engine stopped the bot itself: its reason is logged
        // already.
        if self.self_stopped.take().is_none() {
            self.note(now_ms, LogLevel::Info, lines::STOPPED_BY_REQUEST.to_string());
        }
        self.engine.stop(false);
        self.state = RunState::Stopped;
    }

    /// The market the run trades.
    pub fn market(&self) -> &MarketSpec {
        &self.market
    }

    /// Whether the engine trades (a stopped run is given back after its write).
    pub fn is_running(&self) -> bool {
        self.state == RunState::Running
    }

    /// Whether the run needs no owner after its next write (stopped as desired).
    pub fn is_finished(&self) -> bool {
        self.failed_revision.is_some() || (self.state != RunState::Running && self.desired != Desired::Running)
    }

    /// Restored after its owner died: the time of the last quote it had seen (taken once).
    pub fn take_quiet_since(&mut self) -> Option<i64> {
        self.quiet_since.take()
    }

    /// Whether the engine acts on `quote` (it skips one older than the last it saw): a signal is
    /// handed over only with a quote it acts on.
    pub fn takes_quote_at(&self, time_ms: i64) -> bool {
        self.last_quote_ms.is_none_or(|last| time_ms >= last)
    }

    /// Hands a pending signal to the engine, to be acted on at the quote that follows at once
    /// (see [`signals`]); or settles it as skipped: the bot is stopped, the signal is older
    /// than its `maxLag`, or it cannot be read.
    pub fn deliver(&mut self, pending: &PendingReceipt, now_ms: i64) {
        if self.in_engine.contains(&pending.delivery_id) {
            return;
        }
        if self.state != RunState::Running {
            self.receipts.push(signals::skipped(pending.delivery_id, BOT_IS_STOPPED));
        } else if signals::too_old(pending, now_ms) {
            self.receipts.push(signals::skipped(pending.delivery_id, signals::MAX_LAG_EXCEEDED));
        } else {
            match signals::engine_signal(pending) {
                Ok(signal) => {
                    self.in_engine.insert(pending.delivery_id);
                    self.engine.on_signal(signal);
                }
                Err(reason) => self.receipts.push(signals::skipped(pending.delivery_id, &reason)),
            }
        }
    }

    /// Feeds a quote to the engine. The last quote's time only moves forward, as the engine's
    /// does: an older quote is skipped by the engine, and must not make [`Self::takes_quote_at`]
    /// hand a signal over with a quote the engine then skips.
    pub fn on_quote(&mut self, quote: &Quote) {
        self.engine.on_quote(quote);
        self.last_quote_ms = Some(self.last_quote_ms.map_or(quote.time_ms, |last| last.max(quote.time_ms)));
        self.dirty = true;
    }

    /// The clock reached `now_ms`: closes an RSI bar that ended without a quote.
    pub fn on_tick(&mut self, now_ms: i64) {
        self.engine.on_tick(now_ms);
    }

    /// Adds a line of the runner's own to the log (written with the next write, before the
    /// engine's lines of the same input).
    pub fn note(&mut self, now_ms: i64, level: LogLevel, message: String) {
        self.notes.push(Note { time: now_ms.div_euclid(1000), level, message });
    }

    /// Whether inputs were processed since the last checkpoint.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// What the inputs since the last write did, with the checkpoint after them: `None` when
    /// they did nothing to write, unless `checkpoint` asks for the checkpoint anyway.
    pub fn take_write(&mut self, checkpoint: bool) -> Result<Option<RunWrite>, serde_json::Error> {
        let events = self.engine.drain();
        if events.is_empty() && self.notes.is_empty() && self.receipts.is_empty() && !self.changed && !checkpoint {
            return Ok(None);
        }
        let (effects, events) = self.effects(events)?;
        self.engine.compact();
        let state = serde_json::to_vec(&self.engine.checkpoint())?;
        self.changed = false;
        self.dirty = false;
        Ok(Some(RunWrite {
            held: self.held,
            state: self.state,
            checkpoint: Some(state),
            next_log_line: self.next_log_line,
            last_quote_ms: self.last_quote_ms,
            applied_revision: self.revision,
            failed_revision: self.failed_revision,
            release: self.is_finished(),
            abandon: false,
            effects,
            events,
        }))
    }

    /// The rows of the runner's notes and the engine's events (lines numbered on), and the
    /// events the ledger is told of: each fill, and a stop the engine decided.
    fn effects(&mut self, events: Vec<EngineEvent>) -> Result<(Effects, LiveEvents), serde_json::Error> {
        let mut effects = Effects { receipts: std::mem::take(&mut self.receipts), ..Effects::default() };
        let mut live = LiveEvents::default();
        let mut orders = BTreeMap::new();
        let mut positions = BTreeMap::new();
        for note in std::mem::take(&mut self.notes) {
            self.next_log_line += 1;
            effects.lines.push(line(self.next_log_line, note.time, note.level, note.message));
        }
        for event in events {
            match event.kind {
                EventKind::OrderPlaced { order } | EventKind::OrderCancelled { order, .. } => {
                    orders.insert(order.id, order_row(&order)?);
                }
                EventKind::OrderReplaced { old, new } => {
                    orders.insert(old.id, order_row(&old)?);
                    orders.insert(new.id, order_row(&new)?);
                }
                EventKind::OrderFilled { order, fill, position } => {
                    live.fills.push(self.fill_recorded(event.seq, &fill, &position));
                    orders.insert(order.id, order_row(&order)?);
                    effects.fills.push(FillRow {
                        seq: i64::try_from(event.seq).unwrap_or(i64::MAX),
                        order_id: i64::from(fill.order_id),
                        position_id: i64::from(fill.position_id),
                        body: serde_json::to_string(&fill)?,
                    });
                    positions.insert(position.id, position_row(self.bot_id, &position)?);
                }
                EventKind::PositionOpened { position }
                | EventKind::PositionChanged { position }
                | EventKind::PositionClosed { position, .. } => {
                    positions.insert(position.id, position_row(self.bot_id, &position)?);
                }
                EventKind::Log { time, level, message } => {
                    self.next_log_line += 1;
                    effects.lines.push(line(self.next_log_line, time, level, message));
                }
                // The engine stopped the bot (a stop condition, maxWin / maxLoss): the reason
                // goes to the log and to the ledger, which sets the bot stopped.
                EventKind::BotDeactivated { reason } => {
                    self.next_log_line += 1;
                    let time = event.time_ms.div_euclid(1000);
                    effects.lines.push(line(
                        self.next_log_line,
                        time,
                        LogLevel::Info,
                        format!("Bot stopped: {reason}"),
                    ));
                    self.self_stopped = Some(reason.clone());
                    self.stopped_event = Some(reason);
                }
                EventKind::SignalOutcome { signal_id, outcome } => {
                    let receipt = signals::receipt_of(signal_id, &outcome);
                    self.in_engine.remove(&receipt.delivery_id);
                    effects.receipts.push(receipt);
                }
                // Decisions feed the sessions' decision log, which hosted bots do not have.
                EventKind::Decision(_) | EventKind::Halted { .. } | EventKind::Paused { .. } => {}
            }
        }
        effects.orders = orders.into_values().collect();
        effects.positions = positions.into_values().collect();
        // Every fill of the input carries the totals after it: the ledger keeps those of the
        // latest sequence number.
        let (profit, roi) = self.engine.realized();
        for fill in &mut live.fills {
            fill.bot_totals = BotTotals { profit, roi };
        }
        live.stopped =
            self.stopped_event.take().map(|reason| BotStopped { bot_id: self.bot_id, revision: self.revision, reason });
        Ok((effects, live))
    }

    /// The ledger's event of one fill (its totals are set once the input's fills are known).
    fn fill_recorded(&self, seq: u64, fill: &Fill, position: &engine::Position) -> FillRecorded {
        FillRecorded {
            bot_id: self.bot_id,
            session_id: None,
            seq: i64::try_from(seq).unwrap_or(i64::MAX),
            position: FilledPosition {
                id: runtime_id(self.bot_id, RuntimeKind::Position, position.id),
                direction: wire_name(&position.direction),
                symbol: self.market.symbol.clone(),
                opened_at: position.open_time,
                closed: position.status == PositionStatus::Closed,
                gross_profit: position.gross_profit,
                fees: position.fee_costs,
            },
            fill: FillMsg {
                order_id: runtime_id(self.bot_id, RuntimeKind::Order, fill.order_id),
                entry: fill.entry,
                side: wire_name(&fill.side),
                order_type: wire_name(&fill.order_type),
                role: wire_name(&fill.role),
                note: fill.note.clone(),
                quantity: fill.amount,
                price: fill.price,
                fee: fill.fee,
                fee_currency: fill.fee_currency.clone(),
                time: fill.time,
            },
            bot_totals: BotTotals { profit: Decimal::ZERO, roi: Decimal::ZERO },
        }
    }
}

fn line(line_number: i64, time: i64, level: LogLevel, message: String) -> LineRow {
    LineRow { line_number, time, severity: level.name(), message }
}

fn order_row(order: &engine::Order) -> Result<OrderRow, serde_json::Error> {
    let status = match order.status {
        OrderStatus::Open => "OPEN",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELLED",
    };
    Ok(OrderRow {
        order_id: i64::from(order.id),
        status,
        placed_at: order.created_at,
        body: serde_json::to_string(order)?,
    })
}

fn position_row(bot: BotId, position: &engine::Position) -> Result<PositionRow, serde_json::Error> {
    let (status, close_time) = match position.status {
        PositionStatus::Open => ("OPEN", None),
        PositionStatus::Closed => ("CLOSED", Some(position.close_time.unwrap_or_default())),
    };
    Ok(PositionRow {
        position_id: i64::from(position.id),
        public_id: runtime_id(bot, RuntimeKind::Position, position.id),
        status,
        close_time,
        body: serde_json::to_string(position)?,
    })
}

fn engine_market(row: &ClaimedRun) -> Result<MarketSpec, String> {
    serde_json::from_str(&row.market).map_err(|error| format!("market: {error}"))
}

/// The engine saved in a claimed run's checkpoint, if it has one.
fn restore(row: &ClaimedRun) -> Result<Option<Engine>, String> {
    match (&row.checkpoint, row.checkpoint_format) {
        (None, _) => Ok(None),
        (Some(bytes), Some(CHECKPOINT_FORMAT)) => {
            let state: EngineState =
                serde_json::from_slice(bytes).map_err(|error| format!("its saved state is unreadable: {error}"))?;
            Engine::restore(state).map(Some).map_err(|error| format!("its saved state cannot be restored: {error}"))
        }
        (Some(_), format) => Err(format!("its saved state has an unknown format {format:?}")),
    }
}

/// The fewest points an engine's equity curve keeps.
const EQUITY_POINTS: usize = 2;

/// A new engine with the paper balance. Its equity curve is a backtest report's: a live run
/// never reports one (its profit and drawdown are tracked without it), so it keeps the fewest
/// points, which keeps the checkpoint small (2,000 points would be ~120 KB of every one).
fn fresh_engine(settings: &BotSettings, market: &MarketSpec, defaults: &RunDefaults) -> Result<Engine, String> {
    let config =
        RunConfig { starting_quote: defaults.starting_quote, equity_points: EQUITY_POINTS, ..RunConfig::default() };
    Engine::live(settings.clone(), market.clone(), config, LiveConfig::default()).map_err(|error| error.to_string())
}

/// The write of a run that cannot run at this revision and has no engine to stop (its market or
/// saved state is unreadable, or a new bot's settings are refused): the reason in its log (after
/// "Bot created" for a new bot), its revision marked failed (not claimed again until a newer
/// one), given back. With `abandon` (the saved state cannot be read) the saved state goes and
/// its open orders are cancelled with it, so nothing resting survives a state that cannot be
/// restored.
fn failed(row: &ClaimedRun, reason: String, abandon: bool, now_ms: i64) -> RunWrite {
    let mut lines = Vec::new();
    let mut next = row.next_log_line;
    if next == 0 {
        next += 1;
        lines.push(line(next, row.created_at.timestamp(), LogLevel::Info, "Bot created".to_string()));
    }
    next += 1;
    lines.push(line(next, now_ms.div_euclid(1000), LogLevel::Error, format!("Bot stopped: {reason}")));
    RunWrite {
        held: row.claim(),
        state: RunState::parse(&row.state).filter(|s| *s != RunState::Running).unwrap_or(RunState::Stopped),
        checkpoint: None,
        next_log_line: next,
        last_quote_ms: None,
        applied_revision: row.revision,
        failed_revision: Some(row.revision),
        release: true,
        abandon,
        effects: Effects { lines, ..Effects::default() },
        events: LiveEvents {
            fills: Vec::new(),
            stopped: Some(BotStopped { bot_id: row.bot_id, revision: row.revision, reason }),
        },
    }
}

#[cfg(test)]
mod tests;
