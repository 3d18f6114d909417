//! `outbox-broker-fetcher admin ...`: store broker credentials, re-seal them after a key
//! rotation, list dead letters, retry them, and list and retry the outbox rows the relay gave
//! up on. Each command prints one JSON object. A token is read from stdin (never from the
//! command line, where `ps` and shell history would see it) and is never printed.

use crate::broker::TradierEnvironment;
use crate::crypto::CredentialCipher;
use crate::store::{credentials, jobs};
use crate::usecase::key_rotation;
use anyhow::{Context, bail};
use clap::Subcommand;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::{BrokerAccountId, EventId, ParticipationId, Secret};
use serde_json::{Value, json};

/// The admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Store (or replace) a broker account's access token, read from stdin, encrypted.
    SetCredentials {
        /// The broker account's id in the ledger.
        #[arg(long)]
        broker_account: BrokerAccountId,
        /// `live` or `sandbox`: which Tradier base URL the account's requests go to.
        #[arg(long, default_value = "live")]
        environment: String,
    },
    /// Re-seal every stored credential that is not sealed with the current key
    /// (`credentials.key_id`) and the current associated data; prints how many were re-sealed.
    /// Safe to run again (it then re-seals 0) and while the service runs.
    RotateKeys {
        /// Credentials read and written at once.
        #[arg(long, default_value_t = key_rotation::DEFAULT_BATCH, value_parser = clap::value_parser!(i64).range(1..))]
        batch_size: i64,
    },
    /// List the fetch jobs parked as dead letters, with their code and their last error.
    DeadLetters,
    /// Put dead letters back in the queue: one participation's, or all.
    Retry {
        /// The participation whose fetch to retry.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        participation: Option<ParticipationId>,
        /// Retry every dead letter.
        #[arg(long)]
        all: bool,
    },
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
            let sealed = cipher.seal(broker_account, environment, &token)?;
            credentials::upsert(&mut connection, broker_account, environment.as_str(), &sealed).await?;
            Ok(json!({ "brokerAccountId": broker_account, "environment": environment.as_str() }))
        }
        AdminCommand::RotateKeys { batch_size } => {
            let report = key_rotation::rotate(&mut connection, cipher, batch_size).await?;
            if !report.unreadable.is_empty() {
                // Removing an old key now would lose nothing more, but the operator must know
                // that these credentials need to be set again.
                bail!(
                    "re-sealed {} credential(s); {} could not be opened and keep their old seal: {}",
                    report.resealed,
                    report.unreadable.len(),
                    serde_json::to_string(&report.unreadable)?
                );
            }
            Ok(serde_json::to_value(report)?)
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
        AdminCommand::OutboxDead => outbox::relay::admin_dead(&mut connection).await,
        AdminCommand::OutboxRetry { ids, all } => outbox::relay::admin_retry(&mut connection, &ids, all).await,
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
