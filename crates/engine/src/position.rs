//! Positions: what a bot holds between its entry and exit orders, with its profit.
//!
//! Cost basis is kept in tick·lots, exact. A partial reduce removes
//! `floor(cost × reduced / qty)` of it (the only rounding, one tick·lot at most, and the
//! removed and remaining parts still add up to the original cost, so no money appears or
//! vanishes). A spot position is bookkeeping over the account's base; a futures position is
//! also the isolated margin account the exchange liquidates.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::price::{Price, Qty};
use crate::vocabulary::{Direction, OrderId, OrderRole, OrderType, PositionStatus, Side, Venue};

/// One fill of a position (entry or exit), the part of an order that went to it. It copies
/// what the report shows of the order, so a position never needs an order `compact()` may
/// have dropped.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct PosFill {
    pub order: OrderId,
    pub entry: bool,
    pub price: Price,
    pub qty: Qty,
    pub fee: i128,
    /// Fill time, ms.
    pub time: i64,
    pub side: Side,
    pub kind: OrderType,
    pub role: OrderRole,
    pub tag: u32,
}

/// A position as the engine works with it; times in ms.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PositionRec {
    pub direction: Direction,
    pub venue: Venue,
    pub open: bool,
    pub opened: i64,
    pub closed: Option<i64>,
    /// Open quantity.
    pub qty: i64,
    /// Cost basis of the open quantity, tick·lots.
    pub cost: i128,
    /// Isolated margin posted (futures), money units.
    pub margin: i128,
    /// Lots held by resting reduce orders (futures), so exits never exceed the position.
    pub pending_reduce: i64,
    pub entry_qty: i64,
    pub entry_value: i128,
    pub exit_qty: i64,
    pub exit_value: i128,
    /// Realized profit before fees, tick·lots.
    pub realized: i128,
    /// Fees of its fills, money units.
    pub fees: i128,
    /// Capital committed: Σ entry notional / leverage, money units (the report's margin).
    pub committed: i128,
    /// Liquidation trigger of an open futures position.
    pub liquidation: Option<Price>,
    pub liquidated: bool,
    /// Loss beyond the margin absorbed at liquidation (the insurance fund's), money units.
    pub absorbed: i128,
    pub fills: Vec<PosFill>,
    /// Sequence number of the last event about it (live), so `compact()` keeps it until
    /// that event is drained.
    pub last_seq: u64,
}

impl PositionRec {
    pub fn new(direction: Direction, venue: Venue, time: i64) -> Self {
        Self {
            direction,
            venue,
            open: true,
            opened: time,
            closed: None,
            qty: 0,
            cost: 0,
            margin: 0,
            pending_reduce: 0,
            entry_qty: 0,
            entry_value: 0,
            exit_qty: 0,
            exit_value: 0,
            realized: 0,
            fees: 0,
            committed: 0,
            liquidation: None,
            liquidated: false,
            absorbed: 0,
            fills: Vec::new(),
            last_seq: 0,
        }
    }

    /// Adds `q` lots bought (long) or sold (short) at `p`.
    pub fn increase(&mut self, q: i64, p: Price) {
        let v = i128::from(p.0) * i128::from(q);
        self.qty += q;
        self.cost += v;
        self.entry_qty += q;
        self.entry_value += v;
    }

    /// Removes `q ≤ qty` lots at `p`; returns `(cost removed, gross profit)` in tick·lots.
    pub fn reduce(&mut self, q: i64, p: Price) -> (i128, i128) {
        let removed = if q >= self.qty { self.cost } else { self.cost * i128::from(q) / i128::from(self.qty) };
        let value = i128::from(p.0) * i128::from(q);
        let gross = self.direction.sign() * (value - removed);
        self.qty -= q.min(self.qty);
        self.cost -= removed;
        self.realized += gross;
        self.exit_qty += q;
        self.exit_value += value;
        (removed, gross)
    }

    /// Unrealized profit at `p`, tick·lots.
    pub fn unrealized(&self, p: Price) -> i128 {
        self.direction.sign() * (i128::from(p.0) * i128::from(self.qty) - self.cost)
    }
}

/// One fill of a position in the report (the reference's entry / exit orders).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionFill {
    /// The order (see [`crate::Report::orders`]).
    pub order_id: u32,
    /// Fill time, unix seconds.
    pub time: i64,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// Fill price.
    pub price: Decimal,
    /// Amount of this fill that went to the position (base).
    pub amount: Decimal,
    /// Fee of that amount, quote.
    pub fee_costs: Decimal,
    /// The order's note.
    pub note: String,
}

/// A position in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// Sequential id within the run, from 0.
    pub id: u32,
    /// Long or short.
    pub direction: Direction,
    /// Open or closed.
    pub status: PositionStatus,
    /// Leverage (1 on spot).
    pub leverage: u32,
    /// Time of the first entry fill, unix seconds.
    pub open_time: i64,
    /// Time of the last exit fill, unix seconds.
    pub close_time: Option<i64>,
    /// Total amount entered (base).
    pub amount: Decimal,
    /// Amount still open (base).
    pub open_amount: Decimal,
    /// Σ(price × amount) / Σ amount over entries.
    pub average_entry_price: Decimal,
    /// Σ(price × amount) / Σ amount over exits.
    pub average_exit_price: Option<Decimal>,
    /// Profit of the exits before fees, quote.
    pub gross_profit: Decimal,
    /// Fees of all its fills, quote.
    pub fee_costs: Decimal,
    /// `grossProfit − feeCosts`, quote.
    pub realized_profit: Decimal,
    /// Profit of the open amount at the last price, quote.
    pub unrealized_profit: Decimal,
    /// Capital committed: Σ entry notional / leverage, quote.
    pub margin: Decimal,
    /// `realizedProfit / margin × 100`.
    pub roi: Decimal,
    /// Closed by liquidation.
    pub liquidated: bool,
    /// Entry fills, in order.
    pub entry_orders: Vec<PositionFill>,
    /// Exit fills, in order.
    pub exit_orders: Vec<PositionFill>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn reduce_splits_cost_and_books_profit() {
        let mut p = PositionRec::new(Direction::Long, Venue::Spot, 0);
        p.increase(3, Price(100));
        p.increase(1, Price(104)); // cost 404, qty 4
        let (removed, gross) = p.reduce(1, Price(110));
        assert_eq!((removed, gross), (101, 9)); // floor(404 × 1/4) = 101
        assert_eq!((p.qty, p.cost), (3, 303));
        let (removed, gross) = p.reduce(3, Price(90));
        assert_eq!((removed, gross), (303, -33));
        assert_eq!((p.qty, p.cost, p.realized), (0, 0, -24));
    }

    #[test]
    fn short_profits_when_price_falls() {
        let mut p = PositionRec::new(Direction::Short, Venue::Futures { leverage: 2 }, 0);
        p.increase(2, Price(100));
        assert_eq!(p.unrealized(Price(90)), 20);
        let (_, gross) = p.reduce(2, Price(95));
        assert_eq!(gross, 10);
    }

    #[test]
    fn partial_reduce_rounds_cost_down_and_conserves_it() {
        let mut p = PositionRec::new(Direction::Long, Venue::Spot, 0);
        p.increase(2, Price(10));
        p.increase(1, Price(11)); // cost 31 for 3: not divisible
        let (r1, _) = p.reduce(1, Price(10));
        let (r2, _) = p.reduce(2, Price(10));
        // floor(31/3) = 10, then the remaining 21: nothing lost or created.
        assert_eq!((r1, r2), (10, 21));
    }
}
