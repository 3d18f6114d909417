//! Reference 002: bulk upsert of per (account, ticker) state, and reading it back a page at a
//! time.

use super::storage_error;
use crate::store::states::{self, StateFilter, StateRow, StateWrite};
use bus::BusError;
use bus::messages::bot_api::paging::{self, REPLY_BUDGET_BYTES, STATES_PAGE_MAX, StateCursor};
use bus::messages::bot_api::{
    GetStates, StateResult, StatesListReply, StatesReply, Summary, UpsertStates, UserBotState,
};
use diesel_async::AsyncPgConnection;
use domain::{BotId, BrokerAccountId, TickerId};
use platform::db::PgPool;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};

/// Upserts a batch in three statements (which accounts exist, which tickers exist, one
/// upsert). Items naming an unknown account or ticker fail alone. When one batch names the
/// same (account, ticker) twice, each item gets its own result and the last one wins.
pub async fn upsert(connection: &mut AsyncPgConnection, request: UpsertStates) -> Result<StatesReply, BusError> {
    let account_ids: Vec<BrokerAccountId> = request.states.iter().map(|s| s.account_id).collect();
    let ticker_ids: Vec<TickerId> = request.states.iter().map(|s| s.ticker_id).collect();
    let accounts: HashSet<_> =
        states::existing_accounts(connection, &account_ids).await.map_err(storage_error)?.into_iter().collect();
    let tickers: HashSet<_> =
        states::existing_tickers(connection, &ticker_ids).await.map_err(storage_error)?.into_iter().collect();

    let refusal = |(account, ticker): (BrokerAccountId, TickerId)| -> Option<&'static str> {
        if !accounts.contains(&account) {
            Some("User broker account not found")
        } else if !tickers.contains(&ticker) {
            Some("Ticker not found")
        } else {
            None
        }
    };
    // Last one wins: later items overwrite earlier ones for the same pair.
    let mut last_write: HashMap<(BrokerAccountId, TickerId), String> = HashMap::new();
    for item in &request.states {
        let key = (item.account_id, item.ticker_id);
        if refusal(key).is_none() {
            last_write.insert(key, item.state.get().to_string());
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
        states::upsert(connection, request.bot_id, &writes).await.map_err(storage_error)?
    };
    let row_ids: HashMap<_, _> = stored.iter().map(|row| ((row.broker_account_id, row.ticker_id), row.id)).collect();

    let results: Vec<StateResult> = request
        .states
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let key = (item.account_id, item.ticker_id);
            match (refusal(key), row_ids.get(&key)) {
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

/// Up to `size` of a bot's states after `filter.after`, as the API shows them, with one more
/// when there is one (so the caller knows a next page exists).
pub async fn load_page(
    connection: &mut AsyncPgConnection,
    bot_id: BotId,
    filter: StateFilter,
    size: usize,
) -> Result<Vec<UserBotState>, BusError> {
    let limit = i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1);
    let rows = states::page(connection, bot_id, filter, limit).await.map_err(storage_error)?;
    rows.into_iter().map(|row| to_state(bot_id, row)).collect()
}

/// The cursor after the last state of a page that has a next one.
pub fn next_cursor(states: &[UserBotState], more: bool) -> Option<String> {
    states
        .last()
        .filter(|_| more)
        .map(|last| StateCursor { account_id: last.user_broker_account_id, ticker_id: last.ticker_id }.encode())
}

/// A page of a bot's stored states, by account then ticker: at most `limit` (1,000), fewer
/// when more would not fit one reply.
pub async fn list(pool: &PgPool, request: GetStates) -> Result<StatesListReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let size = usize::try_from(request.limit.clamp(1, STATES_PAGE_MAX)).unwrap_or(1);
    let filter = StateFilter {
        account: request.account_id,
        ticker: request.ticker_id,
        after: request.after.map(|cursor| (cursor.account_id, cursor.ticker_id)),
    };
    let loaded = load_page(&mut connection, request.bot_id, filter, size).await?;
    let (states, more) = paging::page(loaded, size, REPLY_BUDGET_BYTES);
    let next_cursor = next_cursor(&states, more);
    Ok(StatesListReply { success: true, states, next_cursor })
}

/// A stored row as the API shows it.
pub fn to_state(bot_id: BotId, row: StateRow) -> Result<UserBotState, BusError> {
    Ok(UserBotState {
        id: row.id,
        bot_id,
        user_broker_account_id: row.broker_account_id,
        ticker_id: row.ticker_id,
        state: RawValue::from_string(row.state).map_err(storage_error)?,
    })
}
