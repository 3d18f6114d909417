//! `backtest-executor`: Runs backtests of hosted bots over stored candles.

use anyhow::Context;
use backtest_executor::admin::AdminCommand;
use backtest_executor::{App, MIGRATIONS, Settings, usecase};
use clap::{Parser, Subcommand};
use platform::cli::{self, Common};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "backtest-executor", version, about = "Runs backtests of hosted bots over stored candles.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Common(Common),
    /// Import a candle CSV (`timestamp_ms,open,high,low,close,volume`) idempotently; prints JSON counts.
    ImportCandles {
        /// Market symbol, e.g. SIM_BTC_USDT_.
        #[arg(long)]
        market: String,
        /// Candle length: 1m, 5m, 1h, ...
        #[arg(long)]
        timeframe: String,
        /// The CSV file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Write a synthetic candle CSV: `--source` replicated ping-pong to `--candles` candles on a
    /// grid of `--step` from `--start` (for benchmarks; not stored data).
    GenerateCandles {
        /// The real series to replicate (`timestamp_ms,open,high,low,close,volume`).
        #[arg(long)]
        source: PathBuf,
        /// How many candles to write.
        #[arg(long)]
        candles: u64,
        /// Open time of the first candle, unix seconds.
        #[arg(long)]
        start: i64,
        /// Candle length in seconds.
        #[arg(long, default_value_t = 60)]
        step: i64,
        /// The CSV to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// List and retry the outbox rows the relay gave up on (prints JSON).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Benchmark hook: store backtests and run them in this process (no NATS), printing JSON timings.
    RunBacktest {
        /// Script type, e.g. spot_grid.
        #[arg(long = "type")]
        script_type: String,
        /// The bot settings as JSON.
        #[arg(long)]
        settings: String,
        /// Range start, unix seconds.
        #[arg(long)]
        start: i64,
        /// Range end, unix seconds (exclusive).
        #[arg(long)]
        end: i64,
        /// How many copies of the backtest to store at once.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// Worker tasks running them at the same time.
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli::load_settings(&Settings::default())?;
    match cli.command {
        Command::Common(Common::Serve) => {
            let shutdown = cli::serve_shutdown();
            App::build(settings).await?.run_until_stopped(shutdown).await
        }
        Command::Common(Common::Migrate { revert_all }) => {
            cli::migrate(&settings.backend(), MIGRATIONS, revert_all).await?
        }
        Command::ImportCandles { market, timeframe, file } => {
            let report = usecase::import::run(&settings.database.url, &market, &timeframe, &file).await?;
            let output = serde_json::to_string(&report)?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{output}\n").as_bytes())?;
        }
        Command::GenerateCandles { source, candles, start, step, out } => {
            let text = std::fs::read_to_string(&source).with_context(|| format!("reading {}", source.display()))?;
            let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            usecase::bench::ping_pong(&text, candles, start, step, &mut writer)?;
            std::io::Write::flush(&mut writer)?;
        }
        Command::Admin(command) => {
            let output = backtest_executor::admin::run(&settings.database.url, command).await?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{output}\n").as_bytes())?;
        }
        Command::RunBacktest { script_type, settings: bot, start, end, count, workers } => {
            let plan = usecase::bench::BenchPlan { script_type, settings: bot, start, end, count, workers };
            let report = usecase::bench::run(&settings, &plan).await?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{report}\n").as_bytes())?;
        }
    }
    Ok(())
}
