//! `backtest-executor`: Runs backtests of hosted bots over stored candles.

use backtest_executor::{App, MIGRATIONS, settings, usecase};
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
    /// Benchmark hook: store one backtest and run it in this process (no NATS), printing JSON timings.
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
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli::load_settings(&settings::defaults())?;
    match cli.command {
        Command::Common(Common::Serve) => App::build(settings, cli::serve_shutdown()).await?.run_until_stopped().await,
        Command::Common(Common::Migrate { revert_all }) => {
            cli::migrate(&settings.backend(), MIGRATIONS, revert_all).await?
        }
        Command::ImportCandles { market, timeframe, file } => {
            let report = usecase::import::run(&settings.database.url, &market, &timeframe, &file).await?;
            let output = serde_json::to_string(&report)?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{output}\n").as_bytes())?;
        }
        Command::RunBacktest { script_type, settings: bot, start, end } => {
            let report = usecase::bench::run(&settings, &script_type, &bot, start, end).await?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{report}\n").as_bytes())?;
        }
    }
    Ok(())
}
