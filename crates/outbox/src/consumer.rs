//! Durable JetStream consumers that apply events in batches: pull what is ready (up to a
//! batch), hand it to the service's handler, and acknowledge only after the handler's
//! transaction committed. The handler dedupes with [`crate::inbox::first_time`] in that same
//! transaction, so a redelivery after a crash between commit and ack has no second effect.
//!
//! A batch whose handler fails is retried one message at a time, so one bad event cannot
//! hold back the others; a message that still fails is redelivered later, after `retry_delay`
//! doubled with each delivery up to `max_retry_delay` ([`retry_delay`]), and never given up
//! on (`bus::consumers::MAX_DELIVER`): a database outage of an hour delays events, it does not
//! lose them. A message that cannot be read is dropped ([`Delivery::event_or_drop`]):
//! redelivering it would fail the same way forever.
//!
//! Which consumer to run comes from its one definition in `bus::consumers`, resolved under the
//! service's prefix (`ConsumerDef::spec`).

use async_nats::jetstream::{self, consumer::PullConsumer};
use bus::consumers::ConsumerDef;
use bus::jetstream::ConsumerSpec;
use bus::{Event, Topic};
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use platform::Backend;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span, warn};

/// How a consumer paces itself.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    /// The largest batch handed to the handler (what is ready, never waited for).
    pub batch_size: usize,
    /// How long a message whose handler failed waits before its second delivery; each further
    /// failure doubles the wait.
    pub retry_delay: Duration,
    /// The longest wait between two deliveries of a failing message.
    pub max_retry_delay: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self { batch_size: 128, retry_delay: Duration::from_secs(1), max_retry_delay: Duration::from_secs(60) }
    }
}

/// How long a message whose `delivered`-th delivery failed waits for the next one:
/// `retry_delay`, doubled with each delivery after the first, at most `max_retry_delay`.
pub fn retry_delay(config: &ConsumerConfig, delivered: i64) -> Duration {
    let doublings = u32::try_from(delivered.saturating_sub(1).clamp(0, 31)).unwrap_or(31);
    config.retry_delay.saturating_mul(1 << doublings).min(config.max_retry_delay)
}

/// One delivered message.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The subject it was published on.
    pub subject: String,
    /// The raw payload (an [`Event`] envelope).
    pub payload: Bytes,
}

impl Delivery {
    /// Whether it was published on `topic`.
    pub fn is_on<T>(&self, topic: &Topic<T>) -> bool {
        self.subject == topic.subject()
    }

    /// Decodes the envelope, or drops the message with a warning: an event that cannot be read
    /// would fail the same way at every redelivery, so it is acknowledged with its batch.
    pub fn event_or_drop<T: DeserializeOwned>(&self) -> Option<Event<T>> {
        match serde_json::from_slice(&self.payload) {
            Ok(event) => Some(event),
            Err(error) => {
                warn!(subject = %self.subject, error = %error, "undecodable event dropped");
                None
            }
        }
    }
}

/// Runs the consumer `def` (under the backend's prefix) as one of the backend's supervised
/// tasks, named after its durable: `handle` gets each batch until the backend stops, and the
/// batch in hand then is finished first.
pub fn spawn<F, Fut>(backend: &Backend, def: &ConsumerDef, config: ConsumerConfig, handle: F)
where
    F: FnMut(Vec<Delivery>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let (jetstream, shutdown, spec) = (backend.jetstream.clone(), backend.shutdown(), def.spec(&backend.subjects));
    backend.spawn(def.durable, move || {
        run(jetstream.clone(), spec.clone(), config.clone(), shutdown.clone(), handle.clone())
    });
}

/// Runs `handle` over the durable consumer `spec` names until `shutdown`. The batch in hand
/// when shutdown fires is finished and acknowledged first.
pub async fn run<F, Fut>(
    js: jetstream::Context,
    spec: ConsumerSpec,
    config: ConsumerConfig,
    shutdown: CancellationToken,
    mut handle: F,
) -> anyhow::Result<()>
where
    F: FnMut(Vec<Delivery>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let ConsumerSpec { stream, durable, .. } = spec;
    while !shutdown.is_cancelled() {
        let consumer: PullConsumer = match js.get_stream(&stream).await {
            Ok(stream) => match stream.get_consumer(&durable).await {
                Ok(consumer) => consumer,
                Err(error) => {
                    warn!(consumer = %durable, error = %error, "consumer not available; retrying");
                    pause(&shutdown, Duration::from_secs(1)).await;
                    continue;
                }
            },
            Err(error) => {
                warn!(stream = %stream, error = %error, "stream not available; retrying");
                pause(&shutdown, Duration::from_secs(1)).await;
                continue;
            }
        };
        let messages = consumer
            .stream()
            .max_messages_per_batch(config.batch_size)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await;
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(error) => {
                warn!(consumer = %durable, error = %error, "could not start pulling; retrying");
                pause(&shutdown, Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            let first = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = messages.next() => next,
            };
            let mut batch = match first {
                Some(Ok(message)) => vec![message],
                Some(Err(error)) => {
                    warn!(consumer = %durable, error = %error, "pull failed; reconnecting the consumer");
                    break;
                }
                None => break,
            };
            // Take what else is already here, without waiting for more.
            while batch.len() < config.batch_size {
                match messages.next().now_or_never() {
                    Some(Some(Ok(message))) => batch.push(message),
                    _ => break,
                }
            }
            let span = info_span!("consumer.batch", consumer = %durable, batch.size = batch.len());
            apply(&mut handle, batch, &config).instrument(span).await;
        }
        pause(&shutdown, Duration::from_millis(200)).await;
    }
    Ok(())
}

async fn apply<F, Fut>(handle: &mut F, batch: Vec<jetstream::Message>, config: &ConsumerConfig)
where
    F: FnMut(Vec<Delivery>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let deliveries = batch.iter().map(delivery).collect();
    match handle(deliveries).await {
        Ok(()) => acknowledge(&batch).await,
        Err(error) if batch.len() == 1 => retry_later(&batch[0], &error, config).await,
        Err(error) => {
            warn!(error = format!("{error:#}"), "batch failed; applying its messages one by one");
            for message in &batch {
                match handle(vec![delivery(message)]).await {
                    Ok(()) => acknowledge(std::slice::from_ref(message)).await,
                    Err(error) => retry_later(message, &error, config).await,
                }
            }
        }
    }
}

fn delivery(message: &jetstream::Message) -> Delivery {
    Delivery { subject: message.subject.to_string(), payload: message.payload.clone() }
}

async fn acknowledge(batch: &[jetstream::Message]) {
    let acks = batch.iter().map(|message| message.ack());
    for result in futures::future::join_all(acks).await {
        // A lost ack means a redelivery, which the inbox turns into a no-op.
        if let Err(error) = result {
            warn!(error = %error, "ack failed; the message will be redelivered and deduplicated");
        }
    }
}

async fn retry_later(message: &jetstream::Message, error: &anyhow::Error, config: &ConsumerConfig) {
    // Without its metadata (not a JetStream delivery) the message is treated as a first one.
    let delivered = message.info().map_or(1, |info| info.delivered);
    let delay = retry_delay(config, delivered);
    warn!(
        subject = %message.subject,
        delivered,
        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        error = format!("{error:#}"),
        "message not applied; redelivery scheduled"
    );
    let nak = jetstream::AckKind::Nak(Some(delay));
    if let Err(error) = message.ack_with(nak).await {
        warn!(error = %error, "nak failed; the message will be redelivered after ack_wait");
    }
}

async fn pause(shutdown: &CancellationToken, duration: Duration) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(duration) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(first_ms: u64, max_ms: u64) -> ConsumerConfig {
        ConsumerConfig {
            batch_size: 1,
            retry_delay: Duration::from_millis(first_ms),
            max_retry_delay: Duration::from_millis(max_ms),
        }
    }

    #[test]
    fn the_wait_doubles_with_each_delivery_up_to_the_ceiling() {
        let config = config(1_000, 60_000);
        let waits: Vec<u128> = (1..=9).map(|delivered| retry_delay(&config, delivered).as_millis()).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    }

    #[test]
    fn extreme_delivery_counts_neither_overflow_nor_wait_less_than_the_first_delay() {
        let config = config(1_000, 60_000);
        assert_eq!(retry_delay(&config, 0), Duration::from_secs(1));
        assert_eq!(retry_delay(&config, -5), Duration::from_secs(1));
        assert_eq!(retry_delay(&config, i64::MAX), Duration::from_secs(60));
        let huge = ConsumerConfig { max_retry_delay: Duration::MAX, ..config };
        assert_eq!(retry_delay(&huge, 64), Duration::from_secs(1).saturating_mul(1 << 31));
    }
}
