//! Reference 002: bulk upsert of per (account, ticker) state, and reading it back.

use super::storage_error;
use crate::store::states::{self, StateRow, StateWrite};
use bus::BusError;
use bus::messages::bot_api::{
    GetStates, StateResult, StatesListReply, StatesReply, Summary, UpsertStates, UserBotState,
};
use diesel_async::AsyncPgConnection;
use domain::{BotId, BrokerAccountId};
use platform::db::PgPool;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};

/// Upserts a batch in three statements (which accounts exist, which tickers exist, one
/// upsert). Items naming an unknown account or ticker fail alone. When one batch names the
/// same (account, ticker) twice, each item gets its own result and the last one wins.
pub async fn upsert(connection: &mut AsyncPgConnection, request: UpsertStates) -> Result<StatesReply, BusError> {
    let account_ids: Vec<_> = request.states.iter().map(|s| *s.account_id.as_uuid()).collect();
    let ticker_ids: Vec<_> = request.states.iter().map(|s| s.ticker_id).collect();
    let accounts: HashSet<_> =
        states::existing_accounts(connection, &account_ids).await.map_err(storage_error)?.into_iter().collect();
    let tickers: HashSet<_> =
        states::existing_tickers(connection, &ticker_ids).await.map_err(storage_error)?.into_iter().collect();

    let refusal = |account: &BrokerAccountId, ticker: &uuid::Uuid| -> Option<&'static str> {
        if !accounts.contains(account.as_uuid()) {
            Some("User broker account not found")
        } else if !tickers.contains(ticker) {
            Some("Ticker not found")
        } else {
            None
        }
    };
    // Last one wins: later items overwrite earlier ones for the same pair.
    let mut last_write: HashMap<(uuid::Uuid, uuid::Uuid), String> = HashMap::new();
    for item in &request.states {
        if refusal(&item.account_id, &item.ticker_id).is_none() {
            last_write.insert((*item.account_id.as_uuid(), item.ticker_id), item.state.get().to_string());
        }
    }
    let mut writes: Vec<StateWrite> = last_write
        .into_iter()
        .map(|((broker_account_id, ticker_id), state)| StateWrite { broker_account_id, ticker_id, state })
        .collect();
    // One lock order for every batch, so two batches touching the same rows cannot deadlock.
    writes.sort_by_key(|write| (write.broker_account_id, write.ticker_id));
    let stored = if writes.is_empty() {
        Vec::new()
    } else {
        states::upsert(connection, *request.bot_id.as_uuid(), &writes).await.map_err(storage_error)?
    };
    let row_ids: HashMap<_, _> = stored.iter().map(|row| ((row.broker_account_id, row.ticker_id), row.id)).collect();

    let results: Vec<StateResult> = request
        .states
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let key = (*item.account_id.as_uuid(), item.ticker_id);
            match (refusal(&item.account_id, &item.ticker_id), row_ids.get(&key)) {
                (None, Some(id)) => StateResult::Success {
                    data: UserBotState {
                        id: *id,
                        bot_id: request.bot_id,
                        user_broker_account_id: item.account_id,
                        ticker_id: item.ticker_id,
                        state: item.state,
                    },
                    account_id: item.account_id,
                    ticker_id: item.ticker_id,
                },
                (refused, _) => StateResult::Error {
                    error: refused.unwrap_or("State could not be stored").to_string(),
                    account_id: item.account_id,
                    ticker_id: item.ticker_id,
                    index,
                },
            }
        })
        .collect();
    let summary = Summary::of(&results, |r| matches!(r, StateResult::Success { .. }));
    Ok(StatesReply { success: true, summary, results })
}

/// A bot's stored states.
pub async fn list(pool: &PgPool, request: GetStates) -> Result<StatesListReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let rows = states::list(
        &mut connection,
        *request.bot_id.as_uuid(),
        request.account_id.map(|id| *id.as_uuid()),
        request.ticker_id,
    )
    .await
    .map_err(storage_error)?;
    let states = rows.into_iter().map(|row| to_state(request.bot_id, row)).collect::<Result<_, _>>()?;
    Ok(StatesListReply { success: true, states })
}

/// A stored row as the API shows it.
pub fn to_state(bot_id: BotId, row: StateRow) -> Result<UserBotState, BusError> {
    Ok(UserBotState {
        id: row.id,
        bot_id,
        user_broker_account_id: BrokerAccountId::from_uuid(row.broker_account_id),
        ticker_id: row.ticker_id,
        state: RawValue::from_string(row.state).map_err(storage_error)?,
    })
}
