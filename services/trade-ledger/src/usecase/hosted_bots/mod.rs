//! Hosted bots (docs/api/partner.md#hosted-bots): reads here, writes in [`writes`], the event
//! every write emits in [`events`].
//!
//! Checks run in the Partner API's order: the user (1001), then the bot (1002: malformed,
//! unknown, deleted, another partner's, or not that user's), then the bot's state, then the
//! market and exchange, then the settings.

pub mod events;
pub mod writes;

use super::storage_error;
use crate::store::hosted_bots::{self, HostedBotRow};
use crate::store::partner_users;
use bus::BusError;
use bus::messages::bot_api::paging::{self, TimeCursor};
use bus::messages::hosted::{
    GetHostedBot, HostedBotRevision, HostedBotRevisionsPage, HostedBotView, HostedBotsPage, ListHostedBotRevisions,
    ListHostedBots,
};
use bus::messages::partner::reference::JsonDecimal;
use bus::messages::partner::{MAX_PAGE_LIMIT, PAGE_BUDGET_BYTES};
use bus::messages::signals::{FindSignalBots, SignalBot, SignalBotKind};
use diesel_async::AsyncPgConnection;
use domain::{BotId, PartnerId, UserId};
use platform::db::PgPool;
use serde_json::value::RawValue;

/// The most bots one page reads: more never fit [`PAGE_BUDGET_BYTES`].
const MAX_ROWS_READ: u32 = 1_000;

/// A bot id as a client may write it: 32 hex digits (how the API shows it) or the dashed form.
pub fn parse_bot_id(text: &str) -> Option<BotId> {
    matches!(text.len(), 32 | 36).then(|| text.parse().ok()).flatten()
}

/// How the API writes a bot id: 32 lowercase hex digits.
pub fn wire_id(id: BotId) -> String {
    id.as_uuid().simple().to_string()
}

pub(crate) fn unknown_bot(sent: &str) -> BusError {
    BusError::not_found(format!("Bot '{sent}' not found"))
}

pub(crate) fn unknown_user(user: UserId) -> BusError {
    BusError::not_found(format!("User '{user}' not found"))
}

/// Refuses a user that is not the partner's (or is deleted).
pub(crate) async fn check_user(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    user: UserId,
) -> Result<(), BusError> {
    match partner_users::find(connection, partner, user).await.map_err(storage_error)? {
        Some(_) => Ok(()),
        None => Err(unknown_user(user)),
    }
}

/// [`check_user`] for a write that gives the user a bot: the user row stays locked until the
/// transaction ends, so a concurrent `users/delete` either comes first (and this answers 1001)
/// or waits.
pub(crate) async fn lock_user(tx: &mut AsyncPgConnection, partner: PartnerId, user: UserId) -> Result<(), BusError> {
    match partner_users::lock_live(tx, partner, user).await.map_err(storage_error)? {
        true => Ok(()),
        false => Err(unknown_user(user)),
    }
}

/// The partner's live bot `sent` names (and `owner`'s, when given), locked when `lock`.
pub(crate) async fn find_bot(
    connection: &mut AsyncPgConnection,
    partner: PartnerId,
    owner: Option<UserId>,
    sent: &str,
    lock: bool,
) -> Result<HostedBotRow, BusError> {
    let id = parse_bot_id(sent).ok_or_else(|| unknown_bot(sent))?;
    let row = hosted_bots::find(connection, partner, id, lock).await.map_err(storage_error)?;
    row.filter(|row| owner.is_none_or(|owner| row.owner_user_id == owner)).ok_or_else(|| unknown_bot(sent))
}

/// The bot object of reference 003.
pub fn view(row: &HostedBotRow) -> Result<HostedBotView, BusError> {
    let settings = RawValue::from_string(row.settings.clone()).map_err(storage_error)?;
    Ok(HostedBotView {
        user_id: row.owner_user_id,
        bot_id: wire_id(row.id),
        status: row.status.clone(),
        master_bot_id: row.master_bot_id.map(wire_id).unwrap_or_default(),
        created_at: row.created_at.timestamp(),
        script_type: row.script_type.clone(),
        exchange_id: row.exchange_id.clone(),
        settings,
        profit: JsonDecimal(row.profit),
        roi: JsonDecimal(row.roi),
        cloned: i64::from(row.cloned),
        followers: row.followers,
    })
}

/// One of the partner's hosted bots (that user's, when the request names one).
pub async fn get(pool: &PgPool, request: GetHostedBot) -> Result<HostedBotView, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    if let Some(user) = request.user_id {
        check_user(&mut connection, request.partner_id, user).await?;
    }
    let row = find_bot(&mut connection, request.partner_id, request.user_id, &request.bot_id, false).await?;
    view(&row)
}

/// A page of the partner's (or one user's) hosted bots, newest first: at most `limit`, and no
/// more than fit the page budget.
pub async fn list(pool: &PgPool, request: ListHostedBots) -> Result<HostedBotsPage, BusError> {
    // No more rows are read than can fit the page budget (a bot is at least ~500 bytes).
    let limit = request.limit.clamp(1, MAX_PAGE_LIMIT).min(MAX_ROWS_READ) as usize;
    let mut connection = pool.get().await.map_err(storage_error)?;
    if let Some(user) = request.user_id {
        check_user(&mut connection, request.partner_id, user).await?;
    }
    let after = request.after.map(|cursor| (cursor.created_at, cursor.id));
    // One past the limit tells whether more follow.
    let rows = hosted_bots::page(&mut connection, request.partner_id, request.user_id, after, limit as i64 + 1)
        .await
        .map_err(storage_error)?;
    let views = rows.iter().map(view).collect::<Result<Vec<_>, _>>()?;
    let (items, more) = paging::page(views, limit, PAGE_BUDGET_BYTES);
    let next_page_id = more
        .then(|| rows.get(items.len().wrapping_sub(1)))
        .flatten()
        .map(|row| TimeCursor { created_at: row.created_at, id: row.id.into() }.encode());
    Ok(HostedBotsPage { items, next_page_id })
}

/// Every live hosted bot's current revision, by bot id, a page at a time.
pub async fn revisions(pool: &PgPool, request: ListHostedBotRevisions) -> Result<HostedBotRevisionsPage, BusError> {
    let limit = i64::from(request.limit.clamp(1, MAX_PAGE_LIMIT));
    let mut connection = pool.get().await.map_err(storage_error)?;
    let mut rows = hosted_bots::revisions(&mut connection, request.after, limit + 1).await.map_err(storage_error)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(|row| row.id)).flatten();
    let items = rows.into_iter().map(|row| HostedBotRevision { bot_id: row.id, revision: row.revision }).collect();
    Ok(HostedBotRevisionsPage { items, next })
}

/// `qry.ledger.signal_bots.v1`: the partner's webhook bots that listen to a signal token, any
/// status, not deleted (the gateway answers 1010 when there is none). Strategy bots join them
/// with the user API.
pub async fn signal_bots(pool: &PgPool, request: FindSignalBots) -> Result<Vec<SignalBot>, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let listeners = hosted_bots::listening_to(&mut connection, request.partner_id, &request.signal_token)
        .await
        .map_err(storage_error)?;
    Ok(listeners
        .into_iter()
        .map(|bot| SignalBot {
            bot_id: bot.id,
            kind: SignalBotKind::Hosted,
            running: bot.status == "running",
            revision: bot.revision,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_ids_are_32_hex_or_dashed_and_nothing_else() {
        let id = BotId::new();
        let wire = wire_id(id);
        assert_eq!(wire.len(), 32);
        assert!(wire.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(parse_bot_id(&wire), Some(id));
        assert_eq!(parse_bot_id(&id.to_string()), Some(id));
        assert_eq!(parse_bot_id(&wire.to_uppercase()), Some(id));
        for bad in ["", "x", &format!("{{{id}}}"), &format!("urn:uuid:{id}"), &wire[..31]] {
            assert_eq!(parse_bot_id(bad), None, "{bad}");
        }
    }
}
