//! Hosted bots' rows: the definition, the desired state, the master link and the counters.
//! Every function that changes a definition or a desired state also bumps `revision`; the
//! counters (`cloned`, `bots_started`) never do.

use super::schema::{bots, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, PartnerId, UserId};
use rust_decimal::Decimal;

/// The `kind`s of hosted bots.
pub const HOSTED_KINDS: [&str; 3] = ["grid", "dca", "webhook"];

/// A hosted bot as stored, with its follower count.
#[derive(QueryableByName, Debug, Clone)]
pub struct HostedBotRow {
    /// The bot.
    #[diesel(sql_type = SqlUuid)]
    pub id: BotId,
    /// Its owner.
    #[diesel(sql_type = SqlUuid)]
    pub owner_user_id: UserId,
    /// Its partner.
    #[diesel(sql_type = SqlUuid)]
    pub partner_id: PartnerId,
    /// `running` or `stopped`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// The root master it follows.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub master_bot_id: Option<BotId>,
    /// When it was created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The script type.
    #[diesel(sql_type = Text)]
    pub script_type: String,
    /// The exchange of its market.
    #[diesel(sql_type = Text)]
    pub exchange_id: String,
    /// Its market.
    #[diesel(sql_type = Text)]
    pub symbol: String,
    /// The canonical settings, as JSON text.
    #[diesel(sql_type = Text)]
    pub settings: String,
    /// Realized net profit (read copy).
    #[diesel(sql_type = Numeric)]
    pub profit: Decimal,
    /// ROI in percent (read copy).
    #[diesel(sql_type = Numeric)]
    pub roi: Decimal,
    /// Copies ever made.
    #[diesel(sql_type = Int4)]
    pub cloned: i32,
    /// Live bots following it.
    #[diesel(sql_type = BigInt)]
    pub followers: i64,
    /// Its current revision.
    #[diesel(sql_type = BigInt)]
    pub revision: i64,
    /// Whether it is deleted.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub deleted: bool,
}

const COLUMNS: &str = "b.id, b.owner_user_id, b.partner_id, b.status, b.master_bot_id, b.created_at, b.script_type, \
                       b.exchange_id, b.symbol, b.settings::text AS settings, b.profit, b.roi, b.cloned, \
                       (SELECT count(*) FROM bots f WHERE f.master_bot_id = b.id AND f.deleted_at IS NULL) AS followers, \
                       b.revision, b.deleted_at IS NOT NULL AS deleted";

const LIVE_HOSTED: &str = "b.deleted_at IS NULL AND b.kind IN ('grid', 'dca', 'webhook')";

/// A new hosted bot.
#[derive(Debug, Clone)]
pub struct NewHostedBot<'a> {
    /// Its id.
    pub id: BotId,
    /// The script's display name.
    pub name: &'a str,
    /// `grid`, `dca` or `webhook`.
    pub kind: &'a str,
    /// Its owner.
    pub owner: UserId,
    /// Its partner.
    pub partner: PartnerId,
    /// The script type.
    pub script_type: &'a str,
    /// The exchange of its market.
    pub exchange_id: &'a str,
    /// Its market.
    pub symbol: &'a str,
    /// The canonical settings, as JSON text.
    pub settings: &'a str,
    /// The root master it follows.
    pub master: Option<BotId>,
}

/// Inserts a running bot at revision 1.
pub async fn insert(connection: &mut AsyncPgConnection, bot: &NewHostedBot<'_>) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO bots (id, name, kind, owner_user_id, partner_id, script_type, exchange_id, symbol, settings, \
                           status, master_bot_id, follow_updates, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 'running', $10, $10 IS NOT NULL, 1)",
    )
    .bind::<SqlUuid, _>(bot.id)
    .bind::<Text, _>(bot.name)
    .bind::<Text, _>(bot.kind)
    .bind::<SqlUuid, _>(bot.owner)
    .bind::<SqlUuid, _>(bot.partner)
    .bind::<Text, _>(bot.script_type)
    .bind::<Text, _>(bot.exchange_id)
    .bind::<Text, _>(bot.symbol)
    .bind::<Text, _>(bot.settings)
    .bind::<Nullable<SqlUuid>, _>(bot.master)
    .execute(connection)
    .await
    .map(drop)
}

/// One of the partner's live hosted bots, locked until the transaction ends when `lock`.
pub async fn find(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    id: BotId,
    lock: bool,
) -> QueryResult<Option<HostedBotRow>> {
    let lock = if lock { " FOR UPDATE OF b" } else { "" };
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM bots b WHERE b.id = $1 AND b.partner_id = $2 AND {LIVE_HOSTED}{lock}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(partner)
    .get_result(connection)
    .await
    .optional()
}

/// A live hosted bot of any partner (what the runner's events name).
pub async fn find_live(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<Option<HostedBotRow>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM bots b WHERE b.id = $1 AND {LIVE_HOSTED}"))
        .bind::<SqlUuid, _>(id)
        .get_result(connection)
        .await
        .optional()
}

/// A hosted bot, deleted or not (what an event reports after a delete).
pub async fn find_any(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<HostedBotRow> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM bots b WHERE b.id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(connection)
        .await
}

/// The hosted bots (deleted ones too) among `ids`.
pub async fn find_many(connection: &mut AsyncPgConnection, ids: &[BotId]) -> QueryResult<Vec<HostedBotRow>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM bots b WHERE b.id = ANY($1) AND b.kind IN ('grid', 'dca', 'webhook') ORDER BY b.id"
    ))
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .load(connection)
    .await
}

/// Up to `limit` of the partner's (or one user's) live hosted bots, newest first, after
/// `(created_at, id)` if given.
pub async fn page(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    owner: Option<UserId>,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<HostedBotRow>> {
    let (after_at, after_id) = after.unzip();
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM bots b \
         WHERE b.partner_id = $1 AND {LIVE_HOSTED} AND ($2::uuid IS NULL OR b.owner_user_id = $2) \
           AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3, $4)) \
         ORDER BY b.created_at DESC, b.id DESC LIMIT $5"
    ))
    .bind::<SqlUuid, _>(partner)
    .bind::<Nullable<SqlUuid>, _>(owner)
    .bind::<Nullable<Timestamptz>, _>(after_at)
    .bind::<Nullable<SqlUuid>, _>(after_id)
    .bind::<BigInt, _>(limit)
    .load(connection)
    .await
}

/// The live followers of `master`, locked in id order (see [`of_user_with_followers`]).
pub async fn followers(connection: &mut AsyncPgConnection, master: BotId) -> QueryResult<Vec<HostedBotRow>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM bots b WHERE b.master_bot_id = $1 AND {LIVE_HOSTED} ORDER BY b.id FOR UPDATE OF b"
    ))
    .bind::<SqlUuid, _>(master)
    .load(connection)
    .await
}

/// The user's live hosted bots and the live followers of those bots (which deleting them
/// touches), all locked in one pass in id order, like every other multi-bot lock: ids are
/// time-ordered and a follower is always younger than its master, so masters are locked first
/// everywhere and two such deletes cannot deadlock.
pub async fn of_user_with_followers(
    connection: &mut AsyncPgConnection,
    owner: UserId,
) -> QueryResult<Vec<HostedBotRow>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM bots b WHERE {LIVE_HOSTED} AND (b.owner_user_id = $1 OR b.master_bot_id IN \
           (SELECT m.id FROM bots m WHERE m.owner_user_id = $1 AND m.deleted_at IS NULL)) \
         ORDER BY b.id FOR UPDATE OF b"
    ))
    .bind::<SqlUuid, _>(owner)
    .load(connection)
    .await
}

/// Locks the owners of `bots` (bots of any kind; deleted users too), in id order, until the
/// transaction ends. Taken before any bot lock, as every write that locks a user does.
pub async fn lock_owners(connection: &mut AsyncPgConnection, bots: &[BotId]) -> QueryResult<()> {
    if bots.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "SELECT u.id FROM users u WHERE u.id IN (SELECT b.owner_user_id FROM bots b WHERE b.id = ANY($1)) \
         ORDER BY u.id FOR UPDATE OF u",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(bots)
    .execute(connection)
    .await
    .map(drop)
}

/// A bot locked by [`lock_all`]: what the runner's events need to know of it.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct LockedBot {
    /// The bot.
    #[diesel(sql_type = SqlUuid)]
    pub id: BotId,
    /// `external`, `grid`, `dca`, `webhook` or `strategy`.
    #[diesel(sql_type = Text)]
    pub kind: String,
}

impl LockedBot {
    /// Whether it is a hosted bot (deleted or not).
    pub fn is_hosted(&self) -> bool {
        HOSTED_KINDS.contains(&self.kind.as_str())
    }
}

/// Locks the bots among `ids` that exist (any kind, deleted too), in id order like every
/// multi-bot lock (see [`of_user_with_followers`]); answers them.
pub async fn lock_all(connection: &mut AsyncPgConnection, ids: &[BotId]) -> QueryResult<Vec<LockedBot>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query("SELECT b.id, b.kind FROM bots b WHERE b.id = ANY($1) ORDER BY b.id FOR UPDATE OF b")
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
        .load(connection)
        .await
}

/// The runner's figures of a bot after its event `seq`: kept only when newer than the ones
/// held (`perf_seq`); answers whether they were. A read copy: no revision.
pub async fn record_performance(
    connection: &mut AsyncPgConnection,
    id: BotId,
    seq: i64,
    profit: Decimal,
    roi: Decimal,
) -> QueryResult<bool> {
    let updated = diesel::update(bots::table.find(id).filter(bots::perf_seq.lt(seq)))
        .set((bots::profit.eq(profit), bots::roi.eq(roi), bots::perf_seq.eq(seq)))
        .execute(connection)
        .await?;
    Ok(updated > 0)
}

/// New settings, one revision up.
pub async fn set_settings(connection: &mut AsyncPgConnection, id: BotId, settings: &str) -> QueryResult<()> {
    diesel::sql_query("UPDATE bots SET settings = $2::jsonb, revision = revision + 1 WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(settings)
        .execute(connection)
        .await
        .map(drop)
}

/// A new desired state, one revision up.
pub async fn set_status(connection: &mut AsyncPgConnection, id: BotId, status: &str) -> QueryResult<()> {
    diesel::update(bots::table.find(id))
        .set((bots::status.eq(status), bots::revision.eq(bots::revision + 1)))
        .execute(connection)
        .await
        .map(drop)
}

/// Deleted now (stopped first), one revision up.
pub async fn soft_delete(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<()> {
    diesel::update(bots::table.find(id))
        .set((bots::status.eq("stopped"), bots::deleted_at.eq(diesel::dsl::now), bots::revision.eq(bots::revision + 1)))
        .execute(connection)
        .await
        .map(drop)
}

/// Independent of its master from now on, one revision up.
pub async fn clear_master(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<()> {
    diesel::update(bots::table.find(id))
        .set((
            bots::master_bot_id.eq(None::<BotId>),
            bots::follow_updates.eq(false),
            bots::revision.eq(bots::revision + 1),
        ))
        .execute(connection)
        .await
        .map(drop)
}

/// One more copy made of `id` (a counter: no revision).
pub async fn count_copy(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<()> {
    diesel::update(bots::table.find(id)).set(bots::cloned.eq(bots::cloned + 1)).execute(connection).await.map(drop)
}

/// One more bot started by `user` (a counter).
pub async fn count_start(connection: &mut AsyncPgConnection, user: UserId) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set(users::bots_started.eq(users::bots_started + 1))
        .execute(connection)
        .await
        .map(drop)
}

/// A bot's revision.
#[derive(QueryableByName, Debug, Clone, Copy)]
pub struct RevisionRow {
    /// The bot.
    #[diesel(sql_type = SqlUuid)]
    pub id: BotId,
    /// Its current revision.
    #[diesel(sql_type = BigInt)]
    pub revision: i64,
}

/// Up to `limit` live hosted bots' revisions, by id after `after`.
pub async fn revisions(
    connection: &mut AsyncPgConnection,
    after: Option<BotId>,
    limit: i64,
) -> QueryResult<Vec<RevisionRow>> {
    diesel::sql_query(format!(
        "SELECT b.id, b.revision FROM bots b WHERE {LIVE_HOSTED} AND ($1::uuid IS NULL OR b.id > $1) \
         ORDER BY b.id LIMIT $2"
    ))
    .bind::<Nullable<SqlUuid>, _>(after)
    .bind::<BigInt, _>(limit)
    .load(connection)
    .await
}

/// A webhook bot that listens to a signal token: its id and whether it runs.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The bot.
    #[diesel(sql_type = SqlUuid)]
    pub id: BotId,
    /// `running` or `stopped`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Its revision.
    #[diesel(sql_type = BigInt)]
    pub revision: i64,
}

/// The partner's live hosted webhook bots whose `signalToken` is `token`, in id order (another
/// partner's bots with the same token are never among them).
pub async fn listening_to(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    token: &str,
) -> QueryResult<Vec<Listener>> {
    diesel::sql_query(format!(
        "SELECT b.id, b.status, b.revision FROM bots b WHERE b.partner_id = $1 AND b.kind = 'webhook' AND {LIVE_HOSTED} \
           AND b.settings ->> 'signalToken' = $2 ORDER BY b.id"
    ))
    .bind::<SqlUuid, _>(partner)
    .bind::<Text, _>(token)
    .load(connection)
    .await
}
