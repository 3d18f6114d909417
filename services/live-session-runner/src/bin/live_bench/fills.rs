//! Fill → ledger (`--ledger`): how long a fill the runner recorded takes to be applied by the
//! ledger. Both ends are read from Postgres, so both are stamped by the same server's clock:
//!
//! ```text
//!  runner's fenced commit: outbox row of fill_recorded, created_at = now() (its transaction's start)
//!    ─► commit ─► outbox relay publishes ─► JetStream ─► ledger_live_events pulls a batch
//!    ─► ledger's transaction: processed_messages row, processed_at = now() (its start) ─► commit
//! ```
//!
//! `processed_at − created_at` therefore covers the runner's commit, the relay's publish,
//! JetStream and the consumer's pull and batching, and not the ledger's own commit.

use anyhow::Context as _;
use bus::Subjects;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::EventId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The ledger's consumer of the runner's events, as its inbox names it.
pub const CONSUMER: &str = bus::consumers::LEDGER_LIVE_EVENTS.durable;
/// How often the ledger's inbox is counted while waiting.
const POLL: Duration = Duration::from_millis(250);

/// One fill, stamped at both ends (µs since the epoch, Postgres' clock).
#[derive(Clone, Copy, Debug)]
pub struct Fill {
    /// The start of the runner's commit that recorded it.
    pub recorded_us: i64,
    /// The start of the ledger's transaction that applied it.
    pub applied_us: i64,
}

impl Fill {
    /// Recorded → applied; a negative span (impossible on one clock) counts as zero.
    pub fn latency(&self) -> Duration {
        Duration::from_micros(u64::try_from(self.applied_us - self.recorded_us).unwrap_or(0))
    }
}

/// Every fill the runner recorded, each applied by the ledger.
pub struct FillsToLedger {
    /// The fills, in no particular order.
    pub fills: Vec<Fill>,
    /// What the ledger holds now.
    pub records: LedgerRecords,
}

impl FillsToLedger {
    /// The fills the runner recorded from `from_us` (inclusive) to `to_us`.
    pub fn recorded_between(&self, from_us: i64, to_us: i64) -> Vec<Fill> {
        self.fills.iter().filter(|fill| (from_us..to_us).contains(&fill.recorded_us)).copied().collect()
    }
}

/// The ledger's records of the runner's fills: a bot trade per position, a transaction per
/// fill.
#[derive(Clone, Copy, Debug, QueryableByName)]
pub struct LedgerRecords {
    /// Hosted bots' trades.
    #[diesel(sql_type = BigInt)]
    pub trades: i64,
    /// Their transactions.
    #[diesel(sql_type = BigInt)]
    pub transactions: i64,
}

/// Waits until the ledger applied every fill the runner recorded so far (a fill recorded
/// meanwhile is waited for too), then answers them all, paired by event id. While waiting it
/// only counts rows, so that it does not slow the ledger it waits for.
pub async fn wait_applied(
    runner: &mut AsyncPgConnection,
    ledger: &mut AsyncPgConnection,
    subjects: &Subjects,
    patience: Duration,
) -> anyhow::Result<FillsToLedger> {
    let subject = subjects.fill_recorded().subject().to_string();
    let deadline = Instant::now() + patience;
    loop {
        // The inbox counts the runner's stops too: a count that is high enough is checked
        // event by event.
        let (recorded, applied) = (count_recorded(runner, &subject).await?, count_applied(ledger).await?);
        if applied >= recorded {
            let (recorded, applied) = (recorded_fills(runner, &subject).await?, applied_events(ledger).await?);
            let fills: Vec<Fill> = recorded
                .iter()
                .filter_map(|(id, recorded_us)| Some(Fill { recorded_us: *recorded_us, applied_us: *applied.get(id)? }))
                .collect();
            if fills.len() == recorded.len() {
                return Ok(FillsToLedger { fills, records: records(ledger).await? });
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the ledger applied only {applied} of the {recorded} fills the runner recorded within {patience:?} \
             (its log is above, each line prefixed `ledger:`)"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// An event and when one side stamped it, µs since the epoch.
#[derive(QueryableByName)]
struct Stamped {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: EventId,
    #[diesel(sql_type = BigInt)]
    at_us: i64,
}

/// A count.
#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// How many `fill_recorded` events the runner's outbox holds (published or not).
async fn count_recorded(runner: &mut AsyncPgConnection, subject: &str) -> anyhow::Result<i64> {
    let counted: Count = diesel::sql_query("SELECT count(*) AS count FROM outbox WHERE subject = $1")
        .bind::<Text, _>(subject)
        .get_result(runner)
        .await
        .context("counting the runner's fill events")?;
    Ok(counted.count)
}

/// How many of the runner's events (fills and stops) the ledger's consumer applied.
async fn count_applied(ledger: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    let counted: Count = diesel::sql_query("SELECT count(*) AS count FROM processed_messages WHERE consumer = $1")
        .bind::<Text, _>(CONSUMER)
        .get_result(ledger)
        .await
        .context("counting the ledger's inbox")?;
    Ok(counted.count)
}

/// The runner's `fill_recorded` events and when their commits began.
async fn recorded_fills(runner: &mut AsyncPgConnection, subject: &str) -> anyhow::Result<Vec<(EventId, i64)>> {
    let rows: Vec<Stamped> = diesel::sql_query(
        "SELECT id, (extract(epoch FROM created_at) * 1e6)::bigint AS at_us FROM outbox WHERE subject = $1",
    )
    .bind::<Text, _>(subject)
    .load(runner)
    .await
    .context("reading the runner's fill events")?;
    Ok(rows.into_iter().map(|row| (row.id, row.at_us)).collect())
}

/// The events the ledger's consumer applied and when their transactions began, by id.
async fn applied_events(ledger: &mut AsyncPgConnection) -> anyhow::Result<HashMap<EventId, i64>> {
    let rows: Vec<Stamped> = diesel::sql_query(
        "SELECT event_id AS id, (extract(epoch FROM processed_at) * 1e6)::bigint AS at_us \
         FROM processed_messages WHERE consumer = $1",
    )
    .bind::<Text, _>(CONSUMER)
    .load(ledger)
    .await
    .context("reading the ledger's inbox")?;
    Ok(rows.into_iter().map(|row| (row.id, row.at_us)).collect())
}

/// Counts the ledger's bot trades and transactions (the scratch ledger holds no others).
async fn records(ledger: &mut AsyncPgConnection) -> anyhow::Result<LedgerRecords> {
    diesel::sql_query(
        "SELECT (SELECT count(*) FROM bot_trades) AS trades, (SELECT count(*) FROM transactions) AS transactions",
    )
    .get_result(ledger)
    .await
    .context("counting the ledger's trades")
}
