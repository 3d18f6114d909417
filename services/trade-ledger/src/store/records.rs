//! Partners, users, keys, broker accounts, tickers, bots and followers.

use super::schema::{api_keys, bot_followers, bots, broker_accounts, partners, tickers, users};
use crate::domain::keys::NewKey;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, BrokerAccountId, PartnerId, TickerId, UserId};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Who an API key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// A bot's `x-api-key`.
    Bot(BotId),
    /// A partner's `x-api-key`.
    Partner(PartnerId),
    /// A user's token.
    User(UserId),
}

impl KeyOwner {
    /// The `owner_kind` and `owner_id` columns: one id column serves three kinds of owner.
    fn parts(self) -> (&'static str, Uuid) {
        match self {
            KeyOwner::Bot(id) => ("bot", id.into()),
            KeyOwner::Partner(id) => ("partner", id.into()),
            KeyOwner::User(id) => ("user", id.into()),
        }
    }

    /// The owner these columns name, if the kind is one of the three.
    fn from_parts(kind: &str, id: Uuid) -> Option<Self> {
        match kind {
            "bot" => Some(KeyOwner::Bot(BotId::from_uuid(id))),
            "partner" => Some(KeyOwner::Partner(PartnerId::from_uuid(id))),
            "user" => Some(KeyOwner::User(UserId::from_uuid(id))),
            _ => None,
        }
    }
}

/// A stored key, found by its lookup prefix.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = api_keys)]
pub struct StoredKey {
    /// `bot`, `partner` or `user`.
    pub owner_kind: String,
    /// The owner's id.
    pub owner_id: Uuid,
    /// SHA-256 of the whole key.
    pub secret_sha256: Vec<u8>,
}

impl StoredKey {
    /// Whose key it is.
    pub fn owner(&self) -> Option<KeyOwner> {
        KeyOwner::from_parts(&self.owner_kind, self.owner_id)
    }
}

/// Stores a key's hash for `owner`.
pub async fn insert_key(connection: &mut AsyncPgConnection, owner: KeyOwner, key: &NewKey) -> QueryResult<()> {
    let (kind, owner_id) = owner.parts();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(Uuid::now_v7()),
            api_keys::owner_kind.eq(kind),
            api_keys::owner_id.eq(owner_id),
            api_keys::lookup_prefix.eq(&key.lookup_prefix),
            api_keys::secret_sha256.eq(key.secret_sha256.as_slice()),
        ))
        .execute(connection)
        .await
        .map(drop)
}

/// The live (not revoked) key with this lookup prefix.
pub async fn find_key(connection: &mut AsyncPgConnection, lookup_prefix: &str) -> QueryResult<Option<StoredKey>> {
    api_keys::table
        .filter(api_keys::lookup_prefix.eq(lookup_prefix))
        .filter(api_keys::revoked_at.is_null())
        .select(StoredKey::as_select())
        .first(connection)
        .await
        .optional()
}

/// A stored key as `admin revoke-key` sees it: whose it is and whether it is revoked.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = api_keys)]
pub struct KeyStatus {
    /// `bot`, `partner` or `user`.
    pub owner_kind: String,
    /// The owner's id.
    pub owner_id: Uuid,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The key with this lookup prefix, revoked or not, locked until the transaction ends (two
/// concurrent revocations then report one revocation and one "already revoked").
pub async fn key_status_for_update(
    connection: &mut AsyncPgConnection,
    lookup_prefix: &str,
) -> QueryResult<Option<KeyStatus>> {
    api_keys::table
        .filter(api_keys::lookup_prefix.eq(lookup_prefix))
        .select(KeyStatus::as_select())
        .for_update()
        .first(connection)
        .await
        .optional()
}

/// Revokes the live key with this lookup prefix now; returns when, or `None` when there is no
/// live key with it. [`find_key`] no longer finds it.
pub async fn revoke_key(connection: &mut AsyncPgConnection, lookup_prefix: &str) -> QueryResult<Option<DateTime<Utc>>> {
    diesel::update(
        api_keys::table.filter(api_keys::lookup_prefix.eq(lookup_prefix)).filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(diesel::dsl::now))
    .returning(api_keys::revoked_at)
    .get_result::<Option<DateTime<Utc>>>(connection)
    .await
    .optional()
    .map(Option::flatten)
}

/// Creates a partner.
pub async fn insert_partner(connection: &mut AsyncPgConnection, id: PartnerId, name: &str) -> QueryResult<()> {
    diesel::insert_into(partners::table)
        .values((partners::id.eq(id), partners::name.eq(name)))
        .execute(connection)
        .await
        .map(drop)
}

/// Creates a user, optionally under a partner.
pub async fn insert_user(
    connection: &mut AsyncPgConnection,
    id: UserId,
    partner_id: Option<PartnerId>,
    email: &str,
) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((users::id.eq(id), users::partner_id.eq(partner_id), users::email.eq(email)))
        .execute(connection)
        .await
        .map(drop)
}

/// Whether a partner exists.
pub async fn partner_exists(connection: &mut AsyncPgConnection, id: PartnerId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(partners::table.find(id))).get_result(connection).await
}

/// Whether a user exists.
pub async fn user_exists(connection: &mut AsyncPgConnection, id: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.find(id))).get_result(connection).await
}

/// Whether a user exists and is not deleted.
pub async fn user_is_live(connection: &mut AsyncPgConnection, id: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.find(id).filter(users::deleted_at.is_null())))
        .get_result(connection)
        .await
}

/// Creates a broker account for a user.
pub async fn insert_broker_account(
    connection: &mut AsyncPgConnection,
    id: BrokerAccountId,
    user_id: UserId,
    broker: &str,
    account_number: &str,
) -> QueryResult<()> {
    diesel::insert_into(broker_accounts::table)
        .values((
            broker_accounts::id.eq(id),
            broker_accounts::user_id.eq(user_id),
            broker_accounts::broker.eq(broker),
            broker_accounts::account_number.eq(account_number),
        ))
        .execute(connection)
        .await
        .map(drop)
}

/// A ticker of the market catalogue.
#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = tickers)]
pub struct Ticker {
    /// Its id.
    pub id: TickerId,
    /// Market symbol, unique (`AAPL`, `SIM_BTC_USDT_`).
    pub symbol: String,
    /// `stock`, `option`, `crypto`, ...
    pub asset_type: String,
    /// Exchange id (`SIM`, `NASDAQ`, ...).
    pub exchange: Option<String>,
    /// Decimals of prices.
    pub price_decimals: i16,
    /// Decimals of amounts.
    pub amount_decimals: i16,
    /// Smallest order amount.
    pub min_amount: Option<Decimal>,
    /// Base currency (`BTC`; a stock is its own base).
    pub base_currency: String,
    /// Quote currency (`USDT`, `USD`).
    pub quote_currency: String,
    /// Contract, empty for none.
    pub contract: String,
    /// Spot market.
    pub is_spot: bool,
    /// Leveraged market.
    pub is_leverage: bool,
}

/// Creates a ticker.
pub async fn insert_ticker(connection: &mut AsyncPgConnection, ticker: &Ticker) -> QueryResult<()> {
    diesel::insert_into(tickers::table).values(ticker).execute(connection).await.map(drop)
}

/// An external bot: the Bot API's (hosted and strategy bots have no slug and are not found
/// here).
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = bots)]
pub struct Bot {
    /// Its id.
    pub id: BotId,
    /// Unique slug (`/^[a-zA-Z0-9_-]+$/`); every external bot has one (a CHECK says so).
    #[diesel(select_expression = bots::slug.assume_not_null())]
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `external`, `grid`, `dca`, `webhook` or `strategy`.
    pub kind: String,
    /// The user who owns it, if any.
    pub owner_user_id: Option<UserId>,
}

/// Creates an external bot.
pub async fn insert_bot(
    connection: &mut AsyncPgConnection,
    id: BotId,
    slug: &str,
    name: &str,
    owner_user_id: Option<UserId>,
) -> QueryResult<()> {
    diesel::insert_into(bots::table)
        .values((bots::id.eq(id), bots::slug.eq(slug), bots::name.eq(name), bots::owner_user_id.eq(owner_user_id)))
        .execute(connection)
        .await
        .map(drop)
}

/// The `kind` of the Bot API's bots.
const EXTERNAL: &str = "external";

/// The external bot with this slug.
pub async fn find_bot_by_slug(connection: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<Bot>> {
    bots::table
        .filter(bots::slug.eq(slug))
        .filter(bots::kind.eq(EXTERNAL))
        .select(Bot::as_select())
        .first(connection)
        .await
        .optional()
}

/// The external bot with this id.
pub async fn find_bot(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<Option<Bot>> {
    bots::table.find(id).filter(bots::kind.eq(EXTERNAL)).select(Bot::as_select()).first(connection).await.optional()
}

/// Whether a bot of any kind (external, hosted, strategy; deleted too) has this id.
pub async fn bot_exists(connection: &mut AsyncPgConnection, id: BotId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(bots::table.find(id))).get_result(connection).await
}

/// Makes a broker account follow a bot for a ticker (or updates the quantity).
pub async fn upsert_follower(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    broker_account_id: BrokerAccountId,
    ticker_id: TickerId,
    quantity: Decimal,
) -> QueryResult<()> {
    diesel::insert_into(bot_followers::table)
        .values((
            bot_followers::bot_id.eq(bot_id),
            bot_followers::broker_account_id.eq(broker_account_id),
            bot_followers::ticker_id.eq(ticker_id),
            bot_followers::quantity.eq(quantity),
        ))
        .on_conflict((bot_followers::bot_id, bot_followers::broker_account_id, bot_followers::ticker_id))
        .do_update()
        .set(bot_followers::quantity.eq(quantity))
        .execute(connection)
        .await
        .map(drop)
}

/// One follow link with what `GET /api/bots/:slug` shows of it.
#[derive(Queryable, Debug, Clone)]
pub struct Following {
    /// The broker account.
    pub broker_account_id: BrokerAccountId,
    /// Its account number.
    pub account_number: String,
    /// Its owner.
    pub user_id: UserId,
    /// Its broker.
    pub broker: String,
    /// The ticker followed.
    pub ticker_id: TickerId,
    /// The ticker's symbol.
    pub symbol: String,
    /// `active` or `paused`.
    pub status: String,
    /// Units per signal.
    pub quantity: Decimal,
}

/// The follow links of up to `accounts` of a bot's following broker accounts, those after
/// `after` by id, by account then symbol (a follower is an account with all its tickers, so
/// a page never splits one).
pub async fn followers_page(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    after: Option<BrokerAccountId>,
    accounts: i64,
) -> QueryResult<Vec<Following>> {
    let mut page = bot_followers::table
        .filter(bot_followers::bot_id.eq(bot_id))
        .select(bot_followers::broker_account_id)
        .distinct()
        .order(bot_followers::broker_account_id)
        .limit(accounts)
        .into_boxed();
    if let Some(after) = after {
        page = page.filter(bot_followers::broker_account_id.gt(after));
    }
    let page: Vec<BrokerAccountId> = page.load(connection).await?;
    bot_followers::table
        .inner_join(broker_accounts::table)
        .inner_join(tickers::table)
        .filter(bot_followers::bot_id.eq(bot_id))
        .filter(bot_followers::broker_account_id.eq_any(&page))
        .order((broker_accounts::id, tickers::symbol))
        .select((
            broker_accounts::id,
            broker_accounts::account_number,
            broker_accounts::user_id,
            broker_accounts::broker,
            tickers::id,
            tickers::symbol,
            bot_followers::status,
            bot_followers::quantity,
        ))
        .load(connection)
        .await
}

/// The id of the ticker with this id or symbol.
pub async fn find_ticker(connection: &mut AsyncPgConnection, id_or_symbol: &str) -> QueryResult<Option<TickerId>> {
    let query = tickers::table.select(tickers::id).into_boxed();
    let query = match id_or_symbol.parse::<TickerId>() {
        Ok(id) => query.filter(tickers::id.eq(id)),
        Err(_) => query.filter(tickers::symbol.eq(id_or_symbol)),
    };
    query.first(connection).await.optional()
}

/// Whether a broker account exists.
pub async fn broker_account_exists(connection: &mut AsyncPgConnection, id: BrokerAccountId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(broker_accounts::table.find(id))).get_result(connection).await
}

/// Whether `user` belongs to `partner` and is not deleted.
pub async fn partner_has_user(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    user: UserId,
) -> QueryResult<bool> {
    let live = users::table.find(user).filter(users::partner_id.eq(partner)).filter(users::deleted_at.is_null());
    diesel::select(diesel::dsl::exists(live)).get_result(connection).await
}

/// The distinct brokers of a user's accounts, sorted.
pub async fn user_brokers(connection: &mut AsyncPgConnection, user: UserId) -> QueryResult<Vec<String>> {
    broker_accounts::table
        .filter(broker_accounts::user_id.eq(user))
        .select(broker_accounts::broker)
        .distinct()
        .order(broker_accounts::broker)
        .load(connection)
        .await
}
