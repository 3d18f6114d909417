//! `live-bench`: one live-session-runner under load, in this process, on its own database and
//! subject prefix (`just bench live`, see `deploy/local/bench.sh`).
//!
//! ```text
//!  seed N hosted bots' runs ─► App::build_with(Latency::recording()) ─► every run running
//!    (--ledger: the ledger's binary serves; App::build_with; N bots created through the
//!     ledger's commands ─► its hosted_bot_changed ─► the runner's consumer ─► every run running)
//!  first quote per market (every bot places its opening orders), reported on its own
//!  flat out: one quote per market, the next once the runner decided on both ─► --quotes rounds
//!  paced: one quote per market per second for --paced-secs ─► CPU per second of quotes
//!  (--ledger: wait until the ledger applied every fill the runner recorded)
//!  report: decision and persisted percentiles, fill → ledger, bots per core, against the targets
//! ```
//!
//! Half the bots are spot grids, half DCA bots, alternating between `SIM_BTC_USDT_` and
//! `SIM_ETH_USDT_`; prices walk the candle files in `deploy/local/marketdata/`. The runner runs
//! with its compiled defaults (250 ms ticks, checkpoints every 5 s, 10 s leases). Without
//! `--ledger` the runs are seeded straight into its database and, as no ledger answers, its
//! reconciliation is pushed a day away (the round at start-up fails with one warning).
//!
//! With `--ledger <trade-ledger binary>` the real ledger runs beside it as a child process
//! ([`ledger`]), on a scratch database of its own and the same prefix: the bots are created
//! through it as the gateway creates them, the runner reconciles with it as in production,
//! and it consumes the runner's fills, on the same Postgres. *Fill → ledger* ([`fills`]) runs
//! from the start of the runner's commit that recorded a fill to the start of the ledger's
//! transaction that applied it.
//!
//! The runner's own samples ([`Latency`]): *decision* is the engine calls of every run of one
//! market for one quote, no database; *persisted* runs from the moment the market task takes
//! the quote until its effects are committed (the fenced commit included), and exists only
//! for a quote that had effects (an order placed or filled, a log line): a quote that only
//! moved prices is checkpointed with the market's next 5 s checkpoint batch instead. The next
//! round is published once both markets decided, so it waits in the queue while the previous
//! quote's commit (or a checkpoint batch) runs, and the market task never idles; the
//! publisher's own round trip (publish → both markets decided, polled every millisecond,
//! queueing included) is printed beside the runner's figures.
//!
//! Bots per core: each bot sees its own market's quotes only, so at 1 quote/s per market N
//! bots cost N × (decision time per bot and quote) per second of engine work; the paced
//! phase measures the whole process (engines, serialisation, the commits' client side, the
//! 5 s checkpoints, the NATS client) with `/proc/self/stat`.
#![allow(clippy::print_stdout)]

mod feed;
mod fills;
mod fixture;
mod ledger;
mod measure;

use anyhow::Context as _;
use clap::Parser;
use diesel_async::AsyncPgConnection;
use feed::{PricePath, Publisher};
use fills::{Fill, FillsToLedger};
use fixture::{Scratch, Sim};
use ledger::Ledger;
use live_session_runner::clock::SystemClock;
use live_session_runner::live::{Latency, LatencySamples};
use live_session_runner::{App, Settings};
use measure::{CpuMark, CpuUsed, LogCounts, Percentiles};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long the benchmark waits for the runner to persist a round of quotes.
const PATIENCE: Duration = Duration::from_secs(120);
/// How long it waits for the ledger to apply the fills of a phase: flat out, the runner
/// records fills faster than the ledger applies them, and the backlog takes a while.
const LEDGER_PATIENCE: Duration = Duration::from_secs(600);
/// How long it waits for every run to be claimed and running.
const ADOPT_PATIENCE: Duration = Duration::from_secs(600);
/// How often it looks at the runner's samples while waiting.
const POLL: Duration = Duration::from_millis(1);
/// The quiet time after a phase, for its last commits.
const SETTLE: Duration = Duration::from_secs(1);
/// How often the last quotes are repeated while the bench waits for the ledger.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// The targets (issue text): at 1,000 bots, decision p99 ≤ 1 ms and persisted p99 ≤ 50 ms;
/// at least 10,000 bots per runner below one core at 1 quote/s per market.
const TARGET_BOTS: usize = 1_000;
const TARGET_DECISION_P99: Duration = Duration::from_millis(1);
const TARGET_PERSISTED_P99: Duration = Duration::from_millis(50);
const TARGET_BOTS_PER_CORE: f64 = 10_000.0;

#[derive(Debug, Parser)]
#[command(
    name = "live-bench",
    about = "Quote → decision, quote → persisted and fill → ledger latency of one live-session-runner.",
    // `just bench live` passes `--ledger`; a later one of the caller's replaces it.
    args_override_self = true
)]
struct Args {
    /// Hosted bots: half spot grids, half DCA bots, alternating between the two SIM markets.
    #[arg(long, default_value_t = 1_000)]
    bots: usize,
    /// Quotes per market published as fast as the runner takes them.
    #[arg(long, default_value_t = 2_000)]
    quotes: usize,
    /// Seconds of 1 quote/s per market, for the CPU figure (0: skip).
    #[arg(long, default_value_t = 30)]
    paced_secs: u64,
    /// The Postgres server, without a database: a scratch database is made there and dropped.
    #[arg(long, default_value = "postgres://tb:tb@127.0.0.1:5432")]
    database_url_base: String,
    /// The NATS server (with JetStream); a random subject prefix is used and its streams deleted.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// The folder of the candle files.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/local/marketdata"))]
    data: PathBuf,
    /// The runner's `live.checkpoint_secs` (default: its own, 5): how often each market writes
    /// the checkpoints of the runs whose quotes had no effects, in one batch.
    #[arg(long)]
    checkpoint_secs: Option<u64>,
    /// Keep the scratch database(s) afterwards (to look at what the bots wrote).
    #[arg(long)]
    keep: bool,
    /// The `trade-ledger` binary (`just bench live` passes the release build): it runs beside
    /// the runner on a scratch database of its own (`<runner's>_ledger`); the bots are created
    /// through it and it consumes the runner's fills, for the fill → ledger latency. Without
    /// it the runs are seeded straight into the runner's database and no ledger runs.
    #[arg(long, overrides_with = "no_ledger")]
    ledger: Option<PathBuf>,
    /// No ledger, even though `--ledger` was given before (as `just bench live` does).
    #[arg(long, overrides_with = "ledger")]
    no_ledger: bool,
}

impl Args {
    /// The ledger's binary, unless the caller said `--no-ledger` after it.
    fn ledger(&self) -> Option<&Path> {
        self.ledger.as_deref().filter(|_| !self.no_ledger)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let logs = measure::init_logging();
    match run(&args, &logs).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("live-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Makes the scratch database(s) and prefix, benchmarks, and removes them whatever happened.
async fn run(args: &Args, logs: &LogCounts) -> anyhow::Result<()> {
    anyhow::ensure!(args.bots >= Sim::ALL.len(), "--bots: at least one per market");
    anyhow::ensure!(args.quotes >= 1, "--quotes: at least 1");
    let paths = Sim::ALL.iter().map(|market| PricePath::load(&args.data, *market)).collect::<Result<Vec<_>, _>>()?;
    let scratch = Scratch::create(&args.database_url_base).await?;
    let ledger_db = match ledger_database(args, &scratch).await {
        Ok(ledger_db) => ledger_db,
        // The runner's database is made already: it goes before the error is told.
        Err(error) => return remove(scratch, args.keep).await.and(Err(error)),
    };
    let prefix = fixture::random_prefix();
    let signal = platform::shutdown::on_signal();
    let outcome = tokio::select! {
        outcome = bench(args, &scratch, ledger_db.as_ref(), &prefix, paths, logs) => outcome,
        () = signal.cancelled() => Err(anyhow::anyhow!("interrupted")),
    };
    let streams = fixture::delete_streams(&args.nats_url, &prefix).await;
    let dropped = remove(scratch, args.keep).await;
    let ledger_dropped = match ledger_db {
        Some(ledger_db) => remove(ledger_db, args.keep).await,
        None => Ok(()),
    };
    outcome.and(streams).and(dropped).and(ledger_dropped)
}

/// With `--ledger`, the ledger's empty scratch database, beside the runner's.
async fn ledger_database(args: &Args, scratch: &Scratch) -> anyhow::Result<Option<Scratch>> {
    match args.ledger() {
        Some(_) => scratch.sibling("ledger").await.map(Some),
        None => Ok(None),
    }
}

/// Drops a scratch database, or says where it stays (`--keep`).
async fn remove(scratch: Scratch, keep: bool) -> anyhow::Result<()> {
    if keep {
        println!("kept database {} ({})", scratch.name(), scratch.url);
        Ok(())
    } else {
        scratch.drop_database().await
    }
}

/// The runner's settings: compiled defaults, on the scratch database and prefix.
fn settings(args: &Args, database_url: &str, prefix: &str) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    if let Some(secs) = args.checkpoint_secs {
        settings.live.checkpoint_secs = secs;
    }
    settings.http.port = 0;
    settings.database.url = database_url.to_string();
    settings.nats.url = args.nats_url.clone();
    settings.nats.prefix = prefix.to_string();
    // With --ledger the compiled interval stays: the ledger answers every round, as in
    // production. Without, none answers on this prefix: the round at start-up fails (one
    // warning), and the next is a day away.
    if args.ledger().is_none() {
        settings.live.reconcile_secs = 24 * 3600;
    }
    platform::Settings::validate(&settings)?;
    Ok(settings)
}

/// What one phase of quotes gave.
#[derive(Default)]
struct Phase {
    /// The runner's samples.
    samples: LatencySamples,
    /// Publish → every market's quote decided, as the publisher saw it.
    rounds: Vec<Duration>,
    /// How long the phase took.
    wall: Duration,
    /// CPU over the phase.
    cpu: Option<CpuUsed>,
    /// WAL the Postgres server wrote over the phase, bytes.
    wal: Option<i64>,
}

async fn bench(
    args: &Args,
    scratch: &Scratch,
    ledger_db: Option<&Scratch>,
    prefix: &str,
    paths: Vec<PricePath>,
    logs: &LogCounts,
) -> anyhow::Result<()> {
    let per_market = args.bots / Sim::ALL.len();
    print_header(args, scratch, prefix);
    let mut db = scratch.connect().await?;
    // Declared before the runner's guard, so that on an error the runner is told to stop
    // before the ledger is killed.
    let ledger = match args.ledger().zip(ledger_db) {
        Some((binary, ledger_db)) => Some((start_ledger(binary, ledger_db, args, prefix).await?, ledger_db)),
        None => None,
    };
    let ledger_pid = ledger.as_ref().map(|(ledger, _)| ledger.pid());

    let latency = Latency::recording();
    let shutdown = CancellationToken::new();
    // Cancelled however this function ends (an error, Ctrl-C): the runner stops with it.
    let _stop_runner = shutdown.clone().drop_guard();
    let runner = match &ledger {
        Some((ledger, _)) => start_then_create(args, scratch, prefix, ledger, &latency, &shutdown, &mut db).await?,
        None => seed_then_start(args, scratch, prefix, &latency, &shutdown, &mut db).await?,
    };
    drop(latency.take());

    let client = async_nats::connect(args.nats_url.as_str()).await.context("connecting to NATS")?;
    let mut publisher = Publisher::new(client, bus::Subjects::new(prefix)?, paths);
    let mut ledger_connection = match &ledger {
        Some((_, ledger_db)) => Some(ledger_db.connect().await?),
        None => None,
    };
    let mut spans = Vec::new();
    let first = timed(&mut spans, "the first quote", first_quotes(&mut publisher, &latency)).await?;
    caught_up(ledger_connection.as_mut(), &mut db, &publisher, &latency).await?;
    let wal = fixture::wal_bytes(&mut db).await;
    let mut flat = timed(&mut spans, "flat out", flat_out(&mut publisher, &latency, args.quotes, ledger_pid)).await?;
    let wal_after = fixture::wal_bytes(&mut db).await;
    flat.wal = wal.zip(wal_after).map(|(before, after)| after - before);
    caught_up(ledger_connection.as_mut(), &mut db, &publisher, &latency).await?;
    let paced = if args.paced_secs > 0 {
        let wal = fixture::wal_bytes(&mut db).await;
        let mut paced =
            timed(&mut spans, "paced", paced(&mut publisher, &latency, args.paced_secs, ledger_pid)).await?;
        let wal_after = fixture::wal_bytes(&mut db).await;
        paced.wal = wal.zip(wal_after).map(|(before, after)| after - before);
        Some(paced)
    } else {
        None
    };
    let to_ledger = caught_up(ledger_connection.as_mut(), &mut db, &publisher, &latency).await?;
    let written = fixture::written(&mut db).await?;
    let bad_lines = fixture::bad_lines(&mut db).await?;

    let began = Instant::now();
    shutdown.cancel();
    let stopped = tokio::time::timeout(PATIENCE, runner).await;
    let stop_secs = began.elapsed().as_secs_f64();
    // Only once the runner stopped: the runner's last requests find it answering.
    let ledger_logs = ledger.map(|(ledger, _)| ledger.stop());

    report_first(&first);
    report_flat(args.bots, &flat);
    if let Some(paced) = &paced {
        report_paced(paced);
    }
    report_to_ledger(to_ledger.as_ref(), &spans);
    report_capacity(args.bots, per_market, &flat, paced.as_ref());
    println!();
    println!(
        "written: {} orders ({} open), {} fills, {} log lines ({} warnings or errors)",
        thousands(count(written.orders)),
        thousands(count(written.open)),
        thousands(count(written.fills)),
        thousands(count(written.lines)),
        thousands(count(written.bad_lines)),
    );
    for (line, times) in bad_lines {
        println!("  {times} × {line}");
    }
    let (warnings, errors) = logs.get();
    let expected = if ledger_logs.is_some() {
        "none expected: the ledger answers the reconciliation"
    } else {
        "one warning is expected: the reconciliation finds no ledger here"
    };
    println!(
        "the runner logged {warnings} warning(s) and {errors} error(s) ({expected}); peak RSS {:.0} MB",
        measure::peak_rss_mb()
    );
    if let Some((warnings, errors)) = ledger_logs {
        println!("the ledger logged {warnings} warning(s) and {errors} error(s) (above, each line prefixed `ledger:`)");
    }
    match stopped {
        Ok(Ok(())) => {
            println!("stopped gracefully in {stop_secs:.1} s (dirty runs checkpointed, every run given back)")
        }
        Ok(Err(error)) => println!("the runner's task failed: {error}"),
        Err(_) => println!("the runner did not stop within {PATIENCE:?}"),
    }
    Ok(())
}

fn print_header(args: &Args, scratch: &Scratch, prefix: &str) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let per_market = args.bots / Sim::ALL.len();
    println!("live-session-runner benchmark: first version, no earlier engine room to compare with");
    let ledger = if args.ledger().is_some() { ", the ledger" } else { "" };
    println!(
        "machine: {cores} cores (the runner{ledger}, Postgres and NATS share them), load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .map(|load| load.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    );
    println!(
        "bots: {} = about {} spot grids + {} DCA bots on each of {}; database {}, prefix {prefix}",
        thousands(args.bots),
        thousands(per_market / 2),
        thousands(per_market - per_market / 2),
        Sim::ALL.map(Sim::symbol).join(" and "),
        scratch.name(),
    );
}

/// Starts the ledger's binary on its scratch database and says so.
async fn start_ledger(binary: &Path, database: &Scratch, args: &Args, prefix: &str) -> anyhow::Result<Ledger> {
    let began = Instant::now();
    let ledger =
        Ledger::start(binary, &database.url, &args.nats_url, prefix).await.context("starting the ledger (--ledger)")?;
    println!(
        "ledger: {} (pid {}) on database {}: migrated, a partner made, answering {:.1} s after the start",
        binary.display(),
        ledger.pid(),
        database.name(),
        began.elapsed().as_secs_f64()
    );
    Ok(ledger)
}

/// Without a ledger: writes the runs straight into the runner's database, as its consumer
/// would, then starts the runner and waits until every run is running.
async fn seed_then_start(
    args: &Args,
    scratch: &Scratch,
    prefix: &str,
    latency: &Latency,
    shutdown: &CancellationToken,
    db: &mut AsyncPgConnection,
) -> anyhow::Result<JoinHandle<()>> {
    let began = Instant::now();
    fixture::seed(db, args.bots).await?;
    let seeded = began.elapsed();
    let began = Instant::now();
    let runner = start_runner(args, scratch, prefix, latency, shutdown).await?;
    wait_running(db, args.bots).await?;
    println!(
        "seeded {} runs in {:.1} s; every run claimed, built and running {:.1} s after the runner started",
        thousands(args.bots),
        seeded.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    Ok(runner)
}

/// With the ledger: starts the runner first, then creates the bots through the ledger, so
/// that every run comes from the ledger's `hosted_bot_changed` through the runner's consumer
/// (the production path), and waits until every run is running.
async fn start_then_create(
    args: &Args,
    scratch: &Scratch,
    prefix: &str,
    ledger: &Ledger,
    latency: &Latency,
    shutdown: &CancellationToken,
    db: &mut AsyncPgConnection,
) -> anyhow::Result<JoinHandle<()>> {
    let runner = start_runner(args, scratch, prefix, latency, shutdown).await?;
    let began = Instant::now();
    let users = ledger.create_bots(args.bots).await?;
    let created = began.elapsed();
    wait_running(db, args.bots).await?;
    println!(
        "created {} hosted bots of {} paper users through the ledger in {:.1} s; every run claimed, built and \
         running {:.1} s after the first create",
        thousands(args.bots),
        thousands(users),
        created.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    Ok(runner)
}

/// Starts the runner in this process, recording its latency; it stops when `shutdown` fires.
async fn start_runner(
    args: &Args,
    scratch: &Scratch,
    prefix: &str,
    latency: &Latency,
    shutdown: &CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let app = App::build_with(settings(args, &scratch.url, prefix)?, Arc::new(SystemClock), latency.clone())
        .await
        .context("starting the runner")?;
    Ok(tokio::spawn(app.run_until_stopped(shutdown.clone())))
}

/// A phase's name and span on the wall clock (µs since the epoch): the fills are sorted into
/// phases by their Postgres timestamps (the same machine's clock).
struct Span {
    name: &'static str,
    start_us: i64,
    end_us: i64,
}

/// Runs one phase, noting its span in `spans`.
async fn timed<T>(
    spans: &mut Vec<Span>,
    name: &'static str,
    phase: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let start_us = wall_us();
    let outcome = phase.await;
    spans.push(Span { name, start_us, end_us: wall_us() });
    outcome
}

/// The wall clock in µs since the epoch.
fn wall_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// With `--ledger`: waits until the ledger applied every fill so far, so that the next phase
/// starts with the ledger idle (its catch-up would load Postgres in that phase); answers the
/// fills. Meanwhile the last quotes are repeated every second (the wait can be minutes, and a
/// silent market makes every bot warn that its data is stale); their samples are dropped.
/// Without a ledger: nothing to wait for.
async fn caught_up(
    ledger: Option<&mut AsyncPgConnection>,
    db: &mut AsyncPgConnection,
    publisher: &Publisher,
    latency: &Latency,
) -> anyhow::Result<Option<FillsToLedger>> {
    let Some(ledger) = ledger else { return Ok(None) };
    let mut waiting = std::pin::pin!(fills::wait_applied(db, ledger, publisher.subjects(), LEDGER_PATIENCE));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let fills = loop {
        tokio::select! {
            fills = &mut waiting => break fills?,
            _ = heartbeat.tick() => publisher.repeat().await?,
        }
    };
    // A quiet second for the last repeated quote's commit, if it had effects.
    tokio::time::sleep(SETTLE).await;
    drop(latency.take());
    Ok(Some(fills))
}

/// Waits until all `bots` runs are running; fails at once if the runner refused one.
async fn wait_running(db: &mut AsyncPgConnection, bots: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + ADOPT_PATIENCE;
    loop {
        let counts = fixture::run_counts(db).await?;
        if counts.failed > 0 {
            let reason = fixture::failure(db).await?;
            anyhow::bail!("the runner could not start {} run(s): {reason}", counts.failed);
        }
        if count(counts.running) >= bots {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {bots} runs running after {ADOPT_PATIENCE:?}",
            counts.running
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `rounds` rounds of one quote per market, each published once the runner decided on the
/// previous round (its commit, if any, then runs while the next quote waits in the queue:
/// the market task never idles). `ledger`: the ledger child's pid, whose CPU is told apart.
async fn flat_out(
    publisher: &mut Publisher,
    latency: &Latency,
    rounds: usize,
    ledger: Option<u32>,
) -> anyhow::Result<Phase> {
    let mut phase = Phase::default();
    let cpu = CpuMark::now(ledger);
    for _ in 0..rounds {
        round(publisher, latency, &mut phase).await?;
    }
    phase.cpu = Some(cpu.used());
    phase.wall = phase.cpu.map_or(Duration::ZERO, |cpu| cpu.wall);
    settle(latency, &mut phase).await;
    Ok(phase)
}

/// The first round: every bot places its opening orders, so both markets commit; waits for
/// both commits, so that they stay out of the next phase.
async fn first_quotes(publisher: &mut Publisher, latency: &Latency) -> anyhow::Result<Phase> {
    let mut phase = Phase::default();
    round(publisher, latency, &mut phase).await?;
    let markets = publisher.markets();
    collect_until(latency, &mut phase.samples, |samples| samples.persisted.len() >= markets).await?;
    settle(latency, &mut phase).await;
    Ok(phase)
}

/// One quote per market at the start of each second, for `secs` seconds, whether or not the
/// runner decided on the previous ones (a round it is late with waits in its queue); CPU over
/// exactly those seconds. A round's trip ends when the runner has decided on as many quotes
/// as were published up to it (each market's queue is first in, first out).
async fn paced(publisher: &mut Publisher, latency: &Latency, secs: u64, ledger: Option<u32>) -> anyhow::Result<Phase> {
    let mut phase = Phase::default();
    let mut pending: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut published = 0;
    let start = tokio::time::Instant::now();
    let cpu = CpuMark::now(ledger);
    for second in 0..secs {
        tokio::time::sleep_until(start + Duration::from_secs(second)).await;
        published += publisher.markets();
        pending.push_back((Instant::now(), published));
        publisher.round().await?;
        let next = start + Duration::from_secs(second + 1);
        // Polled only while a round is outstanding, so the publisher costs next to nothing.
        while !pending.is_empty() && tokio::time::Instant::now() < next {
            tokio::time::sleep(POLL).await;
            decided_rounds(latency, &mut phase, &mut pending);
        }
    }
    tokio::time::sleep_until(start + Duration::from_secs(secs)).await;
    phase.cpu = Some(cpu.used());
    phase.wall = phase.cpu.map_or(Duration::ZERO, |cpu| cpu.wall);
    let deadline = Instant::now() + PATIENCE;
    while !pending.is_empty() {
        anyhow::ensure!(Instant::now() < deadline, "the runner did not take the paced quotes within {PATIENCE:?}");
        tokio::time::sleep(POLL).await;
        decided_rounds(latency, &mut phase, &mut pending);
    }
    settle(latency, &mut phase).await;
    Ok(phase)
}

/// Takes the runner's samples and ends the trips of the rounds decided since.
fn decided_rounds(latency: &Latency, phase: &mut Phase, pending: &mut VecDeque<(Instant, usize)>) {
    let taken = latency.take();
    phase.samples.decided.extend(taken.decided);
    phase.samples.persisted.extend(taken.persisted);
    while let Some((sent, _)) = pending.front().filter(|(_, want)| phase.samples.decided.len() >= *want) {
        phase.rounds.push(sent.elapsed());
        pending.pop_front();
    }
}

/// Publishes one quote per market and waits until the runner decided on each.
async fn round(publisher: &mut Publisher, latency: &Latency, phase: &mut Phase) -> anyhow::Result<()> {
    let sent = Instant::now();
    let want = phase.samples.decided.len() + publisher.markets();
    publisher.round().await?;
    collect_until(latency, &mut phase.samples, |samples| samples.decided.len() >= want).await?;
    phase.rounds.push(sent.elapsed());
    Ok(())
}

/// Moves the runner's samples into `samples` until `done` says so.
async fn collect_until(
    latency: &Latency,
    samples: &mut LatencySamples,
    done: impl Fn(&LatencySamples) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let taken = latency.take();
        samples.decided.extend(taken.decided);
        samples.persisted.extend(taken.persisted);
        if done(samples) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the runner did not take the quotes within {PATIENCE:?} ({} decided, {} persisted; a market whose runs \
             were all dropped decides nothing; its log is above)",
            samples.decided.len(),
            samples.persisted.len()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The commits of a phase's last quotes end after their decisions: a quiet second collects
/// them, so that they are not counted in the next phase.
async fn settle(latency: &Latency, phase: &mut Phase) {
    tokio::time::sleep(SETTLE).await;
    let taken = latency.take();
    phase.samples.decided.extend(taken.decided);
    phase.samples.persisted.extend(taken.persisted);
}

fn report_first(first: &Phase) {
    let list = |samples: &[Duration]| samples.iter().map(|took| ms(*took)).collect::<Vec<_>>().join(" and ");
    println!(
        "first quote on each market (every bot places its opening orders): decision {}, persisted {}",
        list(&first.samples.decided),
        list(&first.samples.persisted)
    );
}

fn report_flat(bots: usize, flat: &Phase) {
    let rounds = flat.rounds.len();
    println!();
    println!(
        "flat out: {} quotes per market in {:.1} s ({:.0} quotes/s per market), {}{}",
        thousands(rounds),
        flat.wall.as_secs_f64(),
        rounds as f64 / flat.wall.as_secs_f64().max(1e-9),
        cpu_text(flat.cpu),
        wal_text(flat)
    );
    let at = if bots == TARGET_BOTS { String::new() } else { format!(" (measured at {} bots)", thousands(bots)) };
    table_header();
    row(
        "quote → decision (engines, no DB)",
        &flat.samples.decided,
        Some((TARGET_DECISION_P99, format!("p99 ≤ 1 ms at 1,000 bots{at}"))),
    );
    row(
        "quote → persisted (fenced commit)",
        &flat.samples.persisted,
        Some((TARGET_PERSISTED_P99, format!("p99 ≤ 50 ms at 1,000 bots{at}"))),
    );
    row("publish → both decided (publisher)", &flat.rounds, None);
    with_effects(&flat.samples);
}

/// How many quotes had effects to commit (the others have no persisted sample).
fn with_effects(samples: &LatencySamples) {
    println!(
        "  {} of {} quotes had effects to commit (orders placed or filled, log lines); the others were \
         checkpointed in the markets' 5 s batches",
        thousands(samples.persisted.len()),
        thousands(samples.decided.len())
    );
}

fn report_paced(paced: &Phase) {
    println!();
    println!(
        "paced: 1 quote/s per market for {:.0} s, {}{}",
        paced.wall.as_secs_f64(),
        cpu_text(paced.cpu),
        wal_text(paced)
    );
    table_header();
    row("quote → decision (engines, no DB)", &paced.samples.decided, None);
    row("quote → persisted (fenced commit)", &paced.samples.persisted, None);
    row("publish → both decided (publisher)", &paced.rounds, None);
    with_effects(&paced.samples);
    println!("  {} of {} rounds decided within their second", thousands(on_time(paced)), thousands(paced.rounds.len()));
}

/// The rounds the runner decided on before the next one was due.
fn on_time(paced: &Phase) -> usize {
    paced.rounds.iter().filter(|trip| **trip < Duration::from_secs(1)).count()
}

/// Fill → ledger (`--ledger`): every fill, then the fills recorded in each phase, the
/// exactly-once check (one transaction per fill in the ledger), and how fast the ledger
/// applied each phase's fills.
fn report_to_ledger(to_ledger: Option<&FillsToLedger>, spans: &[Span]) {
    println!();
    let Some(to_ledger) = to_ledger else {
        println!(
            "fill → ledger: skipped (no --ledger: the runs were seeded straight into the runner's database and no \
             ledger consumed the fills)"
        );
        return;
    };
    let (recorded, records) = (to_ledger.fills.len(), to_ledger.records);
    println!(
        "fill → ledger: {} fills recorded by the runner, each applied once by the ledger ({}); it holds {} bot \
         trades with {} transactions, one per fill   {}",
        thousands(recorded),
        fills::CONSUMER,
        thousands(count(records.trades)),
        thousands(count(records.transactions)),
        mark(count(records.transactions) == recorded)
    );
    table_header();
    row("fill → ledger (commit → applied)", &latencies(&to_ledger.fills), None);
    let phases: Vec<(&Span, Vec<Fill>)> =
        spans.iter().map(|span| (span, to_ledger.recorded_between(span.start_us, span.end_us))).collect();
    for (span, fills) in &phases {
        row(&format!("  during {}", span.name), &latencies(fills), None);
    }
    println!(
        "  from the start of the runner's commit that recorded the fill (its outbox row) to the start of the \
         ledger's transaction that applied it (its inbox row), both on Postgres' clock: the runner's commit, the \
         relay's publish, JetStream, the consumer's pull and batch; not the ledger's own commit. The bench waits \
         for the ledger after each phase, so that the next one starts with the ledger idle:"
    );
    for (span, fills) in &phases {
        if let Some(pace) = pace_text(span, fills) {
            println!("  {}: {pace}", span.name);
        }
    }
}

fn latencies(fills: &[Fill]) -> Vec<Duration> {
    fills.iter().map(Fill::latency).collect()
}

/// How fast the runner recorded a phase's fills and the ledger applied them (on its own too,
/// once the phase ended and the runner only had repeated quotes), and how long after the
/// runner's last one the ledger applied its last (`None` without fills).
fn pace_text(span: &Span, fills: &[Fill]) -> Option<String> {
    let recorded = fills.iter().map(|fill| fill.recorded_us);
    let applied = fills.iter().map(|fill| fill.applied_us);
    let (first_recorded, last_recorded) = (recorded.clone().min()?, recorded.max()?);
    let (first_applied, last_applied) = (applied.clone().min()?, applied.max()?);
    let secs = |from_us: i64, to_us: i64| (to_us - from_us) as f64 / 1e6;
    // A rate over less than a second (one quote's commits) says nothing.
    let rate = |count: usize, span: f64| (span >= 1.0).then(|| format!("{:.0}/s", count as f64 / span));
    let (recording, applying) = (secs(first_recorded, last_recorded), secs(first_applied, last_applied));
    let after_phase = fills.iter().filter(|fill| fill.applied_us >= span.end_us).count();
    let alone = rate(after_phase, secs(span.end_us, last_applied)).map(|alone| format!("; {alone} once it ended"));
    let applying_rate = rate(fills.len(), applying).map(|rate| format!(" ({rate}{})", alone.unwrap_or_default()));
    Some(format!(
        "{} fills recorded over {recording:.1} s{}, applied over {applying:.1} s{}, the last {:.1} s after the \
         runner recorded its last",
        thousands(fills.len()),
        rate(fills.len(), recording).map(|rate| format!(" ({rate})")).unwrap_or_default(),
        applying_rate.unwrap_or_default(),
        secs(last_recorded, last_applied)
    ))
}

fn report_capacity(bots: usize, per_market: usize, flat: &Phase, paced: Option<&Phase>) {
    println!();
    println!("bots per runner at 1 quote/s per market (each bot sees its own market's quotes only):");
    if let Some(decided) = Percentiles::of(&flat.samples.decided) {
        let per_bot = decided.mean().as_secs_f64() / per_market.max(1) as f64;
        println!(
            "  engines alone: {:.2} µs per bot and quote (mean decision {} / {} bots of a market) → 1 s / {:.2} µs \
             = {} bots per core",
            per_bot * 1e6,
            ms(decided.mean()),
            thousands(per_market),
            per_bot * 1e6,
            about(1.0 / per_bot.max(1e-12))
        );
    }
    let Some((paced, cores)) = paced.and_then(|paced| Some((paced, paced.cpu?.process))) else {
        println!("  whole runner: not measured (--paced-secs 0)");
        return;
    };
    let per_core = bots as f64 / cores.max(1e-9);
    let kept_up = on_time(paced) == paced.rounds.len();
    let (verdict, how) = if bots as f64 >= TARGET_BOTS_PER_CORE {
        (cores < 1.0 && kept_up, format!("{} bots ran on {cores:.3} cores", thousands(bots)))
    } else {
        (
            per_core >= TARGET_BOTS_PER_CORE && kept_up,
            format!("extrapolated linearly from {} bots on {cores:.3} cores", thousands(bots)),
        )
    };
    let slowest = paced.rounds.iter().max().copied().unwrap_or_default();
    let lag = if kept_up { String::new() } else { format!("; but quotes waited up to {}", ms(slowest)) };
    println!(
        "  whole runner (the paced phase): {} bots per core ({how}{lag})   target ≥ 10,000 below one core, keeping up   {}",
        about(per_core),
        mark(verdict)
    );
}

fn table_header() {
    println!("  {:<38} {:>7} {:>10} {:>10} {:>10} {:>10}   target", "", "samples", "p50", "p99", "max", "mean");
}

fn row(label: &str, samples: &[Duration], target: Option<(Duration, String)>) {
    let Some(p) = Percentiles::of(samples) else {
        println!("  {label:<38} {:>7}", 0);
        return;
    };
    let target = target.map_or_else(String::new, |(limit, text)| format!("{text}   {}", mark(p.p99 <= limit)));
    println!(
        "  {label:<38} {:>7} {:>10} {:>10} {:>10} {:>10}   {target}",
        thousands(p.count),
        ms(p.p50),
        ms(p.p99),
        ms(p.max),
        ms(p.mean())
    );
}

fn cpu_text(cpu: Option<CpuUsed>) -> String {
    let Some(cpu) = cpu else { return "CPU not measured".to_string() };
    let postgres = cpu.postgres.map_or_else(|| "Postgres not visible".to_string(), |pg| format!("Postgres {pg:.2}"));
    let ledger = cpu.ledger.map_or_else(String::new, |ledger| format!(", the ledger {ledger:.3}"));
    let others = cpu.others.map_or_else(String::new, |others| format!(", everything else {others:.2}"));
    format!("CPU in cores: this process {:.3}{ledger}, {postgres}{others}", cpu.process)
}

/// The WAL a phase made Postgres write (the whole server's: anything else writing meanwhile
/// counts too).
fn wal_text(phase: &Phase) -> String {
    phase.wal.map_or_else(String::new, |bytes| {
        let mb = bytes as f64 / 1e6;
        format!("; Postgres wrote {mb:.0} MB of WAL ({:.1} MB/s)", mb / phase.wall.as_secs_f64().max(1e-9))
    })
}

fn mark(met: bool) -> &'static str {
    if met { "ok" } else { "MISSED" }
}

/// Milliseconds, with µs precision below 10 ms; seconds from 10 s (a fill that waited in the
/// ledger's backlog), so that the columns stay aligned.
fn ms(took: Duration) -> String {
    let ms = took.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.3} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.1} s", ms / 1e3)
    }
}

fn count(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

/// `1234567.8` → `1,230,000`: three significant digits.
fn about(value: f64) -> String {
    if !value.is_finite() || value < 1.0 {
        return format!("{value:.2}");
    }
    let scale = 10f64.powi((value.log10().floor() as i32 - 2).max(0));
    thousands(((value / scale).round() * scale) as usize)
}

/// `12345` → `12,345`.
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
