//! A partner's users as the Partner API sees them: created with one broker account, listed
//! newest first, soft-deleted.

use super::schema::{broker_accounts, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BrokerAccountId, PartnerId, UserId};

/// A partner user to create, with its one broker account.
#[derive(Debug, Clone)]
pub struct NewPartnerUser<'a> {
    /// The new user's id.
    pub id: UserId,
    /// The partner it belongs to.
    pub partner_id: PartnerId,
    /// The exchange it was created on.
    pub exchange_id: &'a str,
    /// The partner's own id of the user on the exchange.
    pub exchange_user_id: Option<&'a str>,
    /// Its broker account (the fetcher keeps the credentials under this id).
    pub broker_account_id: BrokerAccountId,
    /// A paper account.
    pub paper: bool,
}

/// Inserts the user and its broker account. The account number is the user's id: an
/// `exchangeUserId` is the partner's own name and could collide across partners.
pub async fn insert(connection: &mut AsyncPgConnection, user: &NewPartnerUser<'_>) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((
            users::id.eq(user.id),
            users::partner_id.eq(user.partner_id),
            users::exchange_id.eq(user.exchange_id),
            users::exchange_user_id.eq(user.exchange_user_id),
        ))
        .execute(connection)
        .await?;
    diesel::insert_into(broker_accounts::table)
        .values((
            broker_accounts::id.eq(user.broker_account_id),
            broker_accounts::user_id.eq(user.id),
            broker_accounts::broker.eq(user.exchange_id),
            broker_accounts::account_number.eq(user.id.to_string()),
            broker_accounts::paper.eq(user.paper),
        ))
        .execute(connection)
        .await
        .map(drop)
}

/// A user row as the Partner API shows it.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub id: UserId,
    /// The exchange it was created on, else its first broker account's broker.
    #[diesel(sql_type = Nullable<Text>)]
    pub exchange_id: Option<String>,
    /// The partner's own id of it on the exchange.
    #[diesel(sql_type = Nullable<Text>)]
    pub exchange_user_id: Option<String>,
    /// When it was created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Bots it ever started.
    #[diesel(sql_type = Int4)]
    pub bots_started: i32,
    /// Its hosted bots running now.
    #[diesel(sql_type = BigInt)]
    pub bots_active: i64,
}

/// The columns of a [`UserRow`]: a user made by `admin create-user` has no `exchange_id` and
/// shows its first broker account's broker; strategy bots never count as active.
const USER_COLUMNS: &str = "u.id, coalesce(u.exchange_id, (SELECT b.broker FROM broker_accounts b WHERE b.user_id = u.id \
                            ORDER BY b.created_at, b.id LIMIT 1)) AS exchange_id, \
                            u.exchange_user_id, u.created_at, u.bots_started, \
                            (SELECT count(*) FROM bots h WHERE h.owner_user_id = u.id AND h.deleted_at IS NULL \
                             AND h.kind IN ('grid', 'dca', 'webhook') AND h.status = 'running') AS bots_active";

/// One of the partner's users, not deleted.
pub async fn find(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    user: UserId,
) -> QueryResult<Option<UserRow>> {
    diesel::sql_query(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.partner_id = $2 AND u.deleted_at IS NULL"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(partner)
    .get_result(connection)
    .await
    .optional()
}

/// Up to `limit` of the partner's users, newest first, after `(created_at, id)` if given.
pub async fn page(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let (after_at, after_id) = after.unzip();
    diesel::sql_query(format!(
        "SELECT {USER_COLUMNS} FROM users u \
         WHERE u.partner_id = $1 AND u.deleted_at IS NULL \
           AND ($2::timestamptz IS NULL OR (u.created_at, u.id) < ($2, $3)) \
         ORDER BY u.created_at DESC, u.id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(partner)
    .bind::<Nullable<Timestamptz>, _>(after_at)
    .bind::<Nullable<SqlUuid>, _>(after_id)
    .bind::<BigInt, _>(limit)
    .load(connection)
    .await
}

/// Locks one of the partner's users that is not deleted, until the transaction ends (a
/// concurrent delete then waits, and finds it deleted).
pub async fn lock_live(connection: &mut AsyncPgConnection, partner: PartnerId, user: UserId) -> QueryResult<bool> {
    users::table
        .find(user)
        .filter(users::partner_id.eq(partner))
        .filter(users::deleted_at.is_null())
        .select(users::id)
        .for_update()
        .first::<UserId>(connection)
        .await
        .optional()
        .map(|found| found.is_some())
}

/// Marks the user deleted now.
pub async fn soft_delete(connection: &mut AsyncPgConnection, user: UserId) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set(users::deleted_at.eq(diesel::dsl::now))
        .execute(connection)
        .await
        .map(drop)
}

/// Every broker account of the user.
pub async fn accounts_of(connection: &mut AsyncPgConnection, user: UserId) -> QueryResult<Vec<BrokerAccountId>> {
    broker_accounts::table
        .filter(broker_accounts::user_id.eq(user))
        .order(broker_accounts::id)
        .select(broker_accounts::id)
        .load(connection)
        .await
}
