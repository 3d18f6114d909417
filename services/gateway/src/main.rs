//! `gateway`: the HTTP entry point of the platform.

use clap::{Parser, Subcommand};
use gateway::{App, Settings};

#[derive(Debug, Parser)]
#[command(name = "gateway", version, about = "The HTTP entry point: Bot, Partner and User APIs.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP until SIGTERM or SIGINT.
    Serve,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => {
            let settings = platform::cli::load_settings(&Settings::default())?;
            let shutdown = platform::cli::serve_shutdown();
            App::build(settings).await?.run_until_stopped(shutdown).await;
        }
        Command::Openapi => {
            use utoipa::OpenApi;
            let document = gateway::openapi::ApiDoc::openapi().to_pretty_json()?;
            std::io::Write::write_all(&mut std::io::stdout(), (document + "\n").as_bytes())?;
        }
    }
    Ok(())
}
