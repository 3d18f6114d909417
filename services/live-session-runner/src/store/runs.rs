//! Runs: one per hosted bot (kind `hosted`) today, one per strategy session later. A hosted
//! bot's row is written only by [`upsert_hosted`], which keeps the newest revision the ledger
//! has shown: an older or equal one changes nothing, whoever brings it (the consumer, the
//! reconciliation) and in whatever order.

use super::schema::runs;
use bus::messages::hosted::{Desired, HostedBotChanged};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, LiveRunId, PartnerId, UserId};
use std::collections::BTreeMap;

/// `kind` of a hosted bot's run.
pub const HOSTED: &str = "hosted";

/// The Postgres channel notified when a run's definition or desired state changed: every
/// replica listens, so the one holding the run acts at once (the consumer that applied the
/// change may run on another).
pub const RUNS_CHANGED: &str = "runs_changed";

/// `desired` as the table spells it.
pub fn desired_name(desired: Desired) -> &'static str {
    match desired {
        Desired::Running => "running",
        Desired::Stopped => "stopped",
        Desired::Deleted => "deleted",
    }
}

/// The desired state a `desired` column holds (`None` for a value the table's check refuses).
pub fn parse_desired(name: &str) -> Option<Desired> {
    match name {
        "running" => Some(Desired::Running),
        "stopped" => Some(Desired::Stopped),
        "deleted" => Some(Desired::Deleted),
        _ => None,
    }
}

/// Applies a hosted bot's definition and desired state at its revision: creates the bot's run,
/// or updates it when `changed.revision` is newer than the stored one. Returns whether the row
/// changed (`false`: the run already holds this revision or a newer one).
///
/// One statement, so two writers of the same bot (the consumer on two replicas, the
/// reconciliation) cannot interleave: the second waits for the first's row and compares with
/// what the first wrote. A change notifies [`RUNS_CHANGED`]. The settings are stored as the ledger sent them (the JSON text cast to
/// `jsonb`), so their numbers stay exact. Only the ledger's fields change: the state, lease and
/// checkpoint are the runner's own.
pub async fn upsert_hosted(connection: &mut AsyncPgConnection, changed: &HostedBotChanged) -> QueryResult<bool> {
    let market = serde_json::to_string(&changed.market)
        .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
    let written = diesel::sql_query(
        "INSERT INTO runs (id, kind, bot_id, partner_id, user_id, revision, desired, script_type, settings, \
                           market, exchange_id) \
         VALUES ($1, 'hosted', $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10) \
         ON CONFLICT (bot_id) WHERE kind = 'hosted' DO UPDATE SET \
             partner_id = EXCLUDED.partner_id, user_id = EXCLUDED.user_id, revision = EXCLUDED.revision, \
             desired = EXCLUDED.desired, script_type = EXCLUDED.script_type, settings = EXCLUDED.settings, \
             market = EXCLUDED.market, exchange_id = EXCLUDED.exchange_id, updated_at = now() \
         WHERE runs.revision < EXCLUDED.revision",
    )
    .bind::<SqlUuid, _>(LiveRunId::new())
    .bind::<SqlUuid, _>(changed.bot_id)
    .bind::<SqlUuid, _>(changed.partner_id)
    .bind::<SqlUuid, _>(changed.user_id)
    .bind::<BigInt, _>(changed.revision)
    .bind::<Text, _>(desired_name(changed.desired))
    .bind::<Text, _>(&changed.script_type)
    .bind::<Text, _>(changed.settings.get())
    .bind::<Text, _>(market)
    .bind::<Text, _>(&changed.exchange_id)
    .execute(connection)
    .await?;
    if written == 1 {
        // Delivered when (and only if) the surrounding transaction commits.
        diesel::sql_query(format!("NOTIFY {RUNS_CHANGED}")).execute(connection).await?;
    }
    Ok(written == 1)
}

/// What the runner holds of a hosted bot: the revision and the desired state it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldRevision {
    /// The ledger's revision of the definition the run holds.
    pub revision: i64,
    /// What the runner must make of it.
    pub desired: Desired,
}

/// The revision and desired state of every hosted bot's run, by bot: what the reconciliation
/// compares with the ledger's list.
pub async fn hosted_revisions(connection: &mut AsyncPgConnection) -> QueryResult<BTreeMap<BotId, HeldRevision>> {
    let rows: Vec<(BotId, i64, String)> = runs::table
        .filter(runs::kind.eq(HOSTED))
        .select((runs::bot_id, runs::revision, runs::desired))
        .load(connection)
        .await?;
    rows.into_iter()
        .map(|(bot, revision, desired)| {
            let desired = parse_desired(&desired).ok_or_else(|| {
                diesel::result::Error::DeserializationError(format!("runs.desired {desired:?}").into())
            })?;
            Ok((bot, HeldRevision { revision, desired }))
        })
        .collect()
}

/// A hosted bot's run as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = runs, check_for_backend(diesel::pg::Pg))]
pub struct HostedRun {
    /// The run.
    pub id: LiveRunId,
    /// The bot.
    pub bot_id: BotId,
    /// Its partner (always set for a hosted bot).
    pub partner_id: Option<PartnerId>,
    /// Its owner.
    pub user_id: UserId,
    /// The ledger's revision of the definition held.
    pub revision: i64,
    /// `running`, `stopped` or `deleted`: what the runner must make of it.
    pub desired: String,
    /// What the runner has made of it.
    pub state: String,
    /// The script type.
    pub script_type: String,
    /// The canonical settings.
    pub settings: serde_json::Value,
    /// The market, with the engine's `MarketSpec` field names.
    pub market: serde_json::Value,
    /// The exchange.
    pub exchange_id: String,
    /// When the run was created.
    pub created_at: DateTime<Utc>,
    /// When its definition last changed.
    pub updated_at: DateTime<Utc>,
}

/// The run of hosted bot `bot`, if the runner holds one.
pub async fn find_hosted(connection: &mut AsyncPgConnection, bot: BotId) -> QueryResult<Option<HostedRun>> {
    runs::table
        .filter(runs::kind.eq(HOSTED))
        .filter(runs::bot_id.eq(bot))
        .select(HostedRun::as_select())
        .first(connection)
        .await
        .optional()
}
