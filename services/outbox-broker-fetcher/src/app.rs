//! The running service: built from settings, run until the shutdown token fires. Tests build
//! the same `App` in-process.
//!
//! ```text
//!  JetStream: participation created ─► intake (jobs + inbox, one tx) ─┐
//!                                                                     ├─► workers ─► broker
//!  Postgres: due retries, expired leases ─► scheduler ────────────────┘      │
//!  outbox relay ◄── outcome + snapshots (one tx) ◄───────────────────────────┘
//!
//!  request: store exchange credentials ─► sealed, upserted ─► broker_credentials
//!  JetStream: user deleted ─► the user's credentials erased (+ inbox, one tx) ─┘
//! ```

use crate::broker::{SimBroker, TradierClient, TradierConfig};
use crate::domain::retry::RetryPolicy;
use crate::settings::Settings;
use crate::usecase::credential_cache::CredentialCache;
use crate::usecase::fetch::Fetcher;
use crate::usecase::rate_gate::RateGate;
use crate::usecase::{recorder, workers};
use domain::ServiceName;
use outbox::Relay;
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
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let backend = Backend::start(ServiceName::OutboxBrokerFetcher, settings.backend()).await?;
        let tradier = &settings.brokers.tradier;
        let fetch = &settings.fetch;
        // The recorder ends when the last sender does: the dispatcher's fetcher, after every
        // attempt in flight has finished. Outcomes are therefore recorded through shutdown.
        // Each loop is built by a closure, so that a loop that panics can be built again; the
        // channels' receivers are shared with the next build.
        let (recorder, outcomes) =
            tokio::sync::mpsc::channel(usize::try_from(fetch.concurrency).unwrap_or(1024).max(1));
        let outcomes = Arc::new(tokio::sync::Mutex::new(outcomes));
        backend.spawn("outcome recorder", {
            let (pool, subjects) = (backend.pool.clone(), backend.subjects.clone());
            move || recorder::run(pool.clone(), subjects.clone(), outcomes.clone())
        });
        let cipher = settings.credentials.cipher()?;
        let fetcher = Arc::new(Fetcher {
            pool: backend.pool.clone(),
            subjects: backend.subjects.clone(),
            cipher: cipher.clone(),
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
                give_up_after: fetch.give_up_after.0,
            },
            rate_gate: RateGate::default(),
            credentials: CredentialCache::new(CREDENTIAL_TTL),
            recorder,
        });
        let concurrency = usize::try_from(fetch.concurrency).unwrap_or(usize::MAX);
        let lease = Duration::from_secs(fetch.lease_secs);
        let (queue, jobs) = workers::queue(concurrency);
        let shutdown = backend.shutdown();

        let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
        backend.spawn("fetch workers", {
            let shutdown = shutdown.clone();
            move || workers::dispatch(fetcher.clone(), jobs.clone(), concurrency, shutdown.clone())
        });
        backend.spawn("fetch scheduler", {
            let (pool, queue, shutdown) = (backend.pool.clone(), queue.clone(), shutdown.clone());
            let poll_interval = Duration::from_millis(fetch.poll_interval_ms);
            move || workers::schedule(pool.clone(), queue.clone(), lease, poll_interval, shutdown.clone())
        });
        crate::bus::start(&backend, queue, lease, concurrency, cipher);
        let relay = Relay::new(
            backend.pool.clone(),
            settings.database.url.clone(),
            backend.jetstream.clone(),
            settings.outbox.relay_config(),
        );
        backend.spawn("pruner", {
            let (pool, shutdown) = (backend.pool.clone(), shutdown.clone());
            let retention = settings.database.retention.clone();
            // Finished fetch jobs (never dead letters) go with the outbox and inbox rows.
            let mut jobs = outbox::prune::jobs(&retention);
            jobs.extend(crate::store::prune::jobs(&retention));
            move || platform::prune::run(pool.clone(), jobs.clone(), retention.clone(), shutdown.clone())
        });
        backend.spawn("outbox relay", move || relay.clone().run(shutdown.clone()));
        Ok(Self { backend })
    }

    /// Where `/health` and `/ready` are served.
    pub fn health_addr(&self) -> SocketAddr {
        self.backend.health_addr()
    }

    /// Runs until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        self.backend.run_until_stopped(shutdown).await;
    }
}
