//! Whether an order may be placed: its price, its size against the market's minimum, and the
//! free balance (or, for a futures exit, the part of the position not already being closed).
//! A refusal is logged in the reference's words; a live run also records it as a decision and
//! keeps the message for a signal's outcome.

use rust_decimal::Decimal;

use super::{Exchange, OrderReq, Refusal, margin_for};
use crate::log::LogLevel;
use crate::order::Target;
use crate::price::{Price, Qty};
use crate::vocabulary::{Side, Venue};

impl Exchange {
    /// Checks size and funds; returns the quote and base the order must hold while it rests.
    pub(super) fn check(&mut self, req: &OrderReq, price: Price) -> Result<(i128, i64), Refusal> {
        let s = self.p.scales;
        if price.0 <= 0 {
            return Err(self.refuse(Refusal::BadPrice, LogLevel::Warning, req, |_| {
                format!("{} order not placed: price must be positive", req.side.label())
            }));
        }
        if req.qty.0 <= 0 || req.qty.0 < self.p.min_lots {
            return Err(self.refuse(Refusal::BelowMinimum, LogLevel::Warning, req, |ex| {
                let (q, min, base) =
                    (ex.qty_dec(req.qty), ex.p.market.minimum_trade_amount, &ex.p.market.base_currency);
                format!(
                    "{} order not placed: amount {q} {base} is below the minimum trade amount {min} {base} ({})",
                    req.side.label(),
                    req.role.note(req.tag)
                )
            }));
        }
        let tl = i128::from(price.0) * i128::from(req.qty.0);
        let fee = self.p.fee.fee(tl);
        let reduce = match (req.venue, req.target) {
            (Venue::Futures { .. }, Target::Reduce(pos)) => Some(pos),
            _ => None,
        };
        if let Some(pos) = reduce {
            let p = self.positions.get(pos).filter(|p| p.open);
            if p.is_none_or(|p| p.qty - p.pending_reduce < req.qty.0) {
                return Err(self.refuse(Refusal::NothingToReduce, LogLevel::Warning, req, |_| {
                    format!("{} order not placed: nothing left to close", req.side.label())
                }));
            }
            return Ok((0, 0));
        }
        let (need_quote, need_base) = match (req.venue, req.side) {
            (Venue::Spot, Side::Buy) => (s.ticklots_money(tl) + fee, 0),
            (Venue::Spot, Side::Sell) => (0, req.qty.0),
            (Venue::Futures { leverage }, _) => (margin_for(s.ticklots_money(tl), leverage) + fee, 0),
        };
        let (free_quote, free_base) = (self.account.free_quote(), self.account.free_base());
        if need_quote > free_quote || need_base > free_base {
            return Err(self.refuse(Refusal::InsufficientFunds, LogLevel::Error, req, |ex| {
                let (need, have, cur) = if need_base > 0 {
                    (ex.qty_dec(Qty(need_base)), ex.qty_dec(Qty(free_base)), &ex.p.market.base_currency)
                } else {
                    (ex.money_dec(need_quote), ex.money_dec(free_quote), &ex.p.market.quote_currency)
                };
                let verb = if req.side == Side::Buy { "PlaceBuyOrder" } else { "PlaceSellOrder" };
                // Six decimals like the reference's message, rounded (Display truncates).
                let six =
                    |d: Decimal| d.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                let (need, have) = (six(need), six(have));
                format!(
                    "Blocking {verb}(). Insufficient funds. {need:.6} {cur} required. {have:.6} {cur} available. ({})",
                    req.role.note(req.tag)
                )
            }));
        }
        Ok((need_quote, need_base))
    }

    /// Logs a refusal (formatted only if the log keeps it); a live run also records the
    /// decision and keeps the message for a signal's outcome, whether or not the log has room.
    fn refuse(
        &mut self,
        r: Refusal,
        level: LogLevel,
        req: &OrderReq,
        message: impl FnOnce(&Exchange) -> String,
    ) -> Refusal {
        if !self.journal.live() {
            self.log_with(level, message);
            return r;
        }
        let m = message(self);
        self.decide("order_refused", r.code(), |_| vec![("order", req.role.note(req.tag))]);
        let kept = m.clone();
        self.journal.log(self.now, level, || kept);
        self.refusal = Some(m);
        r
    }
}
