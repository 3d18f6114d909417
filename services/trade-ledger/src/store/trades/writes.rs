//! Inserts and updates of trades and transactions. The caller holds the trade's row lock
//! (`lock_trade`) around every update, so writes to one trade serialise.

use super::JsonAsSent;
use crate::store::schema::{bot_trades, transactions};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, TradeId, TransactionId};
use rust_decimal::Decimal;

/// A trade to insert.
pub struct NewTrade<'a> {
    /// Id.
    pub id: TradeId,
    /// Bot.
    pub bot_id: BotId,
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
    /// The runner's id of the position a live bot's trade records (none for Bot API trades).
    pub source_position_id: Option<&'a str>,
}

/// Inserts a trade.
pub async fn insert_trade(connection: &mut AsyncPgConnection, trade: &NewTrade<'_>) -> QueryResult<()> {
    use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at, opened_at, metadata, \
                                 opened_at_explicit, source_position_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $7 IS NOT NULL, $9)",
    )
    .bind::<SqlUuid, _>(trade.id)
    .bind::<SqlUuid, _>(trade.bot_id)
    .bind::<Text, _>(trade.symbol)
    .bind::<Text, _>(trade.trade_type)
    .bind::<Text, _>(trade.status)
    .bind::<Timestamptz, _>(trade.signal_at)
    .bind::<Nullable<Timestamptz>, _>(trade.opened_at)
    .bind::<Text, _>(trade.metadata)
    .bind::<Nullable<Text>, _>(trade.source_position_id)
    .execute(connection)
    .await
    .map(drop)
}

/// A transaction to insert.
#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = transactions)]
pub struct NewTransactionRow {
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

/// Writes the derived fields of a trade and moves `last_update_at`.
pub async fn set_derived(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
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

/// Sets a trade's net P&L (a live position's, once it is closed).
pub async fn set_net_pnl(connection: &mut AsyncPgConnection, trade_id: TradeId, net_pnl: Decimal) -> QueryResult<()> {
    diesel::update(bot_trades::table.find(trade_id))
        .set((bot_trades::net_pnl.eq(net_pnl), bot_trades::last_update_at.eq(diesel::dsl::now)))
        .execute(connection)
        .await
        .map(drop)
}

/// The changes of a trade patch, as diesel applies them (`None` leaves a column alone,
/// `Some(None)` sets NULL).
#[derive(AsChangeset, Debug)]
#[diesel(table_name = bot_trades)]
pub struct TradeChanges {
    /// New status.
    pub status: Option<String>,
    /// New close time.
    pub closed_at: Option<Option<DateTime<Utc>>>,
    /// New net P&L.
    pub net_pnl: Option<Option<Decimal>>,
    /// New error message.
    pub error_message: Option<Option<String>>,
    /// New error time.
    pub error_at: Option<Option<DateTime<Utc>>>,
    /// New metadata.
    pub metadata: Option<JsonAsSent>,
    /// Always moved.
    pub last_update_at: DateTime<Utc>,
    /// Whether the close time was set by the bot.
    pub closed_at_explicit: Option<bool>,
}

/// Applies a trade patch.
pub async fn update_trade(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
    changes: TradeChanges,
) -> QueryResult<()> {
    diesel::update(bot_trades::table.find(trade_id)).set(changes).execute(connection).await.map(drop)
}

/// Fills every open exit of a trade: `filled_at` becomes `fill_time` where it was unset.
pub async fn fill_open_exits(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
    fill_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE transactions SET status = 'filled', filled_at = coalesce(filled_at, $2), updated_at = $3 \
         WHERE bot_trade_id = $1 AND transaction_group = 'exit' AND status = 'open'",
    )
    .bind::<diesel::sql_types::Uuid, _>(trade_id)
    .bind::<diesel::sql_types::Timestamptz, _>(fill_time)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .execute(connection)
    .await
    .map(drop)
}

/// The changes of a transaction patch.
#[derive(AsChangeset, Debug)]
#[diesel(table_name = transactions)]
pub struct TransactionChanges {
    /// New status.
    pub status: Option<String>,
    /// New fill time.
    pub filled_at: Option<Option<DateTime<Utc>>>,
    /// New filled quantity.
    pub filled_quantity: Option<Option<Decimal>>,
    /// New average fill price.
    pub avg_fill_price: Option<Option<Decimal>>,
    /// New stop price.
    pub stop_price: Option<Option<Decimal>>,
    /// New limit price.
    pub price: Option<Option<Decimal>>,
    /// New broker parent order id.
    pub broker_parent_order_id: Option<Option<String>>,
    /// New notes.
    pub notes: Option<Option<String>>,
    /// New metadata.
    pub metadata: Option<JsonAsSent>,
    /// Always moved.
    pub updated_at: DateTime<Utc>,
}

/// Applies a transaction patch to one transaction of a trade; false when the trade has no
/// such transaction.
pub async fn update_transaction(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
    transaction_id: TransactionId,
    changes: TransactionChanges,
) -> QueryResult<bool> {
    let updated = diesel::update(
        transactions::table.filter(transactions::id.eq(transaction_id)).filter(transactions::bot_trade_id.eq(trade_id)),
    )
    .set(changes)
    .execute(connection)
    .await?;
    Ok(updated > 0)
}
