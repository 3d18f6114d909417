//! Participations (reference 000): a bot trade linked to a user's broker order.

use super::schema::{bot_trades, broker_accounts, participations};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A participation to insert.
#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = participations)]
pub struct NewParticipation {
    /// Its id (kept only when the natural key is new).
    pub id: Uuid,
    /// The bot trade.
    pub bot_trade_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The user's broker account.
    pub broker_account_id: Uuid,
    /// The broker's parent order id.
    pub broker_order_id: String,
    /// Child order ids.
    pub child_order_ids: Vec<String>,
    /// Units.
    pub units: Decimal,
}

/// The natural key and id of a stored participation.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct ParticipationKey {
    /// Its id.
    pub id: Uuid,
    /// The bot trade.
    pub bot_trade_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The broker order id.
    pub broker_order_id: String,
}

/// Inserts every participation whose natural key is new, in one statement; returns the
/// ones inserted. Existing keys (and repeats within the batch) are skipped.
pub async fn insert_new(
    connection: &mut AsyncPgConnection,
    rows: &[NewParticipation],
) -> QueryResult<Vec<ParticipationKey>> {
    diesel::insert_into(participations::table)
        .values(rows)
        .on_conflict((participations::bot_trade_id, participations::user_id, participations::broker_order_id))
        .do_nothing()
        .returning((
            participations::id,
            participations::bot_trade_id,
            participations::user_id,
            participations::broker_order_id,
        ))
        .get_results(connection)
        .await
}

/// The stored participations of these trades and orders (a superset of the natural keys
/// asked for; the caller matches them exactly).
pub async fn find_by_keys(
    connection: &mut AsyncPgConnection,
    trade_ids: &[Uuid],
    order_ids: &[String],
) -> QueryResult<Vec<ParticipationKey>> {
    participations::table
        .filter(participations::bot_trade_id.eq_any(trade_ids))
        .filter(participations::broker_order_id.eq_any(order_ids))
        .select((
            participations::id,
            participations::bot_trade_id,
            participations::user_id,
            participations::broker_order_id,
        ))
        .load(connection)
        .await
}

/// `(trade id, owning bot id)` for each of `ids` that exists.
pub async fn trade_owners(connection: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid)>> {
    bot_trades::table
        .filter(bot_trades::id.eq_any(ids))
        .select((bot_trades::id, bot_trades::bot_id))
        .load(connection)
        .await
}

/// `(account id, owning user id)` for each of `ids` that exists.
pub async fn account_owners(connection: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid)>> {
    broker_accounts::table
        .filter(broker_accounts::id.eq_any(ids))
        .select((broker_accounts::id, broker_accounts::user_id))
        .load(connection)
        .await
}
