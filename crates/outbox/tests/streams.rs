//! Stream and consumer definitions against the real NATS server (2.9): limits from settings,
//! an existing stream brought up to date where NATS allows it, and a clear start-up failure
//! where it does not; consumers that never give up on an event.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, stream};
use bus::jetstream::{ConsumerSpec, JetStreamError, StreamLimits, Topology, ensure, topology};
use domain::ServiceName;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use test_support::{PrivateNats, TestNats, eventually};
use tokio_util::sync::CancellationToken;

fn limits(max_age_secs: u64) -> StreamLimits {
    StreamLimits { max_age: Duration::from_secs(max_age_secs), ..StreamLimits::default() }
}

fn ledger(nats: &TestNats, limits: &StreamLimits) -> Topology {
    topology(&nats.subjects(), ServiceName::TradeLedger).with_limits(limits)
}

async fn config_of(js: &jetstream::Context, name: &str) -> stream::Config {
    js.get_stream(name).await.unwrap().info().await.unwrap().config.clone()
}

#[tokio::test]
async fn streams_are_created_with_the_limits_of_the_settings() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let wanted = StreamLimits {
        max_age: Duration::from_secs(3_600),
        max_bytes: 8 * 1024 * 1024,
        num_replicas: 1,
        duplicate_window: Duration::from_secs(60),
    };
    ensure(&js, &ledger(&nats, &wanted)).await.unwrap();

    let config = config_of(&js, &nats.subjects().stream_name(ServiceName::TradeLedger)).await;
    assert_eq!((config.max_age, config.max_bytes), (Duration::from_secs(3_600), 8 * 1024 * 1024));
    assert_eq!((config.num_replicas, config.duplicate_window), (1, Duration::from_secs(60)));
    assert_eq!((config.storage, config.retention), (stream::StorageType::File, stream::RetentionPolicy::Limits));
}

#[tokio::test]
async fn an_owned_stream_whose_definition_changed_is_updated_and_keeps_its_events() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let name = nats.subjects().stream_name(ServiceName::TradeLedger);
    ensure(&js, &ledger(&nats, &limits(3_600))).await.unwrap();
    let subject = nats.subjects().participation_created().subject().to_string();
    js.publish(subject, "{}".into()).await.unwrap().await.unwrap();

    let changed = StreamLimits {
        max_age: Duration::from_secs(7_200),
        max_bytes: 16 * 1024 * 1024,
        num_replicas: 1,
        duplicate_window: Duration::from_secs(30),
    };
    ensure(&js, &ledger(&nats, &changed)).await.unwrap();

    let mut stream = js.get_stream(&name).await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!((info.config.max_age, info.config.max_bytes), (Duration::from_secs(7_200), 16 * 1024 * 1024));
    assert_eq!(info.config.duplicate_window, Duration::from_secs(30));
    assert_eq!(info.state.messages, 1, "an update keeps what the stream holds");
    // Ensuring the same definition again changes nothing and succeeds.
    ensure(&js, &ledger(&nats, &changed)).await.unwrap();
}

#[tokio::test]
async fn a_stream_with_another_storage_type_fails_start_up_naming_storage() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let name = nats.subjects().stream_name(ServiceName::TradeLedger);
    // An old definition NATS cannot turn into the current one in place.
    js.create_stream(stream::Config {
        name: name.clone(),
        subjects: vec![nats.subjects().events_of(ServiceName::TradeLedger)],
        storage: stream::StorageType::Memory,
        ..Default::default()
    })
    .await
    .unwrap();

    let error = ensure(&js, &ledger(&nats, &limits(3_600))).await.unwrap_err();

    assert!(matches!(error, JetStreamError::Immutable { field: "storage", .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("`storage`") && message.contains(&name), "{message}");
    assert!(message.contains("memory") && message.contains("file"), "{message}");
    let config = config_of(&js, &name).await;
    assert_eq!(config.storage, stream::StorageType::Memory, "nothing was changed");
}

#[tokio::test]
async fn a_stream_with_another_retention_policy_fails_start_up_naming_retention() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let name = nats.subjects().stream_name(ServiceName::TradeLedger);
    js.create_stream(stream::Config {
        name: name.clone(),
        subjects: vec![nats.subjects().events_of(ServiceName::TradeLedger)],
        retention: stream::RetentionPolicy::WorkQueue,
        ..Default::default()
    })
    .await
    .unwrap();

    let error = ensure(&js, &ledger(&nats, &limits(3_600))).await.unwrap_err().to_string();

    assert!(error.contains("`retention`") && error.contains("workqueue"), "{error}");
}

#[tokio::test]
async fn a_single_server_keeps_one_replica_and_start_up_fails_naming_num_replicas() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    ensure(&js, &ledger(&nats, &limits(3_600))).await.unwrap();
    let three = StreamLimits { num_replicas: 3, ..limits(3_600) };

    // 2.9 would accept this update and still keep one copy: that must not pass for three.
    let error = ensure(&js, &ledger(&nats, &three)).await.unwrap_err();

    assert!(matches!(error, JetStreamError::Update { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("num_replicas: 1 -> 3") && message.contains("not a JetStream cluster"), "{message}");
    let name = nats.subjects().stream_name(ServiceName::TradeLedger);
    assert_eq!(config_of(&js, &name).await.num_replicas, 1, "nothing was changed");
}

#[tokio::test]
async fn a_new_stream_asking_for_replicas_a_single_server_cannot_keep_fails_start_up() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let three = StreamLimits { num_replicas: 3, ..limits(3_600) };

    let error = ensure(&js, &ledger(&nats, &three)).await.unwrap_err().to_string();

    assert!(error.contains("num_replicas = 3") && error.contains("non-clustered"), "{error}");
}

#[tokio::test]
async fn only_the_producer_updates_its_stream() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let fetcher_stream = nats.subjects().stream_name(ServiceName::OutboxBrokerFetcher);
    // The ledger consumes the fetcher's events and ensures its stream too, configured otherwise.
    ensure(&js, &ledger(&nats, &limits(3_600))).await.unwrap();
    let fetcher = topology(&nats.subjects(), ServiceName::OutboxBrokerFetcher).with_limits(&limits(7_200));
    ensure(&js, &fetcher).await.unwrap();
    assert_eq!(config_of(&js, &fetcher_stream).await.max_age, Duration::from_secs(7_200));

    ensure(&js, &ledger(&nats, &limits(3_600))).await.unwrap();

    assert_eq!(
        config_of(&js, &fetcher_stream).await.max_age,
        Duration::from_secs(7_200),
        "the producer's settings win"
    );
}

/// Three `nats-server`s of the test's own forming a JetStream cluster.
fn cluster() -> Vec<PrivateNats> {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes: Vec<String> = ports.iter().map(|port| format!("\"nats-route://127.0.0.1:{port}\"")).collect();
    ports
        .iter()
        .enumerate()
        .map(|(index, port)| {
            PrivateNats::start(&format!(
                "server_name: \"n{index}\"\ncluster {{ name: \"growth\", listen: \"127.0.0.1:{port}\", routes: [{}] }}\n",
                routes.join(", ")
            ))
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_cluster_an_existing_stream_grows_to_three_replicas() {
    let servers = cluster();
    let client = async_nats::connect(servers[0].url.as_str()).await.unwrap();
    let js = jetstream::new(client);
    let subjects = bus::Subjects::new("growth").unwrap();
    let name = subjects.stream_name(ServiceName::TradeLedger);
    let one = topology(&subjects, ServiceName::TradeLedger).with_limits(&limits(3_600));
    // The cluster needs a moment to elect its JetStream leader.
    eventually("the cluster accepts a stream", Duration::from_secs(30), || {
        let (js, one) = (js.clone(), one.clone());
        async move { ensure(&js, &one).await.ok() }
    })
    .await;
    assert_eq!(config_of(&js, &name).await.num_replicas, 1);

    let three =
        topology(&subjects, ServiceName::TradeLedger).with_limits(&StreamLimits { num_replicas: 3, ..limits(3_600) });
    ensure(&js, &three).await.unwrap();

    assert_eq!(config_of(&js, &name).await.num_replicas, 3);
}

/// The ledger's consumers, as its start-up ensures them.
fn ledger_consumers(nats: &TestNats) -> Topology {
    topology(&nats.subjects(), ServiceName::TradeLedger)
}

#[tokio::test]
async fn a_consumer_an_older_release_made_with_a_delivery_limit_is_brought_to_unlimited() {
    let nats = TestNats::new();
    let js = jetstream::new(nats.client().await);
    let wanted = ledger_consumers(&nats);
    let spec = wanted.consumers.iter().find(|spec| spec.durable == "ledger_live_events").unwrap().clone();
    let older = Topology { consumers: vec![ConsumerSpec { max_deliver: 100, ..spec.clone() }], ..wanted.clone() };
    ensure(&js, &older).await.unwrap();

    ensure(&js, &wanted).await.unwrap();

    let stream = js.get_stream(&spec.stream).await.unwrap();
    let mut consumer: PullConsumer = stream.get_consumer(&spec.durable).await.unwrap();
    let config = consumer.info().await.unwrap().config.clone();
    assert_eq!((config.max_deliver, config.ack_wait), (-1, spec.ack_wait));
    assert_eq!(config.filter_subject, spec.filter_subject, "the rest of the definition is kept");
}

#[tokio::test]
async fn an_event_that_failed_more_than_a_hundred_times_is_still_applied_once_its_handler_recovers() {
    let nats = TestNats::new();
    let client = nats.client().await;
    let js = jetstream::new(client.clone());
    let wanted = ledger_consumers(&nats);
    ensure(&js, &wanted).await.unwrap();
    let spec = wanted.consumers.iter().find(|spec| spec.durable == "ledger_live_events").unwrap().clone();
    let subject = nats.subjects().fill_recorded().subject().to_string();
    js.publish(subject, "{}".into()).await.unwrap().await.unwrap();

    // The handler's database is "down" for the first 150 deliveries.
    let deliveries = Arc::new(AtomicUsize::new(0));
    let applied = Arc::new(AtomicUsize::new(0));
    let config = ConsumerConfig {
        batch_size: 8,
        retry_delay: Duration::from_millis(1),
        max_retry_delay: Duration::from_millis(4),
    };
    let shutdown = CancellationToken::new();
    let handler = {
        let (deliveries, applied) = (deliveries.clone(), applied.clone());
        move |batch: Vec<Delivery>| {
            let (deliveries, applied) = (deliveries.clone(), applied.clone());
            async move {
                if deliveries.fetch_add(batch.len(), Ordering::SeqCst) < 150 {
                    anyhow::bail!("database unavailable");
                }
                applied.fetch_add(batch.len(), Ordering::SeqCst);
                Ok(())
            }
        }
    };
    let running = tokio::spawn(consumer::run(js.clone(), spec, config, shutdown.clone(), handler));

    eventually("the event applied after its 151st delivery", Duration::from_secs(60), || async {
        (applied.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    shutdown.cancel();
    running.await.unwrap().unwrap();
    assert_eq!(deliveries.load(Ordering::SeqCst), 151);
    assert_eq!(applied.load(Ordering::SeqCst), 1, "acknowledged once applied: not delivered again");
}
