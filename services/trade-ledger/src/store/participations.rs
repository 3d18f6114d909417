//! Participations (reference 000): a bot trade linked to a user's broker order.

use super::schema::{bot_followers, bot_trades, broker_accounts, participations};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, BrokerAccountId, EventId, ParticipationId, TradeId, UserId};
use rust_decimal::Decimal;

/// A participation to insert.
#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = participations)]
pub struct NewParticipation {
    /// Its id (kept only when the natural key is new).
    pub id: ParticipationId,
    /// The bot trade.
    pub bot_trade_id: TradeId,
    /// The user.
    pub user_id: UserId,
    /// The user's broker account.
    pub broker_account_id: BrokerAccountId,
    /// The broker's parent order id.
    pub broker_order_id: String,
    /// Child order ids.
    pub child_order_ids: Vec<String>,
    /// Units.
    pub units: Decimal,
    /// The id of the `participation created` event that asks for its broker orders.
    pub fetch_event_id: Option<EventId>,
}

/// The natural key and id of a stored participation.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct ParticipationKey {
    /// Its id.
    pub id: ParticipationId,
    /// The bot trade.
    pub bot_trade_id: TradeId,
    /// The user.
    pub user_id: UserId,
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
    trade_ids: &[TradeId],
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
pub async fn trade_owners(connection: &mut AsyncPgConnection, ids: &[TradeId]) -> QueryResult<Vec<(TradeId, BotId)>> {
    bot_trades::table
        .filter(bot_trades::id.eq_any(ids))
        .select((bot_trades::id, bot_trades::bot_id))
        .load(connection)
        .await
}

/// A broker account as the participation path needs it.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct AccountOwner {
    /// The account's id.
    pub id: BrokerAccountId,
    /// Its owner.
    pub user_id: UserId,
    /// Its broker (`tradier`, `SIM`, ...).
    pub broker: String,
    /// Its number at the broker.
    pub account_number: String,
}

/// The owner and broker of each of `ids` that exists.
pub async fn account_owners(
    connection: &mut AsyncPgConnection,
    ids: &[BrokerAccountId],
) -> QueryResult<Vec<AccountOwner>> {
    broker_accounts::table
        .filter(broker_accounts::id.eq_any(ids))
        .select((
            broker_accounts::id,
            broker_accounts::user_id,
            broker_accounts::broker,
            broker_accounts::account_number,
        ))
        .load(connection)
        .await
}

/// Which of `account_ids` follow `bot_id` (an `active` follow link for any ticker), each once.
pub async fn following_accounts(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    account_ids: &[BrokerAccountId],
) -> QueryResult<Vec<BrokerAccountId>> {
    bot_followers::table
        .filter(bot_followers::bot_id.eq(bot_id))
        .filter(bot_followers::broker_account_id.eq_any(account_ids))
        .filter(bot_followers::status.eq("active"))
        .select(bot_followers::broker_account_id)
        .distinct()
        .load(connection)
        .await
}

/// A fetch outcome to apply: the participation's broker order fields.
#[derive(Debug, Clone)]
pub struct FetchedFields {
    /// `fetched` or `fetch_failed`.
    pub fetch_status: &'static str,
    /// The parent order's status (fetched only).
    pub broker_order_status: Option<&'static str>,
    /// Executed quantity (fetched only).
    pub filled_quantity: Option<Decimal>,
    /// Average fill price (fetched only, once anything executed).
    pub avg_fill_price: Option<Decimal>,
    /// The child orders as the API shows them (fetched only).
    pub child_orders: Option<serde_json::Value>,
    /// When the broker answered (fetched only).
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the fetch was parked, as a `FetchErrorCode` spelling (failed only).
    pub fetch_error_code: Option<&'static str>,
}

/// Applies a fetch outcome unless the participation already holds this revision or a newer
/// one (outcomes may arrive out of order after an admin retry). Returns whether it changed.
pub async fn apply_fetch_outcome(
    connection: &mut AsyncPgConnection,
    id: ParticipationId,
    revision: i32,
    fields: FetchedFields,
) -> QueryResult<bool> {
    let changed = diesel::update(
        participations::table.filter(participations::id.eq(id)).filter(participations::fetch_revision.lt(revision)),
    )
    .set((
        participations::fetch_status.eq(fields.fetch_status),
        participations::broker_order_status.eq(fields.broker_order_status),
        participations::filled_quantity.eq(fields.filled_quantity),
        participations::avg_fill_price.eq(fields.avg_fill_price),
        participations::child_orders.eq(fields.child_orders),
        participations::fetched_at.eq(fields.fetched_at),
        participations::fetch_error_code.eq(fields.fetch_error_code),
        participations::fetch_revision.eq(revision),
        participations::updated_at.eq(diesel::dsl::now),
    ))
    .execute(connection)
    .await?;
    Ok(changed == 1)
}

/// How long a waiting participation waits before it is asked for again: `first` after the
/// first request, doubling with each request made again, at most `cap`.
#[derive(Clone, Copy, Debug)]
pub struct RequestBackoff {
    /// The wait after the first request.
    pub first: std::time::Duration,
    /// The longest wait.
    pub cap: std::time::Duration,
}

/// Marks up to `limit` participations whose wait for their broker order has passed their
/// backoff (see [`RequestBackoff`]) as asked again now, counting the request, and returns
/// their `participation created` event ids.
pub async fn claim_overdue_fetches(
    connection: &mut AsyncPgConnection,
    backoff: RequestBackoff,
    limit: i64,
) -> QueryResult<Vec<EventId>> {
    #[derive(QueryableByName)]
    struct Overdue {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        fetch_event_id: EventId,
    }
    // The first condition is the shortest wait of all, which the pending index answers; the
    // second is each participation's own.
    let rows: Vec<Overdue> = diesel::sql_query(
        "UPDATE participations SET fetch_requested_at = now(), fetch_request_count = fetch_request_count + 1 \
         WHERE id IN (SELECT id FROM participations \
                      WHERE fetch_status = 'pending_fetch' \
                        AND fetch_requested_at < now() - make_interval(secs => $1) \
                        AND fetch_requested_at < now() - make_interval(secs => \
                              least($1 * power(2, least(fetch_request_count, 30)), $2)) \
                        AND fetch_event_id IS NOT NULL \
                      ORDER BY fetch_requested_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING fetch_event_id",
    )
    .bind::<diesel::sql_types::Double, _>(backoff.first.as_secs_f64())
    .bind::<diesel::sql_types::Double, _>(backoff.cap.as_secs_f64())
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(connection)
    .await?;
    Ok(rows.into_iter().map(|row| row.fetch_event_id).collect())
}

/// Ends the wait of up to `limit` participations created more than `after` ago and still
/// without an answer: `fetch_failed` with `fetch_timed_out`. Their revision is kept, so an
/// answer the fetcher sends after all still applies. Returns their ids.
pub async fn time_out_fetches(
    connection: &mut AsyncPgConnection,
    after: std::time::Duration,
    limit: i64,
) -> QueryResult<Vec<ParticipationId>> {
    #[derive(QueryableByName)]
    struct TimedOut {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: ParticipationId,
    }
    let rows: Vec<TimedOut> = diesel::sql_query(
        "UPDATE participations SET fetch_status = 'fetch_failed', fetch_error_code = 'fetch_timed_out', \
                                   updated_at = now() \
         WHERE id IN (SELECT id FROM participations \
                      WHERE fetch_status = 'pending_fetch' AND created_at < now() - make_interval(secs => $1) \
                      ORDER BY fetch_requested_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id",
    )
    .bind::<diesel::sql_types::Double, _>(after.as_secs_f64())
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(connection)
    .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}
