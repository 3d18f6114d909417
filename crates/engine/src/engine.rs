//! The run: feeds candles (or quotes) through the book, the bot and the equity tracker.
//!
//! ```text
//! on_candle(t):  pending orders go live ─▶ walk O → H → L → C ─▶ bot at the close ─▶ equity
//!                                          │ at each point: take the   (orders placed here
//!                                          │ crossed entry first in     are live from t+1)
//!                                          │ price priority, fill it,
//!                                          └ let the bot react, repeat
//! ```
//!
//! Everything that happens while candle `t` is processed is stamped with its close time
//! (`open_time + interval`): fills inside a candle cannot be timed more finely, and stamping
//! them at the close keeps the log in order. The candle's pre-check (`low ≤ best buy`,
//! `high ≥ best sell`) skips the walk for the vast majority of candles.
//!
//! The clock is in ms: candles enter in seconds and are converted, quotes carry ms. A quote
//! at the same ms as the previous event is processed (arrival order); only an earlier one is
//! skipped. (A candle must still be strictly after the previous one: two candles with one
//! open time are the same candle.) The live inputs (signals, ticks, stop, resume, settings
//! edits, flatten), the event output and checkpoints are in `live.rs` and `checkpoint.rs`.
//!
//! ```text
//! on_quote(q):  bar close? ─▶ RSI      (live: bars of the bot's interval)
//!               pending orders go live ─▶ match at the touch ─▶ reconcile if orders were
//!               cancelled from outside ─▶ bot at the quote (unless stopped) ─▶ queued
//!               signals ─▶ equity
//! ```

use rust_decimal::Decimal;

use crate::account::Account;
use crate::book::{Probe, What};
use crate::bots::Bot;
use crate::candle::{Candle, Quote};
use crate::config::{LiveConfig, RunConfig, Snapshot};
use crate::equity::EquityTracker;
use crate::error::EngineError;
use crate::events::{EventKind, SignalOutcome};
use crate::exchange::{Exchange, ExchangeParams, Touch};
use crate::fees::FeeRate;
use crate::log::{LogLevel, secs};
use crate::market::MarketSpec;
use crate::price::{MAX_MONEY_SCALE, Price, Qty, Scales};
use crate::report::{Report, RunFacts, build};
use crate::runtime::Live;
use crate::settings::BotSettings;

/// One deterministic run of a bot over candles (backtest) or quotes (live). Times are ms.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) settings: BotSettings,
    pub(crate) ex: Exchange,
    pub(crate) bot: Bot,
    pub(crate) eq: Option<EquityTracker>,
    /// Candle length, ms.
    pub(crate) interval: i64,
    pub(crate) days_per_year: u32,
    pub(crate) equity_points: usize,
    pub(crate) starting_quote: i128,
    pub(crate) starting_base: i64,
    pub(crate) first_open: Option<Price>,
    pub(crate) last_close: Option<Price>,
    pub(crate) start_time: i64,
    pub(crate) last_event: Option<i64>,
    pub(crate) end_time: i64,
    pub(crate) candles: u64,
    pub(crate) skipped: u64,
    pub(crate) futures: bool,
    /// The live run's own state (signals waiting for a quote, bars, stopped); idle in a
    /// backtest.
    pub(crate) live: Live,
}

/// The name the backtest-executor knows the engine by.
pub type Backtest = Engine;

impl Engine {
    /// Sets up a backtest; fails if the settings, market or configuration are invalid.
    pub fn new(settings: BotSettings, market: MarketSpec, config: RunConfig) -> Result<Self, EngineError> {
        Self::build(settings, market, config, None)
    }

    /// Sets up a live run on quotes: like [`Engine::new`], and it records events for
    /// [`Engine::drain`], aggregates quotes into bars of the bot's `interval` (default one
    /// minute) for RSI, and refuses backtest-only settings ([`crate::settings::validate_live`]).
    pub fn live(
        settings: BotSettings,
        market: MarketSpec,
        config: RunConfig,
        live: LiveConfig,
    ) -> Result<Self, EngineError> {
        crate::settings::validate_live(&settings)?;
        Self::build(settings, market, config, Some(live))
    }

    fn build(
        settings: BotSettings,
        market: MarketSpec,
        config: RunConfig,
        live: Option<LiveConfig>,
    ) -> Result<Self, EngineError> {
        settings.validate()?;
        market.validate()?;
        let fee = FeeRate::new(config.fee_rate)?;
        let scales = Scales::new(market.price_decimals, market.amount_decimals, fee.decimals);
        if scales.money_scale() > MAX_MONEY_SCALE {
            return Err(EngineError::Config(format!(
                "priceDecimals + amountDecimals + fee rate decimals must be at most {MAX_MONEY_SCALE}"
            )));
        }
        let bad = |what: &str| EngineError::Config(what.to_owned());
        let interval = config
            .interval_seconds
            .checked_mul(1000)
            .filter(|i| *i > 0)
            .ok_or_else(|| bad("intervalSeconds must be positive"))?;
        if config.slippage_ticks < 0 {
            return Err(bad("slippageTicks must not be negative"));
        }
        if config.annualisation_days == 0 {
            return Err(bad("annualisationDays must be positive"));
        }
        let mm = config.maintenance_margin_rate;
        if mm.is_sign_negative() || mm >= Decimal::ONE {
            return Err(bad("maintenanceMarginRate must be in [0, 1)"));
        }
        if config.starting_quote.is_sign_negative() || config.starting_base.is_sign_negative() {
            return Err(bad("starting balances must not be negative"));
        }
        let starting_quote =
            scales.money_floor(config.starting_quote).ok_or_else(|| bad("startingQuote is too large"))?;
        let starting_base = scales.floor_qty(config.starting_base).ok_or_else(|| bad("startingBase is too large"))?;
        let min_lots = market.min_lots().ok_or_else(|| bad("minimumTradeAmount is too large"))?;
        let futures = matches!(settings, BotSettings::FuturesGrid(_) | BotSettings::FuturesDca(_))
            || matches!(&settings, BotSettings::Webhook(w) if w.signals.iter().any(|s| {
                use crate::settings::SignalAction::*;
                matches!(s.action, EnterLong | ExitLong | EnterShort | ExitShort)
            }));
        let params = ExchangeParams {
            market,
            scales,
            fee,
            slippage_ticks: config.slippage_ticks,
            maintenance_margin: mm,
            min_lots,
        };
        let account = Account { quote: starting_quote, base: starting_base.0, ..Account::default() };
        let ex = Exchange::new(params, account, config.log_cap, live.is_some());
        let bot = Bot::new(&settings, &ex, live.is_some())?;
        let live = Live::new(live, &settings);
        Ok(Self {
            settings,
            ex,
            bot,
            eq: None,
            interval,
            days_per_year: config.annualisation_days,
            equity_points: config.equity_points,
            starting_quote,
            starting_base: starting_base.0,
            first_open: None,
            last_close: None,
            start_time: 0,
            last_event: None,
            end_time: 0,
            candles: 0,
            skipped: 0,
            futures,
            live,
        })
    }

    /// Processes candles in order.
    pub fn on_candles(&mut self, candles: &[Candle]) {
        for c in candles {
            self.on_candle(c);
        }
    }

    /// Processes one candle. A candle not after the previous one is skipped (and counted).
    #[inline]
    pub fn on_candle(&mut self, c: &Candle) {
        let open_time = c.open_time.saturating_mul(1000);
        if self.last_event.is_some_and(|t| open_time <= t) {
            self.skip(|| format!("Event at {} is not after the previous one: skipped", c.open_time));
            return;
        }
        self.last_event = Some(open_time);
        let close_time = open_time.saturating_add(self.interval);
        if self.eq.is_none() {
            self.start(open_time, c.open);
        }
        self.ex.now = close_time;
        if self.ex.book.has_pending() {
            self.ex.book.activate();
        }
        if c.low.0 <= self.ex.book.best_below() || c.high.0 >= self.ex.book.best_above() {
            for (k, x) in [c.open, c.high, c.low, c.close].into_iter().enumerate() {
                let probe = Probe::point(x.0);
                if self.ex.book.crosses(&probe) {
                    // A liquidation crossed at the open was passed by a gap: it fills at the
                    // open; anywhere later the path met its trigger, where it fills.
                    self.match_at(&probe, k == 0);
                }
            }
        }
        let at = Touch::point(c.close);
        self.bot.on_close(&mut self.ex, at, close_time);
        self.settle(at.last, close_time);
    }

    /// Processes one quote (live). Buy limits fill when `ask ≤ limit`, sell limits when
    /// `bid ≥ limit`, at their limit; market orders fill at the touch (buy at the ask, sell at
    /// the bid); a long is liquidated when the bid reaches its trigger (at the bid), a short
    /// when the ask does (at the ask). Orders placed while a quote is processed are live from
    /// the next quote; signals given since the last quote are acted on at this one. A quote
    /// earlier than the previous event is skipped (and counted); one at the same ms is not.
    pub fn on_quote(&mut self, q: &Quote) {
        let t = q.time_ms;
        if self.last_event.is_some_and(|last| t < last) {
            self.skip(|| format!("Quote at {t} ms is before the previous event: skipped"));
            return;
        }
        self.last_event = Some(t);
        if self.eq.is_none() {
            self.start(t, q.last);
        }
        self.ex.now = t;
        self.ex.mark = q.last;
        let at = Touch { bid: q.bid, ask: q.ask, last: q.last };
        self.live.touch = Some(at);
        if let Some(close) = self.live.bars.as_mut().and_then(|b| b.on_quote(t, q.last)) {
            self.bot.on_bar(close);
        }
        if self.ex.book.has_pending() {
            self.ex.book.activate();
        }
        let probe = Probe { buy: q.ask.0, sell: q.bid.0, long_liq: q.bid.0, short_liq: q.ask.0 };
        if self.ex.book.crosses(&probe) {
            self.match_at(&probe, true);
        }
        if !self.live.stopped {
            if std::mem::take(&mut self.live.reconcile) {
                self.bot.reconcile(&mut self.ex);
            }
            self.bot.on_close(&mut self.ex, at, t);
        }
        if !self.live.signals.is_empty() {
            self.act_on_signals(at);
        }
        self.settle(at.last, t);
    }

    /// The signals given since the last quote, in order, at this quote's touch.
    fn act_on_signals(&mut self, at: Touch) {
        for s in std::mem::take(&mut self.live.signals) {
            let outcome = if self.live.stopped {
                SignalOutcome::Refused { reason: "bot is stopped".into() }
            } else {
                self.bot.on_signal(&mut self.ex, &s, at)
            };
            self.ex.emit(|| EventKind::SignalOutcome { signal_id: s.id, outcome });
        }
    }

    /// Fills everything `probe` crosses, one entry at a time in priority order, letting the
    /// bot react after each (its cancels apply at once, its new orders wait for the next
    /// event). `gap`: liquidations fill at the probe, not at their trigger.
    fn match_at(&mut self, probe: &Probe, gap: bool) {
        while let Some(r) = self.ex.book.take_crossed(probe) {
            let ev = match r.what {
                What::Order(id) => Some(self.ex.fill(id, Price(r.price))),
                What::Liquidation(pos) => {
                    let long = self.ex.position(pos).is_some_and(|p| p.direction == crate::Direction::Long);
                    let at = match (gap, long) {
                        (true, true) => probe.long_liq,
                        (true, false) => probe.short_liq,
                        (false, _) => r.price,
                    };
                    self.ex.liquidate(pos, Price(at))
                }
            };
            if let Some(ev) = ev {
                self.bot.on_fill(&mut self.ex, ev);
            }
        }
    }

    /// The end of an event: the price it closed at, and the equity there.
    #[inline]
    fn settle(&mut self, last: Price, time: i64) {
        self.last_close = Some(last);
        self.end_time = time;
        self.candles += 1;
        let e = self.ex.equity(last);
        if let Some(eq) = &mut self.eq {
            eq.sample(time, e);
        }
    }

    fn start(&mut self, time: i64, open: Price) {
        self.start_time = time;
        self.first_open = Some(open);
        let s = self.ex.p.scales;
        let start = self.starting_quote + i128::from(self.starting_base) * i128::from(open.0) * s.pow_fd;
        self.eq = Some(EquityTracker::new(s.money_scale(), self.equity_points, start));
        self.ex.now = time;
        let (e, q) = (s.money_dec(start), self.ex.p.market.quote_currency.clone());
        let run = self.live.config.as_ref().map_or("Backtest", |c| c.kind.label());
        self.ex.log(LogLevel::Info, || format!("{run} started with equity {e} {q}"));
        if self.futures {
            self.ex.log(LogLevel::Info, || "Futures funding payments are not simulated".into());
        }
        self.bot.on_start(&mut self.ex);
    }

    fn skip(&mut self, message: impl FnOnce() -> String) {
        self.skipped += 1;
        if self.skipped == 1 {
            self.ex.log(LogLevel::Warning, message);
        }
    }

    /// Events processed so far.
    pub fn candles_processed(&self) -> u64 {
        self.candles
    }

    /// The account at the last event.
    pub fn snapshot(&self) -> Snapshot {
        let s = self.ex.p.scales;
        let a = &self.ex.account;
        let p = self.last_close.unwrap_or_default();
        let pi = i128::from(p.0);
        let fut = (i128::from(a.long_qty) * pi - a.long_cost) + (a.short_cost - i128::from(a.short_qty) * pi);
        Snapshot {
            candles: self.candles,
            time: secs(self.end_time),
            price: s.price_dec(p),
            equity: s.money_dec(self.ex.equity(p)),
            quote: s.money_dec(a.quote),
            reserved_quote: s.money_dec(a.reserved_quote),
            base: s.qty_dec(Qty(a.base)),
            reserved_base: s.qty_dec(Qty(a.reserved_base)),
            margin: s.money_dec(a.margin),
            futures_unrealized: s.ticklots_dec(fut),
            open_orders: self.ex.book.orders().len(),
            fills: self.ex.fills,
        }
    }

    /// Ends the run and builds the report. Open orders and positions stay open in it
    /// (nothing is force-closed); they count in equity, not in realized profit.
    pub fn finish(mut self) -> Report {
        self.ex.now = self.end_time;
        self.bot.on_finish(&mut self.ex);
        let (n, skipped) = (self.candles, self.skipped);
        if skipped > 1 {
            self.ex.log(LogLevel::Warning, || format!("{skipped} events in all were skipped as out of order"));
        }
        match &self.live.config {
            None => self.ex.log(LogLevel::Info, || format!("Backtest finished after {n} candles")),
            Some(c) => {
                let run = c.kind.label();
                self.ex.log(LogLevel::Info, || format!("{run} finished after {n} quotes"));
            }
        }
        let mut notes =
            vec!["Candles are walked open → high → low → close; limit orders fill at their limit price.".into()];
        if self.futures {
            notes.push("Futures funding payments are not simulated.".into());
        }
        let eq = self.eq.take().unwrap_or_else(|| {
            let s = self.ex.p.scales;
            EquityTracker::new(s.money_scale(), self.equity_points, self.ex.equity(Price(0)))
        });
        let facts = RunFacts {
            start_time: self.start_time,
            end_time: self.end_time,
            candles: self.candles,
            skipped: self.skipped,
            first_open: self.first_open,
            last_close: self.last_close,
            days_per_year: self.days_per_year,
            notes,
        };
        build(self.ex, &eq, facts)
    }
}
