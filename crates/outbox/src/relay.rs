//! The outbox relay: Postgres rows → JetStream, each row published until acknowledged or
//! until it has had `max_attempts` claims: then it is parked as dead (logged at error level)
//! and the rows behind it keep flowing. `admin outbox-dead` lists dead rows and
//! `admin outbox-retry` queues them again ([`dead_rows`], [`retry_dead`]).
//!
//! Rows are claimed by lease ([`OUTBOX_LEASE`], the `lease` crate) and every write after the
//! publish names the claim's token: a relay that stalled past its lease while publishing
//! leaves the rows to the relay that claimed them since.

use async_nats::jetstream::{self, message::PublishMessage};
use bus::envelope::message_id;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::EventId;
use futures::{FutureExt, StreamExt};
use lease::{Claim, Claiming, LeaseTable, Token};
use platform::db::PgPool;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info_span, warn};

mod dead;

pub use dead::{DeadRow, Retry, admin_dead, admin_retry, dead_rows, retry_dead};

/// Test-only fault injection: makes the relay stop at a chosen point, as if the process died
/// there. Inert unless a test sets a flag.
#[derive(Debug, Default)]
pub struct Faults {
    /// Stop after claiming a batch, before publishing it (rows stay leased, unpublished).
    pub before_publish: std::sync::atomic::AtomicBool,
    /// Stop after JetStream acknowledged the batch, before marking the rows published.
    pub after_ack: std::sync::atomic::AtomicBool,
}

impl Faults {
    fn tripped(flag: &std::sync::atomic::AtomicBool, point: &str) -> anyhow::Result<()> {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            anyhow::bail!("injected fault: relay stopped {point}");
        }
        Ok(())
    }
}

/// The `[outbox]` settings of a service that runs a relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Claims a row gets before it is parked as dead (`APP_OUTBOX__MAX_ATTEMPTS`).
    pub max_attempts: u32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self { max_attempts: DEFAULT_MAX_ATTEMPTS }
    }
}

impl OutboxSettings {
    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), platform::SettingsError> {
        platform::settings::positive("outbox.max_attempts", u64::from(self.max_attempts))?;
        if i32::try_from(self.max_attempts).is_err() {
            return Err(platform::SettingsError::invalid("outbox.max_attempts", "must be at most 2147483647"));
        }
        Ok(())
    }

    /// The relay's pacing with these settings.
    pub fn relay_config(&self) -> RelayConfig {
        RelayConfig { max_attempts: i32::try_from(self.max_attempts).unwrap_or(i32::MAX), ..RelayConfig::default() }
    }
}

/// Claims before a row is parked as dead, unless settings say otherwise. With the default
/// backoff (2 s, doubling, at most 5 minutes apart) the 20 attempts span about an hour: a NATS
/// outage shorter than that parks nothing, while a row JetStream keeps refusing still ends.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 20;

/// How the relay paces itself.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Rows claimed per round.
    pub batch_size: i64,
    /// How long a claim lasts; a relay that dies frees its rows after this.
    pub lease: Duration,
    /// How long a row whose publish failed waits before it is tried again; the wait doubles
    /// with each failed attempt of the row, up to `max_retry_after`.
    pub retry_after: Duration,
    /// The longest wait between two attempts of a row.
    pub max_retry_after: Duration,
    /// The fallback wake-up when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// Claims a row gets before it is parked as dead: failed publishes, and claims that never
    /// ended (a relay that died or panicked on the row) alike.
    pub max_attempts: i32,
    /// Fault injection for tests; `None` in services.
    pub faults: Option<std::sync::Arc<Faults>>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            lease: Duration::from_secs(30),
            retry_after: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(300),
            poll_interval: Duration::from_millis(500),
            max_attempts: i32::try_from(DEFAULT_MAX_ATTEMPTS).unwrap_or(i32::MAX),
            faults: None,
        }
    }
}

impl RelayConfig {
    /// The wait after the `attempts`-th failed attempt of a row: `retry_after`, doubling, at
    /// most `max_retry_after`.
    pub fn retry_wait(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
        self.retry_after.saturating_mul(2u32.saturating_pow(doublings)).min(self.max_retry_after)
    }
}

/// The outbox's lease (see the `lease` crate): the relay claims rows with it, and its writes
/// after the publish are fenced by the claim's token.
pub static OUTBOX_LEASE: LeaseTable = LeaseTable {
    table: "outbox",
    id: "id",
    token: "lease_token",
    tokens: "outbox_lease_tokens",
    expiry: "locked_until",
    unfinished: "published_at IS NULL AND dead_at IS NULL",
};

/// A relay's claim: rows with attempts left (`$3`, the relay's `max_attempts`), in publish
/// order, each claim counted.
const CLAIMING: Claiming = Claiming {
    due: "attempts < $3",
    order_by: "seq",
    also_set: "attempts = attempts + 1, publish_attempts = publish_attempts + 1",
};

#[derive(QueryableByName, Debug)]
struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    id: EventId,
    #[diesel(sql_type = BigInt)]
    lease_token: Token,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    republish_count: i32,
    /// Claims since the row was last published, this one included.
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

impl Claimed {
    fn held(&self) -> Claim {
        Claim { id: self.id.into(), token: self.lease_token }
    }
}

/// A row parked by [`park_exhausted`].
#[derive(QueryableByName, Debug)]
struct Parked {
    #[diesel(sql_type = SqlUuid)]
    id: EventId,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

/// Parks the rows whose lease ran out after their last allowed claim: the relay that held
/// them died (or panicked) while publishing them, every time.
///
/// It looks only at the head of the queue, the `window` oldest rows due for a claim (where
/// rows claimed in `seq` order stall), so a round costs the same however long the backlog
/// is. The `UPDATE` re-checks each row, so a row another relay parked or claimed meanwhile
/// is left alone.
async fn park_exhausted(
    connection: &mut AsyncPgConnection,
    max_attempts: i32,
    window: i64,
) -> QueryResult<Vec<Parked>> {
    diesel::sql_query(
        "WITH head AS MATERIALIZED (SELECT id FROM outbox \
                                    WHERE published_at IS NULL AND dead_at IS NULL \
                                      AND (locked_until IS NULL OR locked_until < now()) \
                                    ORDER BY seq LIMIT $2) \
         UPDATE outbox SET dead_at = now(), locked_until = NULL, lease_token = NULL, \
                last_error = coalesce(last_error, 'claimed without an end: the relay stopped while publishing it') \
         WHERE id IN (SELECT id FROM head) \
           AND published_at IS NULL AND dead_at IS NULL AND attempts >= $1 \
           AND (locked_until IS NULL OR locked_until < now()) \
         RETURNING id, subject, attempts, last_error",
    )
    .bind::<Integer, _>(max_attempts)
    .bind::<BigInt, _>(window)
    .load(connection)
    .await
}

/// Publishes a service's outbox. Cheap to clone (a pool, a NATS context and settings), so a
/// supervisor can build the loop again.
#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    database_url: String,
    jetstream: jetstream::Context,
    config: RelayConfig,
}

impl Relay {
    /// A relay for the outbox in `pool`'s database. `database_url` is used for the LISTEN
    /// connection, which must not come from (and be returned to) the pool.
    pub fn new(pool: PgPool, database_url: String, jetstream: jetstream::Context, config: RelayConfig) -> Self {
        Self { pool, database_url, jetstream, config }
    }

    /// Claims one batch, publishes it and marks what JetStream acknowledged. Returns the
    /// number of rows published.
    ///
    /// A row that was claimed `max_attempts` times without ever being acknowledged or failing
    /// cleanly (the relay died or panicked while holding it) is parked before the claim, once
    /// its last lease ran out, so a row that crashes the relay cannot hold back the rows
    /// behind it forever.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let mut claimed = {
            let mut connection = self.pool.get().await?;
            for row in park_exhausted(&mut connection, self.config.max_attempts, self.config.batch_size).await? {
                let error = row.last_error.as_deref().unwrap_or("");
                error!(event.id = %row.id, subject = %row.subject, attempts = row.attempts, error, "outbox row parked as dead");
            }
            OUTBOX_LEASE
                .claim_query(
                    &CLAIMING,
                    "id, lease_token, seq, subject, payload, republish_count, attempts",
                    self.config.lease,
                    self.config.batch_size,
                )
                .bind::<Integer, _>(self.config.max_attempts)
                .load::<Claimed>(&mut connection)
                .await?
        };
        if claimed.is_empty() {
            return Ok(0);
        }
        claimed.sort_by_key(|row| row.seq);
        let span = info_span!("outbox.relay.batch", batch.size = claimed.len());
        self.publish_batch(claimed).instrument(span).await
    }

    async fn publish_batch(&self, claimed: Vec<Claimed>) -> anyhow::Result<usize> {
        if let Some(faults) = &self.config.faults {
            Faults::tripped(&faults.before_publish, "before publishing")?;
        }
        // Send every publish first and await the acks after: one round trip per batch, not per row.
        let mut pending = Vec::with_capacity(claimed.len());
        for row in &claimed {
            let msg_id = message_id(row.id, u32::try_from(row.republish_count).unwrap_or(0));
            let payload = serde_json::to_vec(&row.payload)?;
            let publish = PublishMessage::build().payload(payload.into()).message_id(msg_id);
            pending.push(self.jetstream.send_publish(row.subject.clone(), publish).await);
        }
        let mut published = Vec::new();
        let mut failed = Vec::new();
        for (row, sent) in claimed.iter().zip(pending) {
            let acked = match sent {
                Ok(ack) => ack.await.map(|_| ()).map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            };
            match acked {
                Ok(()) => published.push(row.held()),
                Err(error) => failed.push((row, error)),
            }
        }
        if let Some(faults) = &self.config.faults {
            Faults::tripped(&faults.after_ack, "after the JetStream ack")?;
        }
        // Every write below is fenced: a row another relay claimed since (our lease ran out
        // while we published) is its now, and keeps what that relay writes.
        let mut connection = self.pool.get().await?;
        if !published.is_empty() {
            // A later deliberate re-publish starts with a fresh allowance of attempts.
            OUTBOX_LEASE
                .fenced_update_many(
                    "published_at = now(), locked_until = NULL, lease_token = NULL, last_error = NULL, attempts = 0",
                    &published,
                )
                .execute(&mut connection)
                .await?;
        }
        for (row, error) in &failed {
            if row.attempts >= self.config.max_attempts {
                error!(
                    event.id = %row.id,
                    subject = %row.subject,
                    attempts = row.attempts,
                    error = %error,
                    "outbox row parked as dead"
                );
                OUTBOX_LEASE
                    .fenced_update(
                        "dead_at = now(), locked_until = NULL, lease_token = NULL, last_error = $3",
                        row.held(),
                    )
                    .bind::<Text, _>(error.clone())
                    .execute(&mut connection)
                    .await?;
                continue;
            }
            let wait = self.config.retry_wait(row.attempts);
            warn!(
                event.id = %row.id,
                attempts = row.attempts,
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "outbox publish failed; will retry"
            );
            // The lease ends; its expiry becomes the time the row is due again.
            OUTBOX_LEASE
                .fenced_update(
                    "locked_until = now() + make_interval(secs => $3), lease_token = NULL, last_error = $4",
                    row.held(),
                )
                .bind::<Double, _>(wait.as_secs_f64())
                .bind::<Text, _>(error.clone())
                .execute(&mut connection)
                .await?;
        }
        debug!(published = published.len(), failed = failed.len(), "outbox batch done");
        Ok(published.len())
    }

    /// Publishes until `shutdown`: drains the outbox, then sleeps until a NOTIFY or the poll
    /// interval, whichever comes first.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut listener = self.listen().await;
        while !shutdown.is_cancelled() {
            match self.run_once().await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(error) => warn!(error = format!("{error:#}"), "outbox relay round failed"),
            }
            let notified = async {
                match listener.as_mut() {
                    Some(connection) => {
                        let mut notifications = std::pin::pin!(connection.notifications_stream());
                        // An error or the end of the stream: the connection is gone (a stream
                        // that ended must not be polled again).
                        let alive = matches!(notifications.next().await, Some(Ok(_)));
                        // One round serves every commit so far: drop the wake-ups already queued,
                        // or a burst of N commits would cost N empty claim queries afterwards.
                        while alive && matches!(notifications.next().now_or_never(), Some(Some(Ok(_)))) {}
                        alive
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.config.poll_interval) => {}
                alive = notified => if !alive { listener = self.listen().await },
            }
        }
        Ok(())
    }

    async fn listen(&self) -> Option<AsyncPgConnection> {
        let mut connection = match AsyncPgConnection::establish(&self.database_url).await {
            Ok(connection) => connection,
            Err(error) => {
                warn!(error = %error, "outbox LISTEN connection failed; polling only");
                return None;
            }
        };
        match diesel::sql_query("LISTEN outbox").execute(&mut connection).await {
            Ok(_) => Some(connection),
            Err(error) => {
                warn!(error = %error, "LISTEN outbox failed; polling only");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_default_attempts_span_about_an_hour() {
        let config = RelayConfig::default();
        assert_eq!(config.retry_wait(1), Duration::from_secs(2));
        assert_eq!(config.retry_wait(2), Duration::from_secs(4));
        assert_eq!(config.retry_wait(9), Duration::from_secs(300), "capped");
        assert_eq!(config.retry_wait(i32::MAX), Duration::from_secs(300));
        let total: Duration = (1..config.max_attempts).map(|attempt| config.retry_wait(attempt)).sum();
        assert!(total > Duration::from_secs(3_600) && total < Duration::from_secs(4_500), "{total:?}");
    }
}
