//! User bot states: one row per (bot, broker account, ticker), upserted in bulk. `state` is
//! a `json` column: stored and read back as the text the bot sent.

use diesel::sql_types::{Array, BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, BrokerAccountId, TickerId};
use uuid::Uuid;

/// A stored state with its JSON as text (kept exactly as the bot sent it).
#[derive(QueryableByName, Debug)]
pub struct StateRow {
    /// Row id (states have no id type of their own: the API shows it, nothing looks it up).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The broker account.
    #[diesel(sql_type = SqlUuid)]
    pub broker_account_id: BrokerAccountId,
    /// The ticker.
    #[diesel(sql_type = SqlUuid)]
    pub ticker_id: TickerId,
    /// The state object as JSON text.
    #[diesel(sql_type = Text)]
    pub state: String,
}

/// A state to write.
pub struct StateWrite {
    /// The broker account.
    pub broker_account_id: BrokerAccountId,
    /// The ticker.
    pub ticker_id: TickerId,
    /// The state object as JSON text.
    pub state: String,
}

/// Upserts every state of `writes` for `bot_id` in one statement. The (account, ticker)
/// pairs must be distinct: Postgres refuses to update one row twice in a statement.
/// Returns the stored rows (their ids), in no particular order.
pub async fn upsert(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    writes: &[StateWrite],
) -> QueryResult<Vec<StateRow>> {
    let ids: Vec<Uuid> = writes.iter().map(|_| Uuid::now_v7()).collect();
    let accounts: Vec<BrokerAccountId> = writes.iter().map(|w| w.broker_account_id).collect();
    let tickers: Vec<TickerId> = writes.iter().map(|w| w.ticker_id).collect();
    let states: Vec<&str> = writes.iter().map(|w| w.state.as_str()).collect();
    diesel::sql_query(
        "INSERT INTO user_bot_states (id, bot_id, broker_account_id, ticker_id, state) \
         SELECT u.id, $1, u.account, u.ticker, u.state::json \
         FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) AS u(id, account, ticker, state) \
         ON CONFLICT (bot_id, broker_account_id, ticker_id) \
         DO UPDATE SET state = EXCLUDED.state, updated_at = now() \
         RETURNING id, broker_account_id, ticker_id, state::text AS state",
    )
    .bind::<SqlUuid, _>(bot_id)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(&accounts)
    .bind::<Array<SqlUuid>, _>(&tickers)
    .bind::<Array<Text>, _>(&states)
    .load(connection)
    .await
}

/// Which of a bot's states a page reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct StateFilter {
    /// Only this broker account's.
    pub account: Option<BrokerAccountId>,
    /// Only this ticker's.
    pub ticker: Option<TickerId>,
    /// Only those after this (account, ticker) pair.
    pub after: Option<(BrokerAccountId, TickerId)>,
}

/// Up to `limit` of a bot's states matching `filter`, ordered by account and ticker (the
/// unique key's order, so the page's position is a pair of ids).
pub async fn page(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    filter: StateFilter,
    limit: i64,
) -> QueryResult<Vec<StateRow>> {
    let (after_account, after_ticker) = filter.after.unzip();
    diesel::sql_query(
        "SELECT id, broker_account_id, ticker_id, state::text AS state FROM user_bot_states \
         WHERE bot_id = $1 AND ($2::uuid IS NULL OR broker_account_id = $2) AND ($3::uuid IS NULL OR ticker_id = $3) \
           AND ($4::uuid IS NULL OR (broker_account_id, ticker_id) > ($4, $5)) \
         ORDER BY broker_account_id, ticker_id LIMIT $6",
    )
    .bind::<SqlUuid, _>(bot_id)
    .bind::<Nullable<SqlUuid>, _>(filter.account)
    .bind::<Nullable<SqlUuid>, _>(filter.ticker)
    .bind::<Nullable<SqlUuid>, _>(after_account)
    .bind::<Nullable<SqlUuid>, _>(after_ticker)
    .bind::<BigInt, _>(limit)
    .load(connection)
    .await
}

/// Which of `ids` are existing broker accounts.
pub async fn existing_accounts(
    connection: &mut AsyncPgConnection,
    ids: &[BrokerAccountId],
) -> QueryResult<Vec<BrokerAccountId>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
    Ok(existing(connection, "broker_accounts", &ids).await?.into_iter().map(BrokerAccountId::from_uuid).collect())
}

/// Which of `ids` are existing tickers.
pub async fn existing_tickers(connection: &mut AsyncPgConnection, ids: &[TickerId]) -> QueryResult<Vec<TickerId>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
    Ok(existing(connection, "tickers", &ids).await?.into_iter().map(TickerId::from_uuid).collect())
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The ids of `table` among `ids`; plain UUIDs, since one query serves two kinds of id.
async fn existing(connection: &mut AsyncPgConnection, table: &'static str, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    // `table` is one of two constants above, never input.
    let rows: Vec<IdRow> = diesel::sql_query(format!("SELECT id FROM {table} WHERE id = ANY($1)"))
        .bind::<Array<SqlUuid>, _>(ids)
        .load(connection)
        .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}
