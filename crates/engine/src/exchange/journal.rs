//! The events a live run records about orders and positions. Every method returns at once
//! in a backtest (no event is built), so the candle path pays one predictable branch.

use super::Exchange;
use crate::events::{Decision, EventKind, Fill};
use crate::log::secs;
use crate::price::Price;
use crate::vocabulary::{OrderId, PosId};

/// What one fill did to one position (live; scratch while a fill is booked).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Part {
    pub pos: PosId,
    pub entry: bool,
    pub qty: i64,
    pub price: Price,
    pub fee: i128,
    pub effect: Effect,
}

/// Which position event a part gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    Opened,
    Changed,
    Closed,
    /// A fill booked on a position that was already closed (bots never do it): no position
    /// event, only the fill.
    None,
}

impl Exchange {
    /// Records that order `id` was placed.
    pub(super) fn emit_placed(&mut self, id: OrderId) {
        if self.journal.live() {
            let order = Box::new(self.order_view(id));
            self.orders[id].last_seq = self.journal.push(self.now, EventKind::OrderPlaced { order });
        }
    }

    /// Records that order `id` was cancelled.
    pub(super) fn emit_cancelled(&mut self, id: OrderId, reason: &str) {
        if self.journal.live() {
            let order = Box::new(self.order_view(id));
            let kind = EventKind::OrderCancelled { order, reason: reason.to_owned() };
            self.orders[id].last_seq = self.journal.push(self.now, kind);
        }
    }

    /// Records a part of a fill (called while it is booked).
    pub(super) fn note_part(&mut self, part: Part) {
        if self.journal.live() {
            self.parts.push(part);
        }
    }

    /// Records order `id`'s fill: one `OrderFilled` per position it went to, each followed by
    /// that position's event.
    pub(super) fn emit_filled(&mut self, id: OrderId) {
        if !self.journal.live() {
            return;
        }
        let parts = std::mem::take(&mut self.parts);
        let s = self.p.scales;
        for part in parts {
            let o = &self.orders[id];
            let fill = Fill {
                order_id: id,
                position_id: part.pos,
                entry: part.entry,
                side: o.side,
                order_type: o.kind,
                role: o.role,
                note: o.role.note(o.tag),
                amount: s.qty_dec(crate::price::Qty(part.qty)),
                price: s.price_dec(part.price),
                fee: s.money_dec(part.fee),
                fee_currency: self.p.market.quote_currency.clone(),
                time: secs(self.now),
            };
            let (order, position) = (Box::new(self.order_view(id)), Box::new(self.position_view(part.pos, self.mark)));
            let fill = Box::new(fill);
            let seq = self.journal.push(self.now, EventKind::OrderFilled { order, fill, position: position.clone() });
            self.orders[id].last_seq = seq;
            let kind = match part.effect {
                Effect::Opened => EventKind::PositionOpened { position },
                Effect::Changed => EventKind::PositionChanged { position },
                Effect::Closed => {
                    let (gross, fees) = (position.gross_profit, position.fee_costs);
                    EventKind::PositionClosed { position, gross, fees }
                }
                Effect::None => {
                    self.positions[part.pos].last_seq = seq;
                    continue;
                }
            };
            self.positions[part.pos].last_seq = self.journal.push(self.now, kind);
        }
    }

    /// Records a decision (live). `data` runs only in a live run.
    pub fn decide(&mut self, kind: &str, reason: &str, data: impl FnOnce(&Exchange) -> Vec<(&'static str, String)>) {
        if self.journal.live() {
            let data = data(self).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let d = Decision { kind: kind.to_owned(), reason: reason.to_owned(), data };
            self.journal.push(self.now, EventKind::Decision(d));
        }
    }

    /// Records an event that is not about one order or position (live).
    pub fn emit(&mut self, kind: impl FnOnce() -> EventKind) {
        if self.journal.live() {
            self.journal.push(self.now, kind());
        }
    }
}
