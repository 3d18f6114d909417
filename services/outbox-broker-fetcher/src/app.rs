//! The running service: built from settings, stopped by the shutdown token. Tests build the
//! same `App` in-process.
//!
//! ```text
//!  JetStream: participation created ─► intake (jobs + inbox, one tx) ─┐
//!                                                                     ├─► workers ─► broker
//!  Postgres: due retries, expired leases ─► scheduler ────────────────┘      │
//!  outbox relay ◄── outcome + snapshots (one tx) ◄───────────────────────────┘
//! ```

use crate::broker::{SimBroker, TradierClient, TradierConfig};
use crate::domain::retry::RetryPolicy;
use crate::settings::FetcherSettings;
use crate::usecase::credential_cache::CredentialCache;
use crate::usecase::fetch::Fetcher;
use crate::usecase::rate_gate::RateGate;
use crate::usecase::{intake, recorder, workers};
use domain::ServiceName;
use outbox::consumer::{self, ConsumerConfig};
use outbox::{Relay, RelayConfig};
use platform::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a decrypted credential is reused before it is read again.
const CREDENTIAL_TTL: Duration = Duration::from_secs(10);

/// The outbox-broker-fetcher service.
pub struct App {
    backend: Backend,
}

impl App {
    /// Connects and starts serving; returns once the service answers.
    pub async fn build(settings: FetcherSettings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let backend = Backend::start(ServiceName::OutboxBrokerFetcher, settings.backend(), shutdown).await?;
        let tradier = &settings.brokers.tradier;
        let fetch = &settings.fetch;
        // The recorder ends when the last sender does: the dispatcher's fetcher, after every
        // attempt in flight has finished. Outcomes are therefore recorded through shutdown.
        let (recorder, outcomes) =
            tokio::sync::mpsc::channel(usize::try_from(fetch.concurrency).unwrap_or(1024).max(1));
        backend.spawn("outcome recorder", recorder::run(backend.pool.clone(), backend.subjects.clone(), outcomes));
        let fetcher = Arc::new(Fetcher {
            pool: backend.pool.clone(),
            subjects: backend.subjects.clone(),
            cipher: settings.credentials.cipher()?,
            tradier: TradierClient::new(TradierConfig {
                live_base_url: tradier.base_url.clone(),
                sandbox_base_url: tradier.sandbox_base_url.clone(),
                request_timeout: Duration::from_millis(tradier.request_timeout_ms),
            })?,
            sim: SimBroker,
            policy: RetryPolicy {
                base: Duration::from_millis(fetch.backoff_base_ms),
                cap: Duration::from_millis(fetch.backoff_cap_ms),
                max_failures: i32::try_from(fetch.max_failures).unwrap_or(i32::MAX),
            },
            rate_gate: RateGate::default(),
            credentials: CredentialCache::new(CREDENTIAL_TTL),
            recorder,
        });
        let concurrency = usize::try_from(fetch.concurrency).unwrap_or(usize::MAX);
        let lease = Duration::from_secs(fetch.lease_secs);
        let (queue, jobs) = workers::queue(concurrency);
        let shutdown = backend.shutdown();

        backend.spawn("fetch workers", workers::dispatch(fetcher, jobs, concurrency, shutdown.clone()));
        backend.spawn(
            "fetch scheduler",
            workers::schedule(
                backend.pool.clone(),
                queue.clone(),
                lease,
                Duration::from_millis(fetch.poll_interval_ms),
                shutdown.clone(),
            ),
        );
        let pool = backend.pool.clone();
        backend.spawn(
            "participation consumer",
            consumer::run(
                backend.jetstream.clone(),
                backend.subjects.stream_name(ServiceName::TradeLedger),
                backend.subjects.durable_name(ServiceName::OutboxBrokerFetcher, "participation_created"),
                // New jobs arrive leased: take no more at once than the workers can start
                // well within the lease.
                ConsumerConfig { batch_size: concurrency.clamp(1, 128), ..ConsumerConfig::default() },
                shutdown.clone(),
                move |batch| {
                    let (pool, queue) = (pool.clone(), queue.clone());
                    async move {
                        for job in intake::accept(&pool, batch, lease).await? {
                            // Closed only on shutdown: the job keeps its lease and is taken over.
                            let _ = queue.send(job).await;
                        }
                        Ok(())
                    }
                },
            ),
        );
        let relay = Relay::new(
            backend.pool.clone(),
            settings.database.url.clone(),
            backend.jetstream.clone(),
            RelayConfig::default(),
        );
        backend.spawn("outbox relay", relay.run(shutdown));
        Ok(Self { backend })
    }

    /// Where `/health` and `/ready` are served.
    pub fn health_addr(&self) -> SocketAddr {
        self.backend.health_addr()
    }

    /// Runs until the shutdown token fires, then drains.
    pub async fn run_until_stopped(self) {
        self.backend.run_until_stopped().await;
    }
}
