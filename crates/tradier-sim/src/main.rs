//! `tradier-sim`: a local Tradier-compatible server (see the crate README).

use clap::Parser;
use std::io::IsTerminal;
use std::net::SocketAddr;
use tracing_subscriber::EnvFilter;
use tradier_sim::TradierSim;

#[derive(Debug, Parser)]
#[command(name = "tradier-sim", version, about = "A local Tradier-compatible order server.")]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "TRADIER_SIM_ADDR", default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        // `just up` sends the output to a log file: colours only on a terminal.
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let sim = TradierSim::start(cli.addr).await?;
    tracing::info!(addr = %sim.addr(), base_url = %sim.base_url(), "tradier-sim listening");
    stopped().await?;
    tracing::info!("tradier-sim stopping");
    sim.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
