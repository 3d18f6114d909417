//! What the scenarios need in the ledger database before they start, written with SQL
//! because some routes that would create it are still being written: broker accounts whose
//! states are upserted, and fresh bot trades that receive participations and transactions.
//!
//! Each client gets its own rows, as concurrent bots would: the benchmark measures
//! throughput, not lock waits on one hot row.

use crate::direct::PgPool;
use anyhow::{Context, Result, bail};
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{BotId, BrokerAccountId, TradeId, UserId};
use std::collections::HashMap;
use std::time::Duration;

/// States per request (`POST /state` batches of 10).
pub const STATES_PER_REQUEST: usize = 10;

/// The broker of the benchmark's own accounts.
const BENCH_BROKER: &str = "LOADGEN";

/// A pool like the ledger's (`platform::db::pool`): `size` connections, bounded waits.
pub fn pool(database_url: &str, size: usize) -> Result<PgPool> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    PgPool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(2)))
        .create_timeout(Some(Duration::from_secs(2)))
        .recycle_timeout(Some(Duration::from_secs(2)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

#[derive(QueryableByName)]
struct AccountRow {
    #[diesel(sql_type = SqlUuid)]
    id: BrokerAccountId,
    #[diesel(sql_type = Text)]
    account_number: String,
}

/// [`STATES_PER_REQUEST`] broker accounts per client (created once, owned by `user_id`, reused
/// by later runs), so each client's batch names 10 distinct (account, ticker) pairs.
pub async fn state_accounts(pool: &PgPool, user_id: UserId, clients: usize) -> Result<Vec<Vec<BrokerAccountId>>> {
    let numbers: Vec<String> = (0..clients)
        .flat_map(|client| (0..STATES_PER_REQUEST).map(move |k| format!("LG-{client:04}-{k:02}")))
        .collect();
    let ids: Vec<BrokerAccountId> = numbers.iter().map(|_| BrokerAccountId::new()).collect();
    let mut connection = pool.get().await.context("connecting to the ledger database")?;
    sql_query(
        "INSERT INTO broker_accounts (id, user_id, broker, account_number) \
         SELECT u.id, $1, $2, u.number FROM unnest($3::uuid[], $4::text[]) AS u(id, number) \
         ON CONFLICT (broker, account_number) DO NOTHING",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(BENCH_BROKER)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&numbers)
    .execute(&mut connection)
    .await
    .context("creating the benchmark's broker accounts")?;
    let rows: Vec<AccountRow> =
        sql_query("SELECT id, account_number FROM broker_accounts WHERE broker = $1 AND account_number = ANY($2)")
            .bind::<Text, _>(BENCH_BROKER)
            .bind::<Array<Text>, _>(&numbers)
            .load(&mut connection)
            .await
            .context("reading the benchmark's broker accounts")?;
    let by_number: HashMap<String, BrokerAccountId> =
        rows.into_iter().map(|row| (row.account_number, row.id)).collect();
    let mut per_client = Vec::with_capacity(clients);
    for chunk in numbers.chunks(STATES_PER_REQUEST) {
        let accounts = chunk
            .iter()
            .map(|number| by_number.get(number).copied().with_context(|| format!("broker account {number} is missing")))
            .collect::<Result<Vec<_>>>()?;
        per_client.push(accounts);
    }
    Ok(per_client)
}

/// `count` new pending AAPL long trades of the bot, tagged with the run id and the path in
/// `metadata` (`{"loadgen": run, "path": ...}`) so the cleanup finds them.
pub async fn new_trades(pool: &PgPool, bot_id: BotId, count: usize, run_id: &str, path: &str) -> Result<Vec<TradeId>> {
    let ids: Vec<TradeId> = (0..count).map(|_| TradeId::new()).collect();
    let metadata = serde_json::json!({ "loadgen": run_id, "path": path }).to_string();
    let mut connection = pool.get().await.context("connecting to the ledger database")?;
    let inserted = sql_query(
        "INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at, metadata) \
         SELECT u.id, $1, 'AAPL', 'long', 'pending', now(), $2::jsonb FROM unnest($3::uuid[]) AS u(id)",
    )
    .bind::<SqlUuid, _>(bot_id)
    .bind::<Text, _>(&metadata)
    .bind::<Array<SqlUuid>, _>(&ids)
    .execute(&mut connection)
    .await
    .context("creating the benchmark's bot trades")?;
    if inserted != count {
        bail!("created {inserted} of {count} bot trades");
    }
    Ok(ids)
}

/// Deletes every trade the benchmark created (any run) with its participations and
/// transactions. Returns the number of trades deleted.
pub async fn cleanup(pool: &PgPool) -> Result<usize> {
    let mut connection = pool.get().await.context("connecting to the ledger database")?;
    const BENCH_TRADES: &str = "SELECT id FROM bot_trades WHERE metadata::jsonb ? 'loadgen'";
    for table in ["participations", "transactions"] {
        sql_query(format!("DELETE FROM {table} WHERE bot_trade_id IN ({BENCH_TRADES})"))
            .execute(&mut connection)
            .await
            .with_context(|| format!("deleting the benchmark's {table}"))?;
    }
    sql_query("DELETE FROM bot_trades WHERE metadata::jsonb ? 'loadgen'")
        .execute(&mut connection)
        .await
        .context("deleting the benchmark's bot trades")
}

/// The tables the scenarios write, vacuumed before each run.
const WRITTEN_TABLES: &str = "outbox, user_bot_states, bot_trades, participations, transactions";

/// `VACUUM (ANALYZE)` of the tables the scenarios write, so every run starts from the same
/// state: where autovacuum is off (the CI cluster's `conf.d/90-ci.conf`), dead rows left by
/// earlier runs (states rewritten, outbox rows marked published) slow later ones down.
pub async fn vacuum(pool: &PgPool) -> Result<()> {
    let mut connection = pool.get().await.context("connecting to the ledger database")?;
    sql_query(format!("VACUUM (ANALYZE) {WRITTEN_TABLES}"))
        .execute(&mut connection)
        .await
        .with_context(|| format!("VACUUM (ANALYZE) {WRITTEN_TABLES}"))?;
    Ok(())
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// Events in the ledger's outbox that its relay has not published yet.
pub async fn outbox_backlog(pool: &PgPool) -> Result<u64> {
    let mut connection = pool.get().await.context("connecting to the ledger database")?;
    let row: CountRow = sql_query("SELECT count(*) AS count FROM outbox WHERE published_at IS NULL")
        .get_result(&mut connection)
        .await
        .context("counting the outbox backlog")?;
    Ok(u64::try_from(row.count).unwrap_or(0))
}

/// Waits until the relay has published every outbox event, so a run does not pay for the
/// previous run's events. Returns how long it waited, or an error after `limit`.
pub async fn wait_outbox_drained(pool: &PgPool, limit: Duration) -> Result<Duration> {
    let start = std::time::Instant::now();
    loop {
        let backlog = outbox_backlog(pool).await?;
        if backlog == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!(
                "the ledger's outbox still holds {backlog} unpublished events after {limit:?}: is its relay running?"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
