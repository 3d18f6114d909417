//! `outbox-broker-fetcher`: fetches broker order details for participations.

use clap::{Parser, Subcommand};
use outbox_broker_fetcher::admin::{self, AdminCommand};
use outbox_broker_fetcher::crypto::CredentialCipher;
use outbox_broker_fetcher::{App, MIGRATIONS, settings};
use platform::cli::{self, Common};

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
    /// Store broker credentials, list and retry dead letters (prints JSON).
    #[command(subcommand)]
    Admin(AdminCommand),
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
        Command::Admin(command) => {
            let cipher = CredentialCipher::new(settings.credentials.key()?);
            let output = admin::run(&settings.database.url, &cipher, command, std::io::stdin().lock()).await?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{output}\n").as_bytes())?;
        }
    }
    Ok(())
}
