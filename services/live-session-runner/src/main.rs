//! `live-session-runner`: Runs hosted bots against the live quote stream.

use clap::Parser;
use live_session_runner::{App, MIGRATIONS, Settings};
use platform::cli::{self, Common};

#[derive(Debug, Parser)]
#[command(name = "live-session-runner", version, about = "Runs hosted bots against the live quote stream.")]
struct Cli {
    #[command(subcommand)]
    command: Common,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli::load_settings(&Settings::default())?;
    match cli.command {
        Common::Serve => {
            let shutdown = cli::serve_shutdown();
            App::build(settings).await?.run_until_stopped(shutdown).await
        }
        Common::Migrate { revert_all } => cli::migrate(&settings.backend(), MIGRATIONS, revert_all).await?,
    }
    Ok(())
}
