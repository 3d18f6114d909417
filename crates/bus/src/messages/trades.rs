//! Bot trades and their transactions (reference 001 and CONTRACTS §1): the gateway's
//! validated requests to the ledger, and the views the ledger replies with (the HTTP bodies).

use crate::messages::bot_api::ParticipationView;
use chrono::{DateTime, Utc};
use domain::BotId;
use domain::trade::{TradeStatus, TradeType, TransactionGroup, TransactionStatus};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

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
    pub trade_id: Uuid,
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
    pub trade_id: Uuid,
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
    pub trade_id: Uuid,
    /// The transaction (must belong to the trade).
    pub transaction_id: Uuid,
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
    pub trade_id: Uuid,
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

/// A trade as the Bot API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TradeView {
    /// Its id.
    pub id: Uuid,
    /// The bot.
    pub bot_id: BotId,
    /// Symbol.
    pub symbol: String,
    /// Long or short.
    pub trade_type: TradeType,
    /// Status.
    pub status: TradeStatus,
    /// When the signal fired.
    #[serde(with = "millis")]
    #[schemars(with = "String")]
    pub signal_at: DateTime<Utc>,
    /// When the first entry filled.
    #[serde(with = "millis_option")]
    #[schemars(with = "Option<String>")]
    pub opened_at: Option<DateTime<Utc>>,
    /// When the trade closed.
    #[serde(with = "millis_option")]
    #[schemars(with = "Option<String>")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Net profit and loss.
    pub net_pnl: Option<Decimal>,
    /// The bot's error message.
    pub error_message: Option<String>,
    /// When the error happened.
    #[serde(with = "millis_option")]
    #[schemars(with = "Option<String>")]
    pub error_at: Option<DateTime<Utc>>,
    /// Metadata object.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Box<RawValue>,
    /// When the trade was created.
    #[serde(with = "millis")]
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    /// When anything about it last changed.
    #[serde(with = "millis")]
    #[schemars(with = "String")]
    pub last_update_at: DateTime<Utc>,
    /// Its transactions (on the routes that include them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TransactionView>>,
    /// Its participations (on `GET .../trades/:tradeId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participations: Option<Vec<ParticipationView>>,
}

/// A transaction as the Bot API shows it: prices and filled quantity as strings (as the
/// reference writes them), quantity and trim level as numbers.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// Its id.
    pub id: Uuid,
    /// The trade.
    pub bot_trade_id: Uuid,
    /// Entry or exit.
    pub transaction_group: TransactionGroup,
    /// Exit type.
    pub exit_type: Option<String>,
    /// Trim level.
    #[schemars(with = "Option<f64>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    #[serde(serialize_with = "option_decimal_as_number")]
    pub trim_level: Option<Decimal>,
    /// Symbol.
    pub symbol: String,
    /// Asset type.
    pub asset_type: String,
    /// Side.
    pub side: String,
    /// Order type.
    #[serde(rename = "type")]
    pub order_type: String,
    /// Quantity.
    #[schemars(with = "f64")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    #[serde(serialize_with = "decimal_as_number")]
    pub quantity: Decimal,
    /// When it was placed.
    #[serde(with = "millis")]
    #[schemars(with = "String")]
    pub transaction_date: DateTime<Utc>,
    /// Stop price.
    pub stop_price: Option<Decimal>,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Option type.
    pub option_type: Option<String>,
    /// Strike price.
    pub strike_price: Option<Decimal>,
    /// Expiration date.
    pub expiration_date: Option<String>,
    /// Status.
    pub status: TransactionStatus,
    /// When it filled.
    #[serde(with = "millis_option")]
    #[schemars(with = "Option<String>")]
    pub filled_at: Option<DateTime<Utc>>,
    /// Fill price.
    pub filled_price: Option<Decimal>,
    /// Filled quantity.
    pub filled_quantity: Option<Decimal>,
    /// Average fill price.
    pub avg_fill_price: Option<Decimal>,
    /// Broker.
    pub broker: Option<String>,
    /// Broker account number.
    pub broker_account_number: Option<String>,
    /// Broker order id.
    pub broker_order_id: Option<String>,
    /// Broker parent order id.
    pub broker_parent_order_id: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Metadata object.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Box<RawValue>,
    /// Created.
    #[serde(with = "millis")]
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[serde(with = "millis")]
    #[schemars(with = "String")]
    pub updated_at: DateTime<Utc>,
}

fn option_decimal_as_number<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => decimal_as_number(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// RFC 3339 with milliseconds and `Z`, as the references print times.
pub mod millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises `2024-01-15T10:30:00.000Z`.
    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    /// Reads any RFC 3339 time.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(deserializer)
    }
}

/// [`millis`] for optional times.
pub mod millis_option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises a time or `null`.
    pub fn serialize<S: Serializer>(value: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::millis::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a time or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(deserializer)
    }
}

/// `{success, trade}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TradeReply {
    /// Always true.
    pub success: bool,
    /// The trade.
    pub trade: TradeView,
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

/// `{success, participations}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipationsList {
    /// Always true.
    pub success: bool,
    /// The trade's participations with their broker order details.
    pub participations: Vec<ParticipationView>,
}
