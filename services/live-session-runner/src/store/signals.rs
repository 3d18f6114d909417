//! Signals and their receipts: stored once per (partner, token, timestamp, action), one
//! receipt per bot, and read back as the token's last signal.

use bus::messages::signals::{SignalBot, SignalBotKind, SignalMsg};
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, PartnerId};
use std::collections::BTreeMap;

/// The channel the owners of runs listen on for new pending receipts; its payload names the
/// markets to look (comma-separated), or is empty for every market.
pub const SIGNALS_PENDING: &str = "signals_pending";

/// The reason of a stopped bot's receipt.
pub const BOT_IS_STOPPED: &str = "bot is stopped";

/// Stores `signal` with one receipt per bot (`pending` for a running bot, `skipped` for a
/// stopped one) and wakes the owners, in the caller's transaction. `false`: the partner sent
/// this signal before (same token, timestamp and action), and nothing was written.
pub async fn insert(
    tx: &mut AsyncPgConnection,
    partner: PartnerId,
    signal: &SignalMsg,
    bots: &[SignalBot],
) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Inserted {
        #[diesel(sql_type = SqlUuid)]
        id: uuid::Uuid,
    }
    let inserted: Option<Inserted> = diesel::sql_query(
        "INSERT INTO signals (id, partner_id, token, timestamp, action, amount, price, investment_type, max_lag, \
                              metadata) \
         VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8, $9, $10) \
         ON CONFLICT (partner_id, token, timestamp, action) DO NOTHING RETURNING id",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::now_v7())
    .bind::<SqlUuid, _>(partner)
    .bind::<Text, _>(&signal.signal_token)
    .bind::<BigInt, _>(signal.timestamp)
    .bind::<Text, _>(signal.action.as_str())
    .bind::<Text, _>(signal.amount.0.to_string())
    .bind::<Nullable<Text>, _>(signal.price.map(|price| price.0.to_string()))
    .bind::<Text, _>(investment_type(signal))
    .bind::<Nullable<BigInt>, _>(signal.max_lag)
    .bind::<Text, _>(signal.metadata.get())
    .get_result(tx)
    .await
    .optional()?;
    let Some(Inserted { id }) = inserted else { return Ok(false) };
    // One receipt per bot, whatever the caller's list repeats.
    let bots: BTreeMap<uuid::Uuid, &SignalBot> = bots.iter().map(|bot| (*bot.bot_id.as_uuid(), bot)).collect();
    diesel::sql_query(
        "INSERT INTO signal_receipts (signal_id, bot_id, bot_kind, bot_revision, status, reason, delivered_at) \
         SELECT $1, b.bot_id, b.kind, b.revision, CASE WHEN b.running THEN 'pending' ELSE 'skipped' END, \
                CASE WHEN b.running THEN NULL ELSE $6 END, CASE WHEN b.running THEN NULL ELSE clock_timestamp() END \
         FROM unnest($2::uuid[], $3::text[], $4::bool[], $5::bigint[]) AS b(bot_id, kind, running, revision)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Array<SqlUuid>, _>(bots.keys().copied().collect::<Vec<_>>())
    .bind::<Array<Text>, _>(bots.values().map(|bot| kind_name(bot.kind)).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(bots.values().map(|bot| bot.running).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(bots.values().map(|bot| bot.revision).collect::<Vec<_>>())
    .bind::<Text, _>(BOT_IS_STOPPED)
    .execute(tx)
    .await?;
    if bots.values().any(|bot| bot.running) {
        wake_markets(tx, &bots.keys().copied().collect::<Vec<_>>()).await?;
    }
    Ok(true)
}

/// The longest payload a NOTIFY carries here (Postgres allows 8,000 bytes): beyond it every
/// market is woken.
const MAX_WAKE_PAYLOAD: usize = 7_000;

/// Wakes the market tasks of `bots`' runs (`NOTIFY signals_pending, '<symbol>,<symbol>'`), on
/// commit. A bot whose run the runner has not heard of yet needs no wake-up: its adoption
/// looks for pending receipts.
async fn wake_markets(tx: &mut AsyncPgConnection, bots: &[uuid::Uuid]) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Symbol {
        #[diesel(sql_type = Text)]
        symbol: String,
    }
    let symbols: Vec<Symbol> = diesel::sql_query(
        "SELECT DISTINCT market ->> 'symbol' AS symbol FROM runs \
         WHERE kind = 'hosted' AND bot_id = ANY($1) AND market ->> 'symbol' IS NOT NULL",
    )
    .bind::<Array<SqlUuid>, _>(bots)
    .load(tx)
    .await?;
    let payload = symbols.iter().map(|symbol| symbol.symbol.as_str()).collect::<Vec<_>>().join(",");
    let payload = if payload.len() > MAX_WAKE_PAYLOAD { String::new() } else { payload };
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(SIGNALS_PENDING)
        .bind::<Text, _>(payload)
        .execute(tx)
        .await
        .map(drop)
}

fn investment_type(signal: &SignalMsg) -> &'static str {
    match signal.investment_type {
        bus::messages::signals::InvestmentTypeMsg::Base => "base",
        bus::messages::signals::InvestmentTypeMsg::Quote => "quote",
    }
}

/// A bot family as the receipts table spells it.
pub fn kind_name(kind: SignalBotKind) -> &'static str {
    match kind {
        SignalBotKind::Hosted => "hosted",
        SignalBotKind::Strategy => "strategy",
    }
}

/// A stored signal, as `signals/get` shows it.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct StoredSignal {
    /// Its id.
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    /// The action's wire spelling.
    #[diesel(sql_type = Text)]
    pub action: String,
    /// The amount, as Postgres prints it.
    #[diesel(sql_type = Text)]
    pub amount: String,
    /// The limit price, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub price: Option<String>,
    /// The partner's timestamp, Unix seconds.
    #[diesel(sql_type = BigInt)]
    pub timestamp: i64,
    /// The partner's metadata, JSON text.
    #[diesel(sql_type = Text)]
    pub metadata: String,
    /// When it was stored, Unix seconds.
    #[diesel(sql_type = BigInt)]
    pub received_at: i64,
}

/// The partner's last signal with `token`, by the time it was stored.
pub async fn latest(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    token: &str,
) -> QueryResult<Option<StoredSignal>> {
    diesel::sql_query(
        "SELECT id, action, amount::text AS amount, price::text AS price, timestamp, metadata, \
                floor(extract(epoch FROM received_at))::bigint AS received_at \
         FROM signals WHERE partner_id = $1 AND token = $2 ORDER BY received_at DESC, id DESC LIMIT 1",
    )
    .bind::<SqlUuid, _>(partner)
    .bind::<Text, _>(token)
    .get_result(connection)
    .await
    .optional()
}

/// One bot's receipt, with the status its order has now.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// The bot.
    #[diesel(sql_type = SqlUuid)]
    pub bot_id: uuid::Uuid,
    /// `hosted` or `strategy`.
    #[diesel(sql_type = Text)]
    pub bot_kind: String,
    /// `pending`, `delivered` or `skipped`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Why it was skipped or refused.
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    /// The engine's number of the order it placed.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub order_id: Option<i64>,
    /// That order's status now (`None` once the order's run was purged; a strategy bot's
    /// orders live in its sessions, which come later).
    #[diesel(sql_type = Nullable<Text>)]
    pub order_status: Option<String>,
    /// When it was delivered or skipped, Unix seconds.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub delivered_at: Option<i64>,
}

/// Every receipt of a signal, in bot id order.
pub async fn receipts(connection: &mut AsyncPgConnection, signal: uuid::Uuid) -> QueryResult<Vec<StoredReceipt>> {
    diesel::sql_query(
        "SELECT r.bot_id, r.bot_kind, r.status, r.reason, r.order_id, o.status AS order_status, \
                floor(extract(epoch FROM r.delivered_at))::bigint AS delivered_at \
         FROM signal_receipts r \
         LEFT JOIN runs ON runs.bot_id = r.bot_id AND runs.kind = 'hosted' AND r.bot_kind = 'hosted' \
         LEFT JOIN run_orders o ON o.run_id = runs.id AND o.order_id = r.order_id \
         WHERE r.signal_id = $1 ORDER BY r.bot_id",
    )
    .bind::<SqlUuid, _>(signal)
    .load(connection)
    .await
}

/// What became of one delivered signal, written in the fenced commit of the run that acted on
/// it (with the order it placed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRow {
    /// The receipt (the number the engine was given the signal with).
    pub delivery_id: i64,
    /// `delivered` or `skipped`.
    pub status: &'static str,
    /// Why it was skipped, or why the exchange refused the order.
    pub reason: Option<String>,
    /// The engine's number of the order it placed.
    pub order_id: Option<i64>,
}

/// Settles receipts, in the caller's (fenced) transaction. Only pending ones change: a receipt
/// is settled once. One that was settled already (it should not happen: its bot's owner is the
/// only one to deliver it) is logged, not overwritten.
pub async fn record(tx: &mut AsyncPgConnection, rows: &[&ReceiptRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let settled = diesel::sql_query(
        "UPDATE signal_receipts r SET status = u.status, reason = u.reason, order_id = u.order_id, \
                delivered_at = clock_timestamp() \
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS u(delivery_id, status, reason, order_id) \
         WHERE r.delivery_id = u.delivery_id AND r.status = 'pending'",
    )
    .bind::<Array<BigInt>, _>(rows.iter().map(|row| row.delivery_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|row| row.status).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|row| row.reason.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|row| row.order_id).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    if settled < rows.len() {
        let ids: Vec<i64> = rows.iter().map(|row| row.delivery_id).collect();
        tracing::error!(receipts = ?ids, settled, "a signal receipt was settled already; the newer outcome is not kept");
    }
    Ok(())
}

/// A receipt waiting for its bot's owner, with what its signal says.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct PendingReceipt {
    /// The receipt.
    #[diesel(sql_type = BigInt)]
    pub delivery_id: i64,
    /// The bot.
    #[diesel(sql_type = SqlUuid)]
    pub bot_id: BotId,
    /// The action's wire spelling.
    #[diesel(sql_type = Text)]
    pub action: String,
    /// The amount, as Postgres prints it.
    #[diesel(sql_type = Text)]
    pub amount: String,
    /// The limit price, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub price: Option<String>,
    /// `base` or `quote`.
    #[diesel(sql_type = Text)]
    pub investment_type: String,
    /// The partner's timestamp, Unix seconds.
    #[diesel(sql_type = BigInt)]
    pub timestamp: i64,
    /// The signal's `maxLag`, seconds.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub max_lag: Option<i64>,
}

/// The pending receipts of `bots` (hosted bots), oldest signal first.
pub async fn pending_for(connection: &mut AsyncPgConnection, bots: &[BotId]) -> QueryResult<Vec<PendingReceipt>> {
    if bots.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "SELECT r.delivery_id, r.bot_id, s.action, s.amount::text AS amount, s.price::text AS price, \
                s.investment_type, s.timestamp, s.max_lag \
         FROM signal_receipts r JOIN signals s ON s.id = r.signal_id \
         WHERE r.status = 'pending' AND r.bot_kind = 'hosted' AND r.bot_id = ANY($1) \
         ORDER BY s.received_at, s.id",
    )
    .bind::<Array<SqlUuid>, _>(bots.to_vec())
    .load(connection)
    .await
}

/// Skips the pending receipts of hosted bots that stopped (or were deleted) before their owner
/// delivered them: a stopped run has no owner to deliver them. A bot that is still held, that
/// is to run, or whose run has not heard of the revision the signal saw yet (a start on its
/// way), keeps its receipts pending. Returns how many were skipped.
pub async fn skip_for_stopped_bots(connection: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE signal_receipts r SET status = 'skipped', reason = $1, delivered_at = clock_timestamp() \
         FROM runs WHERE r.status = 'pending' AND r.bot_kind = 'hosted' AND runs.kind = 'hosted' \
           AND runs.bot_id = r.bot_id AND runs.revision >= r.bot_revision \
           AND runs.desired <> 'running' AND runs.state <> 'running' AND runs.lease_owner IS NULL",
    )
    .bind::<Text, _>(BOT_IS_STOPPED)
    .execute(connection)
    .await
}
