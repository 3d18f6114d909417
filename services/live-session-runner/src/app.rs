//! The running service: built from settings, run until the shutdown token fires. Tests build
//! the same `App` in-process, with a clock of their own, and may drop one without a graceful
//! stop to see a killed replica's runs taken over.
//!
//! ```text
//!  JetStream: hosted bot changed ─► the bot's run, newer revision only (+ inbox, one tx) ─┐
//!  every live.reconcile_secs: ledger revisions ─► missing / outdated definitions ─► same ─┤ wake
//!  engine room: claim / renew runs ◄──────────────────────────────────────────────────────┘
//!               quotes ─► one task per market ─► engines ─► fenced commits
//!  qry.live.bot_orders / bot_logs / bot_positions / position_orders ─► what the runs committed
//!  outbox relay: evt.live.fill_recorded / bot_stopped (written in the commits) ─► the ledger
//! ```

use crate::clock::{SharedClock, SystemClock};
use crate::live::run::RunDefaults;
use crate::live::{EngineRoom, LastQuotes, Latency, RoomParts};
use crate::settings::Settings;
use crate::usecase::reconcile::{self, Ledger};
use domain::ServiceName;
use outbox::Relay;
use platform::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The live-session-runner service.
pub struct App {
    backend: Backend,
    room: EngineRoom,
}

impl App {
    /// Connects and starts serving, on the wall clock; returns once the service answers.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Arc::new(SystemClock), Latency::default()).await
    }

    /// Like [`App::build`], with the runner's clock and latency recorder given (tests and
    /// benchmarks).
    pub async fn build_with(settings: Settings, clock: SharedClock, latency: Latency) -> anyhow::Result<Self> {
        let retention = settings.database.retention.clone();
        let backend = Backend::start(ServiceName::LiveSessionRunner, settings.backend()).await?;
        let changed = Arc::new(Notify::new());
        let last_quotes = LastQuotes::default();
        let defaults = RunDefaults { starting_quote: settings.live.sim_starting_quote };
        let stale_after_ms = settings.live.stale_after_ms;
        crate::bus::start(&backend, changed.clone(), last_quotes.clone(), defaults, clock.clone(), stale_after_ms);
        backend.spawn("reconciliation", {
            let (pool, shutdown, interval, changed) =
                (backend.pool.clone(), backend.shutdown(), settings.live.reconcile_interval(), changed.clone());
            let ledger = Ledger {
                client: backend.nats.clone(),
                subjects: backend.subjects.clone(),
                timeout: Duration::from_millis(settings.nats.request_timeout_ms),
            };
            move || reconcile::run(pool.clone(), ledger.clone(), interval, changed.clone(), shutdown.clone())
        });
        // Fills and stops reach the ledger through the outbox: written with the commit that made
        // them, published by the relay.
        let relay = Relay::new(
            backend.pool.clone(),
            settings.database.url.clone(),
            backend.jetstream.clone(),
            settings.outbox.relay_config(),
        );
        backend.spawn("outbox relay", {
            let shutdown = backend.shutdown();
            move || relay.clone().run(shutdown.clone())
        });
        // Signals' Idempotency-Keys expire (a day).
        backend.spawn("idempotency purge", {
            let (pool, shutdown) = (backend.pool.clone(), backend.shutdown());
            move || platform::idempotency::purge_expired(pool.clone(), shutdown.clone())
        });
        backend.spawn("pruner", {
            let (pool, shutdown) = (backend.pool.clone(), backend.shutdown());
            let jobs = outbox::prune::jobs(&retention);
            move || platform::prune::run(pool.clone(), jobs.clone(), retention.clone(), shutdown.clone())
        });
        let room = EngineRoom::start(RoomParts {
            pool: backend.pool.clone(),
            nats: backend.nats.clone(),
            subjects: backend.subjects.clone(),
            owner: backend.instance.clone(),
            clock,
            live: settings.live.clone(),
            wake: changed,
            database_url: settings.database.url.clone(),
            last_quotes,
            latency,
        })
        .await?;
        Ok(Self { backend, room })
    }

    /// Where `/health` and `/ready` are served.
    pub fn health_addr(&self) -> SocketAddr {
        self.backend.health_addr()
    }

    /// This replica's name: the owner its leases name.
    pub fn instance(&self) -> &str {
        &self.backend.instance
    }

    /// Runs until `shutdown` fires (or a loop fails), then stops gracefully: every run is
    /// checkpointed and given back, then the consumers and responders drain.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        let Self { backend, room } = self;
        let own = backend.shutdown();
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = own.cancelled() => {}
        }
        room.stop().await;
        backend.run_until_stopped(shutdown).await;
    }
}
