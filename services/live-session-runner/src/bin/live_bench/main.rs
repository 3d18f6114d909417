//! `live-bench`: one live-session-runner under load, in this process, on its own database and
//! subject prefix (`just bench live`, see `deploy/local/bench.sh`).
//!
//! ```text
//!  seed N hosted bots' runs ─► App::build_with(Latency::recording()) ─► every run running
//!  first quote per market (every bot places its opening orders), reported on its own
//!  flat out: one quote per market, the next once the runner decided on both ─► --quotes rounds
//!  paced: one quote per market per second for --paced-secs ─► CPU per second of quotes
//!  report: decision and persisted percentiles, bots per core, against the targets
//! ```
//!
//! Half the bots are spot grids, half DCA bots, alternating between `SIM_BTC_USDT_` and
//! `SIM_ETH_USDT_`; prices walk the candle files in `deploy/local/marketdata/`. The runner runs
//! with its compiled defaults (250 ms ticks, checkpoints every 5 s, 10 s leases) except the
//! reconciliation: no ledger answers here, so its one round at start-up fails with a warning.
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
mod fixture;
mod measure;

use anyhow::Context as _;
use clap::Parser;
use diesel_async::AsyncPgConnection;
use feed::{PricePath, Publisher};
use fixture::{Scratch, Sim};
use live_session_runner::clock::SystemClock;
use live_session_runner::live::{Latency, LatencySamples};
use live_session_runner::{App, Settings};
use measure::{CpuMark, CpuUsed, LogCounts, Percentiles};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long the benchmark waits for the runner to persist a round of quotes.
const PATIENCE: Duration = Duration::from_secs(120);
/// How long it waits for every run to be claimed and running.
const ADOPT_PATIENCE: Duration = Duration::from_secs(600);
/// How often it looks at the runner's samples while waiting.
const POLL: Duration = Duration::from_millis(1);
/// The quiet time after a phase, for its last commits.
const SETTLE: Duration = Duration::from_secs(1);

/// The targets (issue text): at 1,000 bots, decision p99 ≤ 1 ms and persisted p99 ≤ 50 ms;
/// at least 10,000 bots per runner below one core at 1 quote/s per market.
const TARGET_BOTS: usize = 1_000;
const TARGET_DECISION_P99: Duration = Duration::from_millis(1);
const TARGET_PERSISTED_P99: Duration = Duration::from_millis(50);
const TARGET_BOTS_PER_CORE: f64 = 10_000.0;

#[derive(Debug, Parser)]
#[command(name = "live-bench", about = "Quote → decision and quote → persisted latency of one live-session-runner.")]
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
    /// Keep the scratch database afterwards (to look at what the bots wrote).
    #[arg(long)]
    keep: bool,
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

/// Makes the scratch database and prefix, benchmarks, and removes both whatever happened.
async fn run(args: &Args, logs: &LogCounts) -> anyhow::Result<()> {
    anyhow::ensure!(args.bots >= Sim::ALL.len(), "--bots: at least one per market");
    anyhow::ensure!(args.quotes >= 1, "--quotes: at least 1");
    let paths = Sim::ALL.iter().map(|market| PricePath::load(&args.data, *market)).collect::<Result<Vec<_>, _>>()?;
    let scratch = Scratch::create(&args.database_url_base).await?;
    let prefix = fixture::random_prefix();
    let signal = platform::shutdown::on_signal();
    let outcome = tokio::select! {
        outcome = bench(args, &scratch, &prefix, paths, logs) => outcome,
        () = signal.cancelled() => Err(anyhow::anyhow!("interrupted")),
    };
    let streams = fixture::delete_streams(&args.nats_url, &prefix).await;
    let dropped = if args.keep {
        println!("kept database {} ({})", scratch.name(), scratch.url);
        Ok(())
    } else {
        scratch.drop_database().await
    };
    outcome.and(streams).and(dropped)
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
    // No ledger answers on this prefix: the round at start-up fails (one warning), no more.
    settings.live.reconcile_secs = 24 * 3600;
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
    prefix: &str,
    paths: Vec<PricePath>,
    logs: &LogCounts,
) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let per_market = args.bots / Sim::ALL.len();
    println!("live-session-runner benchmark: first version, no earlier engine room to compare with");
    println!(
        "machine: {cores} cores (the runner, Postgres and NATS share them), load average {}",
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

    let mut db = scratch.connect().await?;
    let began = Instant::now();
    fixture::seed(&mut db, args.bots).await?;
    let seeded = began.elapsed();

    let latency = Latency::recording();
    let began = Instant::now();
    let app = App::build_with(settings(args, &scratch.url, prefix)?, Arc::new(SystemClock), latency.clone())
        .await
        .context("starting the runner")?;
    let shutdown = CancellationToken::new();
    // Cancelled however this function ends (an error, Ctrl-C): the runner stops with it.
    let _stop_runner = shutdown.clone().drop_guard();
    let runner = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    wait_running(&mut db, args.bots).await?;
    println!(
        "seeded {} runs in {:.1} s; every run claimed, built and running {:.1} s after the runner started",
        thousands(args.bots),
        seeded.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    drop(latency.take());

    let client = async_nats::connect(args.nats_url.as_str()).await.context("connecting to NATS")?;
    let mut publisher = Publisher::new(client, bus::Subjects::new(prefix)?, paths);
    let first = first_quotes(&mut publisher, &latency).await?;
    let wal = fixture::wal_bytes(&mut db).await;
    let mut flat = flat_out(&mut publisher, &latency, args.quotes).await?;
    let wal_after = fixture::wal_bytes(&mut db).await;
    flat.wal = wal.zip(wal_after).map(|(before, after)| after - before);
    let paced = if args.paced_secs > 0 {
        let wal = fixture::wal_bytes(&mut db).await;
        let mut paced = paced(&mut publisher, &latency, args.paced_secs).await?;
        let wal_after = fixture::wal_bytes(&mut db).await;
        paced.wal = wal.zip(wal_after).map(|(before, after)| after - before);
        Some(paced)
    } else {
        None
    };
    let written = fixture::written(&mut db).await?;
    let bad_lines = fixture::bad_lines(&mut db).await?;

    let began = Instant::now();
    shutdown.cancel();
    let stopped = tokio::time::timeout(PATIENCE, runner).await;
    let stop_secs = began.elapsed().as_secs_f64();

    report_first(&first);
    report_flat(args.bots, &flat);
    if let Some(paced) = &paced {
        report_paced(paced);
    }
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
    println!(
        "the runner logged {warnings} warning(s) and {errors} error(s) (one warning is expected: the reconciliation \
         finds no ledger here); peak RSS {:.0} MB",
        measure::peak_rss_mb()
    );
    match stopped {
        Ok(Ok(())) => {
            println!("stopped gracefully in {stop_secs:.1} s (dirty runs checkpointed, every run given back)")
        }
        Ok(Err(error)) => println!("the runner's task failed: {error}"),
        Err(_) => println!("the runner did not stop within {PATIENCE:?}"),
    }
    Ok(())
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
/// the market task never idles).
async fn flat_out(publisher: &mut Publisher, latency: &Latency, rounds: usize) -> anyhow::Result<Phase> {
    let mut phase = Phase::default();
    let cpu = CpuMark::now();
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
async fn paced(publisher: &mut Publisher, latency: &Latency, secs: u64) -> anyhow::Result<Phase> {
    let mut phase = Phase::default();
    let mut pending: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut published = 0;
    let start = tokio::time::Instant::now();
    let cpu = CpuMark::now();
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
    let others = cpu.others.map_or_else(String::new, |others| format!(", everything else {others:.2}"));
    format!("CPU in cores: this process {:.3}, {postgres}{others}", cpu.process)
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

/// Milliseconds, with µs precision below 10 ms.
fn ms(took: Duration) -> String {
    let ms = took.as_secs_f64() * 1e3;
    if ms < 10.0 { format!("{ms:.3} ms") } else { format!("{ms:.1} ms") }
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
