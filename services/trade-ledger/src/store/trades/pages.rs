//! One trade's transactions and participations a page at a time, in `(created_at, id)`
//! order, and what the status rule needs of all its transactions.

use super::TransactionRow;
use crate::store::schema::{participations, transactions};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BrokerAccountId, ParticipationId, TradeId, TransactionId, UserId};
use rust_decimal::Decimal;

/// What the status rule reads of a transaction: no metadata or notes, since the rule reads
/// every transaction of a trade and a trade may have thousands.
#[derive(Queryable, Debug, Clone)]
pub struct FactsRow {
    /// `entry` / `exit`.
    pub transaction_group: String,
    /// `open` / `filled` / `cancelled`.
    pub status: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Filled quantity.
    pub filled_quantity: Option<Decimal>,
    /// Fill time.
    pub filled_at: Option<DateTime<Utc>>,
}

/// The status rule's view of every transaction of a trade.
pub async fn transaction_facts(connection: &mut AsyncPgConnection, trade_id: TradeId) -> QueryResult<Vec<FactsRow>> {
    transactions::table
        .filter(transactions::bot_trade_id.eq(trade_id))
        .select((
            transactions::transaction_group,
            transactions::status,
            transactions::quantity,
            transactions::filled_quantity,
            transactions::filled_at,
        ))
        .load(connection)
        .await
}

/// Up to `limit` of a trade's transactions after `after`, in creation order.
pub async fn transactions_page(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
    after: Option<(DateTime<Utc>, TransactionId)>,
    limit: i64,
) -> QueryResult<Vec<TransactionRow>> {
    let mut query =
        transactions::table.filter(transactions::bot_trade_id.eq(trade_id)).select(transaction_columns!()).into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            transactions::created_at
                .gt(created_at)
                .or(transactions::created_at.eq(created_at).and(transactions::id.gt(id))),
        );
    }
    query.order((transactions::created_at, transactions::id)).limit(limit).load(connection).await
}

/// How many transactions a trade has.
pub async fn count_transactions(connection: &mut AsyncPgConnection, trade_id: TradeId) -> QueryResult<i64> {
    transactions::table.filter(transactions::bot_trade_id.eq(trade_id)).count().get_result(connection).await
}

/// One transaction of a trade.
pub async fn find_transaction(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
    id: TransactionId,
) -> QueryResult<Option<TransactionRow>> {
    transactions::table
        .filter(transactions::id.eq(id))
        .filter(transactions::bot_trade_id.eq(trade_id))
        .select(transaction_columns!())
        .first(connection)
        .await
        .optional()
}

/// A participation row with its fetch details, `child_orders` as text.
#[derive(Queryable, Debug, Clone)]
pub struct ParticipationRow {
    /// Id.
    pub id: ParticipationId,
    /// Trade.
    pub bot_trade_id: TradeId,
    /// User.
    pub user_id: UserId,
    /// Broker account.
    pub broker_account_id: BrokerAccountId,
    /// Broker order id.
    pub broker_order_id: String,
    /// Child order ids (the column's elements are nullable; ours never are).
    pub child_order_ids: Vec<Option<String>>,
    /// Units.
    pub units: Decimal,
    /// Fetch status.
    pub fetch_status: String,
    /// Broker order status.
    pub broker_order_status: Option<String>,
    /// Filled quantity.
    pub filled_quantity: Option<Decimal>,
    /// Average fill price.
    pub avg_fill_price: Option<Decimal>,
    /// Child orders JSON text.
    pub child_orders: Option<String>,
    /// Fetched at.
    pub fetched_at: Option<DateTime<Utc>>,
    /// Why the fetch was parked, when it was: a `FetchErrorCode` spelling.
    pub fetch_error_code: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Up to `limit` of a trade's participations after `after`, oldest first.
pub async fn participations_page(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
    after: Option<(DateTime<Utc>, ParticipationId)>,
    limit: i64,
) -> QueryResult<Vec<ParticipationRow>> {
    let mut query = participations::table
        .filter(participations::bot_trade_id.eq(trade_id))
        .select((
            participations::id,
            participations::bot_trade_id,
            participations::user_id,
            participations::broker_account_id,
            participations::broker_order_id,
            participations::child_order_ids,
            participations::units,
            participations::fetch_status,
            participations::broker_order_status,
            participations::filled_quantity,
            participations::avg_fill_price,
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "participations.child_orders::text",
            ),
            participations::fetched_at,
            participations::fetch_error_code,
            participations::created_at,
        ))
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            participations::created_at
                .gt(created_at)
                .or(participations::created_at.eq(created_at).and(participations::id.gt(id))),
        );
    }
    query.order((participations::created_at, participations::id)).limit(limit).load(connection).await
}
