//! The runner's events, through the durable consumer `ledger_live_events`
//! (`bus::consumers::LEDGER_LIVE_EVENTS`, every `<p>.evt.live.>` in the runner's order):
//!
//! ```text
//!  runner: fill / stop tx ─► outbox ─► <p>_live_events ─► ledger_live_events
//!                                                               │ a batch, one transaction:
//!   lock the owners of the bots the batch stops, then every bot it names (id order)
//!   per event: inbox row (once per event id) ─┬─ fill_recorded: the position's trade, a filled
//!                                             │    transaction, status, netPnl, profit / roi
//!                                             └─ bot_stopped: stopped like a partner's stop,
//!                                                  unless the bot changed since
//! ```
//!
//! Locks follow the ledger's order (users before bots, bots in id order), so a batch and a
//! partner's write, or two batches on two replicas, never wait for each other in a circle. A
//! fill of a bot the ledger does not know, or of a bot that is not a hosted one, is logged and
//! skipped (its inbox row is written, so it is not looked at again).

use super::hosted_bots::writes::{self, EngineStop};
use super::trades::fills::{self, Recorded};
use crate::store::hosted_bots::{self, LockedBot};
use bus::Subjects;
use bus::messages::live::{BotStopped, FillRecorded};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::BotId;
use outbox::consumer::Delivery;
use platform::db::PgPool;
use std::collections::BTreeMap;
use tracing::{debug, error, info, warn};

/// The inbox name of the consumer: its durable name.
pub const CONSUMER: &str = bus::consumers::LEDGER_LIVE_EVENTS.durable;

/// One decoded event of the runner (a fill is boxed: it is four times a stop's size).
enum LiveEvent {
    Fill(Box<bus::Event<FillRecorded>>),
    Stopped(bus::Event<BotStopped>),
}

impl LiveEvent {
    fn bot_id(&self) -> BotId {
        match self {
            LiveEvent::Fill(event) => event.data.bot_id,
            LiveEvent::Stopped(event) => event.data.bot_id,
        }
    }
}

fn decode(subjects: &Subjects, delivery: &Delivery) -> Option<LiveEvent> {
    if delivery.is_on(&subjects.fill_recorded()) {
        delivery.event_or_drop().map(|event| LiveEvent::Fill(Box::new(event)))
    } else if delivery.is_on(&subjects.bot_stopped()) {
        delivery.event_or_drop().map(LiveEvent::Stopped)
    } else {
        debug!(subject = %delivery.subject, "not an event the ledger applies; skipped");
        None
    }
}

/// Applies a batch of the runner's events in one transaction, each at most once (inbox).
pub async fn apply(pool: &PgPool, subjects: &Subjects, batch: Vec<Delivery>) -> anyhow::Result<()> {
    let events: Vec<LiveEvent> = batch.iter().filter_map(|delivery| decode(subjects, delivery)).collect();
    if events.is_empty() {
        return Ok(());
    }
    let mut connection = pool.get().await?;
    connection
        .transaction::<_, anyhow::Error, _>(async |tx| {
            let bots = lock(tx, &events).await?;
            for event in &events {
                apply_one(tx, subjects, &bots, event).await?;
            }
            Ok(())
        })
        .await
}

/// Takes the batch's locks up front, in the ledger's order: the owners of the bots it stops
/// (a stop locks the owner first, as a partner's stop does), then every bot it names, in id
/// order. Answers the bots that exist.
async fn lock(tx: &mut AsyncPgConnection, events: &[LiveEvent]) -> diesel::QueryResult<BTreeMap<BotId, LockedBot>> {
    let mut stopped: Vec<BotId> = events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::Stopped(event) => Some(event.data.bot_id),
            LiveEvent::Fill(_) => None,
        })
        .collect();
    stopped.sort_unstable();
    stopped.dedup();
    hosted_bots::lock_owners(tx, &stopped).await?;
    let mut named: Vec<BotId> = events.iter().map(LiveEvent::bot_id).collect();
    named.sort_unstable();
    named.dedup();
    let locked = hosted_bots::lock_all(tx, &named).await?;
    Ok(locked.into_iter().map(|bot| (bot.id, bot)).collect())
}

async fn apply_one(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    bots: &BTreeMap<BotId, LockedBot>,
    event: &LiveEvent,
) -> anyhow::Result<()> {
    match event {
        LiveEvent::Fill(event) => {
            if outbox::inbox::first_time(tx, CONSUMER, event.id).await? {
                record_fill(tx, bots, event).await?;
            }
        }
        LiveEvent::Stopped(event) => {
            if outbox::inbox::first_time(tx, CONSUMER, event.id).await? {
                stop(tx, subjects, event).await?;
            }
        }
    }
    Ok(())
}

async fn record_fill(
    tx: &mut AsyncPgConnection,
    bots: &BTreeMap<BotId, LockedBot>,
    event: &bus::Event<FillRecorded>,
) -> diesel::QueryResult<()> {
    let fill = &event.data;
    match bots.get(&fill.bot_id) {
        None => {
            warn!(event.id = %event.id, bot.id = %fill.bot_id, "a fill of a bot the ledger does not know; skipped");
            return Ok(());
        }
        Some(bot) if !bot.is_hosted() => {
            warn!(event.id = %event.id, bot.id = %fill.bot_id, bot.kind = %bot.kind, "a fill of a bot that is not hosted; skipped");
            return Ok(());
        }
        Some(_) => {}
    }
    match fills::record(tx, fill).await? {
        Recorded::Applied { trade_id, status, totals } => debug!(
            event.id = %event.id, bot.id = %fill.bot_id, position.id = %fill.position.id, trade.id = %trade_id,
            trade.status = %status, seq = fill.seq, totals, "fill recorded"
        ),
        Recorded::Refused(reason) => error!(
            event.id = %event.id, bot.id = %fill.bot_id, position.id = %fill.position.id, reason = %reason,
            "a fill that cannot be recorded; skipped"
        ),
    }
    Ok(())
}

async fn stop(tx: &mut AsyncPgConnection, subjects: &Subjects, event: &bus::Event<BotStopped>) -> anyhow::Result<()> {
    let stop = &event.data;
    let outcome = writes::stop_by_engine(tx, subjects, stop).await?;
    let (bot, revision, reason) = (stop.bot_id, stop.revision, &stop.reason);
    match outcome {
        EngineStop::Stopped => info!(bot.id = %bot, revision, reason = %reason, "the engine stopped the bot"),
        EngineStop::Changed(now) => info!(
            bot.id = %bot, revision, revision.now = now, reason = %reason,
            "the engine's stop of a bot that changed since; left as it is"
        ),
        EngineStop::AlreadyStopped => debug!(bot.id = %bot, revision, "the engine's stop of a stopped bot"),
        EngineStop::Gone => info!(bot.id = %bot, revision, "the engine's stop of a bot that is gone; skipped"),
    }
    Ok(())
}
