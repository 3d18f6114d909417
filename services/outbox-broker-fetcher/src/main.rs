//! `outbox-broker-fetcher`: fetches broker order details for participations.

use clap::{Parser, Subcommand};
use outbox_broker_fetcher::admin::{self, AdminCommand};
use outbox_broker_fetcher::{App, MIGRATIONS, settings};
use platform::Settings as _;
use platform::cli::{self, Common};
use platform::settings::Sources;

#[derive(Debug, Parser)]
#[command(name = "outbox-broker-fetcher", version, about = "Fetches broker order details for participations.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Common(Common),
    /// Store broker credentials, re-seal them after a key rotation, list and retry dead
    /// letters and dead outbox rows (prints JSON).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The fetcher's own loader: it also needs APP_ENVIRONMENT, to refuse the development key.
    let settings = settings::load(&Sources::from_process())?;
    platform::telemetry::init(settings.log());
    match cli.command {
        Command::Common(Common::Serve) => {
            let shutdown = cli::serve_shutdown();
            App::build(settings).await?.run_until_stopped(shutdown).await
        }
        Command::Common(Common::Migrate { revert_all }) => {
            cli::migrate(&settings.backend(), MIGRATIONS, revert_all).await?
        }
        Command::Admin(command) => {
            let cipher = settings.credentials.cipher()?;
            let output = admin::run(&settings.database.url, &cipher, command, std::io::stdin().lock()).await?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{output}\n").as_bytes())?;
        }
    }
    Ok(())
}
