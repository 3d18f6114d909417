//! `outbox-broker-fetcher admin ...`: store broker credentials, list dead letters, retry them.
//! Each command prints one JSON object. A token is read from stdin (never from the command
//! line, where `ps` and shell history would see it) and is never printed.

use crate::broker::TradierEnvironment;
use crate::crypto::CredentialCipher;
use crate::store::{credentials, jobs};
use anyhow::{Context, bail};
use clap::Subcommand;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::Secret;
use serde_json::{Value, json};
use uuid::Uuid;

/// The admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Store (or replace) a broker account's access token, read from stdin, encrypted.
    SetCredentials {
        /// The broker account's id in the ledger.
        #[arg(long)]
        broker_account: Uuid,
        /// `live` or `sandbox`: which Tradier base URL the account's requests go to.
        #[arg(long, default_value = "live")]
        environment: String,
    },
    /// List the fetch jobs parked as dead letters, with their last error.
    DeadLetters,
    /// Put dead letters back in the queue: one participation's, or all.
    Retry {
        /// The participation whose fetch to retry.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        participation: Option<Uuid>,
        /// Retry every dead letter.
        #[arg(long)]
        all: bool,
    },
}

/// Runs one admin command against the fetcher database; `stdin` supplies a token.
pub async fn run(
    database_url: &str,
    cipher: &CredentialCipher,
    command: AdminCommand,
    stdin: impl std::io::Read,
) -> anyhow::Result<Value> {
    let mut connection =
        AsyncPgConnection::establish(database_url).await.context("connecting to the fetcher database")?;
    match command {
        AdminCommand::SetCredentials { broker_account, environment } => {
            let environment: TradierEnvironment = environment
                .parse()
                .map_err(|_| anyhow::anyhow!("--environment must be live or sandbox, not {environment:?}"))?;
            let token = read_token(stdin)?;
            let sealed = cipher.seal(broker_account, &token)?;
            credentials::upsert(&mut connection, broker_account, environment.as_str(), &sealed).await?;
            Ok(json!({ "brokerAccountId": broker_account, "environment": environment.as_str() }))
        }
        AdminCommand::DeadLetters => Ok(json!({ "deadLetters": jobs::dead_letters(&mut connection).await? })),
        AdminCommand::Retry { participation, all } => {
            let requeued =
                connection.transaction(async |tx| jobs::requeue_dead(tx, participation.filter(|_| !all)).await).await?;
            if let (Some(id), true) = (participation, requeued.is_empty()) {
                bail!("participation {id} has no fetch parked as a dead letter");
            }
            Ok(json!({ "requeued": requeued }))
        }
    }
}

fn read_token(mut stdin: impl std::io::Read) -> anyhow::Result<Secret> {
    let mut token = String::new();
    stdin.read_to_string(&mut token).context("reading the token from stdin")?;
    let token = token.trim();
    if token.is_empty() {
        bail!("no token on stdin: pipe the broker access token into this command");
    }
    Ok(Secret::new(token))
}
