//! Orders: the public record in a report and the engine's compact working copy.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::price::{Price, Qty};
use crate::vocabulary::{Direction, OrderRole, OrderStatus, OrderType, PosId, Side, Venue};

/// Which position a fill goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Target {
    /// Opens a new position in this direction.
    New(Direction),
    /// Adds to this open position.
    Add(PosId),
    /// Reduces this open position.
    Reduce(PosId),
    /// The bot's one net position on this venue: adds, reduces, or flips it (webhook).
    Net,
}

/// An order as the engine works with it: integers only; times in ms.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct OrderRec {
    pub side: Side,
    pub kind: OrderType,
    pub role: OrderRole,
    /// Grid level or safety order number, for the note.
    pub tag: u32,
    pub status: OrderStatus,
    /// Limit price; for a market order, its fill price.
    pub price: Price,
    pub qty: Qty,
    pub filled: Qty,
    /// Fee paid, money units.
    pub fee: i128,
    pub created: i64,
    /// Fill or cancel time.
    pub closed: Option<i64>,
    pub venue: Venue,
    pub target: Target,
    /// Quote held for this order while it rests (money units).
    pub reserved_quote: i128,
    /// Base held for this order while it rests (lots).
    pub reserved_base: i64,
    /// The position its fill went to.
    pub position: Option<PosId>,
    /// Sequence number of the last event about it (live), so `compact()` keeps it until
    /// that event is drained.
    pub last_seq: u64,
}

/// An order in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Sequential id within the run, from 0.
    pub id: u32,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// Open, filled or cancelled.
    pub status: OrderStatus,
    /// What it was for.
    pub role: OrderRole,
    /// Human-readable note, e.g. `Grid buy #5`.
    pub note: String,
    /// Limit price (market orders: the fill price).
    pub price: Decimal,
    /// Amount ordered (base).
    pub amount: Decimal,
    /// Amount filled (base).
    pub amount_filled: Decimal,
    /// Fee paid, quote.
    pub fee_costs: Decimal,
    /// Currency of the fee.
    pub fee_currency: String,
    /// Placement time, unix seconds.
    pub created_at: i64,
    /// Fill or cancel time, unix seconds.
    pub closed_at: Option<i64>,
    /// Leverage (1 on spot).
    pub leverage: u32,
    /// The position its fill went to.
    pub position_id: Option<u32>,
    /// The open position a closing order reduces (a grid sell, a take-profit), known before
    /// it fills; absent for an opening order, and in a backtest's report (which stays as it
    /// was before live runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_position: Option<u32>,
}
