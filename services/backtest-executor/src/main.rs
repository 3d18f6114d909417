//! `backtest-executor`: Runs backtests of hosted bots over stored candles.

use backtest_executor::{App, MIGRATIONS, settings};
use clap::Parser;
use platform::cli::{self, Common};

#[derive(Debug, Parser)]
#[command(name = "backtest-executor", version, about = "Runs backtests of hosted bots over stored candles.")]
struct Cli {
    #[command(subcommand)]
    command: Common,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli::load_settings(&settings::defaults())?;
    match cli.command {
        Common::Serve => App::build(settings, cli::serve_shutdown()).await?.run_until_stopped().await,
        Common::Migrate { revert_all } => cli::migrate(&settings, MIGRATIONS, revert_all).await?,
    }
    Ok(())
}
