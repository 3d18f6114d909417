//! The benchmark's own corner of Postgres and NATS (a scratch database, a random subject
//! prefix, both removed at the end) and the hosted bots it seeds: half spot grids, half DCA
//! bots, alternating between the two SIM markets, with settings that trade on the candle
//! files' prices.

use anyhow::Context as _;
use bus::messages::hosted::{Desired, HostedBotChanged, MarketSpecMsg};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::{BotId, PartnerId, ServiceName, UserId};
use live_session_runner::MIGRATIONS;
use live_session_runner::store::runs;
use rust_decimal::Decimal;
use serde_json::value::RawValue;

/// A database made for one benchmark run.
pub struct Scratch {
    /// The server, `postgres://user:pass@host:port`.
    base: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl Scratch {
    /// Creates `live_bench_<random>` on the server of `base` (`postgres://user:pass@host:port`)
    /// and applies the runner's migrations.
    pub async fn create(base: &str) -> anyhow::Result<Self> {
        let name = format!("live_bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let scratch = Self::empty(base.trim_end_matches('/'), name).await?;
        platform::db::run_pending(&scratch.url, MIGRATIONS).await.context("migrating the scratch database")?;
        Ok(scratch)
    }

    /// An empty database beside this one, `<its name>_<suffix>`, for another service that
    /// migrates its own (the ledger's, with `--ledger`).
    pub async fn sibling(&self, suffix: &str) -> anyhow::Result<Self> {
        Self::empty(&self.base, format!("{}_{suffix}", self.name)).await
    }

    /// Creates the database `name` on the server `base`, without tables.
    async fn empty(base: &str, name: String) -> anyhow::Result<Self> {
        let scratch = Self { base: base.to_string(), url: format!("{base}/{name}"), name };
        let mut admin = scratch.admin().await?;
        diesel::sql_query(format!("CREATE DATABASE \"{}\"", scratch.name))
            .execute(&mut admin)
            .await
            .with_context(|| format!("creating database {}", scratch.name))?;
        Ok(scratch)
    }

    /// A connection to the server's `postgres` database, to create and drop databases.
    async fn admin(&self) -> anyhow::Result<AsyncPgConnection> {
        AsyncPgConnection::establish(&format!("{}/postgres", self.base))
            .await
            .with_context(|| format!("connecting to {}/postgres (is Postgres up? `just infra`)", self.base))
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection to it.
    pub async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        AsyncPgConnection::establish(&self.url).await.with_context(|| format!("connecting to {}", self.name))
    }

    /// Drops it (closing whatever still uses it).
    pub async fn drop_database(self) -> anyhow::Result<()> {
        let mut admin = self.admin().await.context("connecting to drop")?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
            .execute(&mut admin)
            .await
            .with_context(|| format!("dropping database {}", self.name))?;
        Ok(())
    }
}

/// A random subject prefix (`lb` and 12 hex digits).
pub fn random_prefix() -> String {
    format!("lb{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Deletes the streams the runner (and the ledger, with `--ledger`) created under `prefix`.
pub async fn delete_streams(nats_url: &str, prefix: &str) -> anyhow::Result<()> {
    let subjects = bus::Subjects::new(prefix)?;
    let client = async_nats::connect(nats_url).await.context("connecting to NATS")?;
    let jetstream = async_nats::jetstream::new(client);
    for service in [ServiceName::LiveSessionRunner, ServiceName::TradeLedger] {
        for stream in bus::jetstream::topology(&subjects, service).streams {
            // A stream that is not there (or already deleted with the other service's) is
            // fine: the work is to leave none behind.
            let _ = jetstream.delete_stream(&stream.name).await;
        }
    }
    Ok(())
}

/// One of the two SIM markets the bots trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sim {
    /// `SIM_BTC_USDT_`, priced from `BTC_USDT-1m.csv` (about 29,500–30,100 over its first
    /// 500 candles).
    Btc,
    /// `SIM_ETH_USDT_`, priced from `ETH_USDT-5m.csv` (about 1,710–1,820 over its first 500
    /// candles).
    Eth,
}

impl Sim {
    /// Both, in the order bots alternate between them.
    pub const ALL: [Sim; 2] = [Sim::Btc, Sim::Eth];

    /// The symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Sim::Btc => "SIM_BTC_USDT_",
            Sim::Eth => "SIM_ETH_USDT_",
        }
    }

    /// The candle file its prices come from, under `deploy/local/marketdata/`.
    pub fn candles(self) -> &'static str {
        match self {
            Sim::Btc => "BTC_USDT-1m.csv",
            Sim::Eth => "ETH_USDT-5m.csv",
        }
    }

    /// The market as the ledger sends it (`MarketSpec::sim_btc_usdt()` / `sim_eth_usdt()`).
    fn spec(self) -> MarketSpecMsg {
        let (base, amount_decimals) = match self {
            Sim::Btc => ("BTC", 5),
            Sim::Eth => ("ETH", 4),
        };
        MarketSpecMsg {
            symbol: self.symbol().to_string(),
            base_currency: base.to_string(),
            quote_currency: "USDT".to_string(),
            price_decimals: 2,
            amount_decimals,
            minimum_trade_amount: Decimal::new(1, amount_decimals),
        }
    }
}

/// The market of bot number `index`: they alternate.
pub fn market_of(index: usize) -> Sim {
    Sim::ALL[index % 2]
}

/// What hosted bot number `index` is, as a partner would send it: both ways of making the
/// bots (seeded straight into the runner's database, or created through the ledger with
/// `--ledger`) take it from here, so that they run the same bots.
pub struct BotSpec {
    /// Its market.
    pub market: Sim,
    /// `spot_grid` or `spot_dollar_cost_averaging`.
    pub script_type: &'static str,
    /// The settings object, as JSON text.
    pub settings: String,
}

/// Hosted bot number `index`: bots 0, 1 (mod 4) are spot grids, 2, 3 DCA bots; even ones on
/// BTC, odd ones on ETH. A hundred variants of each (by `index / 4`) spread the grids' levels
/// and the DCA bots' safety-order steps and take profits, so that a quote fills a few bots'
/// orders rather than every bot's at one level. A grid invests 9,900 of the 10,000 USDT a
/// hosted bot starts with.
pub fn spec(index: usize) -> BotSpec {
    let market = market_of(index);
    let variant = (index / 4 % 100) as u32;
    let symbol = market.symbol();
    let grid = (index / 2).is_multiple_of(2);
    let settings = if grid {
        // Levels 46–83 USDT apart on BTC, 14–20 USDT on ETH: fills every few candles.
        let (lower, upper) = match market {
            Sim::Btc => (28_500 + 10 * variant, 31_000 - 5 * variant),
            Sim::Eth => (1_500 + 2 * variant, 2_100 - variant),
        };
        let count = 30 + variant % 20;
        format!(
            r#"{{"symbol":"{symbol}","lowerLimit":{lower},"upperLimit":{upper},"gridCount":{count},"investmentAsset":"Quote","investmentAmount":9900}}"#
        )
    } else {
        // Safety orders 0.50 % to 1.49 % apart, take profit 0.80 % to 1.79 %: deals open and
        // close on the data. Every DCA bot opens its first deal on the same first quote, so
        // equal take profits would close them all on one quote.
        let deviation = Decimal::new(50 + i64::from(variant), 2);
        let take_profit = Decimal::new(80 + i64::from(variant), 2);
        format!(
            r#"{{"symbol":"{symbol}","direction":"Buy","baseOrderAmount":100,"safetyOrderAmount":200,"maxSafetyOrders":5,"priceDeviation":{deviation},"takeProfit":{take_profit}}}"#
        )
    };
    BotSpec { market, script_type: if grid { "spot_grid" } else { "spot_dollar_cost_averaging" }, settings }
}

/// Hosted bot number `index` ([`spec`]) at revision 1, running, as the ledger's event would
/// carry it.
pub fn bot(index: usize, partner: PartnerId) -> anyhow::Result<HostedBotChanged> {
    let spec = spec(index);
    Ok(HostedBotChanged {
        bot_id: BotId::new(),
        partner_id: partner,
        user_id: UserId::new(),
        revision: 1,
        desired: Desired::Running,
        script_type: spec.script_type.to_string(),
        settings: RawValue::from_string(spec.settings)?,
        market: spec.market.spec(),
        exchange_id: "SIM".to_string(),
    })
}

/// Writes `count` hosted bots' runs, as the consumer would, in one transaction.
pub async fn seed(connection: &mut AsyncPgConnection, count: usize) -> anyhow::Result<()> {
    let partner = PartnerId::new();
    let bots = (0..count).map(|index| bot(index, partner)).collect::<anyhow::Result<Vec<_>>>()?;
    connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            for changed in &bots {
                runs::upsert_hosted(tx, changed).await?;
            }
            Ok(())
        })
        .await
        .context("seeding the runs")
}

/// What the runs are now.
#[derive(Clone, Copy, Debug, QueryableByName)]
pub struct RunCounts {
    /// Runs whose engine trades.
    #[diesel(sql_type = BigInt)]
    pub running: i64,
    /// Runs the runner could not start (their revision failed).
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
}

/// How many runs run, and how many failed.
pub async fn run_counts(connection: &mut AsyncPgConnection) -> anyhow::Result<RunCounts> {
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE state = 'running') AS running, \
                count(*) FILTER (WHERE failed_revision IS NOT NULL) AS failed FROM runs",
    )
    .get_result(connection)
    .await
    .context("counting the runs")
}

/// The reason the runner wrote for a run it could not start.
pub async fn failure(connection: &mut AsyncPgConnection) -> anyhow::Result<String> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        message: String,
    }
    let line: Option<Line> = diesel::sql_query(
        "SELECT l.message FROM run_log_lines l JOIN runs r ON r.id = l.run_id \
         WHERE r.failed_revision IS NOT NULL ORDER BY l.line_number DESC LIMIT 1",
    )
    .get_result(connection)
    .await
    .ok();
    Ok(line.map_or_else(|| "no reason written".to_string(), |line| line.message))
}

/// What the bots wrote, for the report: proof that they traded.
#[derive(Clone, Copy, Debug, Default, QueryableByName)]
pub struct Written {
    /// Orders (one row each, last state).
    #[diesel(sql_type = BigInt)]
    pub orders: i64,
    /// Of which still open.
    #[diesel(sql_type = BigInt)]
    pub open: i64,
    /// Fills.
    #[diesel(sql_type = BigInt)]
    pub fills: i64,
    /// Log lines.
    #[diesel(sql_type = BigInt)]
    pub lines: i64,
    /// Of which warnings or errors.
    #[diesel(sql_type = BigInt)]
    pub bad_lines: i64,
}

/// Counts what the runs wrote.
pub async fn written(connection: &mut AsyncPgConnection) -> anyhow::Result<Written> {
    diesel::sql_query(
        "SELECT (SELECT count(*) FROM run_orders) AS orders, \
                (SELECT count(*) FROM run_orders WHERE status = 'OPEN') AS open, \
                (SELECT count(*) FROM run_fills) AS fills, \
                (SELECT count(*) FROM run_log_lines) AS lines, \
                (SELECT count(*) FROM run_log_lines WHERE severity IN ('warning', 'error')) AS bad_lines",
    )
    .get_result(connection)
    .await
    .context("counting what the runs wrote")
}

/// A few of the warning and error lines the bots wrote, with how often each came.
pub async fn bad_lines(connection: &mut AsyncPgConnection) -> anyhow::Result<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        message: String,
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let lines: Vec<Line> = diesel::sql_query(
        "SELECT severity || ': ' || message AS message, count(*) AS count FROM run_log_lines \
         WHERE severity IN ('warning', 'error') GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
    )
    .load(connection)
    .await
    .context("reading the warning lines")?;
    Ok(lines.into_iter().map(|line| (line.message, line.count)).collect())
}

/// The bytes of WAL the whole Postgres server has written so far (`pg_stat_wal`, Postgres 14
/// and later; `None` where it cannot be read).
pub async fn wal_bytes(connection: &mut AsyncPgConnection) -> Option<i64> {
    #[derive(QueryableByName)]
    struct Wal {
        #[diesel(sql_type = BigInt)]
        bytes: i64,
    }
    let wal: Wal =
        diesel::sql_query("SELECT wal_bytes::bigint AS bytes FROM pg_stat_wal").get_result(connection).await.ok()?;
    Some(wal.bytes)
}
