//! Webhook bot: acts on timed signals.
//!
//! A signal is acted on at the first candle close at or after its timestamp (the engine
//! cannot know the price inside a candle, and acting at the open would look ahead of the
//! signal): a market order at that close, or a limit order placed then (live from the next
//! candle). `amount` is base, floored to the amount step. `buy` / `sell` trade spot and move
//! the bot's one net spot position (a sell larger than a long position closes it and opens a
//! short with the rest, using base the account holds); `enter_*` open or add to the futures
//! position of that direction; `exit_*` reduce it, capped at what is open and not already
//! being closed by a resting exit.

use crate::exchange::{Exchange, OrderReq, Touch};
use crate::log::LogLevel;
use crate::order::{OrderRole, Side, Target, Venue};
use crate::position::Direction;
use crate::price::Qty;
use crate::settings::{Signal, SignalAction, WebhookSettings};

#[derive(Clone, Debug)]
pub(crate) struct WebhookBot {
    signals: Vec<Signal>,
    next: usize,
    leverage: u32,
}

impl WebhookBot {
    pub fn new(s: &WebhookSettings) -> Self {
        let mut signals = s.signals.clone();
        // Stable: signals with one timestamp keep the order they were given in.
        signals.sort_by_key(|s| s.timestamp);
        Self { signals, next: 0, leverage: s.leverage() }
    }

    pub fn on_start(&mut self, ex: &mut Exchange) {
        let n = self.signals.len();
        ex.log(LogLevel::Info, || format!("Webhook bot with {n} signals"));
    }

    #[inline]
    pub fn on_close(&mut self, ex: &mut Exchange, at: Touch, time: i64) {
        while let Some(s) = self.signals.get(self.next).filter(|s| s.timestamp <= time) {
            let s = s.clone();
            self.next += 1;
            self.act(ex, &s, self.next as u32, at);
        }
    }

    pub fn on_finish(&mut self, ex: &mut Exchange) {
        let left = self.signals.len() - self.next;
        if left > 0 {
            ex.log(LogLevel::Warning, || format!("{left} signals after the last candle were not acted on"));
        }
    }

    fn act(&mut self, ex: &mut Exchange, s: &Signal, number: u32, at: Touch) {
        let qty = ex.p.scales.floor_qty(s.amount).unwrap_or(Qty(0));
        let futures = Venue::Futures { leverage: self.leverage };
        let (side, venue, target) = match s.action {
            SignalAction::Buy => (Side::Buy, Venue::Spot, Target::Net),
            SignalAction::Sell => (Side::Sell, Venue::Spot, Target::Net),
            SignalAction::EnterLong => (Side::Buy, futures, Target::Net),
            SignalAction::EnterShort => (Side::Sell, futures, Target::Net),
            SignalAction::ExitLong | SignalAction::ExitShort => {
                let dir = if s.action == SignalAction::ExitLong { Direction::Long } else { Direction::Short };
                let Some(pos) = ex.net_position(dir) else {
                    ex.log(LogLevel::Warning, || {
                        format!("Signal #{number} ({:?}): no open {dir:?} position", s.action)
                    });
                    return;
                };
                (dir.exit_side(), futures, Target::Reduce(pos))
            }
        };
        let qty = match target {
            Target::Reduce(pos) => {
                let free = ex.position(pos).map_or(0, |p| p.qty - p.pending_reduce);
                Qty(qty.0.min(free))
            }
            _ => qty,
        };
        let req = OrderReq { side, qty, role: OrderRole::Signal, tag: number, venue, target };
        let price = s.price.and_then(|p| ex.p.scales.round_price(p));
        // Refusals are logged by the exchange; a signal is not retried.
        let _ = match price {
            Some(limit) => ex.place_limit(req, limit).map(|_| ()),
            None => ex.place_market(req, at).map(|_| ()),
        };
    }
}
