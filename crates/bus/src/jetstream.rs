//! JetStream streams and durable consumers: what each service needs, ensured at start-up, and
//! the check that the server has JetStream.
//!
//! One stream per producing service holds all its events (`<prefix>.evt.<context>.>`).
//! A consuming service also ensures the producer's stream, so start-up order does not matter.
//! Only features NATS 2.9 has are used: a single `filter_subject` per consumer, no per-message
//! TTL, no stream metadata.
//!
//! A stream's limits (`max_age`, `max_bytes`, replicas, duplicate window) come from settings.
//! The producer brings its own stream up to date when they change (see [`drift`]); a consumer
//! only creates the producer's stream when it is missing, so two services configured
//! differently never undo each other's update at every start.

pub mod drift;

use crate::consumers;
use crate::subjects::Subjects;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, consumer, stream};
use domain::ServiceName;
use serde::Deserialize;
use std::time::Duration;

/// How long the server remembers a `Nats-Msg-Id` to drop duplicate publishes, by default.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The limits of an event stream. Postgres outbox rows, not the stream, are the record: these
/// only bound the stream's disk use and how long a consumer may be away without needing a
/// re-publish from Postgres.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// How long an event stays in the stream. Must stay below the consumers' processed-message
    /// retention: a redelivery after the consumer forgot the event would apply it twice.
    pub max_age: Duration,
    /// The stream's size bound; the oldest events go first. The server reserves it against
    /// its storage when the stream is created.
    pub max_bytes: i64,
    /// Copies of the stream in a NATS cluster (1 on a single server, which refuses more).
    pub num_replicas: usize,
    /// How long the server remembers a `Nats-Msg-Id` (at most `max_age`).
    pub duplicate_window: Duration,
}

impl Default for StreamLimits {
    /// Three days, 512 MiB, one replica, two minutes of duplicate detection.
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(3 * 24 * 3600),
            max_bytes: 512 * 1024 * 1024,
            num_replicas: 1,
            duplicate_window: DUPLICATE_WINDOW,
        }
    }
}

/// A stream to ensure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    /// The stream name (carries the subject prefix).
    pub name: String,
    /// The subjects it captures.
    pub subjects: Vec<String>,
    /// Whether this service produces to it: then its definition is brought up to date here;
    /// otherwise it is only created when missing (its producer owns the definition).
    pub owned: bool,
    /// Its limits.
    pub limits: StreamLimits,
}

impl StreamSpec {
    /// The definition to create the stream with (file storage, limits retention).
    pub fn config(&self) -> stream::Config {
        stream::Config {
            name: self.name.clone(),
            subjects: self.subjects.clone(),
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            max_age: self.limits.max_age,
            max_bytes: self.limits.max_bytes,
            num_replicas: self.limits.num_replicas,
            duplicate_window: self.limits.duplicate_window,
            ..Default::default()
        }
    }
}

/// A durable pull consumer to create: a [`crate::consumers::ConsumerDef`] under one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// The stream it reads.
    pub stream: String,
    /// Its durable name.
    pub durable: String,
    /// The one subject it receives (2.9 has no plural filter).
    pub filter_subject: String,
    /// Deliveries before the server gives up on a message, `-1` for never (see
    /// [`crate::consumers::MAX_DELIVER`]).
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

impl Topology {
    /// The same topology with `limits` on every stream (from the service's settings).
    pub fn with_limits(mut self, limits: &StreamLimits) -> Self {
        for stream in &mut self.streams {
            stream.limits = limits.clone();
        }
        self
    }
}

fn events_stream(subjects: &Subjects, producer: ServiceName, service: ServiceName) -> StreamSpec {
    StreamSpec {
        name: subjects.stream_name(producer),
        subjects: vec![subjects.events_of(producer)],
        owned: producer == service,
        limits: StreamLimits::default(),
    }
}

/// What `service` needs on the server, with default stream limits (see
/// [`Topology::with_limits`]): its own stream, the durable consumers it runs
/// ([`consumers::of`]) and the streams they read.
pub fn topology(subjects: &Subjects, service: ServiceName) -> Topology {
    let mut producers = vec![service];
    for def in consumers::of(service) {
        if !producers.contains(&def.filter.producer()) {
            producers.push(def.filter.producer());
        }
    }
    Topology {
        streams: producers.into_iter().map(|producer| events_stream(subjects, producer, service)).collect(),
        consumers: consumers::of(service).map(|def| def.spec(subjects)).collect(),
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
    /// A stream exists with a value NATS cannot change in place.
    #[error(
        "JetStream stream {stream:?} exists with {field} = {current}, but its definition asks for {field} = {wanted}; \
         NATS cannot change `{field}` of an existing stream: restore the old value, or recreate the stream \
         (it is transport only: Postgres keeps the events)"
    )]
    Immutable {
        /// The stream.
        stream: String,
        /// The field (`storage`, `retention`).
        field: &'static str,
        /// What the server has.
        current: String,
        /// What the definition asks for.
        wanted: String,
    },
    /// The server refused to update a stream whose definition changed.
    #[error("JetStream stream {stream:?} could not be updated ({changes}): {reason}")]
    Update {
        /// The stream.
        stream: String,
        /// The fields that changed, `field: current -> wanted`.
        changes: String,
        /// The server's answer.
        reason: String,
    },
    /// The server accepted an update but kept other values.
    #[error("JetStream stream {stream:?} did not take its definition ({changes}): the server kept these values")]
    NotApplied {
        /// The stream.
        stream: String,
        /// The fields still different, `field: current -> wanted`.
        changes: String,
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

/// Creates every stream and consumer of `topology` that does not exist yet, and brings the
/// streams this service owns up to date with their definition.
pub async fn ensure(js: &jetstream::Context, topology: &Topology) -> Result<(), JetStreamError> {
    for spec in &topology.streams {
        ensure_stream(js, spec).await?;
    }
    for spec in &topology.consumers {
        let stream = js.get_stream(&spec.stream).await.map_err(|error| JetStreamError::Create {
            what: "consumer",
            name: spec.durable.clone(),
            reason: error.to_string(),
        })?;
        let wanted = consumer::pull::Config {
            durable_name: Some(spec.durable.clone()),
            filter_subject: spec.filter_subject.clone(),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            max_deliver: spec.max_deliver,
            ..Default::default()
        };
        let create_error =
            |error: String| JetStreamError::Create { what: "consumer", name: spec.durable.clone(), reason: error };
        let existing: PullConsumer = stream
            .get_or_create_consumer(&spec.durable, wanted.clone())
            .await
            .map_err(|error| create_error(error.to_string()))?;
        // A consumer made by an older release keeps its redelivery limits until told: the
        // server updates those two in place when the same durable is created again.
        let current = &existing.cached_info().config;
        if (current.max_deliver, current.ack_wait) != (spec.max_deliver, spec.ack_wait) {
            stream.create_consumer(wanted).await.map_err(|error| {
                create_error(format!(
                    "updating max_deliver {} → {} and ack_wait {:?} → {:?}: {error}",
                    current.max_deliver, spec.max_deliver, current.ack_wait, spec.ack_wait
                ))
            })?;
        }
    }
    Ok(())
}

async fn ensure_stream(js: &jetstream::Context, spec: &StreamSpec) -> Result<(), JetStreamError> {
    let wanted = spec.config();
    let stream = js.get_or_create_stream(wanted.clone()).await.map_err(|error| JetStreamError::Create {
        what: "stream",
        name: spec.name.clone(),
        reason: format!("{error} (num_replicas = {})", wanted.num_replicas),
    })?;
    if !spec.owned {
        return Ok(());
    }
    let current = &stream.cached_info().config;
    let changes = drift::changes(current, &wanted).map_err(|refused| JetStreamError::Immutable {
        stream: spec.name.clone(),
        field: refused.field,
        current: refused.current,
        wanted: refused.wanted,
    })?;
    if changes.is_empty() {
        return Ok(());
    }
    let described = describe(&changes);
    // A single server refuses a new stream with several replicas, but 2.9 accepts the same
    // change as an update and still keeps one copy: refuse it here, naming the field.
    let clustered = stream.cached_info().cluster.as_ref().is_some_and(|cluster| cluster.name.is_some());
    if !clustered && changes.iter().any(|c| c.field == "num_replicas") && wanted.num_replicas > 1 {
        return Err(JetStreamError::Update {
            stream: spec.name.clone(),
            changes: described,
            reason: "the NATS server is not a JetStream cluster, and a single server keeps one copy".to_string(),
        });
    }
    let info = js.update_stream(drift::updated(current, &wanted)).await.map_err(|error| JetStreamError::Update {
        stream: spec.name.clone(),
        changes: described.clone(),
        reason: error.to_string(),
    })?;
    // NATS 2.9 may accept an update and keep a value (replicas on a single server): check.
    let left = drift::changes(&info.config, &wanted).unwrap_or_else(|refused| vec![refused]);
    if !left.is_empty() {
        return Err(JetStreamError::NotApplied { stream: spec.name.clone(), changes: describe(&left) });
    }
    tracing::info!(stream = %spec.name, changes = %described, "JetStream stream definition updated");
    Ok(())
}

fn describe(changes: &[drift::Change]) -> String {
    changes.iter().map(|c| format!("{}: {} -> {}", c.field, c.current, c.wanted)).collect::<Vec<_>>().join(", ")
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
        let owned: Vec<_> = fetcher.streams.iter().map(|s| s.owned).collect();
        assert_eq!(owned, [true, false], "only the producer updates a stream's definition");
    }

    #[test]
    fn limits_from_settings_reach_every_stream_definition() {
        let subjects = Subjects::new("tb").unwrap();
        let limits = StreamLimits {
            max_age: Duration::from_secs(60),
            max_bytes: 4096,
            num_replicas: 3,
            duplicate_window: Duration::from_secs(30),
        };
        let ledger = topology(&subjects, ServiceName::TradeLedger).with_limits(&limits);
        for spec in &ledger.streams {
            let config = spec.config();
            assert_eq!(config.max_age, Duration::from_secs(60));
            assert_eq!((config.max_bytes, config.num_replicas), (4096, 3));
            assert_eq!(config.duplicate_window, Duration::from_secs(30));
            assert_eq!(config.storage, stream::StorageType::File);
        }
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
