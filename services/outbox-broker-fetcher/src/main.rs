//! `outbox-broker-fetcher`: Fetches broker order details for participations.

use clap::Parser;
use outbox_broker_fetcher::{App, MIGRATIONS, settings};
use platform::cli::{self, Common};

#[derive(Debug, Parser)]
#[command(name = "outbox-broker-fetcher", version, about = "Fetches broker order details for participations.")]
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
        Common::Migrate { revert_all } => cli::migrate(&settings.backend(), MIGRATIONS, revert_all).await?,
    }
    Ok(())
}
