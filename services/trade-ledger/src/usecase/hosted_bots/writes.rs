//! Create, edit, copy, start, stop and delete: each in the caller's transaction (the
//! idempotency record's), each change with its `hosted_bot_changed` event (LIVE revisions
//! table: counters alone emit nothing). The engine's own stops ([`stop_by_engine`]) take the
//! same path as a partner's stop, in the transaction of the runner's event.

use super::super::storage_error;
use super::events::{desired, emit};
use super::{check_user, find_bot, lock_user, view, wire_id};
use crate::domain::hosted_settings::{self as settings, Settings};
use crate::store::catalogue::{self, TradedMarket};
use crate::store::hosted_bots::{self, HostedBotRow, NewHostedBot};
use crate::store::records;
use bus::BusError;
use bus::messages::hosted::{
    CheckHostedBot, CheckedHostedBot, CopyHostedBot, CreateHostedBot, DeleteHostedBot, Desired, EditHostedBot,
    HostedBotView, SetHostedBotStatus,
};
use bus::messages::live::BotStopped;
use bus::subjects::Subjects;
use diesel_async::AsyncPgConnection;
use domain::{BotId, PartnerId, UserId};
use engine::{ScriptType, script};
use platform::db::PgPool;
use serde_json::value::RawValue;

/// The bot kind (engine family) of a script type.
fn kind(script_type: ScriptType) -> &'static str {
    match script_type {
        ScriptType::SpotGrid | ScriptType::FuturesGrid => "grid",
        ScriptType::SpotDca | ScriptType::FuturesDca => "dca",
        ScriptType::Webhook => "webhook",
    }
}

fn stored_type(row: &HostedBotRow) -> Result<ScriptType, BusError> {
    settings::script_type(&row.script_type).map_err(storage_error)
}

fn stored_settings(row: &HostedBotRow) -> Result<Settings, BusError> {
    settings::stored(&row.settings).map_err(storage_error)
}

fn mismatch(exchange: &str, user: UserId, owned: &[String]) -> BusError {
    let owned = if owned.is_empty() { "none".to_string() } else { owned.join(", ") };
    BusError::Forbidden {
        message: format!(
            "exchangeId '{exchange}' is not an exchange user '{user}' has an account on (the user's: {owned})"
        ),
    }
}

/// The market the merged settings name, checked in order: known (1000), on one of the user's
/// exchanges (1004), with a trading adapter (1000).
async fn market_for(
    tx: &mut AsyncPgConnection,
    merged: &Settings,
    user: UserId,
    owned: &[String],
) -> Result<TradedMarket, BusError> {
    let symbol = settings::symbol(merged).ok_or_else(|| BusError::invalid("settings.symbol is required"))?;
    let market = catalogue::traded_market(tx, &symbol, true)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| BusError::invalid(format!("settings.symbol: unknown market '{symbol}'")))?;
    if !owned.contains(&market.exchange_id) {
        return Err(mismatch(&market.exchange_id, user, owned));
    }
    if !market.has_adapter {
        return Err(no_adapter(&market.exchange_id));
    }
    Ok(market)
}

fn no_adapter(exchange: &str) -> BusError {
    BusError::invalid(format!("exchangeId: bots cannot run on exchange '{exchange}' (no trading adapter)"))
}

/// The sent settings checked and merged over `base`, then validated whole.
fn settle(script_type: ScriptType, base: &Settings, sent: &Settings) -> Result<Settings, BusError> {
    settings::check_keys(script_type, sent).map_err(BusError::invalid)?;
    let merged = settings::merge(base, sent);
    settings::validate(script_type, &merged).map_err(BusError::invalid)?;
    Ok(merged)
}

/// What a new bot is made of: its owner and partner, its type, market and settings, and the
/// root master it follows.
struct Definition<'a> {
    owner: UserId,
    partner: PartnerId,
    script_type: ScriptType,
    market: &'a TradedMarket,
    settings: &'a Settings,
    master: Option<BotId>,
}

/// Inserts a running bot, counts the start and emits it; answers the bot object.
async fn insert_running(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    definition: Definition<'_>,
) -> Result<HostedBotView, BusError> {
    let settings = settings::to_text(definition.settings);
    let bot = NewHostedBot {
        id: BotId::new(),
        name: script(definition.script_type).name,
        kind: kind(definition.script_type),
        owner: definition.owner,
        partner: definition.partner,
        script_type: definition.script_type.as_str(),
        exchange_id: &definition.market.exchange_id,
        symbol: &definition.market.symbol,
        settings: &settings,
        master: definition.master,
    };
    hosted_bots::insert(tx, &bot).await.map_err(storage_error)?;
    hosted_bots::count_start(tx, bot.owner).await.map_err(storage_error)?;
    view(&emit(tx, subjects, bot.id, Desired::Running).await?)
}

/// `bots/create`: a running bot; with `masterBotId`, a follower of that bot's root master.
pub async fn create(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    request: CreateHostedBot,
) -> Result<HostedBotView, BusError> {
    let (partner, user) = (request.partner_id, request.user_id);
    lock_user(tx, partner, user).await?;
    let script_type = settings::script_type(&request.script_type).map_err(BusError::invalid)?;
    let master = match request.master_bot_id.as_deref().filter(|sent| !sent.is_empty()) {
        // Locked, so a concurrent delete of the master either comes first (1002 here) or
        // waits and then sees this follower.
        Some(sent) => {
            let master = find_bot(tx, partner, None, sent, true).await?;
            Some(root_of(tx, partner, master).await?)
        }
        None => None,
    };
    let sent = settings::parse(&request.settings).map_err(BusError::invalid)?;
    let owned = records::user_brokers(tx, user).await.map_err(storage_error)?;
    let market = market_for(tx, &settings::merge(&settings::defaults(script_type), &sent), user, &owned).await?;
    let merged = settle(script_type, &settings::defaults(script_type), &sent)?;
    if let Some(master) = &master {
        if master.script_type != script_type.as_str() {
            return Err(BusError::invalid("masterBotId: type differs"));
        }
        if !owned.contains(&master.exchange_id) {
            return Err(mismatch(&master.exchange_id, user, &owned));
        }
    }
    let master = master.map(|master| master.id);
    let definition = Definition { owner: user, partner, script_type, market: &market, settings: &merged, master };
    insert_running(tx, subjects, definition).await
}

/// `bots/preview`: a would-be bot checked as [`create`] checks it (the user, then the exchange
/// the user's, then the settings and their market) and stored nowhere: the canonical settings
/// and the market the runner previews it on.
pub async fn check(pool: &PgPool, request: CheckHostedBot) -> Result<CheckedHostedBot, BusError> {
    let connection = &mut pool.get().await.map_err(storage_error)?;
    let (partner, user) = (request.partner_id, request.user_id);
    check_user(connection, partner, user).await?;
    let owned = records::user_brokers(connection, user).await.map_err(storage_error)?;
    if !owned.contains(&request.exchange_id) {
        return Err(mismatch(&request.exchange_id, user, &owned));
    }
    let script_type = settings::script_type(&request.script_type).map_err(BusError::invalid)?;
    let sent = settings::parse(&request.settings).map_err(BusError::invalid)?;
    let defaults = settings::defaults(script_type);
    let market = market_for(connection, &settings::merge(&defaults, &sent), user, &owned).await?;
    if market.exchange_id != request.exchange_id {
        return Err(BusError::invalid(format!(
            "settings.symbol: market '{}' is not on exchange '{}'",
            market.symbol, request.exchange_id
        )));
    }
    let merged = settle(script_type, &defaults, &sent)?;
    let settings = RawValue::from_string(settings::to_text(&merged)).map_err(storage_error)?;
    Ok(CheckedHostedBot { settings, market: super::events::market_spec(market) })
}

/// The root master of `bot`: itself, or the master it follows (followers follow the root).
async fn root_of(tx: &mut AsyncPgConnection, partner: PartnerId, bot: HostedBotRow) -> Result<HostedBotRow, BusError> {
    match bot.master_bot_id {
        None => Ok(bot),
        Some(master) => hosted_bots::find(tx, partner, master, true)
            .await
            .map_err(storage_error)?
            .ok_or_else(|| storage_error(format!("bot {} follows {master}, which is gone", bot.id))),
    }
}

/// `bots/edit`: editable keys only; a master's edit reaches its followers (the same sent keys
/// over each one's own settings), each with its own revision and event.
pub async fn edit(tx: &mut AsyncPgConnection, subjects: &Subjects, request: EditHostedBot) -> Result<bool, BusError> {
    lock_user(tx, request.partner_id, request.user_id).await?;
    let bot = find_bot(tx, request.partner_id, Some(request.user_id), &request.bot_id, true).await?;
    if bot.master_bot_id.is_some() {
        return Err(BusError::Conflict {
            message: format!("Bot '{}' follows a master bot and cannot be edited directly", wire_id(bot.id)),
        });
    }
    let script_type = stored_type(&bot)?;
    let sent = settings::parse(&request.settings).map_err(BusError::invalid)?;
    settings::check_keys(script_type, &sent).map_err(BusError::invalid)?;
    let stored = stored_settings(&bot)?;
    settings::check_editable(script_type, &stored, &sent).map_err(BusError::invalid)?;
    // Only what this edit changes goes on: a client may send the whole object back, and a
    // follower keeps its own values of everything the master's edit does not change.
    let changed = settings::changed(&stored, &sent);
    if changed.is_empty() {
        return Ok(true);
    }
    let merged = settle(script_type, &stored, &changed)?;
    hosted_bots::set_settings(tx, bot.id, &settings::to_text(&merged)).await.map_err(storage_error)?;
    emit(tx, subjects, bot.id, desired(&bot.status)).await?;
    for follower in hosted_bots::followers(tx, bot.id).await.map_err(storage_error)? {
        let own = stored_settings(&follower)?;
        let changed = settings::changed(&own, &changed);
        if changed.is_empty() {
            continue;
        }
        let merged = settle(script_type, &own, &changed).map_err(|refused| match refused {
            BusError::Invalid { message } => {
                BusError::invalid(format!("{message} (for follower '{}')", wire_id(follower.id)))
            }
            other => other,
        })?;
        hosted_bots::set_settings(tx, follower.id, &settings::to_text(&merged)).await.map_err(storage_error)?;
        emit(tx, subjects, follower.id, desired(&follower.status)).await?;
    }
    Ok(true)
}

/// `bots/copy`: a running copy for another user on the same exchange, its settings merged over
/// the source's; with `followUpdates`, a follower of the source's root master.
pub async fn copy(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    request: CopyHostedBot,
) -> Result<HostedBotView, BusError> {
    let (partner, user) = (request.partner_id, request.user_id);
    lock_user(tx, partner, user).await?;
    // A master is locked before its followers everywhere (edit, delete): a copy of a follower
    // that will follow the root locks the root first, then the source again.
    let source = find_bot(tx, partner, None, &request.bot_id, false).await?;
    let source = match (request.follow_updates, source.master_bot_id) {
        (true, Some(root)) => {
            hosted_bots::find(tx, partner, root, true).await.map_err(storage_error)?;
            find_bot(tx, partner, None, &request.bot_id, true).await?
        }
        _ => find_bot(tx, partner, None, &request.bot_id, true).await?,
    };
    let script_type = stored_type(&source)?;
    let sent = match &request.settings {
        Some(raw) => settings::parse(raw).map_err(BusError::invalid)?,
        None => Settings::new(),
    };
    let base = stored_settings(&source)?;
    let owned = records::user_brokers(tx, user).await.map_err(storage_error)?;
    let market = market_for(tx, &settings::merge(&base, &sent), user, &owned).await?;
    if market.exchange_id != source.exchange_id {
        return Err(mismatch(&market.exchange_id, user, std::slice::from_ref(&source.exchange_id)));
    }
    let merged = settle(script_type, &base, &sent)?;
    let master = request.follow_updates.then(|| source.master_bot_id.unwrap_or(source.id));
    hosted_bots::count_copy(tx, source.id).await.map_err(storage_error)?;
    let definition = Definition { owner: user, partner, script_type, market: &market, settings: &merged, master };
    insert_running(tx, subjects, definition).await
}

/// `bots/start` and `bots/stop`: 1003 when the bot already is so.
pub async fn set_status(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    request: SetHostedBotStatus,
) -> Result<bool, BusError> {
    // The owner's row before the bot's, as users/delete takes them.
    let bot = find_bot(tx, request.partner_id, None, &request.bot_id, false).await?;
    // A user deleted meanwhile took the bot with them: the bot is what the client named.
    lock_user(tx, request.partner_id, bot.owner_user_id).await.map_err(|refused| match refused {
        BusError::NotFound { .. } => super::unknown_bot(&request.bot_id),
        other => other,
    })?;
    let bot = find_bot(tx, request.partner_id, None, &request.bot_id, true).await?;
    let status = status_of(request.desired)?;
    if bot.status == status {
        return Err(BusError::Conflict { message: format!("Bot '{}' is already {status}", wire_id(bot.id)) });
    }
    if request.desired == Desired::Running {
        let market = catalogue::traded_market(tx, &bot.symbol, true).await.map_err(storage_error)?;
        if !market.is_some_and(|market| market.has_adapter) {
            return Err(no_adapter(&bot.exchange_id));
        }
        hosted_bots::count_start(tx, bot.owner_user_id).await.map_err(storage_error)?;
    }
    change_status(tx, subjects, bot.id, request.desired).await?;
    Ok(true)
}

/// The `status` a start or a stop sets.
fn status_of(desired: Desired) -> Result<&'static str, BusError> {
    match desired {
        Desired::Running => Ok("running"),
        Desired::Stopped => Ok("stopped"),
        Desired::Deleted => Err(BusError::invalid("desired: running or stopped (delete with bots/delete)")),
    }
}

/// Every start and stop, a partner's or the engine's: the bot (locked by the caller) takes the
/// desired state, one revision up, with its `hosted_bot_changed` in the same transaction.
async fn change_status(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    id: BotId,
    desired: Desired,
) -> Result<(), BusError> {
    hosted_bots::set_status(tx, id, status_of(desired)?).await.map_err(storage_error)?;
    emit(tx, subjects, id, desired).await?;
    Ok(())
}

/// What an engine's stop of a bot came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineStop {
    /// Stopped, one revision up, with its event.
    Stopped,
    /// The bot changed since the revision the runner saw (it is at this one now): left as it is.
    Changed(i64),
    /// Already stopped at the revision the runner saw (a runner failure of a stopped run):
    /// nothing to do.
    AlreadyStopped,
    /// Deleted, or not a hosted bot at all.
    Gone,
}

/// `evt.live.bot_stopped` (docs/live.md#stops-the-engine-decides): the engine stopped the bot itself (a
/// stop condition, `maxWin` / `maxLoss`) or the runner could not run it. The bot becomes
/// `stopped` exactly as a partner's stop makes it, unless it changed since the revision the
/// runner saw, so that a start or an edit made meanwhile stands.
pub async fn stop_by_engine(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    stop: &BotStopped,
) -> Result<EngineStop, BusError> {
    // The owner's row before the bot's, as a partner's stop takes them.
    let Some(bot) = hosted_bots::find_live(tx, stop.bot_id).await.map_err(storage_error)? else {
        return Ok(EngineStop::Gone);
    };
    match lock_user(tx, bot.partner_id, bot.owner_user_id).await {
        Ok(()) => {}
        // A deleted user took their bots with them.
        Err(BusError::NotFound { .. }) => return Ok(EngineStop::Gone),
        Err(other) => return Err(other),
    }
    let Some(bot) = hosted_bots::find(tx, bot.partner_id, bot.id, true).await.map_err(storage_error)? else {
        return Ok(EngineStop::Gone);
    };
    if bot.revision != stop.revision {
        return Ok(EngineStop::Changed(bot.revision));
    }
    if bot.status != "running" {
        return Ok(EngineStop::AlreadyStopped);
    }
    change_status(tx, subjects, bot.id, Desired::Stopped).await?;
    Ok(EngineStop::Stopped)
}

/// `bots/delete`.
pub async fn delete(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    request: DeleteHostedBot,
) -> Result<bool, BusError> {
    let bot = find_bot(tx, request.partner_id, None, &request.bot_id, true).await?;
    delete_bot(tx, subjects, bot.id).await?;
    Ok(true)
}

/// Deletes a bot (the runner stops and purges it) and makes its followers independent, each
/// with its event.
pub async fn delete_bot(tx: &mut AsyncPgConnection, subjects: &Subjects, id: BotId) -> Result<(), BusError> {
    hosted_bots::soft_delete(tx, id).await.map_err(storage_error)?;
    emit(tx, subjects, id, Desired::Deleted).await?;
    for follower in hosted_bots::followers(tx, id).await.map_err(storage_error)? {
        hosted_bots::clear_master(tx, follower.id).await.map_err(storage_error)?;
        emit(tx, subjects, follower.id, desired(&follower.status)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_script_runs_on_its_engine_family() {
        let kinds: Vec<_> = ScriptType::ALL.into_iter().map(kind).collect();
        assert_eq!(kinds, ["grid", "grid", "dca", "dca", "webhook"]);
    }
}
