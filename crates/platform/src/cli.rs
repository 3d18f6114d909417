//! The subcommands every backend binary shares, and the code behind them.

use crate::settings::{self, BackendSettings, Settings, Sources};
use crate::{db, shutdown, telemetry};
use anyhow::Context;
use clap::Subcommand;
use diesel_migrations::EmbeddedMigrations;
use tracing::info;

/// `serve` and `migrate`; a service adds its own (`admin ...`) next to these.
#[derive(Debug, Subcommand)]
pub enum Common {
    /// Run the service until SIGTERM or SIGINT.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate {
        /// Revert every migration instead (drops the service's tables and their data).
        #[arg(long)]
        revert_all: bool,
    },
}

/// Loads settings from the process's sources and starts logging.
pub fn load_settings<S: Settings>(defaults: &S) -> anyhow::Result<S> {
    let settings = settings::load(defaults, &Sources::from_process())?;
    telemetry::init(settings.log());
    Ok(settings)
}

/// Runs `migrate` for a service.
pub async fn migrate(
    settings: &BackendSettings,
    migrations: EmbeddedMigrations,
    revert_all: bool,
) -> anyhow::Result<()> {
    let url = &settings.database.url;
    let target = settings::redacted_url(url);
    let versions = if revert_all {
        db::revert_all(url, migrations).await.with_context(|| format!("reverting migrations on {target}"))?
    } else {
        db::run_pending(url, migrations).await.with_context(|| format!("migrating {target}"))?
    };
    info!(database = %target, revert_all, versions = ?versions, "migrations done");
    Ok(())
}

/// A shutdown token for `serve`, cancelled by SIGTERM or SIGINT.
pub fn serve_shutdown() -> tokio_util::sync::CancellationToken {
    shutdown::on_signal()
}
