//! Bot trades and their transactions. `metadata` is a `json` column: stored and read back as
//! the text the bot sent (read as `metadata::text`, written as [`JsonAsSent`]).

use super::schema::{bot_trades, transactions};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Json;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use std::io::Write;
use uuid::Uuid;

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
    pub id: Uuid,
    /// Owning bot.
    pub bot_id: Uuid,
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
    pub id: Uuid,
    /// Trade.
    pub bot_trade_id: Uuid,
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

/// A trade to insert.
pub struct NewTrade<'a> {
    /// Id.
    pub id: Uuid,
    /// Bot.
    pub bot_id: Uuid,
    /// Symbol.
    pub symbol: &'a str,
    /// `long` / `short`.
    pub trade_type: &'a str,
    /// Initial status.
    pub status: &'a str,
    /// Signal time.
    pub signal_at: DateTime<Utc>,
    /// Explicit open time.
    pub opened_at: Option<DateTime<Utc>>,
    /// Metadata JSON text.
    pub metadata: &'a str,
}

/// Inserts a trade.
pub async fn insert_trade(connection: &mut AsyncPgConnection, trade: &NewTrade<'_>) -> QueryResult<()> {
    use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at, opened_at, metadata, opened_at_explicit) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $7 IS NOT NULL)",
    )
    .bind::<SqlUuid, _>(trade.id)
    .bind::<SqlUuid, _>(trade.bot_id)
    .bind::<Text, _>(trade.symbol)
    .bind::<Text, _>(trade.trade_type)
    .bind::<Text, _>(trade.status)
    .bind::<Timestamptz, _>(trade.signal_at)
    .bind::<Nullable<Timestamptz>, _>(trade.opened_at)
    .bind::<Text, _>(trade.metadata)
    .execute(connection)
    .await
    .map(drop)
}

/// A transaction to insert.
#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = transactions)]
pub struct NewTransactionRow {
    /// Id.
    pub id: Uuid,
    /// Trade.
    pub bot_trade_id: Uuid,
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
    /// Status.
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
    /// Metadata, as the bot sent it.
    pub metadata: JsonAsSent,
}

/// Inserts transactions in one statement.
pub async fn insert_transactions(connection: &mut AsyncPgConnection, rows: &[NewTransactionRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(transactions::table).values(rows).execute(connection).await.map(drop)
}

/// The bot's trade, locked for update (writes to one trade are serialised).
pub async fn lock_trade(
    connection: &mut AsyncPgConnection,
    bot_id: Uuid,
    trade_id: Uuid,
) -> QueryResult<Option<TradeRow>> {
    bot_trades::table
        .filter(bot_trades::id.eq(trade_id))
        .filter(bot_trades::bot_id.eq(bot_id))
        .select(trade_columns!())
        .for_update()
        .first(connection)
        .await
        .optional()
}

/// The bot's trade.
pub async fn find_trade(
    connection: &mut AsyncPgConnection,
    bot_id: Uuid,
    trade_id: Uuid,
) -> QueryResult<Option<TradeRow>> {
    bot_trades::table
        .filter(bot_trades::id.eq(trade_id))
        .filter(bot_trades::bot_id.eq(bot_id))
        .select(trade_columns!())
        .first(connection)
        .await
        .optional()
}

/// A trade's transactions in creation order.
pub async fn transactions_of(connection: &mut AsyncPgConnection, trade_id: Uuid) -> QueryResult<Vec<TransactionRow>> {
    transactions::table
        .filter(transactions::bot_trade_id.eq(trade_id))
        .order((transactions::created_at, transactions::id))
        .select(transaction_columns!())
        .load(connection)
        .await
}

/// The transactions of several trades.
pub async fn transactions_of_many(
    connection: &mut AsyncPgConnection,
    trade_ids: &[Uuid],
) -> QueryResult<Vec<TransactionRow>> {
    transactions::table
        .filter(transactions::bot_trade_id.eq_any(trade_ids))
        .order((transactions::created_at, transactions::id))
        .select(transaction_columns!())
        .load(connection)
        .await
}

/// Writes the derived fields of a trade and moves `last_update_at`.
pub async fn set_derived(
    connection: &mut AsyncPgConnection,
    trade_id: Uuid,
    status: &str,
    opened_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::update(bot_trades::table.find(trade_id))
        .set((
            bot_trades::status.eq(status),
            bot_trades::opened_at.eq(opened_at),
            bot_trades::closed_at.eq(closed_at),
            bot_trades::last_update_at.eq(diesel::dsl::now),
        ))
        .execute(connection)
        .await
        .map(drop)
}

/// Page of a bot's trades, newest first, after the `(created_at, id)` cursor.
pub async fn list_trades(
    connection: &mut AsyncPgConnection,
    bot_id: Uuid,
    status: Option<&str>,
    symbol: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<TradeRow>> {
    let mut query = bot_trades::table.filter(bot_trades::bot_id.eq(bot_id)).select(trade_columns!()).into_boxed();
    if let Some(status) = status {
        query = query.filter(bot_trades::status.eq(status.to_string()));
    }
    if let Some(symbol) = symbol {
        query = query.filter(bot_trades::symbol.eq(symbol.to_string()));
    }
    if let Some((created_at, id)) = after {
        query = query.filter(
            bot_trades::created_at.lt(created_at).or(bot_trades::created_at.eq(created_at).and(bot_trades::id.lt(id))),
        );
    }
    query.order((bot_trades::created_at.desc(), bot_trades::id.desc())).limit(limit).load(connection).await
}

// After the column macros above, which it uses.
mod pages;

pub use pages::{
    FactsRow, ParticipationRow, count_transactions, find_transaction, participations_page, transaction_facts,
    transactions_page,
};
