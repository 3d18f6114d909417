//! What the live-session-runner answers about a hosted bot's runtime: its open orders and its
//! log (reference 003's `bots/orders` and `bots/logs`). The gateway checks with the ledger
//! first that the bot is the partner's; the runner answers not-found for a bot it does not
//! know or has purged.

use crate::messages::partner::reference::JsonDecimal;
use domain::BotId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The open orders of a hosted bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetBotOrders {
    /// The bot (its ownership already checked by the caller).
    pub bot_id: BotId,
}

/// An open order of a hosted bot, as reference 003 shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotOrder {
    /// The runner's id of the order (stable for the bot's life, never reused).
    pub order_id: String,
    /// The exchange's id: on `SIM`, the same as `orderId`.
    pub exchange_order_id: String,
    /// The position a closing order closes; `""` for an opening order.
    pub position_id: String,
    /// `OPEN`.
    pub status: String,
    /// Placement time, Unix seconds.
    pub timestamp: i64,
    /// `BUY` or `SELL`.
    pub direction: String,
    /// `Limit` or `Market`.
    pub order_type: String,
    /// Limit price.
    pub price: JsonDecimal,
    /// Always 0 (no stop orders).
    pub trigger_price: JsonDecimal,
    /// The average fill price if any, else `price`.
    pub trade_price: JsonDecimal,
    /// Amount ordered, base.
    pub amount: JsonDecimal,
    /// Amount filled, base (fills are whole: 0 while open).
    pub amount_filled: JsonDecimal,
    /// Fees paid so far, in `feeCurrency`.
    pub fee_costs: JsonDecimal,
    /// The quote currency.
    pub fee_currency: String,
    /// 0 for an open order.
    pub gross_profit: JsonDecimal,
    /// 0 for an open order.
    pub roi: JsonDecimal,
    /// The market symbol.
    pub market: String,
    /// 1 on spot.
    pub leverage: u32,
    /// What the order is for, e.g. `Grid buy #5`.
    pub note: String,
}

/// A page of a hosted bot's log, oldest line first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetBotLogs {
    /// The bot (its ownership already checked by the caller).
    pub bot_id: BotId,
    /// The page starts at line `after_line + 1` (line numbers start at 1).
    pub after_line: i64,
    /// At most this many lines (1 to 10,000); a page also ends near 256 KiB.
    pub limit: u32,
}

/// One line of a hosted bot's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotLogLine {
    /// From 1, per bot, without gaps.
    pub line_number: i64,
    /// Unix seconds.
    pub timestamp: i64,
    /// `info`, `trade`, `warning`, `error` or `custom`.
    pub severity: String,
    /// `rgba(...)` for `custom` lines, else null.
    pub color: Option<String>,
    /// The message.
    pub message: String,
}

/// A page of a hosted bot's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotLogPage {
    /// The lines, oldest first.
    pub items: Vec<BotLogLine>,
    /// Whether lines after the last one exist.
    pub more: bool,
}
