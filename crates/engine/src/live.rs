//! The live inputs of a run besides quotes, and its event output.
//!
//! ```text
//! runner ─ on_signal ──▶ queued ─────────────▶ acted on at the next quote (its touch)
//!        ─ on_tick ────▶ closes an RSI bar whose end passed without a quote
//!        ─ stop(exit) ─▶ cancel every order (exit: flatten) ─▶ stopped: quotes only mark
//!        ─ resume ─────▶ re-arm / reconcile: the bot re-places what a stop cancelled
//!        ─ cancel_all ─▶ cancel every order; a running bot reconciles at the next quote
//!        ─ flatten ────▶ cancel every order, close every position at market ─▶ stopped
//!        ─ drain ──────▶ the events since the last drain   ─ compact ─▶ drop drained records
//! ```
//!
//! A backtest never calls these (they work on any engine, but only a live one records
//! events).

use std::collections::BTreeSet;

use crate::bots::LiveSignal;
use crate::config::Pnl;
use crate::engine::Engine;
use crate::error::ValidationError;
use crate::events::EngineEvent;
use crate::exchange::{OrderReq, Touch};
use crate::log::LogLevel;
use crate::order::Target;
use crate::price::Qty;
use crate::settings::BotSettings;
use crate::vocabulary::{OrderRole, OrderStatus};
use rust_decimal::Decimal;

impl Engine {
    /// Whether this is a live run ([`Engine::live`]).
    pub fn is_live(&self) -> bool {
        self.live.config.is_some()
    }

    /// Whether the run is stopped (`stop`, `flatten`): the bot acts again after `resume`.
    pub fn is_stopped(&self) -> bool {
        self.live.stopped
    }

    /// Queues a signal; it is acted on at the next quote (as a backtest acts at the next
    /// close), at that quote's touch: a market order, or a limit order when it has a price.
    /// Its outcome comes back as a `SignalOutcome` event.
    pub fn on_signal(&mut self, signal: LiveSignal) {
        self.live.signals.push(signal);
    }

    /// The clock reached `now_ms` without a quote: closes the RSI bar that ended meanwhile.
    /// A tick earlier than the last event changes nothing.
    pub fn on_tick(&mut self, now_ms: i64) {
        if self.last_event.is_some_and(|t| now_ms < t) {
            return;
        }
        self.ex.now = self.ex.now.max(now_ms);
        if let Some(close) = self.live.bars.as_mut().and_then(|b| b.on_tick(now_ms)) {
            self.bot.on_bar(close);
        }
    }

    /// Stops the bot: cancels every open order and keeps the wallet, positions and the bot's
    /// state; with `exit`, also closes every position at market ([`Engine::flatten`]).
    /// Quotes are still processed (equity, liquidations); the bot acts again after
    /// [`Engine::resume`]. Signals meanwhile are refused.
    pub fn stop(&mut self, exit: bool) {
        self.ex.decide("stop", "requested", |_| vec![("exit", exit.to_string())]);
        if exit {
            self.flatten();
            return;
        }
        self.ex.cancel_all("stopped");
        self.live.stopped = true;
    }

    /// Resumes after a stop: a grid turns the levels whose sell was cancelled back into
    /// holding levels (their sells are re-placed at the next quote) and the levels whose buy
    /// was cancelled into idle ones; a DCA re-places its take-profit and the safety orders it
    /// had left; a bot that deactivated itself (stop condition, maxWin / maxLoss) is re-armed
    /// (its start condition is tested afresh). Only what is missing is placed again.
    pub fn resume(&mut self) {
        self.live.stopped = false;
        self.live.reconcile = false;
        self.bot.resume(&mut self.ex);
    }

    /// Cancels every open order (`reason` goes into each `OrderCancelled` event). A running
    /// bot reconciles with the book at the next quote and re-places what its strategy wants;
    /// to keep its orders off, [`Engine::stop`] it.
    pub fn cancel_all(&mut self, reason: &str) {
        self.ex.cancel_all(reason);
        self.live.reconcile = true;
    }

    /// Cancels every open order, closes every open position at market at the current touch
    /// (role `Flatten`), and stops the bot. Without any quote (or close) yet there is no
    /// price: positions stay open and a warning says so.
    pub fn flatten(&mut self) {
        self.ex.cancel_all("flatten");
        let open: Vec<u32> = self.ex.positions.iter().filter(|(_, p)| p.open && p.qty > 0).map(|(id, _)| id).collect();
        let at = self.live.touch.or(self.last_close.map(Touch::point));
        match at {
            Some(at) => {
                for pos in open {
                    let p = &self.ex.positions[pos];
                    let req = OrderReq {
                        side: p.direction.exit_side(),
                        qty: Qty(p.qty),
                        role: OrderRole::Flatten,
                        tag: pos,
                        venue: p.venue,
                        target: Target::Reduce(pos),
                    };
                    if let Ok(ev) = self.ex.place_market(req, at) {
                        self.bot.on_fill(&mut self.ex, ev);
                    }
                }
            }
            None if !open.is_empty() => {
                let n = open.len();
                self.ex.log(LogLevel::Warning, || format!("Flatten: no price yet, {n} positions stay open"));
            }
            None => {}
        }
        self.live.stopped = true;
    }

    /// Applies an edit of the settings. Only the keys the script metadata marks editable may
    /// change (grid: stop condition, type and value, stopExit, maxWin, maxLoss; DCA:
    /// takeProfit; webhook: signalToken): conditions are rebuilt keeping the RSI state, and a
    /// DCA's take-profit is re-placed at the next quote. Anything else, or invalid settings,
    /// is refused naming the key, and nothing changes.
    pub fn update_settings(&mut self, settings: BotSettings) -> Result<(), ValidationError> {
        settings.validate()?;
        if self.is_live() {
            crate::settings::validate_live(&settings)?;
        }
        crate::settings::check_edit(&self.settings, &settings)?;
        self.bot.update(&settings, &self.ex);
        self.settings = settings;
        Ok(())
    }

    /// The settings the run uses (after edits).
    pub fn settings(&self) -> &BotSettings {
        &self.settings
    }

    /// Writes a line of the caller's into the run's log, at the engine's clock.
    pub fn note(&mut self, level: LogLevel, message: impl Into<String>) {
        let m = message.into();
        self.ex.log(level, || m);
    }

    /// Realized profit before fees, fees, unrealized profit and equity at the current touch.
    pub fn pnl(&self) -> Pnl {
        let s = self.ex.p.scales;
        let last = self.live.touch.map(|t| t.last).or(self.last_close).unwrap_or_default();
        let unrealized: i128 = self.ex.positions.iter().filter(|(_, p)| p.open).map(|(_, p)| p.unrealized(last)).sum();
        Pnl {
            realized_gross: s.ticklots_dec(self.ex.gross_total),
            fees: s.money_dec(self.ex.fees_total),
            unrealized: s.ticklots_dec(unrealized),
            equity: s.money_dec(self.ex.equity(last)),
        }
    }

    /// Realized profit net of every fee so far, and that over the starting equity × 100: the
    /// backtest summary's `realizedProfit` and `roi`, so a live bot and its backtest compare.
    pub fn realized(&self) -> (Decimal, Decimal) {
        let s = self.ex.p.scales;
        let realized = s.ticklots_dec(self.ex.gross_total) - s.money_dec(self.ex.fees_total);
        let start = self.eq.as_ref().map_or(self.starting_quote, |eq| eq.stats().start);
        (realized, crate::metrics::roi(realized, s.money_dec(start)))
    }

    /// What happened since the last call, in order, each event with its sequence number
    /// (a backtest records no events: empty). Log lines dropped because the log cap was
    /// reached before this drain are counted in one last line.
    pub fn drain(&mut self) -> Vec<EngineEvent> {
        self.ex.journal.drain(self.ex.now)
    }

    /// Drops the orders that are filled or cancelled and the positions that are closed,
    /// once every event about them has been drained, so a run of months keeps bounded
    /// memory. A closed position an open order still refers to is kept. Ids never change and
    /// are never reused; the report's totals stay whole, its lists cover what is kept.
    pub fn compact(&mut self) {
        let drained = self.ex.journal.drained();
        let ex = &mut self.ex;
        ex.orders.retain(|_, o| o.status == OrderStatus::Open || o.last_seq > drained);
        let referenced: BTreeSet<u32> = ex
            .orders
            .iter()
            .filter_map(|(_, o)| match o.target {
                Target::Add(p) | Target::Reduce(p) => Some(p),
                Target::New(_) | Target::Net => o.position,
            })
            .collect();
        ex.positions.retain(|id, p| p.open || p.last_seq > drained || referenced.contains(&id));
    }

    /// Orders and positions the engine keeps (see [`Engine::compact`]).
    pub fn retained(&self) -> (usize, usize) {
        (self.ex.orders.len(), self.ex.positions.len())
    }

    /// Events recorded and not yet drained.
    pub fn pending_events(&self) -> usize {
        self.ex.journal.pending()
    }
}
