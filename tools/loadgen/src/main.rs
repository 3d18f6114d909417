#![doc = include_str!("../README.md")]
#![allow(clippy::print_stdout, reason = "a command-line tool: its report is its output")]

mod cpu;
mod direct;
mod fixtures;
mod gateway;
mod outbox;
mod report;
mod runner;
mod scenarios;
mod seed;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use report::{ScenarioResult, Verdict};
use runner::Window;
use scenarios::{Bench, Outcome, Path, Scenario};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Drives the Bot API ingest routes through the gateway and the same writes directly on
/// Postgres, and prints requests/s, p50/p99 latency and their ratio.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about, args_override_self = true)]
struct Args {
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    gateway: String,
    /// The ledger database, for fixtures and the direct path.
    #[arg(long, default_value = "postgres://tb:tb@127.0.0.1:5432/ledger")]
    database_url: String,
    /// The demo data written by `just up`.
    #[arg(long, default_value = ".local/seed.json")]
    seed: PathBuf,
    /// Seconds measured per run.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds of warm-up before each run's measurement.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent clients (HTTP connections, or tasks sharing the direct pool).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Pace each run at this many requests/s in total (spread over the clients; latency counts
    /// from each request's scheduled time) instead of the default closed loop, where every
    /// client sends again as soon as it has its answer.
    #[arg(long)]
    rate: Option<f64>,
    /// Connections of the direct path's pool (the ledger's `database.max_connections`).
    #[arg(long, default_value_t = 16)]
    pool_size: usize,
    /// Which route(s) to drive.
    #[arg(long, value_enum, default_value_t = Which::All)]
    scenario: Which,
    /// The NATS subject prefix of the ledger (`nats.prefix`), for the outbox rows of the direct path.
    #[arg(long, default_value = "tb")]
    nats_prefix: String,
    /// Do not `VACUUM (ANALYZE)` the written tables before each run.
    #[arg(long)]
    no_vacuum: bool,
    /// Exit with status 1 when a measured scenario misses a target.
    #[arg(long)]
    strict: bool,
    /// Keep the bot trades the benchmark created (with their participations and transactions)
    /// instead of deleting them at the end.
    #[arg(long)]
    keep_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    All,
    State,
    Participations,
    Transactions,
    /// `just bench outbox`: participations → fetched from the local Tradier server (paced by
    /// `--rate` participations/s, default 500; not part of `all`).
    Outbox,
}

impl Which {
    fn scenarios(self) -> Vec<Scenario> {
        match self {
            Which::All => Scenario::ALL.to_vec(),
            Which::State => vec![Scenario::State],
            Which::Participations => vec![Scenario::Participations],
            Which::Transactions => vec![Scenario::Transactions],
            Which::Outbox => vec![],
        }
    }
}

/// Prints one line of the report.
pub(crate) fn say(line: &str) {
    println!("{line}");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(error) => {
            eprintln!("loadgen: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Runs the benchmark; `Ok(false)` when `--strict` and a target was missed.
async fn run(args: Args) -> Result<bool> {
    if args.concurrency == 0 || args.duration == 0 || args.pool_size == 0 {
        bail!("--concurrency, --duration and --pool-size must be at least 1");
    }
    if args.rate.is_some_and(|rate| !rate.is_finite() || rate <= 0.0) {
        bail!("--rate must be a positive number of requests per second");
    }
    let seed = seed::Seed::load(&args.seed)?;
    let gateway = gateway::Gateway::new(&args.gateway, &seed.bot_api_key, args.concurrency)?;
    preflight(&gateway, &seed).await?;
    let pool = fixtures::pool(&args.database_url, args.pool_size)?;
    if args.scenario == Which::Outbox {
        let rate = args.rate.unwrap_or(500.0);
        let met = outbox::run(gateway, pool.clone(), &seed, rate, Duration::from_secs(args.duration)).await?;
        if !args.keep_data {
            fixtures::cleanup(&pool).await?;
        }
        return Ok(met || !args.strict);
    }
    let bench = Arc::new(Bench {
        ticker_id: seed.ticker("AAPL")?,
        seed,
        gateway,
        pool,
        run_id: Uuid::new_v4().simple().to_string().chars().take(8).collect(),
        concurrency: args.concurrency,
        window: Window {
            warmup: Duration::from_secs(args.warmup),
            duration: Duration::from_secs(args.duration),
            rate: args.rate,
        },
        subjects: bus::Subjects::new(args.nats_prefix.clone())?,
        vacuum: !args.no_vacuum,
    });

    let load = match args.rate {
        Some(rate) => format!("paced at {rate} req/s"),
        None => "closed loop".to_string(),
    };
    say(&format!(
        "loadgen run {}: {} clients ({load}), {} s warm-up + {} s measured per run, direct pool {} connections, {} cores",
        bench.run_id,
        args.concurrency,
        args.warmup,
        args.duration,
        args.pool_size,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    ));
    say(&format!("gateway {}, bot {}", args.gateway, bench.seed.bot_slug));

    let mut results = Vec::new();
    for scenario in args.scenario.scenarios() {
        say("");
        say(&format!("== {}: {}", scenario.name(), scenario.route()));
        say(&report::header());
        let gateway = run_path(&bench, scenario, Path::Gateway).await?;
        let direct = match gateway {
            Outcome::Skipped(_) => None,
            Outcome::Measured(_) => Some(run_path(&bench, scenario, Path::Direct).await?),
        };
        let result = ScenarioResult { scenario, gateway, direct, rate: args.rate };
        say(&result.judgement());
        results.push(result);
    }

    say("");
    say("== summary");
    say(&report::header());
    for result in &results {
        say(&report::row(result.scenario, Path::Gateway, &result.gateway));
        if let Some(direct) = &result.direct {
            say(&report::row(result.scenario, Path::Direct, direct));
        }
    }
    for result in &results {
        say(&format!("{}:{}", result.scenario.name(), result.judgement()));
    }

    if !args.keep_data {
        // A failed cleanup does not spoil the figures: say so and carry on.
        match fixtures::cleanup(&bench.pool).await {
            Ok(deleted) => say(&format!(
                "cleanup: deleted {deleted} benchmark trades with their participations and transactions (--keep-data keeps them)"
            )),
            Err(error) => say(&format!("cleanup failed: {error:#}")),
        }
    }
    let missed = results.iter().any(|result| result.verdict() == Verdict::Fail);
    Ok(!(args.strict && missed))
}

/// Runs one path of one scenario and prints its row, its failures and its CPU use.
async fn run_path(bench: &Arc<Bench>, scenario: Scenario, path: Path) -> Result<Outcome> {
    // Each run starts with the previous run's events published and its dead rows vacuumed.
    let waited = fixtures::wait_outbox_drained(&bench.pool, OUTBOX_DRAIN_LIMIT).await?;
    if waited > Duration::from_secs(1) {
        say(&format!(
            "    (waited {:.1} s for the ledger's outbox relay to publish earlier events)",
            waited.as_secs_f64()
        ));
    }
    if bench.vacuum {
        fixtures::vacuum(&bench.pool).await?;
    }
    if let Some((waited, reading)) = cpu::wait_until_quiet(QUIET_BUSY_PERCENT, QUIET_LIMIT).await {
        if reading.machine_busy_percent > QUIET_BUSY_PERCENT {
            say(&format!(
                "    WARNING: the machine is still {:.0} % busy after {} s ({}): this run shares the cores",
                reading.machine_busy_percent,
                QUIET_LIMIT.as_secs(),
                busiest(&reading),
            ));
        } else if waited > Duration::from_secs(2) {
            say(&format!("    (waited {:.0} s for the machine to go quiet)", waited.as_secs_f64()));
        }
    }
    let outcome =
        bench.run(scenario, path).await.with_context(|| format!("{} via {}", scenario.name(), path.name()))?;
    say(&report::row(scenario, path, &outcome));
    if let Outcome::Measured(measurement) = &outcome {
        for line in report::failures(measurement) {
            say(&line);
        }
        if let Some(line) = report::cpu(measurement) {
            say(&line);
        }
        let backlog = fixtures::outbox_backlog(&bench.pool).await?;
        if backlog > 0 {
            say(&format!("    outbox: {backlog} events not yet published at the end of the run (the relay is behind)"));
        }
    }
    Ok(outcome)
}

/// A run starts once the machine is at most this busy (over one second)...
const QUIET_BUSY_PERCENT: f64 = 15.0;
/// ...or after this long, with a warning.
const QUIET_LIMIT: Duration = Duration::from_secs(90);

/// The process group using the most CPU in a reading, for messages.
fn busiest(reading: &cpu::CpuUsage) -> String {
    let mut groups = reading.groups.clone();
    groups.push(("other processes", reading.other_percent));
    groups
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or_else(String::new, |(group, percent)| format!("mostly {group}, {percent:.0} % of a core"))
}

/// How long a run waits for the outbox relay to catch up before it starts.
const OUTBOX_DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// Fails early, with the fix, when the system is not up or the seed does not match it.
async fn preflight(gateway: &gateway::Gateway, seed: &seed::Seed) -> Result<()> {
    let (status, body) = gateway.get("/status").await.context("the gateway does not answer: run `just up`")?;
    if !status.is_success() {
        bail!("the gateway's /status is {status}, not green: {body}");
    }
    let (status, body) = gateway.get(&format!("/api/bots/{}", seed.bot_slug)).await?;
    if !status.is_success() {
        bail!(
            "GET /api/bots/{} with the seed's bot key answered {status}: {body} (stale .local/seed.json? rerun `just up`)",
            seed.bot_slug
        );
    }
    Ok(())
}
