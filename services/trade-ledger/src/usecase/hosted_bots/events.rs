//! `hosted_bot_changed`: the whole definition of a bot after a change, written to the outbox in
//! the change's transaction, so the runner hears of exactly the changes that committed.

use super::super::storage_error;
use crate::store::{catalogue, hosted_bots};
use bus::BusError;
use bus::messages::hosted::{Desired, HostedBotChanged, MarketSpecMsg};
use bus::subjects::Subjects;
use diesel_async::AsyncPgConnection;
use domain::BotId;
use serde_json::value::RawValue;

/// Emits the bot's definition as it now stands, with what the runner must make of it.
pub async fn emit(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    id: BotId,
    desired: Desired,
) -> Result<(), BusError> {
    let row = hosted_bots::find_any(tx, id).await.map_err(storage_error)?;
    let market = catalogue::traded_market(tx, &row.symbol, false).await.map_err(storage_error)?.ok_or_else(|| {
        storage_error(format!("hosted bot {id} trades {}, which is not in the catalogue", row.symbol))
    })?;
    let event = HostedBotChanged {
        bot_id: row.id,
        partner_id: row.partner_id,
        user_id: row.owner_user_id,
        revision: row.revision,
        desired,
        script_type: row.script_type,
        settings: RawValue::from_string(row.settings).map_err(storage_error)?,
        market: MarketSpecMsg {
            symbol: market.symbol,
            base_currency: market.base_currency,
            quote_currency: market.quote_currency,
            price_decimals: u32::try_from(market.price_decimals).unwrap_or_default(),
            amount_decimals: u32::try_from(market.amount_decimals).unwrap_or_default(),
            minimum_trade_amount: market.min_amount.unwrap_or_default(),
        },
        exchange_id: row.exchange_id,
    };
    outbox::enqueue(tx, &subjects.hosted_bot_changed(), &event).await.map_err(storage_error)?;
    Ok(())
}

/// The desired state a bot's `status` column means.
pub fn desired(status: &str) -> Desired {
    if status == "running" { Desired::Running } else { Desired::Stopped }
}
