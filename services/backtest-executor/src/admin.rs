//! `backtest-executor admin ...`: look after the outbox rows the relay gave up on (its
//! `backtest queued` wake-ups). Each command prints one JSON object.

use anyhow::Context;
use clap::Subcommand;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::EventId;
use serde_json::Value;

/// The admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List the outbox rows the relay parked as dead after `outbox.max_attempts` claims →
    /// `{dead: [{id, seq, subject, attempts, lastError, createdAt, deadAt}]}`.
    OutboxDead,
    /// Queue dead outbox rows again, with a fresh allowance of attempts → `{requeued: [id]}`.
    OutboxRetry {
        /// A dead row's event id (repeat the flag for several).
        #[arg(long = "id", required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<EventId>,
        /// Every dead row.
        #[arg(long)]
        all: bool,
    },
}

/// Runs one admin command against the executor's database; returns the JSON to print.
pub async fn run(database_url: &str, command: AdminCommand) -> anyhow::Result<Value> {
    let mut connection =
        AsyncPgConnection::establish(database_url).await.context("connecting to the backtest database")?;
    match command {
        AdminCommand::OutboxDead => outbox::relay::admin_dead(&mut connection).await,
        AdminCommand::OutboxRetry { ids, all } => outbox::relay::admin_retry(&mut connection, &ids, all).await,
    }
}
