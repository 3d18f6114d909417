//! What the live-session-runner answers about a hosted bot's runtime: its open orders and its
//! log (reference 003's `bots/orders` and `bots/logs`). The gateway checks with the ledger
//! first that the bot is the partner's; the runner answers not-found for a bot it does not
//! know or has purged.

use crate::messages::hosted::MarketSpecMsg;
use crate::messages::partner::reference::JsonDecimal;
use domain::{BotId, SessionId};
use rust_decimal::Decimal;
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

/// A hosted bot's open positions (all, oldest first), or a page of its closed ones (newest
/// first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetBotPositions {
    /// The bot (its ownership already checked by the caller).
    pub bot_id: BotId,
    /// Closed positions (paged) rather than open ones (all).
    pub closed: bool,
    /// Closed only: the page continues after this position.
    pub after: Option<ClosedPositionCursor>,
    /// Closed only: at most this many (1 to 10,000); a page also ends near 256 KiB.
    pub limit: u32,
}

/// Where a page of closed positions ended: the last one shown, by close time then number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosedPositionCursor {
    /// Its close time, Unix seconds.
    pub close_time: i64,
    /// The engine's number of the position.
    pub position: i64,
}

/// Positions of a hosted bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotPositionsPage {
    /// Open positions oldest first, or closed ones newest first.
    pub items: Vec<BotPosition>,
    /// Closed only: where the next page starts, while more remain.
    pub next: Option<ClosedPositionCursor>,
}

/// A position of a hosted bot, as reference 003 shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotPosition {
    /// 32 hex digits, opaque.
    pub position_id: String,
    /// `OPEN` or `CLOSED`.
    pub status: String,
    /// Its open time, Unix seconds.
    pub timestamp: i64,
    /// `LONG` or `SHORT`.
    pub direction: String,
    /// Average entry price.
    pub enter_price: JsonDecimal,
    /// Average exit price, null before any exit.
    pub exit_price: Option<JsonDecimal>,
    /// The open amount while open; the amount entered once closed (base).
    pub amount: JsonDecimal,
    /// `amount` and the base currency: `0.01137 BTC`.
    pub amount_label: String,
    /// Profit of the open amount at the runner's latest price; 0 once closed.
    pub unrealized_profit: JsonDecimal,
    /// Profit of the exits before fees (fees are in `feeCosts`).
    pub realized_profit: JsonDecimal,
    /// `realizedProfit` at the quote currency's display decimals: `50.00 USDT`.
    pub profit_label: String,
    /// `realizedProfit` over the entry notional / leverage × 100, 2 decimals.
    pub roi: JsonDecimal,
    /// Fees of its fills, quote currency.
    pub fee_costs: JsonDecimal,
    /// The market symbol.
    pub market: String,
    /// 1 on spot.
    pub leverage: u32,
    /// Unix seconds.
    pub open_time: i64,
    /// Unix seconds; 0 while open.
    pub close_time: i64,
    /// Its filled orders.
    pub order_count: u32,
}

/// The entry and exit orders of one of a hosted bot's positions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetPositionOrders {
    /// The bot (its ownership already checked by the caller).
    pub bot_id: BotId,
    /// The position's id as the client sent it.
    pub position_id: String,
}

/// A position's fills: `None` in the reply when the bot has no such position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionOrders {
    /// The position.
    pub position_id: String,
    /// Its entry fills, in order.
    pub enter_orders: Vec<PositionOrder>,
    /// Its exit fills, in order.
    pub exit_orders: Vec<PositionOrder>,
}

/// One fill of a position, as reference 003 shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionOrder {
    /// The order's id (as `bots/orders` shows it).
    pub order_id: String,
    /// Fill time, Unix seconds.
    pub timestamp: i64,
    /// `BUY` or `SELL`.
    pub direction: String,
    /// `Limit` or `Market`.
    pub order_type: String,
    /// Fill price.
    pub price: JsonDecimal,
    /// The amount that went to this position (base).
    pub amount: JsonDecimal,
    /// Its fee.
    pub fee_costs: JsonDecimal,
    /// The quote currency.
    pub fee_currency: String,
    /// 0 on an entry; on an exit, the gross profit of its share.
    pub profit: JsonDecimal,
    /// 0 on an entry; on an exit, that profit over its share's entry notional × 100.
    pub roi: JsonDecimal,
    /// The order's note, e.g. `Grid sell #5`.
    pub note: String,
}

/// `evt.live.fill_recorded.v1`: a hosted bot's (or a session's) order filled, written in the
/// fill's own transaction. The ledger turns each position into one bot trade and each fill
/// into one filled transaction of it (LIVE.md §1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FillRecorded {
    /// The bot (a hosted bot, or a session's strategy bot).
    pub bot_id: BotId,
    /// The session, for a strategy bot's fill.
    pub session_id: Option<SessionId>,
    /// Per bot, monotonic (the engine's event sequence): orders the fills and the bot's totals.
    pub seq: i64,
    /// The position the fill entered or exited, after the fill.
    pub position: FilledPosition,
    /// The fill.
    pub fill: FillMsg,
    /// The bot's totals after the fill.
    pub bot_totals: BotTotals,
}

/// A position as a fill left it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilledPosition {
    /// 32 hex digits, as `bots/positions/*` shows it: the ledger's `source_position_id`.
    pub id: String,
    /// `LONG` or `SHORT`.
    pub direction: String,
    /// The market symbol.
    pub symbol: String,
    /// Its first entry, Unix seconds.
    pub opened_at: i64,
    /// Entirely exited.
    pub closed: bool,
    /// Profit of its exits before fees, quote currency.
    pub gross_profit: Decimal,
    /// Fees of all its fills, quote currency.
    pub fees: Decimal,
}

/// One fill of an order into one position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FillMsg {
    /// 32 hex digits, as `bots/orders` shows it: the transaction's `brokerOrderId`.
    pub order_id: String,
    /// It entered the position (else it exited it).
    pub entry: bool,
    /// `BUY` or `SELL`.
    pub side: String,
    /// `Limit` or `Market`.
    pub order_type: String,
    /// What the order was for, the engine's role: `gridBuy`, `gridSell`, `gridFill`,
    /// `gridExit`, `dcaBase`, `dcaSafety`, `dcaTakeProfit`, `signal`, `liquidation`,
    /// `closeOut`, `flatten` (the ledger's exit type follows from it).
    pub role: String,
    /// The order's note, e.g. `Grid sell #5`.
    pub note: String,
    /// Amount filled into the position, base.
    pub quantity: Decimal,
    /// Fill price.
    pub price: Decimal,
    /// Its fee.
    pub fee: Decimal,
    /// The fee's currency (the quote).
    pub fee_currency: String,
    /// Unix seconds.
    pub time: i64,
}

/// A bot's totals after a fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotTotals {
    /// Realized profit net of every fee so far, quote currency.
    pub profit: Decimal,
    /// `profit` over the starting equity × 100.
    pub roi: Decimal,
}

/// `evt.live.bot_stopped.v1`: the engine stopped a hosted bot itself (a stop condition,
/// `maxWin` / `maxLoss`) or the runner could not run it; the ledger sets it `stopped` unless
/// it changed since the revision the runner saw (LIVE.md §1.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotStopped {
    /// The hosted bot.
    pub bot_id: BotId,
    /// The revision of its definition the runner was running.
    pub revision: i64,
    /// Why, as the bot's log says it.
    pub reason: String,
}

/// A grid bot's preview at the runner's latest quote of its market (`bots/preview`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewGrid {
    /// `spot_grid` or `futures_grid`.
    pub script_type: String,
    /// The canonical settings (as the ledger checked them).
    #[schemars(with = "serde_json::Value")]
    pub settings: Box<serde_json::value::RawValue>,
    /// The market of `settings.symbol`.
    pub market: MarketSpecMsg,
}

/// What a grid bot would do if started now (LIVE.md §5.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GridPreview {
    /// The price used: the latest quote's `last`, rounded to the tick.
    pub price: JsonDecimal,
    /// The resting orders a start would place, in the order it places them.
    pub orders: Vec<GridPreviewOrder>,
    /// `investmentAmount / gridCount` (quote; base with `Base`).
    pub amount_per_grid: JsonDecimal,
    /// % a round trip earns net of two fees, over the levels that trade.
    pub profit_per_grid: ProfitRangeMsg,
    /// Quote the start needs.
    pub required_quote: JsonDecimal,
    /// Base the listed sells hold.
    pub required_base: JsonDecimal,
    /// Fees of filling every listed order once, quote.
    pub estimated_fees: JsonDecimal,
    /// What to know before starting.
    pub warnings: Vec<String>,
}

/// One order of a preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GridPreviewOrder {
    /// The grid level (0 = the lowest), as in the note `Grid buy #<level>`.
    pub level: u32,
    /// `BUY` or `SELL`.
    pub direction: String,
    /// Limit price.
    pub price: JsonDecimal,
    /// Amount (base).
    pub amount: JsonDecimal,
}

/// The smallest and largest of a set of percentages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfitRangeMsg {
    /// Smallest.
    pub min: JsonDecimal,
    /// Largest.
    pub max: JsonDecimal,
}
