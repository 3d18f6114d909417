//! JetStream streams and durable consumers: what each service needs, created idempotently at
//! start-up (creating what exists is a no-op), and the check that the server has JetStream.
//!
//! One stream per producing service holds all its events (`<prefix>.evt.<context>.>`).
//! A consuming service also ensures the producer's stream, so start-up order does not matter.
//! Only features NATS 2.9 has are used: a single `filter_subject` per consumer, no per-message
//! TTL, no stream metadata (see PLATFORM-NOTES.md).

use crate::subjects::Subjects;
use async_nats::jetstream::{self, consumer, stream};
use domain::ServiceName;
use serde::Deserialize;
use std::time::Duration;

/// How long the server remembers a `Nats-Msg-Id` to drop duplicate publishes.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long events stay in a stream. Postgres outbox rows, not the stream, are the record:
/// this only bounds the stream's disk use.
pub const EVENT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// A stream to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    /// The stream name (carries the subject prefix).
    pub name: String,
    /// The subjects it captures.
    pub subjects: Vec<String>,
}

/// A durable pull consumer to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// The stream it reads.
    pub stream: String,
    /// Its durable name.
    pub durable: String,
    /// The one subject it receives (2.9 has no plural filter).
    pub filter_subject: String,
    /// Deliveries before the server gives up on a message (each failed one is redelivered
    /// after a second). Postgres stays the record: what the server drops is published again
    /// by the producer's recovery (the ledger's fetch sweep re-requests what is still pending).
    pub max_deliver: i64,
    /// How long a delivery may stay unacknowledged before it is redelivered.
    pub ack_wait: Duration,
}

/// The streams and consumers one service needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// Streams it publishes to or reads from.
    pub streams: Vec<StreamSpec>,
    /// Durable consumers it reads with.
    pub consumers: Vec<ConsumerSpec>,
}

fn events_stream(subjects: &Subjects, producer: ServiceName) -> StreamSpec {
    StreamSpec { name: subjects.stream_name(producer), subjects: vec![subjects.events_of(producer)] }
}

fn consumer_of(
    subjects: &Subjects,
    consumer: ServiceName,
    purpose: &str,
    producer: ServiceName,
    subject: &str,
) -> ConsumerSpec {
    ConsumerSpec {
        stream: subjects.stream_name(producer),
        durable: subjects.durable_name(consumer, purpose),
        filter_subject: subject.to_string(),
        max_deliver: 100,
        ack_wait: Duration::from_secs(30),
    }
}

/// What `service` needs on the server.
pub fn topology(subjects: &Subjects, service: ServiceName) -> Topology {
    let own_stream = events_stream(subjects, service);
    match service {
        ServiceName::TradeLedger => Topology {
            streams: vec![own_stream, events_stream(subjects, ServiceName::OutboxBrokerFetcher)],
            // Both fetch outcomes, in the order the fetcher published them.
            consumers: vec![consumer_of(
                subjects,
                service,
                "fetch_outcomes",
                ServiceName::OutboxBrokerFetcher,
                &subjects.events_of(ServiceName::OutboxBrokerFetcher),
            )],
        },
        ServiceName::LiveSessionRunner => Topology { streams: vec![own_stream], consumers: vec![] },
        ServiceName::OutboxBrokerFetcher => Topology {
            streams: vec![own_stream, events_stream(subjects, ServiceName::TradeLedger)],
            consumers: vec![consumer_of(
                subjects,
                service,
                "participation_created",
                ServiceName::TradeLedger,
                subjects.participation_created().subject(),
            )],
        },
        ServiceName::BacktestExecutor => Topology {
            streams: vec![own_stream],
            consumers: vec![consumer_of(
                subjects,
                service,
                "backtest_queued",
                ServiceName::BacktestExecutor,
                subjects.backtest_queued().subject(),
            )],
        },
    }
}

/// Why the JetStream set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum JetStreamError {
    /// The server answers but has JetStream off (e.g. Debian's systemd unit).
    #[error(
        "the NATS server has JetStream disabled ({0}); start nats-server with -js and a storage directory (-sd), see deploy/local/README.md"
    )]
    Disabled(String),
    /// A stream or consumer could not be created.
    #[error("JetStream {what} {name:?} could not be created: {reason}")]
    Create {
        /// "stream" or "consumer".
        what: &'static str,
        /// Its name.
        name: String,
        /// The server's answer.
        reason: String,
    },
}

#[derive(Deserialize)]
struct ApiInfoReply {
    error: Option<serde_json::Value>,
}

/// Asks the server for its JetStream account info with a core request, reading only whether it
/// answered with an error. (`query_account` cannot be used: current clients expect 2.10 fields.)
pub async fn check_enabled(client: &async_nats::Client) -> Result<(), JetStreamError> {
    let request = async_nats::Request::new().timeout(Some(Duration::from_secs(5)));
    let reply = client
        .send_request("$JS.API.INFO", request)
        .await
        .map_err(|error| JetStreamError::Disabled(error.to_string()))?;
    match serde_json::from_slice::<ApiInfoReply>(&reply.payload) {
        Ok(ApiInfoReply { error: None }) => Ok(()),
        Ok(ApiInfoReply { error: Some(error) }) => Err(JetStreamError::Disabled(error.to_string())),
        Err(error) => Err(JetStreamError::Disabled(format!("unreadable $JS.API.INFO reply: {error}"))),
    }
}

/// Creates every stream and consumer of `topology` that does not exist yet.
pub async fn ensure(js: &jetstream::Context, topology: &Topology) -> Result<(), JetStreamError> {
    for spec in &topology.streams {
        js.get_or_create_stream(stream::Config {
            name: spec.name.clone(),
            subjects: spec.subjects.clone(),
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: DUPLICATE_WINDOW,
            max_age: EVENT_MAX_AGE,
            ..Default::default()
        })
        .await
        .map_err(|error| JetStreamError::Create {
            what: "stream",
            name: spec.name.clone(),
            reason: error.to_string(),
        })?;
    }
    for spec in &topology.consumers {
        let stream = js.get_stream(&spec.stream).await.map_err(|error| JetStreamError::Create {
            what: "consumer",
            name: spec.durable.clone(),
            reason: error.to_string(),
        })?;
        stream
            .get_or_create_consumer(
                &spec.durable,
                consumer::pull::Config {
                    durable_name: Some(spec.durable.clone()),
                    filter_subject: spec.filter_subject.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: spec.ack_wait,
                    max_deliver: spec.max_deliver,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| JetStreamError::Create {
                what: "consumer",
                name: spec.durable.clone(),
                reason: error.to_string(),
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_also_ensures_the_producers_stream() {
        let subjects = Subjects::new("tb").unwrap();
        let fetcher = topology(&subjects, ServiceName::OutboxBrokerFetcher);
        let names: Vec<_> = fetcher.streams.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["tb_fetcher_events", "tb_ledger_events"]);
        assert_eq!(fetcher.consumers[0].stream, "tb_ledger_events");
        assert_eq!(fetcher.consumers[0].filter_subject, "tb.evt.ledger.participation_created.v1");
    }

    #[test]
    fn every_consumer_reads_a_stream_of_its_own_topology() {
        let subjects = Subjects::new("tb").unwrap();
        for service in ServiceName::ALL {
            let topology = topology(&subjects, service);
            for consumer in &topology.consumers {
                assert!(topology.streams.iter().any(|s| s.name == consumer.stream), "{service}");
            }
        }
    }
}
