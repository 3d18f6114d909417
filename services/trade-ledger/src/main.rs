//! `trade-ledger`: the system of record for partners, users, bots, trades and participations.

use clap::{Parser, Subcommand};
use platform::cli::{self, Common};
use trade_ledger::admin::AdminCommand;
use trade_ledger::{App, MIGRATIONS, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "trade-ledger",
    version,
    about = "The system of record for partners, users, bots, trades and participations."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Common(Common),
    /// Create partners, users, broker accounts, tickers, bots and follow links; revoke keys;
    /// list and re-queue dead outbox rows (prints JSON).
    #[command(subcommand)]
    Admin(AdminCommand),
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
        Command::Admin(command) => {
            let output = trade_ledger::admin::run(&settings.database.url, command).await?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{output}\n").as_bytes())?;
        }
    }
    Ok(())
}
