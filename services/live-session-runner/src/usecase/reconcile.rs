//! Reconciliation with the ledger: what the consumer may have missed (an event lost, a runner
//! database restored from a backup, a stream recreated) is fetched again. At start-up and every
//! `live.reconcile_secs`:
//!
//! ```text
//!  runs: { bot → revision, desired }  (read first: a bot created meanwhile is not "unlisted")
//!  ledger qry hosted_bot_revisions, pages of 1,000 ─► { bot → revision } of every live hosted bot
//!  wanted = listed bots the runner lacks or holds at an older revision
//!         + runs not deleted whose bot the ledger no longer lists (deleted since)
//!  ledger qry hosted_bot_definitions, chunks of MAX_DEFINITIONS ─► upsert, newer revision only
//! ```
//!
//! The ledger answers a deleted bot as `desired: deleted`, so a run whose bot was deleted while
//! its event was lost learns it here. A round that fails (the ledger down, a timeout) is logged
//! and the next one starts over; what a failed round already wrote stays, as it is only ever a
//! newer revision. Rounds on several replicas are harmless for the same reason.

use crate::store::runs;
use anyhow::Context;
use bus::Subjects;
use bus::messages::hosted::{Desired, GetHostedBotDefinitions, ListHostedBotRevisions, MAX_DEFINITIONS};
use diesel_async::AsyncConnection;
use domain::BotId;
use platform::db::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Revisions asked for per page.
pub const REVISIONS_PAGE: u32 = 1_000;

/// How the runner asks the ledger.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// The runner's NATS connection.
    pub client: async_nats::Client,
    /// The subjects under the runner's prefix.
    pub subjects: Subjects,
    /// How long one request may take.
    pub timeout: Duration,
}

/// What one round found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Live hosted bots the ledger listed.
    pub listed: usize,
    /// Definitions asked for: missing, outdated or no longer listed.
    pub wanted: usize,
    /// Runs created or brought to a newer revision.
    pub changed: usize,
    /// Bots asked for that the ledger did not know at all.
    pub unknown: usize,
}

/// Runs a round at once and then every `interval` until `shutdown`; a failed round is logged
/// and the next one tries again. A round that changed runs wakes their owners (`changed`).
pub async fn run(
    pool: PgPool,
    ledger: Ledger,
    interval: Duration,
    changed: Arc<Notify>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            _ = ticks.tick() => {}
        }
        let round = once(&pool, &ledger, &shutdown).await;
        if round.as_ref().is_ok_and(|report| report.changed > 0) {
            changed.notify_one();
        }
        match round {
            Ok(report) if report.wanted > 0 || report.unknown > 0 => info!(
                listed = report.listed,
                wanted = report.wanted,
                changed = report.changed,
                unknown = report.unknown,
                "hosted bots reconciled with the ledger"
            ),
            Ok(report) => debug!(listed = report.listed, "hosted bots match the ledger"),
            Err(_) if shutdown.is_cancelled() => return Ok(()),
            Err(error) => {
                warn!(error = format!("{error:#}"), "reconciliation with the ledger failed; retrying next round")
            }
        }
    }
}

/// One round: compares the runs with the ledger's revisions and fetches what is missing,
/// outdated or no longer listed. Stops between requests once `shutdown` fires.
pub async fn once(pool: &PgPool, ledger: &Ledger, shutdown: &CancellationToken) -> anyhow::Result<Report> {
    let held = {
        let mut connection = pool.get().await?;
        runs::hosted_revisions(&mut connection).await?
    };
    let listed = listed_revisions(ledger, shutdown).await?;
    let mut wanted: Vec<BotId> = listed
        .iter()
        .filter(|(bot, revision)| held.get(bot).is_none_or(|run| run.revision < **revision))
        .map(|(bot, _)| *bot)
        .collect();
    wanted.extend(
        held.iter()
            .filter(|(bot, run)| run.desired != Desired::Deleted && !listed.contains_key(bot))
            .map(|(bot, _)| *bot),
    );
    wanted.sort_unstable();
    let mut report = Report { listed: listed.len(), wanted: wanted.len(), ..Report::default() };
    let endpoint = ledger.subjects.hosted_bot_definitions();
    for chunk in wanted.chunks(MAX_DEFINITIONS) {
        if shutdown.is_cancelled() {
            break;
        }
        let request = GetHostedBotDefinitions { bot_ids: chunk.to_vec() };
        let mut definitions = bus::request(&ledger.client, &endpoint, &request, ledger.timeout)
            .await
            .context("fetching hosted bot definitions from the ledger")?;
        // In bot order, like the consumer's batches: concurrent writers never deadlock.
        definitions.sort_by_key(|definition| (definition.bot_id, definition.revision));
        let mut connection = pool.get().await?;
        report.changed += connection
            .transaction::<_, diesel::result::Error, _>(async |tx| {
                let mut changed = 0;
                for definition in &definitions {
                    if runs::upsert_hosted(tx, definition).await? {
                        changed += 1;
                    }
                }
                Ok(changed)
            })
            .await?;
        for bot in chunk.iter().filter(|bot| !definitions.iter().any(|definition| definition.bot_id == **bot)) {
            warn!(bot.id = %bot, "the runner holds a hosted bot the ledger does not know; left as it is");
            report.unknown += 1;
        }
    }
    Ok(report)
}

/// Every live hosted bot's revision, paging the ledger's list to its end.
async fn listed_revisions(ledger: &Ledger, shutdown: &CancellationToken) -> anyhow::Result<BTreeMap<BotId, i64>> {
    let endpoint = ledger.subjects.hosted_bot_revisions();
    let mut listed = BTreeMap::new();
    let mut after = None;
    loop {
        anyhow::ensure!(!shutdown.is_cancelled(), "shutting down");
        let request = ListHostedBotRevisions { after, limit: REVISIONS_PAGE };
        let page = bus::request(&ledger.client, &endpoint, &request, ledger.timeout)
            .await
            .context("paging the ledger's hosted bot revisions")?;
        listed.extend(page.items.iter().map(|item| (item.bot_id, item.revision)));
        match page.next {
            // A cursor that does not move on would page forever.
            Some(next) if Some(next) != after => after = Some(next),
            _ => return Ok(listed),
        }
    }
}
