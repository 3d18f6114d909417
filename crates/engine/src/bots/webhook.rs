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

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::events::SignalOutcome;
use crate::exchange::{Exchange, OrderReq, Touch};
use crate::log::LogLevel;
use crate::order::Target;
use crate::price::{Price, Qty};
use crate::settings::{InvestmentAsset, Signal, SignalAction, WebhookSettings};
use crate::vocabulary::{Direction, OrderRole, Side, Venue};

/// A signal given to a live run (`Engine::on_signal`): acted on at the next quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSignal {
    /// The caller's id for it, echoed in its `SignalOutcome` event.
    pub id: u64,
    /// What to do.
    pub action: SignalAction,
    /// The amount, in the base currency unless `amountAsset` is `Quote`.
    pub amount: Decimal,
    /// What `amount` is counted in: `Base` (default) or `Quote`, converted at the limit price
    /// or, for a market order, at the price it fills at, then floored to the lot.
    #[serde(default)]
    pub amount_asset: InvestmentAsset,
    /// Limit price; a market order at the quote's touch when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WebhookBot {
    signals: Vec<Signal>,
    next: usize,
    leverage: u32,
    /// Live signals acted on: they are numbered after the timed ones.
    live: u32,
}

impl WebhookBot {
    pub fn new(s: &WebhookSettings) -> Self {
        let mut signals = s.signals.clone();
        // Stable: signals with one timestamp keep the order they were given in.
        signals.sort_by_key(|s| s.timestamp);
        Self { signals, next: 0, leverage: s.leverage(), live: 0 }
    }

    pub fn on_start(&mut self, ex: &mut Exchange) {
        let n = self.signals.len();
        ex.log(LogLevel::Info, || format!("Webhook bot with {n} signals"));
    }

    /// Acts on the timed signals due at a close at `time` (ms; signal times are seconds).
    #[inline]
    pub fn on_close(&mut self, ex: &mut Exchange, at: Touch, time: i64) {
        while let Some(s) = self.signals.get(self.next).filter(|s| s.timestamp.saturating_mul(1000) <= time) {
            let s = s.clone();
            self.next += 1;
            let qty = ex.p.scales.floor_qty(s.amount).unwrap_or(Qty(0));
            let price = s.price.and_then(|p| ex.p.scales.round_price(p));
            self.act(ex, s.action, qty, price, self.next as u32, at);
        }
    }

    /// Acts on a live signal at the quote `at`.
    pub fn on_signal(&mut self, ex: &mut Exchange, s: &LiveSignal, at: Touch) -> SignalOutcome {
        self.live += 1;
        let number = self.next as u32 + self.live;
        let sc = ex.p.scales;
        // A limit the market cannot hold (beyond its price range, or 0 at its tick) is refused:
        // it must never become a market order, nor a sell at 0.
        let price = match s.price {
            None => None,
            Some(limit) => match sc.round_price(limit).filter(|price| price.0 > 0) {
                Some(price) => Some(price),
                None => {
                    let reason = format!("Signal #{number}: limit price {limit} cannot be placed on this market");
                    ex.log(LogLevel::Warning, || reason.clone());
                    return SignalOutcome::Refused { reason };
                }
            },
        };
        let base = match s.amount_asset {
            InvestmentAsset::Base => Some(s.amount),
            InvestmentAsset::Quote => {
                let side = match s.action {
                    SignalAction::Buy | SignalAction::EnterLong | SignalAction::ExitShort => Side::Buy,
                    _ => Side::Sell,
                };
                let at_price = price.unwrap_or_else(|| ex.market_price(side, at));
                s.amount.checked_div(sc.price_dec(at_price))
            }
        };
        let qty = base.and_then(|b| sc.floor_qty(b)).unwrap_or(Qty(0));
        self.act(ex, s.action, qty, price, number, at)
    }

    /// Whether the timed signals' cursor is within them.
    pub fn is_consistent(&self) -> bool {
        self.next <= self.signals.len()
    }

    pub fn on_finish(&mut self, ex: &mut Exchange) {
        let left = self.signals.len() - self.next;
        if left > 0 {
            ex.log(LogLevel::Warning, || format!("{left} signals after the last candle were not acted on"));
        }
    }

    fn act(
        &mut self,
        ex: &mut Exchange,
        action: SignalAction,
        qty: Qty,
        price: Option<Price>,
        number: u32,
        at: Touch,
    ) -> SignalOutcome {
        let futures = Venue::Futures { leverage: self.leverage };
        let (side, venue, target) = match action {
            SignalAction::Buy => (Side::Buy, Venue::Spot, Target::Net),
            SignalAction::Sell => (Side::Sell, Venue::Spot, Target::Net),
            SignalAction::EnterLong => (Side::Buy, futures, Target::Net),
            SignalAction::EnterShort => (Side::Sell, futures, Target::Net),
            SignalAction::ExitLong | SignalAction::ExitShort => {
                let dir = if action == SignalAction::ExitLong { Direction::Long } else { Direction::Short };
                let Some(pos) = ex.net_position(dir) else {
                    ex.log(LogLevel::Warning, || format!("Signal #{number} ({action:?}): no open {dir:?} position"));
                    return SignalOutcome::NothingToClose;
                };
                (dir.exit_side(), futures, Target::Reduce(pos))
            }
        };
        let (qty, capped_to_nothing) = match target {
            Target::Reduce(pos) => {
                let free = ex.position(pos).map_or(0, |p| p.qty - p.pending_reduce);
                (Qty(qty.0.min(free)), free <= 0)
            }
            _ => (qty, false),
        };
        let req = OrderReq { side, qty, role: OrderRole::Signal, tag: number, venue, target };
        // Refusals are logged by the exchange; a signal is not retried.
        let placed = match price {
            Some(limit) => ex.place_limit(req, limit),
            None => ex.place_market(req, at).map(|ev| ev.order),
        };
        match placed {
            Ok(order_id) => SignalOutcome::OrderPlaced { order_id },
            Err(_) if capped_to_nothing => SignalOutcome::NothingToClose,
            Err(r) => {
                let reason = ex.refusal.take().unwrap_or_else(|| r.code().to_owned());
                SignalOutcome::Refused { reason }
            }
        }
    }
}
