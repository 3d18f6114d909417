//! Bot trades and transactions (reference 001, CONTRACTS §1). Every write that touches a
//! trade's transactions recomputes its status by `domain::trade::derive`, inside the same
//! transaction, with the trade row locked so concurrent writes to one trade serialise.

use super::storage_error;
use crate::store::schema::{bot_trades, transactions};
use crate::store::trades::{self, NewTrade, NewTransactionRow, ParticipationRow, TradeRow, TransactionRow};
use base64::Engine;
use bus::BusError;
use bus::messages::bot_api::ParticipationView;
use bus::messages::fetch::{FetchError, FetchErrorCode};
use bus::messages::trades::{
    AddTransactions, CreateTrade, GetTrade, ListTrades, NewTransaction, ParticipationsList, TradePatch, TradeReply,
    TradeView, TradesPage, TransactionPatch, TransactionUpdatedReply, TransactionView, TransactionsAddedReply,
    UpdateTrade, UpdateTransaction,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::trade::{self, TradeFacts, TradeStatus, TransactionFacts, TransactionGroup, TransactionStatus};
use domain::{BotId, BrokerAccountId, UserId};
use platform::db::{JsonText, PgPool};
use serde_json::value::RawValue;
use std::str::FromStr;
use uuid::Uuid;

/// What can go wrong inside a trade transaction.
enum Failure {
    NotFound(&'static str),
    Storage(diesel::result::Error),
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Failure::Storage(error)
    }
}

impl From<Failure> for BusError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::NotFound(message) => BusError::not_found(message),
            Failure::Storage(error) => storage_error(error),
        }
    }
}

const TRADE_NOT_FOUND: &str = "Trade not found";

fn new_transaction_row(trade_id: Uuid, input: NewTransaction) -> Result<NewTransactionRow, diesel::result::Error> {
    let metadata = JsonText(input.metadata.get().to_string());
    Ok(NewTransactionRow {
        id: Uuid::now_v7(),
        bot_trade_id: trade_id,
        transaction_group: input.transaction_group.as_str().to_string(),
        exit_type: input.exit_type,
        trim_level: input.trim_level,
        symbol: input.symbol,
        asset_type: input.asset_type,
        side: input.side,
        order_type: input.order_type,
        quantity: input.quantity,
        transaction_date: input.transaction_date,
        stop_price: input.stop_price,
        price: input.price,
        option_type: input.option_type,
        strike_price: input.strike_price,
        expiration_date: input.expiration_date,
        status: input.status.as_str().to_string(),
        filled_at: input.filled_at,
        filled_price: input.filled_price,
        filled_quantity: input.filled_quantity,
        avg_fill_price: input.avg_fill_price,
        broker: input.broker,
        broker_account_number: input.broker_account_number,
        broker_order_id: input.broker_order_id,
        broker_parent_order_id: input.broker_parent_order_id,
        notes: input.notes,
        metadata,
    })
}

fn parse<T: FromStr>(text: &str) -> Result<T, diesel::result::Error>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|error: T::Err| diesel::result::Error::DeserializationError(Box::new(error)))
}

fn facts(rows: &[TransactionRow]) -> Result<Vec<TransactionFacts>, diesel::result::Error> {
    rows.iter()
        .map(|row| {
            Ok(TransactionFacts {
                group: parse(&row.transaction_group)?,
                status: parse(&row.status)?,
                quantity: row.quantity,
                filled_quantity: row.filled_quantity,
                filled_at: row.filled_at,
            })
        })
        .collect()
}

/// Recomputes and stores the trade's status, `openedAt` and `closedAt` from its transactions.
async fn recompute(tx: &mut AsyncPgConnection, trade: &TradeRow) -> Result<Vec<TransactionRow>, diesel::result::Error> {
    let rows = trades::transactions_of(tx, trade.id).await?;
    let derived = trade::derive(
        &TradeFacts {
            error_at: trade.error_at,
            error_message: trade.error_message.clone(),
            // Only what the bot set stands; derived times follow the fills.
            opened_at: trade.opened_at.filter(|_| trade.opened_at_explicit),
            closed_at: trade.closed_at.filter(|_| trade.closed_at_explicit),
        },
        &facts(&rows)?,
    );
    trades::set_derived(tx, trade.id, derived.status.as_str(), derived.opened_at, derived.closed_at).await?;
    Ok(rows)
}

async fn reload(tx: &mut AsyncPgConnection, bot_id: Uuid, trade_id: Uuid) -> Result<TradeRow, Failure> {
    trades::find_trade(tx, bot_id, trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))
}

/// Creates a trade with its entry transactions, atomically.
pub async fn create(connection: &mut AsyncPgConnection, request: CreateTrade) -> Result<TradeReply, BusError> {
    let bot_id = *request.bot_id.as_uuid();
    let (trade, rows) = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade_id = Uuid::now_v7();
            let new = NewTrade {
                id: trade_id,
                bot_id,
                symbol: &request.symbol,
                trade_type: request.trade_type.as_str(),
                status: request.status.unwrap_or(TradeStatus::Pending).as_str(),
                signal_at: request.signal_at,
                opened_at: request.opened_at,
                metadata: request.metadata.get(),
            };
            trades::insert_trade(tx, &new).await?;
            let rows = request
                .transactions
                .iter()
                .cloned()
                .map(|input| new_transaction_row(trade_id, input))
                .collect::<Result<Vec<_>, _>>()?;
            trades::insert_transactions(tx, &rows).await?;
            let trade = reload(tx, bot_id, trade_id).await?;
            // An explicit status stands; otherwise the rule decides.
            let rows = if request.status.is_some() {
                trades::transactions_of(tx, trade_id).await?
            } else {
                recompute(tx, &trade).await?
            };
            Ok((reload(tx, bot_id, trade_id).await?, rows))
        })
        .await?;
    Ok(TradeReply { success: true, trade: trade_view(trade, Some(rows), None)? })
}

/// Reference 001: adds transactions and recomputes the trade.
pub async fn add_transactions(
    connection: &mut AsyncPgConnection,
    request: AddTransactions,
) -> Result<TransactionsAddedReply, BusError> {
    let bot_id = *request.bot_id.as_uuid();
    let added = request.transactions.len();
    let trade = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade =
                trades::lock_trade(tx, bot_id, request.trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))?;
            let rows = request
                .transactions
                .iter()
                .cloned()
                .map(|input| new_transaction_row(trade.id, input))
                .collect::<Result<Vec<_>, _>>()?;
            trades::insert_transactions(tx, &rows).await?;
            recompute(tx, &trade).await?;
            reload(tx, bot_id, trade.id).await
        })
        .await?;
    Ok(TransactionsAddedReply { success: true, trade: trade_view(trade, None, None)?, transactions_added: added })
}

/// One trade with its transactions and participations.
pub async fn get(pool: &PgPool, request: GetTrade) -> Result<TradeReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let trade = trades::find_trade(&mut connection, *request.bot_id.as_uuid(), request.trade_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| BusError::not_found(TRADE_NOT_FOUND))?;
    let rows = trades::transactions_of(&mut connection, trade.id).await.map_err(storage_error)?;
    let participations = trades::participations_of(&mut connection, trade.id).await.map_err(storage_error)?;
    Ok(TradeReply { success: true, trade: trade_view(trade, Some(rows), Some(participations))? })
}

/// The trade's participations with their broker order details.
pub async fn participations(pool: &PgPool, request: GetTrade) -> Result<ParticipationsList, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let trade = trades::find_trade(&mut connection, *request.bot_id.as_uuid(), request.trade_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| BusError::not_found(TRADE_NOT_FOUND))?;
    let rows = trades::participations_of(&mut connection, trade.id).await.map_err(storage_error)?;
    let participations = rows.into_iter().map(participation_view).collect::<Result<_, _>>().map_err(storage_error)?;
    Ok(ParticipationsList { success: true, participations })
}

fn encode_cursor(trade: &TradeRow) -> String {
    let text = format!("{}_{}", trade.created_at.timestamp_micros(), trade.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (micros, id) = text.split_once('_')?;
    Some((DateTime::from_timestamp_micros(micros.parse().ok()?)?, id.parse().ok()?))
}

/// A page of the bot's trades, newest first, each with its transactions.
pub async fn list(pool: &PgPool, request: ListTrades) -> Result<TradesPage, BusError> {
    let after = match &request.cursor {
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| BusError::invalid("cursor is invalid"))?),
        None => None,
    };
    let mut connection = pool.get().await.map_err(storage_error)?;
    let limit = i64::from(request.limit.clamp(1, 500));
    // One row more than asked tells whether another page exists.
    let mut rows = trades::list_trades(
        &mut connection,
        *request.bot_id.as_uuid(),
        request.status.map(TradeStatus::as_str),
        request.symbol.as_deref(),
        after,
        limit + 1,
    )
    .await
    .map_err(storage_error)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if has_more { rows.last().map(encode_cursor) } else { None };
    let ids: Vec<Uuid> = rows.iter().map(|trade| trade.id).collect();
    let mut transactions = trades::transactions_of_many(&mut connection, &ids).await.map_err(storage_error)?;
    let trades = rows
        .into_iter()
        .map(|trade| {
            let own: Vec<TransactionRow> = transactions.extract_if(.., |row| row.bot_trade_id == trade.id).collect();
            trade_view(trade, Some(own), None)
        })
        .collect::<Result<_, _>>()?;
    Ok(TradesPage { success: true, trades, next_cursor })
}

/// Updates a trade's own fields. `status: closed` first fills every open exit.
pub async fn update(pool: &PgPool, request: UpdateTrade) -> Result<TradeReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let bot_id = *request.bot_id.as_uuid();
    let (trade, rows) = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade =
                trades::lock_trade(tx, bot_id, request.trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))?;
            apply_trade_patch(tx, &trade, &request.patch).await?;
            let mut trade = reload(tx, bot_id, trade.id).await?;
            // Error fields take part in the status rule: recompute unless a status was given.
            let error_changed = request.patch.error_message.is_some() || request.patch.error_at.is_some();
            let rows = if request.patch.status.is_none() && error_changed {
                let rows = recompute(tx, &trade).await?;
                trade = reload(tx, bot_id, trade.id).await?;
                rows
            } else {
                trades::transactions_of(tx, trade.id).await?
            };
            Ok((trade, rows))
        })
        .await?;
    Ok(TradeReply { success: true, trade: trade_view(trade, Some(rows), None)? })
}

/// The changes of a trade patch, as diesel applies them (`Some(None)` sets NULL).
#[derive(AsChangeset)]
#[diesel(table_name = bot_trades)]
struct TradeChanges {
    status: Option<String>,
    closed_at: Option<Option<DateTime<Utc>>>,
    net_pnl: Option<Option<rust_decimal::Decimal>>,
    error_message: Option<Option<String>>,
    error_at: Option<Option<DateTime<Utc>>>,
    metadata: Option<JsonText>,
    last_update_at: DateTime<Utc>,
    closed_at_explicit: Option<bool>,
}

async fn apply_trade_patch(tx: &mut AsyncPgConnection, trade: &TradeRow, patch: &TradePatch) -> Result<(), Failure> {
    let now = Utc::now();
    let mut closed_at = patch.closed_at;
    // A closedAt the bot sends stands; one derived here follows later fills.
    let closed_at_explicit = patch.closed_at.map(|value| value.is_some());
    if patch.status == Some(TradeStatus::Closed) {
        let fill_time = patch.closed_at.flatten().unwrap_or(now);
        diesel::sql_query(
            "UPDATE transactions SET status = 'filled', filled_at = coalesce(filled_at, $2), updated_at = $3 \
             WHERE bot_trade_id = $1 AND transaction_group = 'exit' AND status = 'open'",
        )
        .bind::<diesel::sql_types::Uuid, _>(trade.id)
        .bind::<diesel::sql_types::Timestamptz, _>(fill_time)
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .execute(tx)
        .await?;
        if closed_at.is_none() && trade.closed_at.is_none() {
            let rows = trades::transactions_of(tx, trade.id).await?;
            let latest_exit = facts(&rows)?
                .iter()
                .filter(|t| t.group == TransactionGroup::Exit && t.status == TransactionStatus::Filled)
                .filter_map(|t| t.filled_at)
                .max();
            closed_at = Some(latest_exit.or(Some(fill_time)));
        }
    }
    let metadata = patch.metadata.as_ref().map(|raw| JsonText(raw.get().to_string()));
    let changes = TradeChanges {
        status: patch.status.map(|status| status.as_str().to_string()),
        closed_at,
        net_pnl: patch.net_pnl,
        error_message: patch.error_message.clone(),
        error_at: patch.error_at,
        metadata,
        last_update_at: now,
        closed_at_explicit,
    };
    diesel::update(bot_trades::table.find(trade.id)).set(changes).execute(tx).await?;
    Ok(())
}

/// The changes of a transaction patch.
#[derive(AsChangeset)]
#[diesel(table_name = transactions)]
struct TransactionChanges {
    status: Option<String>,
    filled_at: Option<Option<DateTime<Utc>>>,
    filled_quantity: Option<Option<rust_decimal::Decimal>>,
    avg_fill_price: Option<Option<rust_decimal::Decimal>>,
    stop_price: Option<Option<rust_decimal::Decimal>>,
    price: Option<Option<rust_decimal::Decimal>>,
    broker_parent_order_id: Option<Option<String>>,
    notes: Option<Option<String>>,
    metadata: Option<JsonText>,
    updated_at: DateTime<Utc>,
}

fn transaction_changes(patch: TransactionPatch) -> TransactionChanges {
    let metadata = patch.metadata.map(|raw| JsonText(raw.get().to_string()));
    TransactionChanges {
        status: patch.status.map(|status| status.as_str().to_string()),
        filled_at: patch.filled_at,
        filled_quantity: patch.filled_quantity,
        avg_fill_price: patch.avg_fill_price,
        stop_price: patch.stop_price,
        price: patch.price,
        broker_parent_order_id: patch.broker_parent_order_id,
        notes: patch.notes,
        metadata,
        updated_at: Utc::now(),
    }
}

/// Updates one transaction of the bot's trade and recomputes the trade.
pub async fn update_transaction(
    pool: &PgPool,
    request: UpdateTransaction,
) -> Result<TransactionUpdatedReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let bot_id = *request.bot_id.as_uuid();
    let changes = transaction_changes(request.patch);
    let (trade, rows) = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade =
                trades::lock_trade(tx, bot_id, request.trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))?;
            let updated = diesel::update(
                transactions::table
                    .filter(transactions::id.eq(request.transaction_id))
                    .filter(transactions::bot_trade_id.eq(trade.id)),
            )
            .set(changes)
            .execute(tx)
            .await?;
            if updated == 0 {
                return Err(Failure::NotFound("Transaction not found"));
            }
            let rows = recompute(tx, &trade).await?;
            Ok((reload(tx, bot_id, trade.id).await?, rows))
        })
        .await?;
    let transaction = rows
        .iter()
        .find(|row| row.id == request.transaction_id)
        .cloned()
        .ok_or_else(|| BusError::not_found("Transaction not found"))?;
    Ok(TransactionUpdatedReply {
        success: true,
        trade: trade_view(trade, None, None)?,
        transaction: transaction_view(transaction).map_err(storage_error)?,
    })
}

fn raw(text: String) -> Result<Box<RawValue>, diesel::result::Error> {
    RawValue::from_string(text).map_err(|error| diesel::result::Error::DeserializationError(Box::new(error)))
}

fn trade_view(
    trade: TradeRow,
    transactions: Option<Vec<TransactionRow>>,
    participations: Option<Vec<ParticipationRow>>,
) -> Result<TradeView, BusError> {
    let build = || -> Result<TradeView, diesel::result::Error> {
        Ok(TradeView {
            id: trade.id,
            bot_id: BotId::from_uuid(trade.bot_id),
            symbol: trade.symbol.clone(),
            trade_type: parse(&trade.trade_type)?,
            status: parse(&trade.status)?,
            signal_at: trade.signal_at,
            opened_at: trade.opened_at,
            closed_at: trade.closed_at,
            net_pnl: trade.net_pnl,
            error_message: trade.error_message.clone(),
            error_at: trade.error_at,
            metadata: raw(trade.metadata.clone())?,
            created_at: trade.created_at,
            last_update_at: trade.last_update_at,
            transactions: transactions
                .clone()
                .map(|rows| rows.into_iter().map(transaction_view).collect())
                .transpose()?,
            participations: participations
                .clone()
                .map(|rows| rows.into_iter().map(participation_view).collect())
                .transpose()?,
        })
    };
    build().map_err(storage_error)
}

fn transaction_view(row: TransactionRow) -> Result<TransactionView, diesel::result::Error> {
    Ok(TransactionView {
        id: row.id,
        bot_trade_id: row.bot_trade_id,
        transaction_group: parse(&row.transaction_group)?,
        exit_type: row.exit_type,
        trim_level: row.trim_level,
        symbol: row.symbol,
        asset_type: row.asset_type,
        side: row.side,
        order_type: row.order_type,
        quantity: row.quantity,
        transaction_date: row.transaction_date,
        stop_price: row.stop_price,
        price: row.price,
        option_type: row.option_type,
        strike_price: row.strike_price,
        expiration_date: row.expiration_date,
        status: parse(&row.status)?,
        filled_at: row.filled_at,
        filled_price: row.filled_price,
        filled_quantity: row.filled_quantity,
        avg_fill_price: row.avg_fill_price,
        broker: row.broker,
        broker_account_number: row.broker_account_number,
        broker_order_id: row.broker_order_id,
        broker_parent_order_id: row.broker_parent_order_id,
        notes: row.notes,
        metadata: raw(row.metadata)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The client's `{code, message}` for a stored code; the message is always the code's fixed
/// one. The column's CHECK lists the same codes, so an unknown one means a newer schema than
/// this binary knows: refused like any unreadable row.
fn fetch_error(code: &str) -> Result<FetchError, diesel::result::Error> {
    FetchErrorCode::parse(code)
        .map(FetchError::from)
        .ok_or_else(|| diesel::result::Error::DeserializationError(format!("unknown fetch error code {code:?}").into()))
}

fn participation_view(row: ParticipationRow) -> Result<ParticipationView, diesel::result::Error> {
    Ok(ParticipationView {
        id: row.id,
        bot_trade_id: row.bot_trade_id,
        user_id: UserId::from_uuid(row.user_id),
        broker_account_id: BrokerAccountId::from_uuid(row.broker_account_id),
        broker_order_id: row.broker_order_id,
        child_order_ids: row.child_order_ids.into_iter().flatten().collect(),
        units: row.units,
        fetch_status: row.fetch_status,
        broker_order_status: row.broker_order_status,
        filled_quantity: row.filled_quantity,
        avg_fill_price: row.avg_fill_price,
        child_orders: row.child_orders.map(raw).transpose()?,
        fetched_at: row.fetched_at,
        fetch_error: row.fetch_error_code.as_deref().map(fetch_error).transpose()?,
        created_at: row.created_at,
    })
}
