//! Bot trades and their transactions (reference 001 and docs/api/bot.md#trades): the gateway's
//! validated requests to the ledger, and the replies it answers with (the HTTP bodies).

mod views;

pub use views::{TradeView, TransactionView, millis, millis_option};

use crate::messages::bot_api::ParticipationView;
use crate::messages::bot_api::paging::TimeCursor;
use chrono::{DateTime, Utc};
use domain::trade::{TradeStatus, TradeType, TransactionGroup, TransactionStatus};
use domain::{BotId, TradeId, TransactionId};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// Serialises a decimal as a JSON number with its exact digits (never through `f64`).
pub fn decimal_as_number<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(value.normalize().to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

/// `Some(None)` for an explicit `null`, `None` for an absent field: how a patch tells
/// "clear this" from "leave it".
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// One transaction to add (reference 001), validated by the gateway.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewTransaction {
    /// Entry or exit.
    pub transaction_group: TransactionGroup,
    /// Required for exits (`stop`, `take_profit`, `trim`, ...).
    pub exit_type: Option<String>,
    /// Required for trims.
    pub trim_level: Option<Decimal>,
    /// Symbol.
    pub symbol: String,
    /// `stock`, `option`, ...
    pub asset_type: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Order type (`market`, `limit`, `stop`).
    #[serde(rename = "type")]
    pub order_type: String,
    /// Quantity.
    pub quantity: Decimal,
    /// When the transaction was placed.
    pub transaction_date: DateTime<Utc>,
    /// Stop price.
    pub stop_price: Option<Decimal>,
    /// Limit price.
    pub price: Option<Decimal>,
    /// `call` or `put`.
    pub option_type: Option<String>,
    /// Strike price.
    pub strike_price: Option<Decimal>,
    /// Option expiration date.
    pub expiration_date: Option<String>,
    /// Open (default), filled or cancelled.
    pub status: TransactionStatus,
    /// When it filled.
    pub filled_at: Option<DateTime<Utc>>,
    /// Fill price.
    pub filled_price: Option<Decimal>,
    /// Filled quantity.
    pub filled_quantity: Option<Decimal>,
    /// Average fill price.
    pub avg_fill_price: Option<Decimal>,
    /// Broker code.
    pub broker: Option<String>,
    /// Broker account number.
    pub broker_account_number: Option<String>,
    /// Broker order id.
    pub broker_order_id: Option<String>,
    /// Broker parent order id (bracket orders).
    pub broker_parent_order_id: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Metadata object (`{}` when not given), kept as sent.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Box<RawValue>,
}

/// `POST /api/bots/:slug/trades`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateTrade {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// Symbol.
    pub symbol: String,
    /// Long or short.
    pub trade_type: TradeType,
    /// When the signal fired.
    pub signal_at: DateTime<Utc>,
    /// An explicit status (else derived from the transactions).
    pub status: Option<TradeStatus>,
    /// An explicit open time.
    pub opened_at: Option<DateTime<Utc>>,
    /// Metadata object, kept as sent.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Box<RawValue>,
    /// Entry transactions, created with the trade.
    pub transactions: Vec<NewTransaction>,
}

/// `POST /api/bots/:slug/trades/:tradeId/transactions` (reference 001).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AddTransactions {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// The trade (must be the bot's).
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub trade_id: TradeId,
    /// The transactions, at most 1,000.
    pub transactions: Vec<NewTransaction>,
}

/// `PATCH /api/bots/:slug/trades/:tradeId`: at least one field.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TradePatch {
    /// An explicit status (`closed` first fills every open exit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TradeStatus>,
    /// Closed time (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub closed_at: Option<Option<DateTime<Utc>>>,
    /// Net profit and loss (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub net_pnl: Option<Option<Decimal>>,
    /// Error message (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub error_message: Option<Option<String>>,
    /// Error time (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub error_at: Option<Option<DateTime<Utc>>>,
    /// Metadata object, replacing the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Box<RawValue>>,
}

/// The update of one trade.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateTrade {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// The trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub trade_id: TradeId,
    /// What changes.
    pub patch: TradePatch,
}

/// `PATCH .../transactions/:transactionId`: at least one field.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionPatch {
    /// Open, filled or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TransactionStatus>,
    /// Fill time (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub filled_at: Option<Option<DateTime<Utc>>>,
    /// Filled quantity (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub filled_quantity: Option<Option<Decimal>>,
    /// Average fill price (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub avg_fill_price: Option<Option<Decimal>>,
    /// Stop price (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub stop_price: Option<Option<Decimal>>,
    /// Limit price (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub price: Option<Option<Decimal>>,
    /// Broker parent order id (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub broker_parent_order_id: Option<Option<String>>,
    /// Notes (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "double_option")]
    pub notes: Option<Option<String>>,
    /// Metadata object, replacing the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Box<RawValue>>,
}

/// The update of one transaction.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateTransaction {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// The trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub trade_id: TradeId,
    /// The transaction (must belong to the trade).
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub transaction_id: TransactionId,
    /// What changes.
    pub patch: TransactionPatch,
}

/// `GET /api/bots/:slug/trades/:tradeId` and `.../participations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetTrade {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// The trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub trade_id: TradeId,
    /// Transactions start after this one (`transactionsCursor`; the trade only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions_after: Option<TimeCursor>,
    /// Participations start after this one (`participationsCursor` of the trade, `cursor`
    /// of its participations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participations_after: Option<TimeCursor>,
}

/// `GET /api/bots/:slug/trades/:tradeId/transactions`: oldest first, cursor pagination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ListTransactions {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// The trade (must be the bot's).
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub trade_id: TradeId,
    /// Page size, 1 to 1,000.
    pub limit: u32,
    /// Transactions start after this one (`cursor`).
    pub after: Option<TimeCursor>,
}

/// `GET /api/bots/:slug/trades`: newest first, cursor pagination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ListTrades {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// Only trades with this status.
    pub status: Option<TradeStatus>,
    /// Only trades of this symbol.
    pub symbol: Option<String>,
    /// Page size, 1 to 500.
    pub limit: u32,
    /// Where the previous page ended (opaque).
    pub cursor: Option<String>,
}

/// `{success, trade}`. Optional fields appear only when they apply, so a trade that fits is
/// answered as it always was.
///
/// A write (create or update a trade) includes at most 100 transactions, and only while they
/// fit the bus; otherwise the trade comes without them and `transactionCount` and `truncated`
/// say so (read them with `GET .../transactions`). `GET .../trades/:tradeId` includes at most
/// 500 transactions and 500 participations and names the cursor of each list that goes on.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TradeReply {
    /// Always true.
    pub success: bool,
    /// The trade.
    pub trade: TradeView,
    /// How many transactions the trade has (a truncated write reply only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_count: Option<usize>,
    /// `true` when the trade's transactions were left out (a write reply only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// Pass as `transactionsCursor` for the next transactions; absent when there are no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_transactions_cursor: Option<String>,
    /// Pass as `participationsCursor` for the next participations; absent when there are no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_participations_cursor: Option<String>,
}

impl TradeReply {
    /// `{success: true, trade}` and nothing else.
    pub fn of(trade: TradeView) -> Self {
        Self {
            success: true,
            trade,
            transaction_count: None,
            truncated: None,
            next_transactions_cursor: None,
            next_participations_cursor: None,
        }
    }
}

/// `{success, trade, transactionsAdded}` (reference 001).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionsAddedReply {
    /// Always true.
    pub success: bool,
    /// The trade with its recomputed status.
    pub trade: TradeView,
    /// How many transactions were added.
    pub transactions_added: usize,
}

/// `{success, trade, transaction}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionUpdatedReply {
    /// Always true.
    pub success: bool,
    /// The trade with its recomputed status.
    pub trade: TradeView,
    /// The updated transaction.
    pub transaction: TransactionView,
}

/// `{success, trades, nextCursor}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TradesPage {
    /// Always true.
    pub success: bool,
    /// Newest first.
    pub trades: Vec<TradeView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `{success, participations}`: at most 500, and `nextCursor` when there are more.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParticipationsList {
    /// Always true.
    pub success: bool,
    /// The trade's participations with their broker order details, oldest first.
    pub participations: Vec<ParticipationView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `{success, transactions, nextCursor}`: a page of one trade's transactions.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionsPage {
    /// Always true.
    pub success: bool,
    /// Oldest first.
    pub transactions: Vec<TransactionView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
