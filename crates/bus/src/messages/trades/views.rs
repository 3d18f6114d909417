//! How the Bot API shows trades and transactions: the views inside its replies, with the
//! references' number and time formats.

use super::decimal_as_number;
use crate::messages::bot_api::ParticipationView;
use chrono::{DateTime, Utc};
use domain::trade::{TradeStatus, TradeType, TransactionGroup, TransactionStatus};
use domain::{BotId, TradeId, TransactionId};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// A trade as the Bot API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TradeView {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: TradeId,
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
    /// How many transactions it has, when `GET /trades` left them out because this trade
    /// alone would not fit a reply (read them with `GET .../transactions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_count: Option<usize>,
    /// `true` when `GET /trades` left its transactions out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// A transaction as the Bot API shows it: prices and filled quantity as strings (as the
/// reference writes them), quantity and trim level as numbers.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: TransactionId,
    /// The trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub bot_trade_id: TradeId,
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
