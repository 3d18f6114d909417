//! What a live run asks of a grid beyond candles and quotes: RSI bars, reconciling after
//! orders were cancelled from outside, re-arming, settings edits, the consistency check of a
//! restored checkpoint, and the plan the preview reads.

use rust_decimal::Decimal;

use super::{GridBot, Level, Phase, condition_settings};
use crate::bots::conditions::Conditions;
use crate::exchange::Exchange;
use crate::price::{Price, Qty, Scales};
use crate::settings::GridSettings;
use crate::vocabulary::{PosId, Venue};

impl GridBot {
    /// The level prices `p_0..=p_n`.
    pub fn prices(&self) -> &[Price] {
        &self.prices
    }

    /// Each level's quantity, and whether it trades (`None`: below the minimum).
    pub fn level_qty(&self, i: usize) -> Option<Qty> {
        (self.levels.get(i) != Some(&Level::Disabled)).then(|| self.qty[i])
    }

    /// Levels that never trade (quantity below the minimum).
    pub fn disabled(&self) -> usize {
        self.disabled
    }

    /// Whether `tradeToFillGrid` applies (spot only).
    pub fn fills_grid(&self) -> bool {
        self.fill_grid
    }

    /// Where the bot trades.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// A bar of the bot's interval closed at `close` (live): the RSI moves.
    pub fn on_bar(&mut self, close: Price) {
        self.conditions.update(close);
    }

    /// Brings the levels in line with the book after orders were cancelled from outside
    /// (stop, `cancel_all`, flatten): a level whose buy is gone is idle again, one whose sell
    /// is gone holds its position (the sell is re-placed at the next quote), one whose
    /// position is closed is idle. Nothing is placed here, so nothing can be placed twice.
    pub fn reconcile(&mut self, ex: &Exchange) {
        let open_pos = |p: PosId| ex.position(p).is_some_and(|p| p.open);
        for l in &mut self.levels {
            *l = match *l {
                Level::Buying(o) if !ex.is_open(o) => Level::Idle,
                Level::Selling(o, p) if !ex.is_open(o) => {
                    if open_pos(p) {
                        Level::Holding(p)
                    } else {
                        Level::Idle
                    }
                }
                Level::Holding(p) if !open_pos(p) => Level::Idle,
                other => other,
            };
        }
        self.holding = self.levels.iter().filter(|l| matches!(l, Level::Holding(_))).count();
        self.refused_at = None;
        self.update_min_idle();
    }

    /// Re-arms a bot that deactivated itself: its start condition is tested afresh from the
    /// next quote; positions it still holds keep their levels.
    pub fn rearm(&mut self, ex: &Exchange) {
        if self.phase == Phase::Stopped {
            self.phase = Phase::Waiting;
            for l in &mut self.levels {
                if *l == Level::Parked {
                    *l = Level::Idle;
                }
            }
        }
        self.reconcile(ex);
    }

    /// Whether the levels agree with the prices and refer only to kept positions.
    pub fn is_consistent(&self, ex: &Exchange) -> bool {
        let held = |p: PosId| ex.position(p).is_some();
        self.levels.len() + 1 == self.prices.len()
            && self.qty.len() == self.levels.len()
            && self.holding == self.levels.iter().filter(|l| matches!(l, Level::Holding(_))).count()
            && self.levels.iter().all(|l| match *l {
                Level::Selling(_, p) | Level::Holding(p) => held(p),
                _ => true,
            })
    }

    /// Applies the editable settings: stop condition (keeping the RSI state), stopExit,
    /// maxWin and maxLoss.
    pub fn update(&mut self, g: &GridSettings, s: &Scales) {
        let conditions = std::mem::replace(&mut self.conditions, Conditions::new(&condition_settings(g), s));
        self.conditions = conditions.rebuilt(&condition_settings(g), s);
        if self.live_bars {
            self.conditions.track_rsi();
        }
        self.stop_exit = g.stop_exit;
        self.stop_type = g.stop_type;
        let money = |d: Option<Decimal>| s.money_floor(d.unwrap_or_default()).unwrap_or(i128::MAX);
        self.max_win = money(g.max_win);
        self.max_loss = money(g.max_loss);
    }
}
