//! The stored shapes of trades and transactions, and the column lists that read them.
//! `metadata` is a `json` column: read as `metadata::text` so it reaches the API as sent,
//! written as [`JsonAsSent`].

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Json;
use domain::{BotId, TradeId, TransactionId};
use rust_decimal::Decimal;
use std::io::Write;

/// JSON text written to a `json` column exactly as it is (the gateway has checked it is an
/// object of JSON Postgres accepts).
#[derive(Debug, Clone, diesel::expression::AsExpression)]
#[diesel(sql_type = Json)]
pub struct JsonAsSent(pub String);

impl ToSql<Json, Pg> for JsonAsSent {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        // The binary format of `json` is its text.
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

/// A stored trade. Metadata is read as text (`metadata::text`) so it reaches the API as sent.
#[derive(Queryable, Debug, Clone)]
pub struct TradeRow {
    /// Id.
    pub id: TradeId,
    /// Owning bot.
    pub bot_id: BotId,
    /// Symbol.
    pub symbol: String,
    /// `long` / `short`.
    pub trade_type: String,
    /// Status text.
    pub status: String,
    /// Signal time.
    pub signal_at: DateTime<Utc>,
    /// Open time.
    pub opened_at: Option<DateTime<Utc>>,
    /// Close time.
    pub closed_at: Option<DateTime<Utc>>,
    /// Net P&L.
    pub net_pnl: Option<Decimal>,
    /// Error message.
    pub error_message: Option<String>,
    /// Error time.
    pub error_at: Option<DateTime<Utc>>,
    /// Metadata JSON text.
    pub metadata: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub last_update_at: DateTime<Utc>,
    /// Whether the bot set `opened_at` (else it is derived from fills).
    pub opened_at_explicit: bool,
    /// Whether the bot set `closed_at` (else it is derived from fills).
    pub closed_at_explicit: bool,
}

/// The columns of a [`TradeRow`].
macro_rules! trade_columns {
    () => {
        (
            bot_trades::id,
            bot_trades::bot_id,
            bot_trades::symbol,
            bot_trades::trade_type,
            bot_trades::status,
            bot_trades::signal_at,
            bot_trades::opened_at,
            bot_trades::closed_at,
            bot_trades::net_pnl,
            bot_trades::error_message,
            bot_trades::error_at,
            diesel::dsl::sql::<diesel::sql_types::Text>("bot_trades.metadata::text"),
            bot_trades::created_at,
            bot_trades::last_update_at,
            bot_trades::opened_at_explicit,
            bot_trades::closed_at_explicit,
        )
    };
}

/// A stored transaction, metadata as text.
#[derive(Queryable, Debug, Clone)]
pub struct TransactionRow {
    /// Id.
    pub id: TransactionId,
    /// Trade.
    pub bot_trade_id: TradeId,
    /// `entry` / `exit`.
    pub transaction_group: String,
    /// Exit type.
    pub exit_type: Option<String>,
    /// Trim level.
    pub trim_level: Option<Decimal>,
    /// Symbol.
    pub symbol: String,
    /// Asset type.
    pub asset_type: String,
    /// Side.
    pub side: String,
    /// Order type.
    pub order_type: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Placed at.
    pub transaction_date: DateTime<Utc>,
    /// Stop price.
    pub stop_price: Option<Decimal>,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Option type.
    pub option_type: Option<String>,
    /// Strike.
    pub strike_price: Option<Decimal>,
    /// Expiration.
    pub expiration_date: Option<String>,
    /// `open` / `filled` / `cancelled`.
    pub status: String,
    /// Fill time.
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
    /// Metadata JSON text.
    pub metadata: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The columns of a [`TransactionRow`].
macro_rules! transaction_columns {
    () => {
        (
            transactions::id,
            transactions::bot_trade_id,
            transactions::transaction_group,
            transactions::exit_type,
            transactions::trim_level,
            transactions::symbol,
            transactions::asset_type,
            transactions::side,
            transactions::order_type,
            transactions::quantity,
            transactions::transaction_date,
            transactions::stop_price,
            transactions::price,
            transactions::option_type,
            transactions::strike_price,
            transactions::expiration_date,
            transactions::status,
            transactions::filled_at,
            transactions::filled_price,
            transactions::filled_quantity,
            transactions::avg_fill_price,
            transactions::broker,
            transactions::broker_account_number,
            transactions::broker_order_id,
            transactions::broker_parent_order_id,
            transactions::notes,
            diesel::dsl::sql::<diesel::sql_types::Text>("transactions.metadata::text"),
            transactions::created_at,
            transactions::updated_at,
        )
    };
}
