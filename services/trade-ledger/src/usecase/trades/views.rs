//! Stored rows as the Bot API shows them. A row that cannot be read back (an unknown enum
//! spelling, JSON text that is not JSON) is a storage error.

use crate::store::trades::{ParticipationRow, TradeRow, TransactionRow};
use bus::messages::bot_api::ParticipationView;
use bus::messages::fetch::{FetchError, FetchErrorCode};
use bus::messages::trades::{TradeView, TransactionView};
use serde_json::value::RawValue;
use std::fmt;
use std::str::FromStr;

/// A stored row that cannot be read back; the bus handler answers it as a storage failure.
#[derive(Debug)]
pub struct Unreadable(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub(super) fn parse<T: FromStr>(text: &str) -> Result<T, Unreadable>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|error: T::Err| Unreadable(Box::new(error)))
}

fn raw(text: String) -> Result<Box<RawValue>, Unreadable> {
    RawValue::from_string(text).map_err(|error| Unreadable(Box::new(error)))
}

/// A trade, with the transactions and participations the route includes.
pub(super) fn trade_view(
    trade: TradeRow,
    transactions: Option<Vec<TransactionRow>>,
    participations: Option<Vec<ParticipationRow>>,
) -> Result<TradeView, Unreadable> {
    Ok(TradeView {
        id: trade.id,
        bot_id: trade.bot_id,
        symbol: trade.symbol,
        trade_type: parse(&trade.trade_type)?,
        status: parse(&trade.status)?,
        signal_at: trade.signal_at,
        opened_at: trade.opened_at,
        closed_at: trade.closed_at,
        net_pnl: trade.net_pnl,
        error_message: trade.error_message,
        error_at: trade.error_at,
        metadata: raw(trade.metadata)?,
        created_at: trade.created_at,
        last_update_at: trade.last_update_at,
        transactions: transactions.map(|rows| rows.into_iter().map(transaction_view).collect()).transpose()?,
        participations: participations.map(|rows| rows.into_iter().map(participation_view).collect()).transpose()?,
        transaction_count: None,
        truncated: None,
    })
}

/// A transaction.
pub(super) fn transaction_view(row: TransactionRow) -> Result<TransactionView, Unreadable> {
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
fn fetch_error(code: &str) -> Result<FetchError, Unreadable> {
    FetchErrorCode::parse(code)
        .map(FetchError::from)
        .ok_or_else(|| Unreadable(format!("unknown fetch error code {code:?}").into()))
}

/// A participation with its broker order details.
pub(super) fn participation_view(row: ParticipationRow) -> Result<ParticipationView, Unreadable> {
    Ok(ParticipationView {
        id: row.id,
        bot_trade_id: row.bot_trade_id,
        user_id: row.user_id,
        broker_account_id: row.broker_account_id,
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
