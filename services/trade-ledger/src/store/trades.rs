//! Bot trades and their transactions: the stored shapes (`rows`), the writes (`writes`), the
//! lookups here, and one trade's transactions and participations a page at a time (`pages`).

use super::schema::{bot_trades, transactions};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, TradeId};

// First: it defines the column macros the modules below and the lookups here use.
#[macro_use]
mod rows;
mod pages;
mod writes;

pub use pages::{
    FactsRow, ParticipationRow, count_transactions, find_transaction, participations_page, transaction_facts,
    transactions_page,
};
pub use rows::{JsonAsSent, TradeRow, TransactionRow};
pub use writes::{
    NewTrade, NewTransactionRow, TradeChanges, TransactionChanges, fill_open_exits, insert_trade, insert_transactions,
    set_derived, set_net_pnl, update_trade, update_transaction,
};

/// The bot's trade, locked for update (writes to one trade are serialised).
pub async fn lock_trade(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    trade_id: TradeId,
) -> QueryResult<Option<TradeRow>> {
    bot_trades::table
        .filter(bot_trades::id.eq(trade_id))
        .filter(bot_trades::bot_id.eq(bot_id))
        .select(trade_columns!())
        .for_update()
        .first(connection)
        .await
        .optional()
}

/// The bot's trade of the runner's position `position_id`, locked for update.
pub async fn lock_by_source_position(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    position_id: &str,
) -> QueryResult<Option<TradeRow>> {
    bot_trades::table
        .filter(bot_trades::bot_id.eq(bot_id))
        .filter(bot_trades::source_position_id.eq(position_id))
        .select(trade_columns!())
        .for_update()
        .first(connection)
        .await
        .optional()
}

/// The bot's trade.
pub async fn find_trade(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    trade_id: TradeId,
) -> QueryResult<Option<TradeRow>> {
    bot_trades::table
        .filter(bot_trades::id.eq(trade_id))
        .filter(bot_trades::bot_id.eq(bot_id))
        .select(trade_columns!())
        .first(connection)
        .await
        .optional()
}

/// A trade's transactions in creation order.
pub async fn transactions_of(
    connection: &mut AsyncPgConnection,
    trade_id: TradeId,
) -> QueryResult<Vec<TransactionRow>> {
    transactions::table
        .filter(transactions::bot_trade_id.eq(trade_id))
        .order((transactions::created_at, transactions::id))
        .select(transaction_columns!())
        .load(connection)
        .await
}

/// The transactions of several trades.
pub async fn transactions_of_many(
    connection: &mut AsyncPgConnection,
    trade_ids: &[TradeId],
) -> QueryResult<Vec<TransactionRow>> {
    transactions::table
        .filter(transactions::bot_trade_id.eq_any(trade_ids))
        .order((transactions::created_at, transactions::id))
        .select(transaction_columns!())
        .load(connection)
        .await
}

/// Page of a bot's trades, newest first, after the `(created_at, id)` cursor.
pub async fn list_trades(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    status: Option<&str>,
    symbol: Option<&str>,
    after: Option<(DateTime<Utc>, TradeId)>,
    limit: i64,
) -> QueryResult<Vec<TradeRow>> {
    let mut query = bot_trades::table.filter(bot_trades::bot_id.eq(bot_id)).select(trade_columns!()).into_boxed();
    if let Some(status) = status {
        query = query.filter(bot_trades::status.eq(status.to_string()));
    }
    if let Some(symbol) = symbol {
        query = query.filter(bot_trades::symbol.eq(symbol.to_string()));
    }
    if let Some((created_at, id)) = after {
        query = query.filter(
            bot_trades::created_at.lt(created_at).or(bot_trades::created_at.eq(created_at).and(bot_trades::id.lt(id))),
        );
    }
    query.order((bot_trades::created_at.desc(), bot_trades::id.desc())).limit(limit).load(connection).await
}
