//! `trade-ledger`: The system of record for partners, users, bots, trades and participations.

use clap::Parser;
use platform::cli::{self, Common};
use trade_ledger::{App, MIGRATIONS, settings};

#[derive(Debug, Parser)]
#[command(
    name = "trade-ledger",
    version,
    about = "The system of record for partners, users, bots, trades and participations."
)]
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
