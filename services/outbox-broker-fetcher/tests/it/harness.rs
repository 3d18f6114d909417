//! One fetcher under test: its own database and subject prefix, a local Tradier server, and
//! helpers to send it requests as the ledger would and read what it published.

use async_nats::jetstream;
use bus::messages::ParticipationCreated;
use bus::{Event, Topic};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::{BotId, BrokerAccountId, EventId, ParticipationId, ServiceName, TradeId, UserId};
use outbox_broker_fetcher::admin::{self, AdminCommand};
use outbox_broker_fetcher::settings::Settings;
use outbox_broker_fetcher::store::schema::fetch_jobs;
use outbox_broker_fetcher::{App, MIGRATIONS};
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use test_support::{TestDb, TestNats, backend_settings};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tradier_sim::TradierSim;

/// The key every test fetcher encrypts credentials with.
pub const KEY: [u8; 32] = [42; 32];
/// The token the local Tradier server expects for [`ACCOUNT`].
pub const TOKEN: &str = "tok-fetch-test-6f1c";
/// The Tradier account number used by the tests.
pub const ACCOUNT: &str = "VA000001";

/// A fetcher process: its runtime, shutdown token and main task.
struct Process {
    runtime: tokio::runtime::Runtime,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

pub struct Harness {
    pub db: TestDb,
    pub nats: TestNats,
    pub sim: TradierSim,
    pub js: jetstream::Context,
    /// The Tradier broker account (credentials stored, token required by the server).
    pub account: BrokerAccountId,
    running: Option<Process>,
    /// Changes the settings of the next fetcher start and of admin commands (keys, limits).
    pub tweak: fn(&mut Settings),
}

/// Settings that make retries quick enough for tests.
pub fn fast(settings: &mut Settings) {
    settings.fetch.backoff_base_ms = 20;
    settings.fetch.backoff_cap_ms = 200;
    settings.fetch.max_failures = 3;
    settings.fetch.poll_interval_ms = 20;
    settings.brokers.tradier.request_timeout_ms = 1_000;
}

impl Harness {
    /// A running fetcher with [`fast`] settings changed further by `tweak`.
    pub async fn start(tweak: fn(&mut Settings)) -> Self {
        test_support::init_logging();
        let db = TestDb::new(
            ServiceName::OutboxBrokerFetcher.context(),
            MIGRATIONS,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        )
        .await;
        let nats = TestNats::new();
        let sim = TradierSim::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        sim.require_token(ACCOUNT, TOKEN);
        let js = jetstream::new(nats.client().await);
        let mut harness = Self { db, nats, sim, js, account: BrokerAccountId::new(), running: None, tweak };
        harness
            .admin(AdminCommand::SetCredentials { broker_account: harness.account, environment: "live".into() }, TOKEN)
            .await;
        harness.start_fetcher().await;
        harness
    }

    pub fn settings(&self) -> Settings {
        let mut settings = Settings::with_backend(backend_settings(&self.db, &self.nats));
        settings.credentials.encryption_key = base64_key();
        settings.brokers.tradier.base_url = self.sim.base_url();
        settings.brokers.tradier.sandbox_base_url = self.sim.base_url();
        fast(&mut settings);
        (self.tweak)(&mut settings);
        settings
    }

    /// Starts the fetcher (again, after [`Self::crash`] or [`Self::stop`]) on a runtime of its
    /// own, so that a crash can take every task of the process down at once.
    pub async fn start_fetcher(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let shutdown = CancellationToken::new();
        let (ready, started) = tokio::sync::oneshot::channel();
        let (settings, token) = (self.settings(), shutdown.clone());
        let task = runtime.spawn(async move {
            let app = App::build(settings).await.expect("the fetcher starts");
            let _ = ready.send(());
            app.run_until_stopped(token).await;
        });
        started.await.expect("the fetcher started");
        self.running = Some(Process { runtime, shutdown, task });
        self.wait_until_answering().await;
    }

    /// Waits until the fetcher answers `store exchange credentials`: `App::build` returns
    /// before its responders have subscribed, and a request sent meanwhile finds no responder
    /// (most often under load). The probe is a malformed body, refused as `invalid` before
    /// anything is read or written.
    async fn wait_until_answering(&self) {
        let client = self.nats.client().await;
        let subject = self.nats.subjects().store_exchange_credentials().subject().to_string();
        test_support::eventually("the fetcher answers store exchange credentials", Duration::from_secs(30), || {
            let (client, subject) = (client.clone(), subject.clone());
            async move {
                let probe = async_nats::Request::new().payload("{}".into()).timeout(Some(Duration::from_secs(1)));
                let reply = client.send_request(subject, probe).await.ok()?;
                let reply: serde_json::Value = serde_json::from_slice(&reply.payload).ok()?;
                (reply["error"]["kind"] == "invalid").then_some(())
            }
        })
        .await;
    }

    /// Stops the fetcher gracefully (in-flight attempts finish).
    pub async fn stop(&mut self) {
        if let Some(process) = self.running.take() {
            process.shutdown.cancel();
            tokio::time::timeout(Duration::from_secs(15), process.task).await.unwrap().unwrap();
            process.runtime.shutdown_background();
        }
    }

    /// Kills the fetcher where it stands, as a crash would: every task dropped mid-await, no
    /// drain, leases left held.
    pub async fn crash(&mut self) {
        if let Some(process) = self.running.take() {
            process.runtime.shutdown_background();
        }
    }

    /// Runs an admin command with the keys of [`Self::settings`]; `stdin` is what is piped in.
    pub async fn admin(&self, command: AdminCommand, stdin: &str) -> serde_json::Value {
        self.try_admin(command, stdin).await.expect("admin command")
    }

    /// Runs an admin command that may fail.
    pub async fn try_admin(&self, command: AdminCommand, stdin: &str) -> anyhow::Result<serde_json::Value> {
        let cipher = self.settings().credentials.cipher().unwrap();
        admin::run(self.db.url(), &cipher, command, stdin.as_bytes()).await
    }

    /// The code stored with a participation's job.
    pub async fn error_code(&self, participation: ParticipationId) -> Option<String> {
        let mut connection = self.db.connect().await;
        fetch_jobs::table
            .filter(fetch_jobs::participation_id.eq(participation))
            .select(fetch_jobs::error_code)
            .first(&mut connection)
            .await
            .unwrap()
    }

    /// A request as the ledger would publish it, for the Tradier account.
    pub fn request(&self, order_id: &str, children: &[&str]) -> ParticipationCreated {
        ParticipationCreated {
            participation_id: ParticipationId::new(),
            bot_id: BotId::new(),
            bot_trade_id: TradeId::new(),
            user_id: UserId::new(),
            broker_account_id: self.account,
            broker: "tradier".into(),
            broker_account_number: ACCOUNT.into(),
            broker_order_id: order_id.into(),
            child_order_ids: children.iter().map(|id| id.to_string()).collect(),
            units: Decimal::ONE,
        }
    }

    /// Publishes `request` on the ledger's stream with message id `<event id>[.n]`.
    pub async fn publish(&self, event_id: EventId, request: &ParticipationCreated, republish: u32) {
        self.publish_on(&self.nats.subjects().participation_created(), event_id, request, republish).await;
    }

    /// Publishes `data` as an event of `topic` (in its envelope, as the producer's relay would)
    /// with message id `<event id>[.n]`.
    pub async fn publish_on<T: Serialize>(&self, topic: &Topic<T>, event_id: EventId, data: &T, republish: u32) {
        test_support::publish_event(&self.js, topic, event_id, data, republish).await;
    }

    /// Publishes a fresh request and returns it.
    pub async fn send(&self, request: ParticipationCreated) -> ParticipationCreated {
        self.publish(EventId::new(), &request, 0).await;
        request
    }

    /// `(status, attempts, last error)` of a participation's job, once it exists.
    pub async fn job(&self, participation: ParticipationId) -> Option<(String, i32, Option<String>)> {
        let mut connection = self.db.connect().await;
        fetch_jobs::table
            .filter(fetch_jobs::participation_id.eq(participation))
            .select((fetch_jobs::status, fetch_jobs::attempts, fetch_jobs::last_error))
            .first(&mut connection)
            .await
            .optional()
            .unwrap()
    }

    /// Waits until the job reaches `status`; returns attempts and last error.
    pub async fn wait_for(&self, participation: ParticipationId, status: &str) -> (i32, Option<String>) {
        test_support::eventually(&format!("job {participation} {status}"), Duration::from_secs(20), || async {
            self.job(participation).await.filter(|job| job.0 == status).map(|job| (job.1, job.2))
        })
        .await
    }

    /// Every event the fetcher published so far: `(subject, envelope)`.
    pub async fn published(&self) -> Vec<(String, Event<serde_json::Value>)> {
        let stream_name = self.nats.subjects().stream_name(ServiceName::OutboxBrokerFetcher);
        let Ok(mut stream) = self.js.get_stream(&stream_name).await else { return Vec::new() };
        let count = stream.info().await.unwrap().state.messages;
        let mut out = Vec::new();
        for sequence in 1..=count + 64 {
            if out.len() as u64 == count {
                break;
            }
            if let Ok(message) = stream.get_raw_message(sequence).await {
                out.push((message.subject.to_string(), serde_json::from_slice(&message.payload).unwrap()));
            }
        }
        out
    }

    /// The published outcomes of one participation.
    pub async fn outcomes_of(&self, participation: ParticipationId) -> Vec<(String, serde_json::Value)> {
        self.published()
            .await
            .into_iter()
            .filter(|(_, event)| event.data["participationId"] == participation.to_string())
            .map(|(subject, event)| (subject, event.data))
            .collect()
    }

    /// Waits until `n` outcomes of `participation` were published; returns them.
    pub async fn wait_outcomes(&self, participation: ParticipationId, n: usize) -> Vec<(String, serde_json::Value)> {
        test_support::eventually("outcomes published", Duration::from_secs(20), || async {
            let outcomes = self.outcomes_of(participation).await;
            (outcomes.len() >= n).then_some(outcomes)
        })
        .await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(process) = self.running.take() {
            process.shutdown.cancel();
            process.runtime.shutdown_background();
        }
    }
}

fn base64_key() -> String {
    encode_key(&KEY)
}

/// Base64 of a key, as settings hold it.
pub fn encode_key(key: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key)
}
