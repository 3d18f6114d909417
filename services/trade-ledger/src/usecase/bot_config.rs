//! `GET /api/bots/:slug`: the bot's id, followers and stored states. Never a credential.

use super::{states::to_state, storage_error};
use crate::store::{records, states};
use bus::BusError;
use bus::messages::bot_api::{BotConfig, BotConfigReply, FollowedTicker, Follower, GetBotConfig};
use domain::{BrokerAccountId, UserId};
use platform::db::PgPool;

/// Reads the bot's configuration.
pub async fn get(pool: &PgPool, request: GetBotConfig) -> Result<BotConfigReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let bot_id = *request.bot_id.as_uuid();
    let bot = records::find_bot(&mut connection, bot_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| BusError::not_found("Bot not found"))?;
    let links = records::followers(&mut connection, bot_id).await.map_err(storage_error)?;
    // Rows come ordered by account: fold consecutive rows of one account into one follower.
    let mut followers: Vec<Follower> = Vec::new();
    for link in links {
        let ticker = FollowedTicker {
            ticker_id: link.ticker_id,
            symbol: link.symbol,
            status: link.status,
            quantity: link.quantity,
        };
        match followers.last_mut() {
            Some(follower) if *follower.id.as_uuid() == link.broker_account_id => follower.tickers.push(ticker),
            _ => followers.push(Follower {
                id: BrokerAccountId::from_uuid(link.broker_account_id),
                account_number: link.account_number,
                user_id: UserId::from_uuid(link.user_id),
                broker: link.broker,
                tickers: vec![ticker],
            }),
        }
    }
    let rows = states::list(&mut connection, bot_id, None, None).await.map_err(storage_error)?;
    let states = rows.into_iter().map(|row| to_state(request.bot_id, row)).collect::<Result<_, _>>()?;
    Ok(BotConfigReply {
        success: true,
        bot: BotConfig { id: request.bot_id, slug: bot.slug, name: bot.name, followers, states },
    })
}
