//! Orders: the public record in a report and the engine's compact working copy.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::position::{Direction, PosId};
use crate::price::{Price, Qty};

/// Index of an order in the run's order list (also its id in the report).
pub(crate) type OrderId = u32;

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// `BUY` or `SELL`, as the reference writes directions.
    pub fn label(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// Market or limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    /// Fills at once at the moment's price (plus slippage).
    Market,
    /// Rests until a price reaches its limit.
    Limit,
}

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderStatus {
    /// Resting (or placed and not yet live).
    Open,
    /// Entirely filled.
    Filled,
    /// Cancelled before it filled.
    Cancelled,
}

/// What an order is for; gives the report's note and the tie-break at one walked point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderRole {
    /// A grid level's buy.
    GridBuy,
    /// A grid level's sell (closes the level's round trip).
    GridSell,
    /// `tradeToFillGrid`: the market buy giving a level above the price its base at start.
    GridFill,
    /// `stopExit`: the market order unwinding a level when a stop condition fires.
    GridExit,
    /// A DCA deal's opening market order.
    DcaBase,
    /// A DCA safety order.
    DcaSafety,
    /// A DCA take-profit.
    DcaTakeProfit,
    /// An order a webhook signal asked for.
    Signal,
    /// A futures position closed by liquidation.
    Liquidation,
    /// A position closed by `maxWin` / `maxLoss`.
    CloseOut,
}

impl OrderRole {
    /// Tie-break at one walked point after price priority: a DCA deal's safety orders are
    /// matched before its take-profit.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Self::DcaSafety => 0,
            Self::DcaTakeProfit => 2,
            _ => 1,
        }
    }

    /// The report's note, e.g. `Grid buy #5` (`tag` is the level or safety order number).
    pub(crate) fn note(self, tag: u32) -> String {
        match self {
            Self::GridBuy => format!("Grid buy #{tag}"),
            Self::GridSell => format!("Grid sell #{tag}"),
            Self::GridFill => format!("Grid fill #{tag}"),
            Self::GridExit => format!("Grid stop exit #{tag}"),
            Self::DcaBase => "Base order".into(),
            Self::DcaSafety => format!("Safety order #{tag}"),
            Self::DcaTakeProfit => "Take profit".into(),
            Self::Signal => format!("Signal #{tag}"),
            Self::Liquidation => "Liquidation".into(),
            Self::CloseOut => "Close out".into(),
        }
    }
}

/// Spot (quote and base change hands) or futures (isolated margin on a position).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Venue {
    Spot,
    Futures { leverage: u32 },
}

impl Venue {
    pub fn leverage(self) -> u32 {
        match self {
            Self::Spot => 1,
            Self::Futures { leverage } => leverage,
        }
    }
}

/// Which position a fill goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// An order as the engine works with it: integers only.
#[derive(Clone, Debug)]
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
}
