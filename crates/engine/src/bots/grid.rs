//! Grid bot (spot and futures).
//!
//! ```text
//!  p_n ─────────────── (no level: only the sell of level n−1 rests here)
//!  p_2 ── level 2 ──── idle levels below the close get a buy limit at every close
//!  p_1 ── level 1 ──── buy fills → sell qty_1 at p_2; sell fills → idle again
//!  p_0 ── level 0
//! ```
//!
//! Levels are `lower + i·(upper−lower)/n` (arithmetic) or `lower·r^i` with
//! `r = (upper/lower)^(1/n)` (geometric), rounded to the tick; `p_n` is `upper` exactly. A level's
//! quantity is computed from its rounded price. Each round trip is one position. On futures a
//! level's buy opens an isolated long of `qty_i` with margin `notional / leverage`, and its
//! sell closes it; futures quantities use `investmentAmount × leverage` as the notional to split.

mod levels;
mod live;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use self::levels::levels;
use super::conditions::{ConditionSettings, Conditions};
use crate::error::{EngineError, ValidationError};
use crate::events::EventKind;
use crate::exchange::{Exchange, FillEvent, OrderReq, Refusal, Touch};
use crate::log::LogLevel;
use crate::order::Target;
use crate::price::{Price, Qty, Scales};
use crate::settings::{GridSettings, InvestmentAsset, Threshold};
use crate::vocabulary::{Direction, OrderId, OrderRole, PosId, Side, Venue};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Level {
    /// Never trades (its quantity is below the market minimum, or its order was refused
    /// for a reason funds cannot change).
    Disabled,
    /// Stopped with the bot (stop condition, maxWin / maxLoss): idle again if it is re-armed.
    Parked,
    Idle,
    Buying(OrderId),
    Selling(OrderId, PosId),
    /// Holds its position but its sell could not be placed; retried at closes.
    Holding(PosId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Waiting,
    Running,
    Stopped,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GridBot {
    venue: Venue,
    prices: Vec<Price>,
    qty: Vec<Qty>,
    levels: Vec<Level>,
    /// Price of the lowest idle level: a close above it means work to do.
    min_idle: i64,
    /// The exchange epoch at which buys were last refused for funds: no retry until it moves.
    refused_at: Option<u64>,
    holding: usize,
    phase: Phase,
    conditions: Conditions,
    fill_grid: bool,
    stop_exit: bool,
    stop_type: Threshold,
    /// maxWin / maxLoss in money units (0 = off).
    max_win: i128,
    max_loss: i128,
    start_equity: i128,
    disabled: usize,
    /// Live: the conditions are fed bar closes ([`GridBot::on_bar`]), not every quote.
    live_bars: bool,
}

impl GridBot {
    pub fn new(g: &GridSettings, futures: bool, s: &Scales, min_lots: i64, live: bool) -> Result<Self, EngineError> {
        let prices = levels(g, s)?;
        let n = g.grid_count as usize;
        let leverage = if futures { g.leverage() } else { 1 };
        let venue = if futures { Venue::Futures { leverage } } else { Venue::Spot };
        let too_big = || EngineError::Settings(ValidationError::new("investmentAmount", "is too large"));
        let per_grid = g.investment_amount.checked_div(Decimal::from(g.grid_count)).ok_or_else(too_big)?;
        let mut qty = Vec::with_capacity(n);
        for &p in &prices[..n] {
            let q = match (futures, g.asset()) {
                (false, InvestmentAsset::Base) => Some(per_grid),
                (false, InvestmentAsset::Quote) => per_grid.checked_div(s.price_dec(p)),
                (true, _) => per_grid.checked_mul(Decimal::from(leverage)).and_then(|v| v.checked_div(s.price_dec(p))),
            };
            qty.push(s.floor_qty(q.ok_or_else(too_big)?).unwrap_or(Qty(0)));
        }
        let levels: Vec<Level> =
            qty.iter().map(|q| if q.0 <= 0 || q.0 < min_lots { Level::Disabled } else { Level::Idle }).collect();
        let disabled = levels.iter().filter(|l| **l == Level::Disabled).count();
        let money = |d: Option<Decimal>| s.money_floor(d.unwrap_or_default()).unwrap_or(i128::MAX);
        let mut conditions = Conditions::new(&condition_settings(g), s);
        if live {
            conditions.track_rsi();
        }
        let mut bot = Self {
            venue,
            prices,
            qty,
            levels,
            min_idle: i64::MAX,
            refused_at: None,
            holding: 0,
            phase: Phase::Waiting,
            conditions,
            fill_grid: !futures && g.trade_to_fill_grid.unwrap_or(false),
            stop_exit: g.stop_exit,
            stop_type: g.stop_type,
            max_win: money(g.max_win),
            max_loss: money(g.max_loss),
            start_equity: 0,
            disabled,
            live_bars: live,
        };
        bot.update_min_idle();
        Ok(bot)
    }

    pub fn on_start(&mut self, ex: &mut Exchange) {
        let n = self.levels.len();
        let (lo, hi) = (ex.price_dec(self.prices[0]), ex.price_dec(self.prices[n]));
        ex.log(LogLevel::Info, || format!("Grid of {n} grids from {lo} to {hi}"));
        if self.disabled > 0 {
            let (k, min) = (self.disabled, ex.p.market.minimum_trade_amount);
            ex.log(LogLevel::Warning, || {
                format!("{k} grid levels trade less than the minimum trade amount {min} and will not be used")
            });
        }
    }

    pub fn on_close(&mut self, ex: &mut Exchange, at: Touch) {
        let close = at.last;
        if !self.live_bars {
            self.conditions.update(close);
        }
        match self.phase {
            Phase::Stopped => return,
            Phase::Waiting => {
                if !self.conditions.start_met(close) {
                    return;
                }
                self.phase = Phase::Running;
                self.start_equity = ex.equity(close);
                ex.log(LogLevel::Info, || "Grid bot started".into());
                ex.decide("start", "condition_met", |ex| vec![("price", ex.price_dec(close).to_string())]);
                if self.fill_grid {
                    self.trade_to_fill(ex, at);
                }
            }
            Phase::Running => {
                if self.conditions.stop_met(close) {
                    self.stop(ex, at);
                    return;
                }
                if self.max_win > 0 || self.max_loss > 0 {
                    let profit = ex.equity(close) - self.start_equity;
                    if (self.max_win > 0 && profit >= self.max_win) || (self.max_loss > 0 && -profit >= self.max_loss) {
                        let which = if profit > 0 { "maxWin" } else { "maxLoss" };
                        let p = ex.money_dec(profit);
                        ex.log(LogLevel::Info, || format!("{which} reached (profit {p}): closing out"));
                        let code = if profit > 0 { "max_win" } else { "max_loss" };
                        ex.decide("close_out", code, |_| vec![("profit", p.to_string())]);
                        self.close_out(ex, at, OrderRole::CloseOut, true, &format!("{which} reached"));
                        return;
                    }
                }
            }
        }
        if close.0 > self.min_idle && self.refused_at != Some(ex.epoch) {
            self.place_buys(ex, close);
        }
        if self.holding > 0 {
            self.retry_sells(ex);
        }
    }

    pub fn on_fill(&mut self, ex: &mut Exchange, ev: FillEvent) {
        let i = ev.tag as usize;
        match ev.role {
            OrderRole::GridBuy | OrderRole::GridFill => self.place_sell(ex, i, ev.position),
            OrderRole::GridSell => {
                if let Some(l) = self.levels.get_mut(i) {
                    *l = Level::Idle;
                    self.update_min_idle();
                }
            }
            OrderRole::Liquidation | OrderRole::Flatten => {
                if let Some(i) = self
                    .levels
                    .iter()
                    .position(|l| matches!(*l, Level::Selling(_, p) | Level::Holding(p) if p == ev.position))
                {
                    if self.levels[i] == Level::Holding(ev.position) {
                        self.holding -= 1;
                    }
                    self.levels[i] = Level::Idle;
                    self.update_min_idle();
                }
            }
            _ => {}
        }
    }

    fn req(&self, side: Side, i: usize, role: OrderRole, target: Target) -> OrderReq {
        OrderReq { side, qty: self.qty[i], role, tag: i as u32, venue: self.venue, target }
    }

    /// Buys for every idle level below the close, nearest to the price first (so limited
    /// funds go to the levels most likely to trade).
    fn place_buys(&mut self, ex: &mut Exchange, close: Price) {
        let below = self.prices[..self.levels.len()].partition_point(|p| p.0 < close.0);
        self.refused_at = None;
        for i in (0..below).rev() {
            if self.levels[i] != Level::Idle {
                continue;
            }
            let req = self.req(Side::Buy, i, OrderRole::GridBuy, Target::New(Direction::Long));
            match ex.place_limit(req, self.prices[i]) {
                Ok(id) => self.levels[i] = Level::Buying(id),
                Err(Refusal::InsufficientFunds) => {
                    self.refused_at = Some(ex.epoch);
                    break;
                }
                Err(_) => self.levels[i] = Level::Disabled,
            }
        }
        self.update_min_idle();
    }

    fn place_sell(&mut self, ex: &mut Exchange, i: usize, pos: PosId) {
        let Some(&sell_at) = self.prices.get(i + 1) else { return };
        let req = self.req(Side::Sell, i, OrderRole::GridSell, Target::Reduce(pos));
        self.levels[i] = match ex.place_limit(req, sell_at) {
            Ok(id) => Level::Selling(id, pos),
            Err(_) => {
                self.holding += 1;
                Level::Holding(pos)
            }
        };
    }

    fn retry_sells(&mut self, ex: &mut Exchange) {
        for i in 0..self.levels.len() {
            if let Level::Holding(pos) = self.levels[i] {
                self.holding -= 1;
                self.place_sell(ex, i, pos);
            }
        }
    }

    /// `tradeToFillGrid`: a market buy of `qty_i` for every level at or above the price, so
    /// each can rest its sell at `p_{i+1}` from the start.
    fn trade_to_fill(&mut self, ex: &mut Exchange, at: Touch) {
        for i in 0..self.levels.len() {
            if self.levels[i] != Level::Idle || self.prices[i].0 < at.last.0 {
                continue;
            }
            let req = self.req(Side::Buy, i, OrderRole::GridFill, Target::New(Direction::Long));
            match ex.place_market(req, at) {
                Ok(ev) => self.place_sell(ex, i, ev.position),
                Err(Refusal::InsufficientFunds) => break,
                Err(_) => {}
            }
        }
        self.update_min_idle();
    }

    /// A stop condition fired: cancel everything; with `stopExit`, `Below value` sells the
    /// inventory at market. `Above value` would buy back base the grid sold short, which a
    /// grid that only sells what its levels bought never has: nothing to do.
    fn stop(&mut self, ex: &mut Exchange, at: Touch) {
        ex.log(LogLevel::Info, || "Stop condition met: grid bot stopped".into());
        ex.decide("stop", "stop_condition", |ex| vec![("price", ex.price_dec(at.last).to_string())]);
        let sell = self.stop_exit && self.stop_type == Threshold::Below;
        if self.stop_exit && !sell {
            ex.log(LogLevel::Info, || "Stop exit: no base sold below the inventory, nothing to buy back".into());
        }
        self.close_out(ex, at, OrderRole::GridExit, sell, "stop condition met");
    }

    /// Cancels every order, exits every held level at market if `exit`, and deactivates.
    /// A level that still holds its position afterwards keeps it (`Holding`), the others are
    /// parked, so a re-armed bot ([`GridBot::rearm`]) picks up where it stood.
    fn close_out(&mut self, ex: &mut Exchange, at: Touch, role: OrderRole, exit: bool, reason: &str) {
        ex.cancel_all(reason);
        let mut holding = 0;
        for i in 0..self.levels.len() {
            let held = match self.levels[i] {
                Level::Selling(_, p) | Level::Holding(p) => Some(p),
                _ => None,
            };
            if let (true, Some(pos)) = (exit, held) {
                let open = ex.position(pos).map_or(0, |p| p.qty);
                let req = OrderReq { qty: Qty(open), ..self.req(Side::Sell, i, role, Target::Reduce(pos)) };
                let _ = ex.place_market(req, at);
            }
            self.levels[i] = match held {
                Some(pos) if ex.position(pos).is_some_and(|p| p.open) => {
                    holding += 1;
                    Level::Holding(pos)
                }
                _ if self.levels[i] == Level::Disabled => Level::Disabled,
                _ => Level::Parked,
            };
        }
        self.holding = holding;
        self.phase = Phase::Stopped;
        self.update_min_idle();
        ex.emit(|| EventKind::BotDeactivated { reason: reason.to_owned() });
    }

    fn update_min_idle(&mut self) {
        self.min_idle = self.levels.iter().position(|l| *l == Level::Idle).map_or(i64::MAX, |i| self.prices[i].0);
    }
}

fn condition_settings(g: &GridSettings) -> ConditionSettings {
    ConditionSettings {
        start: (g.start_condition, g.start_type, g.start_value),
        stop: (g.stop_condition, g.stop_type, g.stop_value),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::settings::GridMode;
    use rust_decimal::dec;

    pub(super) fn settings(lo: Decimal, hi: Decimal, n: u32, mode: GridMode) -> GridSettings {
        serde_json_free_grid(lo, hi, n, mode)
    }

    fn serde_json_free_grid(lo: Decimal, hi: Decimal, n: u32, mode: GridMode) -> GridSettings {
        GridSettings {
            symbol: "SIM_BTC_USDT_".into(),
            lower_limit: lo,
            upper_limit: hi,
            grid_mode: mode,
            grid_count: n,
            investment_asset: Some(InvestmentAsset::Quote),
            investment_amount: dec!(1000),
            trade_to_fill_grid: None,
            leverage: None,
            max_win: None,
            max_loss: None,
            start_condition: Default::default(),
            start_type: Default::default(),
            start_value: dec!(0),
            stop_condition: Default::default(),
            stop_type: Default::default(),
            stop_value: dec!(0),
            stop_exit: false,
            interval: None,
        }
    }

    #[test]
    fn quote_investment_quantities_floor_per_level() {
        let s = Scales::new(2, 5, 3);
        // 1000 over 4 grids = 250 per grid: 250/100 = 2.5, 250/110 = 2.27272.., 250/120 = 2.08333..
        let g = settings(dec!(100), dec!(140), 4, GridMode::Arithmetic);
        let bot = GridBot::new(&g, false, &s, 1, false).unwrap();
        assert_eq!(bot.qty, vec![Qty(250_000), Qty(227_272), Qty(208_333), Qty(192_307)]);
        let g = GridSettings { investment_asset: Some(InvestmentAsset::Base), investment_amount: dec!(1), ..g };
        let bot = GridBot::new(&g, false, &s, 1, false).unwrap();
        assert_eq!(bot.qty, vec![Qty(25_000); 4]);
        // Futures ×3 leverage, investment 1000: 250·3/100 = 7.5.
        let g = GridSettings { investment_asset: None, leverage: Some(3), investment_amount: dec!(1000), ..g };
        let bot = GridBot::new(&g, true, &s, 1, false).unwrap();
        assert_eq!(bot.qty[0], Qty(750_000));
    }

    #[test]
    fn levels_below_the_minimum_are_disabled() {
        let s = Scales::new(2, 5, 3);
        let g = settings(dec!(100), dec!(140), 4, GridMode::Arithmetic);
        let bot = GridBot::new(&g, false, &s, 220_000, false).unwrap();
        assert_eq!(bot.disabled, 2);
        assert_eq!(bot.min_idle, 10000);
    }
}
