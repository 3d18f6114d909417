//! The outbox relay: Postgres rows → JetStream, each row published until acknowledged.

use async_nats::jetstream::{self, message::PublishMessage};
use bus::envelope::message_id;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::EventId;
use futures::{FutureExt, StreamExt};
use platform::db::PgPool;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info_span, warn};

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

/// How the relay paces itself.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Rows claimed per round.
    pub batch_size: i64,
    /// How long a claim lasts; a relay that dies frees its rows after this.
    pub lease: Duration,
    /// How long a row whose publish failed waits before it is tried again.
    pub retry_after: Duration,
    /// The fallback wake-up when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// Fault injection for tests; `None` in services.
    pub faults: Option<std::sync::Arc<Faults>>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            lease: Duration::from_secs(30),
            retry_after: Duration::from_secs(2),
            poll_interval: Duration::from_millis(500),
            faults: None,
        }
    }
}

#[derive(QueryableByName, Debug)]
struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    republish_count: i32,
}

/// Publishes a service's outbox.
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
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let mut claimed = {
            let mut connection = self.pool.get().await?;
            diesel::sql_query(
                "UPDATE outbox SET locked_until = now() + make_interval(secs => $1), \
                                   publish_attempts = publish_attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox \
                              WHERE published_at IS NULL AND (locked_until IS NULL OR locked_until < now()) \
                              ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, seq, subject, payload, republish_count",
            )
            .bind::<Double, _>(self.config.lease.as_secs_f64())
            .bind::<BigInt, _>(self.config.batch_size)
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
            let msg_id = message_id(EventId::from_uuid(row.id), u32::try_from(row.republish_count).unwrap_or(0));
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
                Ok(()) => published.push(row.id),
                Err(error) => failed.push((row.id, error)),
            }
        }
        if let Some(faults) = &self.config.faults {
            Faults::tripped(&faults.after_ack, "after the JetStream ack")?;
        }
        let mut connection = self.pool.get().await?;
        if !published.is_empty() {
            diesel::sql_query(
                "UPDATE outbox SET published_at = now(), locked_until = NULL, last_error = NULL WHERE id = ANY($1)",
            )
            .bind::<Array<SqlUuid>, _>(&published)
            .execute(&mut connection)
            .await?;
        }
        for (id, error) in &failed {
            warn!(event.id = %id, error = %error, "outbox publish failed; will retry");
            diesel::sql_query(
                "UPDATE outbox SET locked_until = now() + make_interval(secs => $1), last_error = $2 WHERE id = $3",
            )
            .bind::<Double, _>(self.config.retry_after.as_secs_f64())
            .bind::<Text, _>(error)
            .bind::<SqlUuid, _>(id)
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
                        let alive = notifications.next().await.is_some();
                        // One round serves every commit so far: drop the wake-ups already queued,
                        // or a burst of N commits would cost N empty claim queries afterwards.
                        while let Some(Some(_)) = notifications.next().now_or_never() {}
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
