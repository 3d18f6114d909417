//! `GET /api/bots/:slug`: the bot's id, followers and stored states. Never a credential.
//!
//! Both lists are paged (at most 500 each, fewer when both would not fit one reply), each
//! with its own cursor, so a bot with many followers or large states still gets an answer.

use super::states::{load_page, next_cursor};
use super::storage_error;
use crate::store::records::{self, Following};
use crate::store::states::StateFilter;
use bus::BusError;
use bus::messages::bot_api::paging::{self, AccountCursor, BOT_CONFIG_PAGE, REPLY_BUDGET_BYTES};
use bus::messages::bot_api::{BotConfig, BotConfigReply, FollowedTicker, Follower, GetBotConfig};
use platform::db::PgPool;

/// Folds follow links, ordered by account, into one follower per account.
fn followers(links: Vec<Following>) -> Vec<Follower> {
    let mut followers: Vec<Follower> = Vec::new();
    for link in links {
        let ticker = FollowedTicker {
            ticker_id: link.ticker_id,
            symbol: link.symbol,
            status: link.status,
            quantity: link.quantity,
        };
        match followers.last_mut() {
            Some(follower) if follower.id == link.broker_account_id => follower.tickers.push(ticker),
            _ => followers.push(Follower {
                id: link.broker_account_id,
                account_number: link.account_number,
                user_id: link.user_id,
                broker: link.broker,
                tickers: vec![ticker],
            }),
        }
    }
    followers
}

/// Reads the bot's configuration.
pub async fn get(pool: &PgPool, request: GetBotConfig) -> Result<BotConfigReply, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let bot_id = request.bot_id;
    let bot = records::find_bot(&mut connection, bot_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| BusError::not_found("Bot not found"))?;
    let accounts = i64::try_from(BOT_CONFIG_PAGE).unwrap_or(i64::MAX).saturating_add(1);
    let after = request.followers_after.map(|cursor| cursor.account_id);
    let links = records::followers_page(&mut connection, bot_id, after, accounts).await.map_err(storage_error)?;
    let followers = followers(links);
    let after = request.states_after.map(|c| (c.account_id, c.ticker_id));
    let filter = StateFilter { after, ..StateFilter::default() };
    let states = load_page(&mut connection, request.bot_id, filter, BOT_CONFIG_PAGE).await?;

    let mut config =
        BotConfig { id: request.bot_id, slug: bot.slug, name: bot.name, followers: vec![], states: vec![] };
    let (for_followers, for_states) = paging::split(
        REPLY_BUDGET_BYTES.saturating_sub(paging::json_len(&config)),
        paging::needed(&followers, BOT_CONFIG_PAGE),
        paging::needed(&states, BOT_CONFIG_PAGE),
    );
    let (followers, more_followers) = paging::page(followers, BOT_CONFIG_PAGE, for_followers);
    let (states, more_states) = paging::page(states, BOT_CONFIG_PAGE, for_states);
    let next_followers_cursor =
        followers.last().filter(|_| more_followers).map(|last| AccountCursor { account_id: last.id }.encode());
    let next_states_cursor = next_cursor(&states, more_states);
    config.followers = followers;
    config.states = states;
    Ok(BotConfigReply { success: true, bot: config, next_followers_cursor, next_states_cursor })
}
