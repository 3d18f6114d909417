//! `Idempotency-Key` on a service's writes (docs/api/common.md#idempotency): the ledger's Bot
//! API writes and the backtest-executor's `start backtest`. Each service that takes a key has
//! an `idempotency_records` table (`scope`, `key`, `request_hash`, `response_status`,
//! `response_body` text, `created_at`, `expires_at`) from its copy of `crates/platform/migrations`
//! (written by `just migrations`); this module is its only user.
//!
//! The effect and the stored reply commit in one transaction, so a reply is stored exactly
//! when the write happened. A transaction-scoped advisory lock on (scope, key) makes a repeat
//! that arrives while the first request runs answer 409 at once instead of waiting; a repeat
//! after it replays the stored reply; the same key with another request answers 422.
//!
//! Both paths, with a key and without, run the work inside a transaction of their own and
//! check the request's deadline ([`bus::deadline::check`]) right before it commits: when the
//! requester has stopped waiting (the gateway answered 504), the work rolls back instead, so
//! a client that retries cannot duplicate it. A transaction the work opens itself becomes a
//! savepoint of this one.

use crate::db::PgPool;
use bus::BusError;
use bus::messages::idempotency::{Command, Replayable};
use diesel::sql_types::{Bool, Bytea, Nullable, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::{BotId, PartnerId};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

/// The database failed: retryable `unavailable`, the cause logged once here.
fn storage_error(error: impl std::fmt::Display) -> BusError {
    tracing::error!(error = %error, "idempotency storage failure");
    BusError::unavailable("the database failed")
}

enum Failure {
    Refused(BusError),
    Storage(diesel::result::Error),
}

/// The last step before a commit: a request whose requester stopped waiting rolls back.
fn before_commit() -> Result<(), Failure> {
    bus::deadline::check().map_err(|exceeded| {
        tracing::warn!(overrun_ms = exceeded.overrun.as_millis(), "deadline passed before commit; rolled back");
        Failure::Refused(exceeded.into())
    })
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Failure::Storage(error)
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Bytea)]
    request_hash: Vec<u8>,
    #[diesel(sql_type = Nullable<Text>)]
    response_body: Option<String>,
}

/// Whose keys a key is unique among: the credential that sent the request. Stored (and
/// locked on) as the credential's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A bot's API key: the ledger's Bot API writes.
    Bot(BotId),
    /// A partner's API key: the backtest-executor's `start backtest`.
    Partner(PartnerId),
}

impl Scope {
    fn id(self) -> Uuid {
        match self {
            Self::Bot(bot) => bot.into(),
            Self::Partner(partner) => partner.into(),
        }
    }
}

impl From<BotId> for Scope {
    fn from(bot: BotId) -> Self {
        Self::Bot(bot)
    }
}

impl From<PartnerId> for Scope {
    fn from(partner: PartnerId) -> Self {
        Self::Partner(partner)
    }
}

/// Runs `work` for `command`, once per idempotency key within `scope` (the credential: a bot,
/// a partner).
pub async fn run<C, T, F>(
    pool: &PgPool,
    scope: impl Into<Scope>,
    command: Command<C>,
    work: F,
) -> Result<Replayable<T>, BusError>
where
    C: Send,
    T: Serialize + Send,
    F: for<'a> FnOnce(&'a mut AsyncPgConnection, C) -> BoxFuture<'a, Result<T, BusError>> + Send,
{
    let scope = scope.into().id();
    let mut connection = pool.get().await.map_err(storage_error)?;
    let Some(idempotency) = command.idempotency else {
        let inner = command.command;
        let outcome = connection
            .transaction::<_, Failure, _>(async |tx| {
                let value = work(tx, inner).await.map_err(Failure::Refused)?;
                before_commit()?;
                Ok(Replayable::Fresh(value))
            })
            .await;
        return settle(outcome);
    };
    let request_hash =
        hex_decode(&idempotency.request_hash).ok_or_else(|| BusError::invalid("malformed request hash"))?;
    let key = idempotency.key;
    let inner = command.command;
    let outcome = connection
        .transaction::<_, Failure, _>(async |tx| {
            let lock: Locked =
                diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS locked")
                    .bind::<SqlUuid, _>(scope)
                    .bind::<Text, _>(&key)
                    .get_result(tx)
                    .await?;
            if !lock.locked {
                return Err(Failure::Refused(BusError::Conflict {
                    message: "A request with this Idempotency-Key is still being processed".to_string(),
                }));
            }
            let stored: Option<Stored> = diesel::sql_query(
                "SELECT request_hash, response_body FROM idempotency_records \
                 WHERE scope = $1 AND key = $2 AND expires_at > now()",
            )
            .bind::<Text, _>(scope.to_string())
            .bind::<Text, _>(&key)
            .get_result(tx)
            .await
            .optional()?;
            if let Some(stored) = stored {
                if stored.request_hash != request_hash {
                    return Err(Failure::Refused(BusError::IdempotencyKeyReused {
                        message: "Idempotency-Key was already used with a different request".to_string(),
                    }));
                }
                if let Some(body) = stored.response_body {
                    let raw = RawValue::from_string(body).map_err(|error| {
                        Failure::Storage(diesel::result::Error::DeserializationError(Box::new(error)))
                    })?;
                    return Ok(Replayable::Replayed(raw));
                }
            }
            // Nothing live under this key (an expired record is replaced).
            diesel::sql_query("DELETE FROM idempotency_records WHERE scope = $1 AND key = $2")
                .bind::<Text, _>(scope.to_string())
                .bind::<Text, _>(&key)
                .execute(tx)
                .await?;
            let value = work(tx, inner).await.map_err(Failure::Refused)?;
            let body = serde_json::to_string(&value)
                .map_err(|error| Failure::Storage(diesel::result::Error::SerializationError(Box::new(error))))?;
            diesel::sql_query(
                "INSERT INTO idempotency_records (scope, key, request_hash, response_status, response_body) \
                 VALUES ($1, $2, $3, 200, $4)",
            )
            .bind::<Text, _>(scope.to_string())
            .bind::<Text, _>(&key)
            .bind::<Bytea, _>(&request_hash)
            .bind::<Text, _>(body)
            .execute(tx)
            .await?;
            before_commit()?;
            Ok(Replayable::Fresh(value))
        })
        .await;
    settle(outcome)
}

fn settle<T>(outcome: Result<Replayable<T>, Failure>) -> Result<Replayable<T>, BusError> {
    match outcome {
        Ok(reply) => Ok(reply),
        Err(Failure::Refused(error)) => Err(error),
        Err(Failure::Storage(error)) => Err(storage_error(error)),
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Expired idempotency records, deleted by [`purge_expired`]: a batch of at most `$2` whose
/// `expires_at` is before `$1` (now).
pub const PURGE_JOB: crate::prune::PruneJob = crate::prune::PruneJob {
    name: "idempotency_records",
    delete_batch: "DELETE FROM idempotency_records WHERE (scope, key) IN \
                   (SELECT scope, key FROM idempotency_records WHERE expires_at < $1 \
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    keep: std::time::Duration::ZERO,
};

/// One purge round: expired records deleted in batches of at most 1,000, by one replica at a
/// time (see [`crate::prune`]).
pub async fn purge_once(pool: &PgPool) -> anyhow::Result<crate::prune::Pruned> {
    crate::prune::prune(pool, &PURGE_JOB, crate::settings::MAX_PRUNE_BATCH).await
}

/// Deletes expired idempotency records every hour until `shutdown`. (A returning key also
/// replaces its own expired record; this keeps keys that never return from piling up.)
pub async fn purge_expired(pool: PgPool, shutdown: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            _ = interval.tick() => {}
        }
        match purge_once(&pool).await {
            Ok(purged) => tracing::debug!(deleted = purged.deleted(), "expired idempotency records purged"),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "idempotency purge failed; retrying later"),
        }
    }
}
