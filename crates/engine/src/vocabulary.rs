//! The trading vocabulary every other module speaks: sides, directions, order types and
//! statuses, what an order is for, where it trades, the script types, and the engine's small
//! internal ids. It is a leaf: it imports nothing from the crate, so orders, positions,
//! settings and scripts can all use it without importing each other.

use serde::{Deserialize, Serialize};

/// Id of an order within a run: sequential from 0, never reused (also its id in reports and
/// events). A runner maps it to its own record id.
pub type OrderId = u32;

/// Id of a position within a run: sequential from 0, never reused.
pub type PosId = u32;

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

/// Long (entered by buying) or short (entered by selling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    /// Profits when the price rises.
    Long,
    /// Profits when the price falls.
    Short,
}

impl Direction {
    /// The side of the orders that enter this direction.
    pub fn entry_side(self) -> Side {
        match self {
            Self::Long => Side::Buy,
            Self::Short => Side::Sell,
        }
    }

    /// The side of the orders that exit this direction.
    pub fn exit_side(self) -> Side {
        match self {
            Self::Long => Side::Sell,
            Self::Short => Side::Buy,
        }
    }

    /// +1 long, −1 short.
    pub(crate) fn sign(self) -> i128 {
        match self {
            Self::Long => 1,
            Self::Short => -1,
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

/// Open or closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PositionStatus {
    /// Still held at the end of the run.
    Open,
    /// Entirely exited.
    Closed,
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
    /// A position closed at market by `flatten()` (or `stop(true)`) of a live run.
    Flatten,
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
            Self::Flatten => "Flatten".into(),
        }
    }
}

/// Spot (quote and base change hands) or futures (isolated margin on a position).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// The partner API's script types (`WhiteLabelScriptType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScriptType {
    /// `spot_grid`.
    #[serde(rename = "spot_grid")]
    SpotGrid,
    /// `futures_grid`.
    #[serde(rename = "futures_grid")]
    FuturesGrid,
    /// `spot_dollar_cost_averaging`.
    #[serde(rename = "spot_dollar_cost_averaging")]
    SpotDca,
    /// `futures_dollar_cost_averaging`.
    #[serde(rename = "futures_dollar_cost_averaging")]
    FuturesDca,
    /// `webhook`.
    #[serde(rename = "webhook")]
    Webhook,
}

impl ScriptType {
    /// Every script type, in the reference's order.
    pub const ALL: [ScriptType; 5] =
        [Self::SpotGrid, Self::FuturesGrid, Self::SpotDca, Self::FuturesDca, Self::Webhook];

    /// The wire name, e.g. `spot_grid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SpotGrid => "spot_grid",
            Self::FuturesGrid => "futures_grid",
            Self::SpotDca => "spot_dollar_cost_averaging",
            Self::FuturesDca => "futures_dollar_cost_averaging",
            Self::Webhook => "webhook",
        }
    }
}
