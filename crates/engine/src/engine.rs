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

use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::book::{Probe, What};
use crate::bots::Bot;
use crate::candle::{Candle, Quote};
use crate::equity::EquityTracker;
use crate::error::EngineError;
use crate::exchange::{Exchange, ExchangeParams, Touch};
use crate::fees::FeeRate;
use crate::log::LogLevel;
use crate::market::MarketSpec;
use crate::price::{MAX_MONEY_SCALE, Price, Qty, Scales};
use crate::report::{Report, RunFacts, build};
use crate::settings::BotSettings;

/// Parameters of a run that are not bot settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunConfig {
    /// Fee per fill on notional (default 0.001 = 0.1 %), charged in quote.
    pub fee_rate: Decimal,
    /// Ticks a market order fills worse than the moment's price (default 0).
    pub slippage_ticks: i64,
    /// Starting quote balance (default 10,000).
    pub starting_quote: Decimal,
    /// Starting base balance (default 0).
    pub starting_base: Decimal,
    /// Days per year for annualising Sharpe and Sortino: 365 for markets open every day
    /// (SIM, crypto), 252 for exchange-traded markets.
    pub annualisation_days: u32,
    /// Most points kept in the equity curve (default 2,000).
    pub equity_points: usize,
    /// Most log lines kept (default 50,000); the rest are counted in a last line.
    pub log_cap: usize,
    /// Candle length in seconds (default 60): a candle closes at `open_time + interval`.
    pub interval_seconds: i64,
    /// Maintenance margin of futures positions, a fraction of notional (default 0.005).
    pub maintenance_margin_rate: Decimal,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            fee_rate: dec!(0.001),
            slippage_ticks: 0,
            starting_quote: dec!(10000),
            starting_base: Decimal::ZERO,
            annualisation_days: 365,
            equity_points: 2000,
            log_cap: 50_000,
            interval_seconds: 60,
            maintenance_margin_rate: dec!(0.005),
        }
    }
}

/// A snapshot of the account (progress reports, tests).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Candles (or quotes) processed.
    pub candles: u64,
    /// Time of the last event processed (a candle's close time).
    pub time: i64,
    /// Last close (or quote's last price).
    pub price: Decimal,
    /// Mark-to-market equity at that price.
    pub equity: Decimal,
    /// Quote balance (futures margin excluded).
    pub quote: Decimal,
    /// Quote held by resting orders.
    pub reserved_quote: Decimal,
    /// Base balance.
    pub base: Decimal,
    /// Base held by resting sells.
    pub reserved_base: Decimal,
    /// Margin posted on open futures positions.
    pub margin: Decimal,
    /// Unrealized profit of open futures positions at the price.
    pub futures_unrealized: Decimal,
    /// Orders resting or waiting to go live.
    pub open_orders: usize,
    /// Fills so far.
    pub fills: u64,
}

/// One deterministic run of a bot over candles (backtest) or quotes (live).
#[derive(Clone, Debug)]
pub struct Engine {
    ex: Exchange,
    bot: Bot,
    eq: Option<EquityTracker>,
    interval: i64,
    days_per_year: u32,
    equity_points: usize,
    starting_quote: i128,
    starting_base: i64,
    first_open: Option<Price>,
    last_close: Option<Price>,
    start_time: i64,
    last_event: Option<i64>,
    end_time: i64,
    candles: u64,
    skipped: u64,
    futures: bool,
}

/// The name the backtest-executor knows the engine by.
pub type Backtest = Engine;

impl Engine {
    /// Sets up a run; fails if the settings, market or configuration are invalid.
    pub fn new(settings: BotSettings, market: MarketSpec, config: RunConfig) -> Result<Self, EngineError> {
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
        if config.interval_seconds <= 0 {
            return Err(bad("intervalSeconds must be positive"));
        }
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
        // The minimum in lots, rounded up: an order of exactly the minimum is allowed.
        let min_lots = market
            .minimum_trade_amount
            .checked_mul(Decimal::from(10i64.pow(scales.ad)))
            .and_then(|m| i64::try_from(m.ceil()).ok())
            .ok_or_else(|| bad("minimumTradeAmount is too large"))?;
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
        let ex = Exchange::new(params, account, config.log_cap);
        let bot = Bot::new(&settings, &ex)?;
        Ok(Self {
            ex,
            bot,
            eq: None,
            interval: config.interval_seconds,
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
        if self.last_event.is_some_and(|t| c.open_time <= t) {
            self.skip(c.open_time);
            return;
        }
        self.last_event = Some(c.open_time);
        let close_time = c.open_time.saturating_add(self.interval);
        if self.eq.is_none() {
            self.start(c.open_time, c.open);
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
        self.close(Touch::point(c.close), close_time);
    }

    /// Processes one quote (live). Buy limits fill when `ask ≤ limit`, sell limits when
    /// `bid ≥ limit`, at their limit; market orders fill at the touch (buy at the ask, sell at
    /// the bid); a long is liquidated when the bid reaches its trigger (at the bid), a short
    /// when the ask does (at the ask). Orders placed while a quote is processed are live from
    /// the next quote.
    pub fn on_quote(&mut self, q: &Quote) {
        if self.last_event.is_some_and(|t| q.time <= t) {
            self.skip(q.time);
            return;
        }
        self.last_event = Some(q.time);
        if self.eq.is_none() {
            self.start(q.time, q.last);
        }
        self.ex.now = q.time;
        if self.ex.book.has_pending() {
            self.ex.book.activate();
        }
        let probe = Probe { buy: q.ask.0, sell: q.bid.0, long_liq: q.bid.0, short_liq: q.ask.0 };
        if self.ex.book.crosses(&probe) {
            self.match_at(&probe, true);
        }
        self.close(Touch { bid: q.bid, ask: q.ask, last: q.last }, q.time);
    }

    /// Fills everything `probe` crosses, one entry at a time in priority order, letting the
    /// bot react after each (its cancels apply at once, its new orders wait for the next
    /// event). `gap`: liquidations fill at the probe, not at their trigger.
    fn match_at(&mut self, probe: &Probe, gap: bool) {
        while let Some(r) = self.ex.book.take_crossed(probe) {
            let ev = match r.what {
                What::Order(id) => Some(self.ex.fill(id, Price(r.price))),
                What::Liquidation(pos) => {
                    let long = self.ex.position(pos).is_some_and(|p| p.direction == crate::position::Direction::Long);
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

    #[inline]
    fn close(&mut self, at: Touch, time: i64) {
        self.bot.on_close(&mut self.ex, at, time);
        self.last_close = Some(at.last);
        self.end_time = time;
        self.candles += 1;
        let e = self.ex.equity(at.last);
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
        self.ex.log(LogLevel::Info, || format!("Backtest started with equity {e} {q}"));
        if self.futures {
            self.ex.log(LogLevel::Info, || "Futures funding payments are not simulated".into());
        }
        self.bot.on_start(&mut self.ex);
    }

    fn skip(&mut self, time: i64) {
        self.skipped += 1;
        if self.skipped == 1 {
            self.ex.log(LogLevel::Warning, || format!("Event at {time} is not after the previous one: skipped"));
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
            time: self.end_time,
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
        self.ex.log(LogLevel::Info, || format!("Backtest finished after {n} candles"));
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
