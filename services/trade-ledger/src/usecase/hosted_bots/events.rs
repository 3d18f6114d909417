//! `hosted_bot_changed`: the whole definition of a bot after a change, written to the outbox in
//! the change's transaction, so the runner hears of exactly the changes that committed.

use super::super::storage_error;
use crate::store::hosted_bots::HostedBotRow;
use crate::store::{catalogue, hosted_bots};
use bus::BusError;
use bus::messages::hosted::{Desired, GetHostedBotDefinitions, HostedBotChanged, MAX_DEFINITIONS, MarketSpecMsg};
use bus::subjects::Subjects;
use diesel_async::AsyncPgConnection;
use domain::BotId;
use platform::db::PgPool;
use serde_json::value::RawValue;

/// Emits the bot's definition as it now stands, with what the runner must make of it; answers
/// the row it read (a caller that shows the bot needs no second read).
pub async fn emit(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    id: BotId,
    desired: Desired,
) -> Result<HostedBotRow, BusError> {
    let row = hosted_bots::find_any(tx, id).await.map_err(storage_error)?;
    let event = definition(tx, row.clone(), desired).await?;
    outbox::enqueue(tx, &subjects.hosted_bot_changed(), &event).await.map_err(storage_error)?;
    Ok(row)
}

/// A market as the runner's engine reads it.
pub fn market_spec(market: catalogue::TradedMarket) -> MarketSpecMsg {
    MarketSpecMsg {
        symbol: market.symbol,
        base_currency: market.base_currency,
        quote_currency: market.quote_currency,
        price_decimals: u32::try_from(market.price_decimals).unwrap_or_default(),
        amount_decimals: u32::try_from(market.amount_decimals).unwrap_or_default(),
        minimum_trade_amount: market.min_amount.unwrap_or_default(),
    }
}

/// A bot's whole definition, as the event carries it.
pub async fn definition(
    connection: &mut AsyncPgConnection,
    row: HostedBotRow,
    desired: Desired,
) -> Result<HostedBotChanged, BusError> {
    let market =
        catalogue::traded_market(connection, &row.symbol, false).await.map_err(storage_error)?.ok_or_else(|| {
            storage_error(format!("hosted bot {} trades {}, which is not in the catalogue", row.id, row.symbol))
        })?;
    Ok(HostedBotChanged {
        bot_id: row.id,
        partner_id: row.partner_id,
        user_id: row.owner_user_id,
        revision: row.revision,
        desired,
        script_type: row.script_type,
        settings: RawValue::from_string(row.settings).map_err(storage_error)?,
        market: market_spec(market),
        exchange_id: row.exchange_id,
    })
}

/// The current definitions of the hosted bots among `ids` (a deleted one as `deleted`).
pub async fn definitions(pool: &PgPool, request: GetHostedBotDefinitions) -> Result<Vec<HostedBotChanged>, BusError> {
    if request.bot_ids.len() > MAX_DEFINITIONS {
        return Err(BusError::invalid(format!("botIds: at most {MAX_DEFINITIONS} at once")));
    }
    let mut connection = pool.get().await.map_err(storage_error)?;
    let rows = hosted_bots::find_many(&mut connection, &request.bot_ids).await.map_err(storage_error)?;
    let mut definitions = Vec::with_capacity(rows.len());
    for row in rows {
        let desired = if row.deleted { Desired::Deleted } else { desired(&row.status) };
        definitions.push(definition(&mut connection, row, desired).await?);
    }
    Ok(definitions)
}

/// The desired state a bot's `status` column means.
pub fn desired(status: &str) -> Desired {
    if status == "running" { Desired::Running } else { Desired::Stopped }
}
