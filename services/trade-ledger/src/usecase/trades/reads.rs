//! The trade reads. Each reply stays under the bus's payload limit: lists are pages with a
//! cursor, cut short by size as well as by count (see `bus::messages::bot_api::paging`).

use super::TRADE_NOT_FOUND;
use super::views::{Unreadable, participation_view, trade_view, transaction_view};
use crate::store::trades::{self, TradeRow, TransactionRow};
use crate::usecase::storage_error;
use bus::BusError;
use bus::messages::bot_api::paging::{self, REPLY_BUDGET_BYTES, TRADE_DETAIL_PAGE, TRANSACTIONS_PAGE_MAX, TimeCursor};
use bus::messages::trades::{
    GetTrade, ListTrades, ListTransactions, ParticipationsList, TradeReply, TradeView, TradesPage, TransactionsPage,
};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use domain::trade::TradeStatus;
use domain::{BotId, TradeId};
use platform::db::PgPool;
use uuid::Uuid;

/// A cursor as the store's page position: its time and the id of the record kind listed.
fn position<Id: From<Uuid>>(cursor: Option<TimeCursor>) -> Option<(DateTime<Utc>, Id)> {
    cursor.map(|cursor| (cursor.created_at, Id::from(cursor.id)))
}

fn cursor_after(created_at: DateTime<Utc>, id: impl Into<Uuid>) -> String {
    TimeCursor { created_at, id: id.into() }.encode()
}

/// A page size as a SQL limit, one more than asked so the page knows whether more follow.
fn one_past(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1)
}

async fn find(connection: &mut AsyncPgConnection, bot_id: BotId, trade_id: TradeId) -> Result<TradeRow, BusError> {
    trades::find_trade(connection, bot_id, trade_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| BusError::not_found(TRADE_NOT_FOUND))
}

/// One trade with the first 500 of its transactions and of its participations (after the
/// cursors given), each list cut shorter when both would not fit one reply.
pub async fn get(pool: &PgPool, request: GetTrade) -> Result<TradeReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let trade = find(&mut connection, request.bot_id, request.trade_id).await?;
    let page = one_past(TRADE_DETAIL_PAGE);
    let transactions = trades::transactions_page(&mut connection, trade.id, position(request.transactions_after), page)
        .await
        .map_err(storage_error)?;
    let participations =
        trades::participations_page(&mut connection, trade.id, position(request.participations_after), page)
            .await
            .map_err(storage_error)?;
    let build = || -> Result<_, Unreadable> {
        let transactions: Vec<_> = transactions.into_iter().map(transaction_view).collect::<Result<_, _>>()?;
        let participations: Vec<_> = participations.into_iter().map(participation_view).collect::<Result<_, _>>()?;
        Ok((trade_view(trade, None, None)?, transactions, participations))
    };
    let (mut view, transactions, participations) = build().map_err(storage_error)?;
    let (for_transactions, for_participations) = paging::split(
        REPLY_BUDGET_BYTES.saturating_sub(paging::json_len(&view)),
        paging::needed(&transactions, TRADE_DETAIL_PAGE),
        paging::needed(&participations, TRADE_DETAIL_PAGE),
    );
    let (transactions, more_transactions) = paging::page(transactions, TRADE_DETAIL_PAGE, for_transactions);
    let (participations, more_participations) = paging::page(participations, TRADE_DETAIL_PAGE, for_participations);
    let next_transactions_cursor =
        transactions.last().filter(|_| more_transactions).map(|last| cursor_after(last.created_at, last.id));
    let next_participations_cursor =
        participations.last().filter(|_| more_participations).map(|last| cursor_after(last.created_at, last.id));
    view.transactions = Some(transactions);
    view.participations = Some(participations);
    Ok(TradeReply { next_transactions_cursor, next_participations_cursor, ..TradeReply::of(view) })
}

/// A page of the trade's participations with their broker order details.
pub async fn participations(pool: &PgPool, request: GetTrade) -> Result<ParticipationsList, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let trade = find(&mut connection, request.bot_id, request.trade_id).await?;
    let rows = trades::participations_page(
        &mut connection,
        trade.id,
        position(request.participations_after),
        one_past(TRADE_DETAIL_PAGE),
    )
    .await
    .map_err(storage_error)?;
    let views = rows.into_iter().map(participation_view).collect::<Result<_, _>>().map_err(storage_error)?;
    let (participations, more) = paging::page(views, TRADE_DETAIL_PAGE, REPLY_BUDGET_BYTES);
    let next_cursor = participations.last().filter(|_| more).map(|last| cursor_after(last.created_at, last.id));
    Ok(ParticipationsList { success: true, participations, next_cursor })
}

/// A page of the trade's transactions, oldest first.
pub async fn transactions(pool: &PgPool, request: ListTransactions) -> Result<TransactionsPage, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let trade = find(&mut connection, request.bot_id, request.trade_id).await?;
    let limit = usize::try_from(request.limit.clamp(1, TRANSACTIONS_PAGE_MAX)).unwrap_or(1);
    let rows = trades::transactions_page(&mut connection, trade.id, position(request.after), one_past(limit))
        .await
        .map_err(storage_error)?;
    let views = rows.into_iter().map(transaction_view).collect::<Result<_, _>>().map_err(storage_error)?;
    let (transactions, more) = paging::page(views, limit, REPLY_BUDGET_BYTES);
    let next_cursor = transactions.last().filter(|_| more).map(|last| cursor_after(last.created_at, last.id));
    Ok(TransactionsPage { success: true, transactions, next_cursor })
}

/// A trade of a list with all its transactions, or, when they alone would not fit a reply,
/// without them but with their count.
fn listed(trade: TradeRow, transactions: Vec<TransactionRow>) -> Result<TradeView, Unreadable> {
    let count = transactions.len();
    let full = trade_view(trade.clone(), Some(transactions), None)?;
    if paging::json_len(&full) <= REPLY_BUDGET_BYTES {
        return Ok(full);
    }
    Ok(TradeView { transaction_count: Some(count), truncated: Some(true), ..trade_view(trade, None, None)? })
}

/// A page of the bot's trades, newest first, each with its transactions; fewer than asked
/// when more would not fit one reply.
pub async fn list(pool: &PgPool, request: ListTrades) -> Result<TradesPage, BusError> {
    let after = match &request.cursor {
        Some(cursor) => Some(TimeCursor::decode(cursor).ok_or_else(|| BusError::invalid("cursor is invalid"))?),
        None => None,
    };
    let mut connection = pool.get().await.map_err(storage_error)?;
    let limit = usize::try_from(request.limit.clamp(1, 500)).unwrap_or(1);
    let rows = trades::list_trades(
        &mut connection,
        request.bot_id,
        request.status.map(TradeStatus::as_str),
        request.symbol.as_deref(),
        position(after),
        one_past(limit),
    )
    .await
    .map_err(storage_error)?;
    let ids: Vec<TradeId> = rows.iter().take(limit).map(|trade| trade.id).collect();
    let mut transactions = trades::transactions_of_many(&mut connection, &ids).await.map_err(storage_error)?;
    let views = rows
        .into_iter()
        .map(|trade| {
            let own: Vec<TransactionRow> = transactions.extract_if(.., |row| row.bot_trade_id == trade.id).collect();
            listed(trade, own)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(storage_error)?;
    let (trades, more) = paging::page(views, limit, REPLY_BUDGET_BYTES);
    let next_cursor = trades.last().filter(|_| more).map(|last| cursor_after(last.created_at, last.id));
    Ok(TradesPage { success: true, trades, next_cursor })
}

/// Every trade of a bot, newest first, each with all its transactions: what
/// `admin bot-trades` prints (hosted bots have no Bot API key to read them with). Read a
/// page of 500 trades at a time.
pub async fn all_of(connection: &mut AsyncPgConnection, bot_id: BotId) -> anyhow::Result<Vec<TradeView>> {
    const PAGE: i64 = 500;
    let mut views = Vec::new();
    let mut after = None;
    loop {
        let rows = trades::list_trades(connection, bot_id, None, None, after, PAGE).await?;
        let ids: Vec<TradeId> = rows.iter().map(|trade| trade.id).collect();
        let mut transactions = trades::transactions_of_many(connection, &ids).await?;
        after = rows.last().map(|last| (last.created_at, last.id));
        let full = rows.len() as i64 == PAGE;
        for trade in rows {
            let own: Vec<TransactionRow> = transactions.extract_if(.., |row| row.bot_trade_id == trade.id).collect();
            views.push(trade_view(trade, Some(own), None).map_err(|error| anyhow::anyhow!("{error}"))?);
        }
        if !full {
            return Ok(views);
        }
    }
}
