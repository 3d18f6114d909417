//! `hosted bot changed` → the bot's run created or brought to the event's revision. The ledger
//! publishes the event in the transaction of every change of a hosted bot (create, edit, copy,
//! start, stop, delete) with the whole definition; the run keeps only a newer revision, so an
//! event that arrives late, twice or after a reconciliation already fetched something newer
//! changes nothing.
//!
//! A batch is applied in one transaction with its inbox rows: each event is applied at most
//! once, and a redelivered or re-published one finds its inbox row and does nothing. Its runs
//! are written in bot order (then revision order), the order the reconciliation writes in too,
//! so two transactions writing the same runs never deadlock; the newest revision wins whatever
//! the order.

use crate::store::runs;
use bus::Event;
use bus::messages::hosted::HostedBotChanged;
use diesel_async::AsyncConnection;
use outbox::consumer::Delivery;
use platform::db::PgPool;
use tracing::{debug, info};

/// The inbox name of the runner's hosted-bot consumer: its durable name.
pub const CONSUMER: &str = bus::consumers::LIVE_HOSTED_BOTS.durable;

/// What applying one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Applied {
    /// The run was created or now holds the event's revision.
    Changed,
    /// The run already held this revision or a newer one.
    NotNewer,
    /// The event was applied before (its inbox row exists).
    Duplicate,
}

/// Applies every `hosted bot changed` of the batch, each once, in one transaction.
pub async fn apply(pool: &PgPool, batch: Vec<Delivery>) -> anyhow::Result<()> {
    let mut events: Vec<Event<HostedBotChanged>> = batch.iter().filter_map(Delivery::event_or_drop).collect();
    if events.is_empty() {
        return Ok(());
    }
    events.sort_by_key(|event| (event.data.bot_id, event.data.revision));
    let mut connection = pool.get().await?;
    let applied = connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let mut applied = Vec::with_capacity(events.len());
            for event in &events {
                let outcome = if !outbox::inbox::first_time(tx, CONSUMER, event.id).await? {
                    Applied::Duplicate
                } else if runs::upsert_hosted(tx, &event.data).await? {
                    Applied::Changed
                } else {
                    Applied::NotNewer
                };
                applied.push(outcome);
            }
            Ok(applied)
        })
        .await?;
    for (event, outcome) in events.iter().zip(applied) {
        let (bot, revision, desired) = (event.data.bot_id, event.data.revision, event.data.desired);
        match outcome {
            Applied::Changed => info!(bot.id = %bot, revision, ?desired, "hosted bot's run updated"),
            Applied::NotNewer => {
                debug!(bot.id = %bot, revision, event.id = %event.id, "hosted bot change not newer than the run; ignored");
            }
            Applied::Duplicate => {
                debug!(bot.id = %bot, revision, event.id = %event.id, "hosted bot change already applied")
            }
        }
    }
    Ok(())
}
