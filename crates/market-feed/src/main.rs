//! `market-feed`: live quotes on NATS from the repository's candle files (see the crate README).

use anyhow::Context;
use clap::Parser;
use market_feed::{Feed, FeedSettings};
use platform::settings::{Settings, Sources, env_var_for};

#[derive(Debug, Parser)]
#[command(
    name = "market-feed",
    version,
    about = "Replays candle files as live quotes on NATS, with a control endpoint."
)]
struct Cli {
    /// Candles per second, per symbol (four quotes each); overrides the `feed.speed` setting.
    #[arg(long)]
    speed: Option<f64>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut sources = Sources::from_process();
    if let Some(speed) = cli.speed {
        // The flag is the top layer, above the environment, and validated like the rest.
        sources.env.insert(env_var_for("feed.speed"), speed.to_string());
    }
    let settings = platform::settings::load(&FeedSettings::default(), &sources)?;
    platform::telemetry::init(settings.log());
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if settings.http.workers > 0 {
        runtime.worker_threads(settings.http.workers);
    }
    runtime.enable_all().build().context("starting the runtime")?.block_on(async move {
        let feed = Feed::start(settings, platform::shutdown::on_signal()).await?;
        feed.run_until_stopped().await;
        Ok(())
    })
}
