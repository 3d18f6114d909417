//! How a fill changes positions: entries, exits, the net position of a webhook bot, and the
//! isolated margin and liquidation trigger of futures positions.

use rust_decimal::Decimal;

use super::Exchange;
use super::journal::{Effect, Part};
use super::margin_for;
use crate::book::Kind;
use crate::log::LogLevel;
use crate::order::Target;
use crate::position::{PosFill, PositionRec};
use crate::price::{Price, Qty, dec_from_i128};
use crate::vocabulary::{Direction, OrderId, OrderRole, PosId, Side, Venue};

impl Exchange {
    /// Books a fill on its position(s); returns the position it went to (for a flip of a net
    /// position: the new one).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply(
        &mut self,
        id: OrderId,
        side: Side,
        qty: i64,
        price: Price,
        fee: i128,
        venue: Venue,
        target: Target,
    ) -> PosId {
        match target {
            Target::New(dir) => {
                let pos = self.open_position(dir, venue);
                self.enter(pos, id, qty, price, fee);
                pos
            }
            Target::Add(pos) if self.positions.get(pos).is_some_and(|p| p.open) => {
                self.enter(pos, id, qty, price, fee);
                pos
            }
            Target::Add(_) => {
                let dir = if side == Side::Buy { Direction::Long } else { Direction::Short };
                let pos = self.open_position(dir, venue);
                self.enter(pos, id, qty, price, fee);
                pos
            }
            Target::Reduce(pos) => {
                self.exit(pos, id, qty, price, fee);
                pos
            }
            Target::Net => self.apply_net(id, side, qty, price, fee, venue),
        }
    }

    /// A webhook fill: adds to the net position of its side, or reduces the opposite one and
    /// opens a new position with what is left (spot: the position flips).
    fn apply_net(&mut self, id: OrderId, side: Side, qty: i64, price: Price, fee: i128, venue: Venue) -> PosId {
        let dir = if side == Side::Buy { Direction::Long } else { Direction::Short };
        let current = match venue {
            Venue::Spot => self.net_spot,
            Venue::Futures { .. } => self.net_position(dir),
        };
        let Some(pos) = current.filter(|&p| self.positions.get(p).is_some_and(|p| p.open)) else {
            let pos = self.open_position(dir, venue);
            self.enter(pos, id, qty, price, fee);
            return pos;
        };
        let p = &self.positions[pos];
        if p.direction == dir {
            self.enter(pos, id, qty, price, fee);
            return pos;
        }
        let reduce = qty.min(p.qty);
        let fee_reduce = fee * i128::from(reduce) / i128::from(qty);
        self.exit(pos, id, reduce, price, fee_reduce);
        if reduce == qty {
            return pos;
        }
        let new = self.open_position(dir, venue);
        self.enter(new, id, qty - reduce, price, fee - fee_reduce);
        new
    }

    fn open_position(&mut self, dir: Direction, venue: Venue) -> PosId {
        let id = self.positions.push(PositionRec::new(dir, venue, self.now));
        match (venue, dir) {
            (Venue::Spot, _) => self.net_spot = Some(id),
            (Venue::Futures { .. }, Direction::Long) => self.net_long = Some(id),
            (Venue::Futures { .. }, Direction::Short) => self.net_short = Some(id),
        }
        id
    }

    fn enter(&mut self, pos: PosId, order: OrderId, qty: i64, price: Price, fee: i128) {
        let s = self.p.scales;
        let tl = i128::from(price.0) * i128::from(qty);
        let now = self.now;
        let o = &self.orders[order];
        let (side, kind, role, tag) = (o.side, o.kind, o.role, o.tag);
        let p = &mut self.positions[pos];
        let margin = margin_for(s.ticklots_money(tl), p.venue.leverage());
        p.increase(qty, price);
        p.fees += fee;
        p.committed += margin;
        p.fills.push(PosFill { order, entry: true, price, qty: Qty(qty), fee, time: now, side, kind, role, tag });
        let effect = if p.fills.len() == 1 { Effect::Opened } else { Effect::Changed };
        if let Venue::Futures { .. } = p.venue {
            p.margin += margin;
            let dir = p.direction;
            self.account.quote -= margin + fee;
            self.account.margin += margin;
            self.account.shift(dir, qty, tl);
            self.update_liquidation(pos);
        }
        self.note_part(Part { pos, entry: true, qty, price, fee, effect });
    }

    /// Books an exit; returns whether it closed the position.
    fn exit(&mut self, pos: PosId, order: OrderId, qty: i64, price: Price, fee: i128) -> bool {
        let s = self.p.scales;
        let now = self.now;
        let o = &self.orders[order];
        let (side, kind, role, tag) = (o.side, o.kind, o.role, o.tag);
        let liquidation = role == OrderRole::Liquidation;
        let p = &mut self.positions[pos];
        if !p.open {
            // Bots never reduce a closed position; keep the fee on the books regardless.
            p.fees += fee;
            self.note_part(Part { pos, entry: false, qty, price, fee, effect: Effect::None });
            return false;
        }
        let qty = qty.min(p.qty);
        let before = p.qty;
        let margin_release = if qty >= before { p.margin } else { p.margin * i128::from(qty) / i128::from(before) };
        let (removed, gross) = p.reduce(qty, price);
        p.fees += fee;
        p.fills.push(PosFill { order, entry: false, price, qty: Qty(qty), fee, time: now, side, kind, role, tag });
        self.gross_total += gross;
        if let Venue::Futures { .. } = p.venue {
            p.margin -= margin_release;
            let dir = p.direction;
            let mut payout = margin_release + s.ticklots_money(gross) - fee;
            if payout < 0 && liquidation {
                // Isolated margin: a liquidation never costs the account more than the
                // position's margin; the rest is the insurance fund's. (A voluntary exit pays
                // its full loss: the trader chose its price.)
                p.absorbed += -payout;
                payout = 0;
            }
            self.account.quote += payout;
            self.account.margin -= margin_release;
            self.account.shift(dir, -qty, -removed);
        }
        let p = &mut self.positions[pos];
        let closed = p.qty == 0;
        if closed {
            p.open = false;
            p.closed = Some(now);
            p.liquidation = None;
            self.book.set_liquidation(pos, None);
            for net in [&mut self.net_spot, &mut self.net_long, &mut self.net_short] {
                if *net == Some(pos) {
                    *net = None;
                }
            }
            self.log_with(LogLevel::Trade, |ex| {
                let p = &ex.positions[pos];
                let profit = ex.money_dec(s.ticklots_money(p.realized) - p.fees);
                let sign = if profit.is_sign_negative() { "" } else { "+" };
                format!("Position #{pos} closed. Profit: {sign}{profit} {}", ex.p.market.quote_currency)
            });
        } else if let Venue::Futures { .. } = p.venue {
            self.update_liquidation(pos);
        }
        let effect = if closed { Effect::Closed } else { Effect::Changed };
        self.note_part(Part { pos, entry: false, qty, price, fee, effect });
        closed
    }

    /// Recomputes an open futures position's liquidation trigger: the first price at which
    /// `margin + unrealized < maintenance × notional`.
    fn update_liquidation(&mut self, pos: PosId) {
        let s = self.p.scales;
        let p = &mut self.positions[pos];
        if !p.open || p.qty == 0 {
            p.liquidation = None;
            self.book.set_liquidation(pos, None);
            return;
        }
        // In tick·lots: cost C, margin Mg = margin / 10^fd, quantity q (lots); the trigger X
        // in ticks solves Mg ± (q·X − C) = m·q·X. Checked arithmetic: an absurd position
        // simply gets no trigger rather than a panic.
        let c = dec_from_i128(p.cost, 0);
        let mg = dec_from_i128(p.margin, s.fd);
        let q = Decimal::from(p.qty);
        let m = self.p.maintenance_margin;
        let trigger = match p.direction {
            Direction::Long => (|| {
                let x = c.checked_sub(mg)?.checked_div(q.checked_mul(Decimal::ONE - m)?)?;
                // Largest tick strictly below X.
                let t = i64::try_from(x.ceil() - Decimal::ONE).ok()?;
                (t >= 1).then_some((t, Kind::LongLiquidation))
            })(),
            Direction::Short => (|| {
                let x = c.checked_add(mg)?.checked_div(q.checked_mul(Decimal::ONE + m)?)?;
                // Smallest tick strictly above X.
                let t = i64::try_from(x.floor() + Decimal::ONE).ok()?;
                Some((t, Kind::ShortLiquidation))
            })(),
        };
        p.liquidation = trigger.map(|(t, _)| Price(t));
        self.book.set_liquidation(pos, trigger);
    }
}
