//! The direct path: per request, the ledger's own usecase (the same code, hence the same SQL
//! statements and transactions) on a pool of the ledger's size, without HTTP, NATS or JSON on
//! the wire in between. The gap between this and the gateway path is what the gateway, the
//! bus and the serialisation cost.

use crate::runner::Failure;
use bus::Subjects;
use bus::messages::bot_api::{CreateParticipations, ParticipationInput, ParticipationResult, StateInput, UpsertStates};
use bus::messages::trades::{AddTransactions, NewTransaction as TransactionInput};
use domain::{BotId, BrokerAccountId, TickerId, TradeId, UserId};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use trade_ledger::usecase;

/// The ledger's pool type.
pub type PgPool = platform::db::PgPool;

/// The JSON object `{}`, for a transaction's metadata.
pub fn empty_object() -> Result<Box<RawValue>, Failure> {
    raw("{}")
}

fn raw(text: &str) -> Result<Box<RawValue>, Failure> {
    RawValue::from_string(text.to_string()).map_err(|error| format!("JSON: {error}"))
}

/// One state of a batch.
#[derive(Debug, Clone)]
pub struct StateWrite {
    /// The broker account.
    pub broker_account_id: BrokerAccountId,
    /// The ticker.
    pub ticker_id: TickerId,
    /// The state object as JSON text, as the bot sent it.
    pub state: String,
}

/// A participation to insert.
#[derive(Debug, Clone)]
pub struct NewParticipation {
    /// The bot trade.
    pub bot_trade_id: TradeId,
    /// The user.
    pub user_id: UserId,
    /// The user's broker account.
    pub broker_account_id: BrokerAccountId,
    /// The broker's parent order id (unique per request, so every request inserts).
    pub broker_order_id: String,
    /// Child order ids.
    pub child_order_ids: Vec<String>,
    /// Units.
    pub units: Decimal,
}

/// `usecase::states::upsert` for one batch.
pub async fn upsert_states(pool: &PgPool, bot_id: BotId, writes: &[StateWrite]) -> Result<(), Failure> {
    let mut connection = pool.get().await.map_err(|error| format!("pool: {error}"))?;
    let states = writes
        .iter()
        .map(|write| {
            Ok(StateInput {
                account_id: write.broker_account_id,
                ticker_id: write.ticker_id,
                state: raw(&write.state)?,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let reply = usecase::states::upsert(&mut connection, UpsertStates { bot_id, states })
        .await
        .map_err(|error| error.to_string())?;
    if reply.summary.failed == 0 { Ok(()) } else { Err(format!("{} states refused", reply.summary.failed)) }
}

/// `usecase::participations::create` for one item (its outbox event included).
pub async fn create_participation(
    pool: &PgPool,
    subjects: &Subjects,
    bot_id: BotId,
    item: NewParticipation,
) -> Result<(), Failure> {
    let mut connection = pool.get().await.map_err(|error| format!("pool: {error}"))?;
    let request = CreateParticipations {
        bot_id,
        slug: "loadgen".to_string(),
        participations: vec![ParticipationInput {
            bot_trade_id: item.bot_trade_id,
            user_id: item.user_id,
            broker_account_id: item.broker_account_id,
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
pub async fn add_transaction(
    pool: &PgPool,
    bot_id: BotId,
    trade_id: TradeId,
    transaction: TransactionInput,
) -> Result<(), Failure> {
    let mut connection = pool.get().await.map_err(|error| format!("pool: {error}"))?;
    let request = AddTransactions { bot_id, trade_id, transactions: vec![transaction] };
    usecase::trades::add_transactions(&mut connection, request).await.map(drop).map_err(|error| error.to_string())
}
