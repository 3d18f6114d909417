//! The runner's hold on its runs (a lease per run, `crates/lease`) and the one fenced
//! transaction in which what a run's engine did is written with its checkpoint.
//!
//! ```text
//!  claim    free runs that need an owner ─► this replica, with a fresh token (committed at once)
//!  renew    every third of the lease: still ours? and the definition each holds now
//!  commit   per batch of runs, one transaction: runs (state, checkpoint, log count) fenced by
//!           token ─► only for runs whose fence held: orders, positions, fills, log lines
//!  purge    a deleted bot: its orders, positions, fills and log lines, fenced like a commit
//! ```
//!
//! A run "needs an owner" while it should trade (`desired = 'running'`) or while a stop or a
//! delete is not finished (`state <> desired`): a run whose replica died mid-stop is taken
//! over, so its orders are still cancelled. Zero rows from a fenced statement means another
//! replica holds the run now: the caller drops it at once.

use super::schema::{run_fills, run_log_lines, run_orders, run_positions, runs};
use super::signals::{self, ReceiptRow};
use bus::messages::live::{BotStopped, FillRecorded};
use bus::{Subjects, Topic};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Bytea, Double, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::{BotId, EventId, LiveRunId};
use lease::{Claim, Claiming, LeaseTable, Token};
use std::collections::HashSet;
use std::time::Duration;

/// The runs table as a leased table: a run can be held while it needs an owner.
pub static RUNS: LeaseTable = LeaseTable {
    table: "runs",
    id: "id",
    token: "lease_token",
    tokens: "runs_lease_tokens",
    expiry: "lease_until",
    unfinished: "desired = 'running' OR state <> desired",
};

/// Runs are claimed in id order, except a revision the runner could not run (it waits for a
/// newer one); the claimer's name is written with the claim (`$3`).
const CLAIMING: Claiming =
    Claiming { due: "failed_revision IS DISTINCT FROM revision", order_by: "id", also_set: "lease_owner = $3" };

/// The format of `runs.checkpoint`: the engine's `EngineState` as JSON.
pub const CHECKPOINT_FORMAT: i32 = 1;

/// A run just claimed: everything needed to rebuild its engine.
#[derive(QueryableByName, Debug, Clone)]
pub struct ClaimedRun {
    /// The run.
    #[diesel(sql_type = SqlUuid)]
    pub id: LiveRunId,
    /// The claim's token.
    #[diesel(sql_type = BigInt)]
    pub lease_token: i64,
    /// The hosted bot.
    #[diesel(sql_type = SqlUuid)]
    pub bot_id: BotId,
    /// The ledger's revision of the definition.
    #[diesel(sql_type = BigInt)]
    pub revision: i64,
    /// `running`, `stopped` or `deleted`.
    #[diesel(sql_type = Text)]
    pub desired: String,
    /// What the runner made of it so far.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// The script type.
    #[diesel(sql_type = Text)]
    pub script_type: String,
    /// The canonical settings, as the ledger sent them.
    #[diesel(sql_type = Text)]
    pub settings: String,
    /// The market (the engine's `MarketSpec`), JSON.
    #[diesel(sql_type = Text)]
    pub market: String,
    /// The engine's state after the last committed input.
    #[diesel(sql_type = Nullable<Bytea>)]
    pub checkpoint: Option<Vec<u8>>,
    /// Its format.
    #[diesel(sql_type = Nullable<Int4>)]
    pub checkpoint_format: Option<i32>,
    /// Log lines written so far.
    #[diesel(sql_type = BigInt)]
    pub next_log_line: i64,
    /// The time of the last quote the committed engine saw.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub last_quote_ms: Option<i64>,
    /// When the runner first heard of the bot.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The revision whose settings the checkpointed engine was given (applied or refused).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub applied_revision: Option<i64>,
    /// When its saved engine could not be read and was given up on: it never trades again.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub checkpoint_abandoned_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ClaimedRun {
    /// The claim, which every write names.
    pub fn claim(&self) -> Claim {
        Claim { id: *self.id.as_uuid(), token: Token::from(self.lease_token) }
    }
}

/// Claims up to `limit` runs that need an owner and are free, for `lease`, as `owner`.
pub async fn claim(
    connection: &mut AsyncPgConnection,
    owner: &str,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<ClaimedRun>> {
    const RETURNING: &str = "id, lease_token, bot_id, revision, desired, state, script_type, \
                             settings::text AS settings, market::text AS market, checkpoint, checkpoint_format, \
                             next_log_line, last_quote_ms, created_at, applied_revision, \
                             checkpoint_abandoned_at";
    RUNS.claim_query(&CLAIMING, RETURNING, lease, limit).bind::<Text, _>(owner.to_string()).load(connection).await
}

/// A held run's definition as the renewal found it.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct HeldDefinition {
    /// The run.
    #[diesel(sql_type = SqlUuid)]
    pub id: LiveRunId,
    /// The ledger's revision the row holds now.
    #[diesel(sql_type = BigInt)]
    pub revision: i64,
    /// What the runner must make of it.
    #[diesel(sql_type = Text)]
    pub desired: String,
    /// The canonical settings of that revision.
    #[diesel(sql_type = Text)]
    pub settings: String,
}

/// Extends the leases of `held` (each claim with the revision its holder applied) to `lease`
/// from now. Returns every run still held with the revision and desired state its row holds,
/// and its settings when that revision is newer than the holder's (`""` otherwise: thousands
/// of runs renew every few seconds, their settings only matter when they changed). A run
/// missing from the answer was taken over or finished: drop it. Rows are locked in id order,
/// as the commit locks them, so the two never deadlock.
pub async fn renew(
    connection: &mut AsyncPgConnection,
    held: &[(Claim, i64)],
    lease: Duration,
) -> QueryResult<Vec<HeldDefinition>> {
    if held.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "WITH h AS (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS h(id, token, known)), \
              locked AS (SELECT r.id, h.known FROM runs r JOIN h ON r.id = h.id AND r.lease_token = h.token \
                         WHERE r.desired = 'running' OR r.state <> r.desired \
                         ORDER BY r.id FOR UPDATE OF r) \
         UPDATE runs SET lease_until = now() + make_interval(secs => $4) \
         FROM locked WHERE runs.id = locked.id \
         RETURNING runs.id, runs.revision, runs.desired, \
                   CASE WHEN runs.revision > locked.known THEN runs.settings::text ELSE '' END AS settings",
    )
    .bind::<Array<SqlUuid>, _>(held.iter().map(|(claim, _)| claim.id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(held.iter().map(|(claim, _)| claim.token).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(held.iter().map(|(_, known)| *known).collect::<Vec<_>>())
    .bind::<Double, _>(lease.as_secs_f64())
    .load(connection)
    .await
}

/// Gives runs back at once (a graceful stop), so another replica takes them without waiting
/// for their leases to run out. Returns how many were still held.
pub async fn release(connection: &mut AsyncPgConnection, held: &[Claim]) -> QueryResult<usize> {
    RUNS.release_many(connection, held).await
}

/// What the runner has made of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Its engine trades.
    Running,
    /// Its orders are cancelled; wallet and positions kept.
    Stopped,
    /// Its rows are purged.
    Deleted,
}

impl RunState {
    /// As the table spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Deleted => "deleted",
        }
    }

    /// From the table's spelling (`None` for a value its check refuses).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "running" => Some(Self::Running),
            "stopped" => Some(Self::Stopped),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

/// An order as of its last event in the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRow {
    /// The engine's id.
    pub order_id: i64,
    /// `OPEN`, `FILLED` or `CANCELLED`.
    pub status: &'static str,
    /// Placement, Unix seconds.
    pub placed_at: i64,
    /// The engine's order object, JSON.
    pub body: String,
}

/// A position as of its last event in the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct PositionRow {
    /// The engine's id.
    pub position_id: i64,
    /// The id the API shows (`crate::ids::runtime_id`).
    pub public_id: String,
    /// `OPEN` or `CLOSED`.
    pub status: &'static str,
    /// Unix seconds, once closed.
    pub close_time: Option<i64>,
    /// The engine's position object, JSON.
    pub body: String,
}

/// One fill.
#[derive(Clone, Debug, PartialEq)]
pub struct FillRow {
    /// The engine's event sequence number.
    pub seq: i64,
    /// The order filled.
    pub order_id: i64,
    /// The position it went to.
    pub position_id: i64,
    /// The engine's fill object, JSON.
    pub body: String,
}

/// One log line, numbered.
#[derive(Clone, Debug, PartialEq)]
pub struct LineRow {
    /// From 1, without gaps.
    pub line_number: i64,
    /// Unix seconds.
    pub time: i64,
    /// `info`, `trade`, `warning`, `error` or `custom`.
    pub severity: &'static str,
    /// The message.
    pub message: String,
}

/// Everything one run's inputs since its last write did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    /// Orders placed, cancelled or filled (one row per order, its last state).
    pub orders: Vec<OrderRow>,
    /// Positions opened, changed or closed (one row per position, its last state).
    pub positions: Vec<PositionRow>,
    /// Fills.
    pub fills: Vec<FillRow>,
    /// Log lines.
    pub lines: Vec<LineRow>,
    /// What became of the signals delivered to the run (their receipts, pending until now).
    pub receipts: Vec<ReceiptRow>,
}

impl Effects {
    /// Whether there is nothing to write besides the run's row.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.positions.is_empty()
            && self.fills.is_empty()
            && self.lines.is_empty()
            && self.receipts.is_empty()
    }
}

/// One run's write: its row and its effects.
#[derive(Clone, Debug)]
pub struct RunWrite {
    /// The run and the claim it is held by.
    pub held: Claim,
    /// What the runner has made of it.
    pub state: RunState,
    /// The engine's state after the inputs (`None`: keep the stored one).
    pub checkpoint: Option<Vec<u8>>,
    /// Log lines written once this commits.
    pub next_log_line: i64,
    /// The time of the last quote the engine saw.
    pub last_quote_ms: Option<i64>,
    /// The revision whose settings the engine was given.
    pub applied_revision: i64,
    /// A revision that cannot run: not claimed again until a newer one.
    pub failed_revision: Option<i64>,
    /// Give the run back with this write (it needs no owner any more).
    pub release: bool,
    /// The saved engine cannot be restored: forget the checkpoint, cancel the open orders it
    /// held, and mark the run as one that never trades again (`checkpoint_abandoned_at`).
    pub abandon: bool,
    /// What the engine did.
    pub effects: Effects,
    /// Events for the ledger, written to the outbox in the same transaction.
    pub events: LiveEvents,
}

/// A run's events for the ledger (LIVE.md §1.3, §1.4).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveEvents {
    /// Its fills, in order.
    pub fills: Vec<FillRecorded>,
    /// The bot stopped itself, or cannot run.
    pub stopped: Option<BotStopped>,
}

/// Writes a batch of runs in one transaction: each run's row only while its claim holds (rows
/// locked in id order), and the effects and outbox events of those runs only. Returns the runs
/// whose claim held (the others were taken over: nothing of theirs is written, and the caller
/// drops them).
pub async fn commit(
    connection: &mut AsyncPgConnection,
    subjects: &Subjects,
    writes: &[RunWrite],
) -> QueryResult<HashSet<LiveRunId>> {
    if writes.is_empty() {
        return Ok(HashSet::new());
    }
    connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let applied: HashSet<LiveRunId> = fence(tx, writes).await?.into_iter().collect();
            let kept: Vec<&RunWrite> =
                writes.iter().filter(|w| applied.contains(&LiveRunId::from_uuid(w.held.id))).collect();
            cancel_abandoned_orders(tx, &kept).await?;
            write_orders(tx, &kept).await?;
            write_positions(tx, &kept).await?;
            write_fills(tx, &kept).await?;
            write_lines(tx, &kept).await?;
            let receipts: Vec<&ReceiptRow> = kept.iter().flat_map(|w| &w.effects.receipts).collect();
            signals::record(tx, &receipts).await?;
            let fills: Vec<&FillRecorded> = kept.iter().flat_map(|w| &w.events.fills).collect();
            enqueue_refs(tx, &subjects.fill_recorded(), &fills).await?;
            let stops: Vec<&BotStopped> = kept.iter().filter_map(|w| w.events.stopped.as_ref()).collect();
            enqueue_refs(tx, &subjects.bot_stopped(), &stops).await?;
            Ok(applied)
        })
        .await
}

/// Writes events to the outbox, in the caller's transaction.
async fn enqueue_refs<T: serde::Serialize>(
    tx: &mut AsyncPgConnection,
    topic: &Topic<T>,
    items: &[&T],
) -> QueryResult<()> {
    let events: Vec<(EventId, &T)> = items.iter().map(|item| (EventId::new(), *item)).collect();
    outbox::enqueue_with_ids(tx, topic, &events).await
}

/// The runs' rows, each only while its claim holds and the run needs an owner.
async fn fence(tx: &mut AsyncPgConnection, writes: &[RunWrite]) -> QueryResult<Vec<LiveRunId>> {
    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = SqlUuid)]
        id: LiveRunId,
    }
    let rows: Vec<Applied> = diesel::sql_query(
        "WITH w AS (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[], $5::bigint[], \
                                         $6::bigint[], $7::bool[], $8::bigint[], $9::bigint[], $10::bool[]) \
                    AS w(id, token, state, checkpoint, next_line, last_quote_ms, release, failed_revision, \
                         applied_revision, abandon)), \
              locked AS (SELECT r.id FROM runs r JOIN w ON r.id = w.id ORDER BY r.id FOR UPDATE OF r) \
         UPDATE runs AS r SET \
             state = w.state, \
             checkpoint = CASE WHEN w.abandon THEN NULL ELSE COALESCE(w.checkpoint, r.checkpoint) END, \
             checkpoint_format = CASE WHEN w.abandon THEN NULL WHEN w.checkpoint IS NULL THEN r.checkpoint_format \
                                      ELSE $11 END, \
             checkpoint_at = CASE WHEN w.abandon THEN NULL WHEN w.checkpoint IS NULL THEN r.checkpoint_at \
                                  ELSE now() END, \
             checkpoint_abandoned_at = CASE WHEN w.abandon THEN now() ELSE r.checkpoint_abandoned_at END, \
             next_log_line = w.next_line, \
             last_quote_ms = COALESCE(w.last_quote_ms, r.last_quote_ms), \
             failed_revision = COALESCE(w.failed_revision, r.failed_revision), \
             applied_revision = w.applied_revision, \
             lease_owner = CASE WHEN w.release THEN NULL ELSE r.lease_owner END, \
             lease_token = CASE WHEN w.release THEN NULL ELSE r.lease_token END, \
             lease_until = CASE WHEN w.release THEN NULL ELSE r.lease_until END \
         FROM w \
         WHERE r.id = w.id AND r.id IN (SELECT id FROM locked) AND r.lease_token = w.token \
           AND (r.desired = 'running' OR r.state <> r.desired) \
         RETURNING r.id",
    )
    .bind::<Array<SqlUuid>, _>(writes.iter().map(|w| w.held.id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(writes.iter().map(|w| w.held.token).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(writes.iter().map(|w| w.state.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Bytea>>, _>(writes.iter().map(|w| w.checkpoint.as_deref()).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(writes.iter().map(|w| w.next_log_line).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(writes.iter().map(|w| w.last_quote_ms).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(writes.iter().map(|w| w.release).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(writes.iter().map(|w| w.failed_revision).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(writes.iter().map(|w| w.applied_revision).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(writes.iter().map(|w| w.abandon).collect::<Vec<_>>())
    .bind::<Int4, _>(CHECKPOINT_FORMAT)
    .load(tx)
    .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// The open orders of runs whose saved engine was abandoned: nothing can fill them any more.
async fn cancel_abandoned_orders(tx: &mut AsyncPgConnection, writes: &[&RunWrite]) -> QueryResult<()> {
    let abandoned: Vec<uuid::Uuid> = writes.iter().filter(|w| w.abandon).map(|w| w.held.id).collect();
    if abandoned.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE run_orders SET status = 'CANCELLED', body = jsonb_set(body, '{status}', '\"CANCELLED\"') \
         WHERE run_id = ANY($1) AND status = 'OPEN'",
    )
    .bind::<Array<SqlUuid>, _>(abandoned)
    .execute(tx)
    .await
    .map(drop)
}

async fn write_orders(tx: &mut AsyncPgConnection, writes: &[&RunWrite]) -> QueryResult<()> {
    let rows: Vec<(uuid::Uuid, &OrderRow)> =
        writes.iter().flat_map(|w| w.effects.orders.iter().map(move |row| (w.held.id, row))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO run_orders (run_id, order_id, status, placed_at, body) \
         SELECT run_id, order_id, status, placed_at, body::jsonb \
         FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bigint[], $5::text[]) \
              AS t(run_id, order_id, status, placed_at, body) \
         ON CONFLICT (run_id, order_id) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|(run, _)| *run).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.order_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.status).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.placed_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.body.as_str()).collect::<Vec<_>>())
    .execute(tx)
    .await
    .map(drop)
}

async fn write_positions(tx: &mut AsyncPgConnection, writes: &[&RunWrite]) -> QueryResult<()> {
    let rows: Vec<(uuid::Uuid, &PositionRow)> =
        writes.iter().flat_map(|w| w.effects.positions.iter().map(move |row| (w.held.id, row))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO run_positions (run_id, position_id, public_id, status, close_time, body) \
         SELECT run_id, position_id, public_id, status, close_time, body::jsonb \
         FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) \
              AS t(run_id, position_id, public_id, status, close_time, body) \
         ON CONFLICT (run_id, position_id) DO UPDATE \
             SET status = EXCLUDED.status, close_time = EXCLUDED.close_time, body = EXCLUDED.body",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|(run, _)| *run).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.position_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.public_id.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.status).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|(_, row)| row.close_time).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.body.as_str()).collect::<Vec<_>>())
    .execute(tx)
    .await
    .map(drop)
}

async fn write_fills(tx: &mut AsyncPgConnection, writes: &[&RunWrite]) -> QueryResult<()> {
    let rows: Vec<(uuid::Uuid, &FillRow)> =
        writes.iter().flat_map(|w| w.effects.fills.iter().map(move |row| (w.held.id, row))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO run_fills (run_id, seq, order_id, position_id, body) \
         SELECT run_id, seq, order_id, position_id, body::jsonb \
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) \
              AS t(run_id, seq, order_id, position_id, body)",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|(run, _)| *run).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.seq).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.order_id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.position_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.body.as_str()).collect::<Vec<_>>())
    .execute(tx)
    .await
    .map(drop)
}

async fn write_lines(tx: &mut AsyncPgConnection, writes: &[&RunWrite]) -> QueryResult<()> {
    let rows: Vec<(uuid::Uuid, &LineRow)> =
        writes.iter().flat_map(|w| w.effects.lines.iter().map(move |row| (w.held.id, row))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO run_log_lines (run_id, line_number, time, severity, message) \
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|(run, _)| *run).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.line_number).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|(_, row)| row.time).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.severity).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|(_, row)| row.message.as_str()).collect::<Vec<_>>())
    .execute(tx)
    .await
    .map(drop)
}

/// Purges a deleted bot's run: its orders, positions, fills and log lines go, and the row
/// stays as a tombstone (state `deleted`, no checkpoint, no holder) so that a late event of an
/// older revision cannot bring the bot back. Fenced: `false` if the claim no longer holds
/// (nothing is deleted then).
pub async fn purge(connection: &mut AsyncPgConnection, held: Claim) -> QueryResult<bool> {
    let run = LiveRunId::from_uuid(held.id);
    connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            let fenced = RUNS
                .fenced_update(
                    "state = 'deleted', checkpoint = NULL, checkpoint_format = NULL, checkpoint_at = NULL, \
                     lease_owner = NULL, lease_token = NULL, lease_until = NULL",
                    held,
                )
                .execute(tx)
                .await?;
            if fenced == 0 {
                return Ok(false);
            }
            diesel::delete(run_orders::table.filter(run_orders::run_id.eq(run))).execute(tx).await?;
            diesel::delete(run_positions::table.filter(run_positions::run_id.eq(run))).execute(tx).await?;
            diesel::delete(run_fills::table.filter(run_fills::run_id.eq(run))).execute(tx).await?;
            diesel::delete(run_log_lines::table.filter(run_log_lines::run_id.eq(run))).execute(tx).await?;
            Ok(true)
        })
        .await
}

/// The runs one replica holds right now, by its name (tests, and the runner's own checks).
pub async fn held_by(connection: &mut AsyncPgConnection, owner: &str) -> QueryResult<Vec<LiveRunId>> {
    runs::table
        .filter(runs::lease_owner.eq(owner))
        .filter(runs::lease_until.gt(diesel::dsl::now))
        .select(runs::id)
        .order(runs::id)
        .load(connection)
        .await
}
