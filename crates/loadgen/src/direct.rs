//! The direct path: per request, the ledger's own usecase (the same code, hence the same SQL
//! statements and transactions) on a pool of the ledger's size, without HTTP, NATS or JSON on
//! the wire in between. The gap between this and the gateway path is what the gateway, the
//! bus and the serialisation cost.

use crate::runner::Failure;
use bus::Subjects;
use bus::messages::bot_api::{CreateParticipations, ParticipationInput, ParticipationResult, StateInput, UpsertStates};
use bus::messages::trades::{AddTransactions, NewTransaction as TransactionInput};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use trade_ledger::usecase;
use uuid::Uuid;

/// The ledger's pool type.
pub type PgPool = platform::db::PgPool;

fn raw(text: &str) -> Result<Box<RawValue>, Failure> {
    RawValue::from_string(text.to_string()).map_err(|error| format!("JSON: {error}"))
}

/// One state of a batch.
#[derive(Debug, Clone)]
pub struct StateWrite {
    /// The broker account.
    pub broker_account_id: Uuid,
    /// The ticker.
    pub ticker_id: Uuid,
    /// The state object as JSON text, as the bot sent it.
    pub state: String,
}

/// A participation to insert.
#[derive(Debug, Clone)]
pub struct NewParticipation {
    /// The bot trade.
    pub bot_trade_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The user's broker account.
    pub broker_account_id: Uuid,
    /// The broker's parent order id (unique per request, so every request inserts).
    pub broker_order_id: String,
    /// Child order ids.
    pub child_order_ids: Vec<String>,
    /// Units.
    pub units: Decimal,
}

/// A transaction row as the ledger inserts it (`store::trades::NewTransactionRow`).
#[derive(Debug, Clone)]
pub struct NewTransaction {
    /// The trade.
    pub bot_trade_id: Uuid,
    /// `entry` or `exit`.
    pub transaction_group: String,
    /// Exit type.
    pub exit_type: Option<String>,
    /// Trim level.
    pub trim_level: Option<Decimal>,
    /// Symbol.
    pub symbol: String,
    /// `stock`, ...
    pub asset_type: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market`, `limit`, ...
    pub order_type: String,
    /// Quantity.
    pub quantity: Decimal,
    /// When it was placed.
    pub transaction_date: DateTime<Utc>,
    /// Stop price.
    pub stop_price: Option<Decimal>,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Option type.
    pub option_type: Option<String>,
    /// Strike.
    pub strike_price: Option<Decimal>,
    /// Expiration.
    pub expiration_date: Option<String>,
    /// `open`, `filled` or `cancelled`.
    pub status: String,
    /// When it filled.
    pub filled_at: Option<DateTime<Utc>>,
    /// Fill price.
    pub filled_price: Option<Decimal>,
    /// Filled quantity.
    pub filled_quantity: Option<Decimal>,
    /// Average fill price.
    pub avg_fill_price: Option<Decimal>,
    /// Broker.
    pub broker: Option<String>,
    /// Broker account number.
    pub broker_account_number: Option<String>,
    /// Broker order id.
    pub broker_order_id: Option<String>,
    /// Broker parent order id.
    pub broker_parent_order_id: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Metadata object.
    pub metadata: serde_json::Value,
}

/// `usecase::states::upsert` for one batch.
pub async fn upsert_states(pool: &PgPool, bot_id: Uuid, writes: &[StateWrite]) -> Result<(), Failure> {
    let mut connection = pool.get().await.map_err(|error| format!("pool: {error}"))?;
    let states = writes
        .iter()
        .map(|write| {
            Ok(StateInput {
                account_id: write.broker_account_id.into(),
                ticker_id: write.ticker_id,
                state: raw(&write.state)?,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let reply = usecase::states::upsert(&mut connection, UpsertStates { bot_id: bot_id.into(), states })
        .await
        .map_err(|error| error.to_string())?;
    if reply.summary.failed == 0 { Ok(()) } else { Err(format!("{} states refused", reply.summary.failed)) }
}

/// `usecase::participations::create` for one item (its outbox event included).
pub async fn create_participation(
    pool: &PgPool,
    subjects: &Subjects,
    bot_id: Uuid,
    item: NewParticipation,
) -> Result<(), Failure> {
    let mut connection = pool.get().await.map_err(|error| format!("pool: {error}"))?;
    let request = CreateParticipations {
        bot_id: bot_id.into(),
        slug: "loadgen".to_string(),
        participations: vec![ParticipationInput {
            bot_trade_id: item.bot_trade_id,
            user_id: item.user_id.into(),
            broker_account_id: item.broker_account_id.into(),
            broker_order_id: item.broker_order_id,
            child_order_ids: item.child_order_ids,
            units: item.units,
        }],
    };
    let reply =
        usecase::participations::create(&mut connection, subjects, request).await.map_err(|error| error.to_string())?;
    match reply.results.first() {
        Some(ParticipationResult::Success { .. }) => Ok(()),
        Some(ParticipationResult::Error { error }) => Err(error.clone()),
        None => Err("no result".to_string()),
    }
}

/// `usecase::trades::add_transactions` (reference 001) for one transaction.
pub async fn add_transaction(pool: &PgPool, bot_id: Uuid, row: NewTransaction) -> Result<(), Failure> {
    let mut connection = pool.get().await.map_err(|error| format!("pool: {error}"))?;
    let transaction = TransactionInput {
        transaction_group: row.transaction_group.parse().map_err(|error| format!("{error}"))?,
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
        status: row.status.parse().map_err(|error| format!("{error}"))?,
        filled_at: row.filled_at,
        filled_price: row.filled_price,
        filled_quantity: row.filled_quantity,
        avg_fill_price: row.avg_fill_price,
        broker: row.broker,
        broker_account_number: row.broker_account_number,
        broker_order_id: row.broker_order_id,
        broker_parent_order_id: row.broker_parent_order_id,
        notes: row.notes,
        metadata: raw(&row.metadata.to_string())?,
    };
    let request =
        AddTransactions { bot_id: bot_id.into(), trade_id: row.bot_trade_id, transactions: vec![transaction] };
    usecase::trades::add_transactions(&mut connection, request).await.map(drop).map_err(|error| error.to_string())
}
