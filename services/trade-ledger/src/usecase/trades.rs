//! Bot trades and transactions (reference 001, docs/api/bot.md#trade-status). Every write that
//! touches a trade's transactions recomputes its status by `domain::trade::derive`, inside the
//! same transaction, with the trade row locked so concurrent writes to one trade serialise.
//!
//! A write's reply never fails after its commit: one that shows the trade includes at most
//! 100 of its transactions and only while they fit the bus, else it names their count and
//! says `truncated` (the client reads them a page at a time, see [`reads`]).

pub mod fills;
mod reads;
mod views;

pub use reads::{all_of, get, list, participations, transactions};

use super::storage_error;
use crate::store::trades::{
    self, FactsRow, JsonAsSent, NewTrade, NewTransactionRow, TradeChanges, TradeRow, TransactionChanges,
};
use bus::BusError;
use bus::messages::bot_api::paging::{self, REPLY_BUDGET_BYTES, WRITE_REPLY_TRANSACTIONS};
use bus::messages::trades::{
    AddTransactions, CreateTrade, NewTransaction, TradePatch, TradeReply, TransactionPatch, TransactionUpdatedReply,
    TransactionsAddedReply, UpdateTrade, UpdateTransaction,
};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::trade::{self, TradeFacts, TradeStatus, TransactionFacts, TransactionGroup, TransactionStatus};
use domain::{BotId, TradeId, TransactionId};
use platform::db::PgPool;
use views::{Unreadable, parse, trade_view, transaction_view};

/// What can go wrong inside a trade transaction.
enum Failure {
    NotFound(&'static str),
    /// The trade's quantities cannot be added up: refused, nothing written.
    Overflow(trade::Overflow),
    Storage(diesel::result::Error),
    /// A stored row could not be read back: answered like a storage failure.
    Unreadable(Unreadable),
    /// The request's deadline passed before the commit: rolled back (see `bus::deadline`).
    Late(bus::deadline::DeadlineExceeded),
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Failure::Storage(error)
    }
}

impl From<Unreadable> for Failure {
    fn from(error: Unreadable) -> Self {
        Failure::Unreadable(error)
    }
}

impl From<Failure> for BusError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::NotFound(message) => BusError::not_found(message),
            Failure::Overflow(overflow) => BusError::invalid(format!("transactions: {overflow}")),
            Failure::Storage(error) => storage_error(error),
            Failure::Unreadable(error) => storage_error(error),
            Failure::Late(exceeded) => exceeded.into(),
        }
    }
}

const TRADE_NOT_FOUND: &str = "Trade not found";

fn new_transaction_row(trade_id: TradeId, input: NewTransaction) -> NewTransactionRow {
    NewTransactionRow {
        id: TransactionId::new(),
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
        metadata: JsonAsSent(input.metadata.get().to_string()),
    }
}

fn facts(rows: &[FactsRow]) -> Result<Vec<TransactionFacts>, Unreadable> {
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
async fn recompute(tx: &mut AsyncPgConnection, trade: &TradeRow) -> Result<(), Failure> {
    let rows = trades::transaction_facts(tx, trade.id).await?;
    let derived = trade::derive(
        &TradeFacts {
            error_at: trade.error_at,
            error_message: trade.error_message.clone(),
            // Only what the bot set stands; derived times follow the fills.
            opened_at: trade.opened_at.filter(|_| trade.opened_at_explicit),
            closed_at: trade.closed_at.filter(|_| trade.closed_at_explicit),
        },
        &facts(&rows)?,
    )
    .map_err(Failure::Overflow)?;
    trades::set_derived(tx, trade.id, derived.status.as_str(), derived.opened_at, derived.closed_at).await?;
    Ok(())
}

async fn reload(tx: &mut AsyncPgConnection, bot_id: BotId, trade_id: TradeId) -> Result<TradeRow, Failure> {
    trades::find_trade(tx, bot_id, trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))
}

/// `{success, trade}` for a write: the trade with its transactions when there are at most
/// 100 and they fit one reply; otherwise without them, with `transactionCount` and
/// `truncated: true`. Read inside the write's transaction, so it shows what was committed.
async fn write_reply(tx: &mut AsyncPgConnection, trade: TradeRow) -> Result<TradeReply, Failure> {
    let first = i64::try_from(WRITE_REPLY_TRANSACTIONS).unwrap_or(i64::MAX).saturating_add(1);
    let rows = trades::transactions_page(tx, trade.id, None, first).await?;
    if rows.len() <= WRITE_REPLY_TRANSACTIONS {
        let view = trade_view(trade.clone(), Some(rows), None)?;
        if paging::json_len(&view) <= REPLY_BUDGET_BYTES {
            return Ok(TradeReply::of(view));
        }
    }
    let count = trades::count_transactions(tx, trade.id).await?;
    Ok(TradeReply {
        transaction_count: Some(usize::try_from(count).unwrap_or(usize::MAX)),
        truncated: Some(true),
        ..TradeReply::of(trade_view(trade, None, None)?)
    })
}

/// Creates a trade with its entry transactions, atomically.
pub async fn create(connection: &mut AsyncPgConnection, request: CreateTrade) -> Result<TradeReply, BusError> {
    let bot_id = request.bot_id;
    let reply = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade_id = TradeId::new();
            let new = NewTrade {
                id: trade_id,
                bot_id,
                symbol: &request.symbol,
                trade_type: request.trade_type.as_str(),
                status: request.status.unwrap_or(TradeStatus::Pending).as_str(),
                signal_at: request.signal_at,
                opened_at: request.opened_at,
                metadata: request.metadata.get(),
                source_position_id: None,
            };
            trades::insert_trade(tx, &new).await?;
            let rows: Vec<_> =
                request.transactions.iter().cloned().map(|input| new_transaction_row(trade_id, input)).collect();
            trades::insert_transactions(tx, &rows).await?;
            // An explicit status stands; otherwise the rule decides.
            if request.status.is_none() {
                let trade = reload(tx, bot_id, trade_id).await?;
                recompute(tx, &trade).await?;
            }
            let trade = reload(tx, bot_id, trade_id).await?;
            write_reply(tx, trade).await
        })
        .await?;
    Ok(reply)
}

/// Reference 001: adds transactions and recomputes the trade. The reply is the reference's:
/// the trade without its transactions, and how many were added.
pub async fn add_transactions(
    connection: &mut AsyncPgConnection,
    request: AddTransactions,
) -> Result<TransactionsAddedReply, BusError> {
    let bot_id = request.bot_id;
    let added = request.transactions.len();
    let trade = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade =
                trades::lock_trade(tx, bot_id, request.trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))?;
            let rows: Vec<_> =
                request.transactions.iter().cloned().map(|input| new_transaction_row(trade.id, input)).collect();
            trades::insert_transactions(tx, &rows).await?;
            recompute(tx, &trade).await?;
            reload(tx, bot_id, trade.id).await
        })
        .await?;
    let trade = trade_view(trade, None, None).map_err(storage_error)?;
    Ok(TransactionsAddedReply { success: true, trade, transactions_added: added })
}

/// Updates a trade's own fields. `status: closed` first fills every open exit.
pub async fn update(pool: &PgPool, request: UpdateTrade) -> Result<TradeReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let bot_id = request.bot_id;
    let reply = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade =
                trades::lock_trade(tx, bot_id, request.trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))?;
            apply_trade_patch(tx, &trade, &request.patch).await?;
            let mut trade = reload(tx, bot_id, trade.id).await?;
            // Error fields take part in the status rule: recompute unless a status was given.
            let error_changed = request.patch.error_message.is_some() || request.patch.error_at.is_some();
            if request.patch.status.is_none() && error_changed {
                recompute(tx, &trade).await?;
                trade = reload(tx, bot_id, trade.id).await?;
            }
            let reply = write_reply(tx, trade).await?;
            // A PATCH goes around `idempotency::run`: past the request's deadline, roll back
            // rather than commit a change whose client was told it timed out.
            bus::deadline::check().map_err(Failure::Late)?;
            Ok(reply)
        })
        .await?;
    Ok(reply)
}

async fn apply_trade_patch(tx: &mut AsyncPgConnection, trade: &TradeRow, patch: &TradePatch) -> Result<(), Failure> {
    let now = Utc::now();
    let mut closed_at = patch.closed_at;
    // A closedAt the bot sends stands; one derived here follows later fills.
    let closed_at_explicit = patch.closed_at.map(|value| value.is_some());
    if patch.status == Some(TradeStatus::Closed) {
        let fill_time = patch.closed_at.flatten().unwrap_or(now);
        trades::fill_open_exits(tx, trade.id, fill_time, now).await?;
        if closed_at.is_none() && trade.closed_at.is_none() {
            let rows = trades::transaction_facts(tx, trade.id).await?;
            let latest_exit = facts(&rows)?
                .iter()
                .filter(|t| t.group == TransactionGroup::Exit && t.status == TransactionStatus::Filled)
                .filter_map(|t| t.filled_at)
                .max();
            closed_at = Some(latest_exit.or(Some(fill_time)));
        }
    }
    let changes = TradeChanges {
        status: patch.status.map(|status| status.as_str().to_string()),
        closed_at,
        net_pnl: patch.net_pnl,
        error_message: patch.error_message.clone(),
        error_at: patch.error_at,
        metadata: patch.metadata.as_ref().map(|raw| JsonAsSent(raw.get().to_string())),
        last_update_at: now,
        closed_at_explicit,
    };
    trades::update_trade(tx, trade.id, changes).await?;
    Ok(())
}

fn transaction_changes(patch: TransactionPatch) -> TransactionChanges {
    TransactionChanges {
        status: patch.status.map(|status| status.as_str().to_string()),
        filled_at: patch.filled_at,
        filled_quantity: patch.filled_quantity,
        avg_fill_price: patch.avg_fill_price,
        stop_price: patch.stop_price,
        price: patch.price,
        broker_parent_order_id: patch.broker_parent_order_id,
        notes: patch.notes,
        metadata: patch.metadata.map(|raw| JsonAsSent(raw.get().to_string())),
        updated_at: Utc::now(),
    }
}

/// Updates one transaction of the bot's trade and recomputes the trade.
pub async fn update_transaction(
    pool: &PgPool,
    request: UpdateTransaction,
) -> Result<TransactionUpdatedReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let bot_id = request.bot_id;
    let transaction_id = request.transaction_id;
    let changes = transaction_changes(request.patch);
    let (trade, transaction) = connection
        .transaction::<_, Failure, _>(async |tx| {
            let trade =
                trades::lock_trade(tx, bot_id, request.trade_id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))?;
            if !trades::update_transaction(tx, trade.id, transaction_id, changes).await? {
                return Err(Failure::NotFound("Transaction not found"));
            }
            recompute(tx, &trade).await?;
            let transaction = trades::find_transaction(tx, trade.id, transaction_id)
                .await?
                .ok_or(Failure::NotFound("Transaction not found"))?;
            let trade = reload(tx, bot_id, trade.id).await?;
            // As in `update`: past the deadline, roll back.
            bus::deadline::check().map_err(Failure::Late)?;
            Ok((trade, transaction))
        })
        .await?;
    let build = || -> Result<_, Unreadable> {
        Ok(TransactionUpdatedReply {
            success: true,
            trade: trade_view(trade, None, None)?,
            transaction: transaction_view(transaction)?,
        })
    };
    build().map_err(storage_error)
}
