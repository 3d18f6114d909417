//! An executor on a fresh database and prefix, with the 1-minute BTC candles imported.

use backtest_executor::app::{PauseRelease, TestHooks};
use backtest_executor::settings::{Settings, WorkerSettings};
use backtest_executor::{App, MIGRATIONS};
use bus::messages::backtest::{
    BacktestRef, BacktestStatus, GetBacktestLogs, GetBacktestPositions, StartBacktest, StartBacktestReply,
};
use bus::messages::idempotency::{Command, IdempotencyKey, Replayable};
use bus::{RequestError, Subjects};
use domain::{BacktestId, PartnerId};
use serde_json::value::RawValue;
use std::path::{Path, PathBuf};
use std::time::Duration;
use test_support::{TestDb, TestNats};
use tokio_util::sync::CancellationToken;

pub const BTC_1M_FIRST: i64 = 1_689_677_460;
pub const BTC_1M_CANDLES: i64 = 46_001;
pub const TIMEOUT: Duration = Duration::from_secs(5);

pub fn marketdata(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata").join(file)
}

pub const GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
    "investmentAsset": "Quote", "investmentAmount": 9900}"#;
pub const DCA: &str = r#"{"symbol": "SIM_BTC_USDT_", "baseOrderAmount": 100, "safetyOrderAmount": 200,
    "maxSafetyOrders": 5, "priceDeviation": 1, "takeProfit": 1}"#;

pub struct Executor {
    pub shutdown: CancellationToken,
    pub instance: String,
    pub release: PauseRelease,
    pub _stopped: tokio::task::JoinHandle<()>,
}

pub struct World {
    pub db: TestDb,
    pub nats: TestNats,
    pub client: async_nats::Client,
    pub subjects: Subjects,
    pub partner: PartnerId,
}

impl World {
    /// A database with the BTC 1m candles and a NATS prefix; no executor yet.
    pub async fn new() -> Self {
        test_support::init_logging();
        let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let db = TestDb::new("backtest", MIGRATIONS, &migrations_dir).await;
        backtest_executor::usecase::import::run(db.url(), "SIM_BTC_USDT_", "1m", &marketdata("BTC_USDT-1m.csv"))
            .await
            .expect("the candles import");
        let nats = TestNats::new();
        let client = nats.client().await;
        let subjects = nats.subjects();
        Self { db, nats, client, subjects, partner: PartnerId::new() }
    }

    pub fn settings(&self, worker: WorkerSettings) -> Settings {
        let mut settings = Settings::with_backend(test_support::backend_settings(&self.db, &self.nats));
        settings.worker = worker;
        settings
    }

    /// Starts an executor; it stops when the returned value is dropped.
    pub async fn executor(&self, worker: WorkerSettings) -> Executor {
        self.executor_with(worker, TestHooks::default()).await
    }

    /// Starts an executor whose workers pause at `progress` until released (the test hook).
    pub async fn paused_executor(&self, worker: WorkerSettings, progress: u8) -> Executor {
        self.executor_with(worker, TestHooks { pause_at_progress: Some(progress) }).await
    }

    async fn executor_with(&self, worker: WorkerSettings, hooks: TestHooks) -> Executor {
        let shutdown = CancellationToken::new();
        let app = App::build_with_test_hooks(self.settings(worker), hooks).await.expect("the executor starts");
        let instance = app.instance().to_string();
        let release = app.pause_release();
        let stopped = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        self.wait_for_responders().await;
        Executor { shutdown, instance, release, _stopped: stopped }
    }

    /// Starts an executor on a runtime of its own, so that [`Crashable::crash`] can take every
    /// task of it down at once (workers, lease timers), as a process that dies would.
    pub async fn crashable_executor(&self, worker: WorkerSettings, hooks: TestHooks) -> Crashable {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let shutdown = CancellationToken::new();
        let (started, ready) = tokio::sync::oneshot::channel();
        let (settings, token) = (self.settings(worker), shutdown.clone());
        runtime.spawn(async move {
            let app = App::build_with_test_hooks(settings, hooks).await.expect("the executor starts");
            let _ = started.send(app.instance().to_string());
            app.run_until_stopped(token).await;
        });
        let instance = ready.await.expect("the executor started");
        self.wait_for_responders().await;
        Crashable { runtime: Some(runtime), shutdown, instance }
    }

    /// The row's lease token and claim count, as the database holds them.
    pub async fn lease_of(&self, id: BacktestId) -> (Option<lease::Token>, i32) {
        #[derive(diesel::QueryableByName)]
        struct Lease {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
            claim_token: Option<lease::Token>,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            attempts: i32,
        }
        let lease: Lease = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query(format!("SELECT claim_token, attempts FROM backtests WHERE id = '{id}'")),
            &mut self.db.connect().await,
        )
        .await
        .unwrap();
        (lease.claim_token, lease.attempts)
    }

    /// Responders subscribe in the background: wait until every subject answers.
    async fn wait_for_responders(&self) {
        test_support::eventually("the executor's responders", Duration::from_secs(10), || async {
            let reference = self.reference(BacktestId::new());
            let logs = GetBacktestLogs {
                partner_id: self.partner,
                backtest_id: reference.backtest_id,
                limit: 1,
                next_page_id: None,
            };
            let positions = GetBacktestPositions {
                partner_id: self.partner,
                backtest_id: reference.backtest_id,
                limit: 1,
                next_page_id: None,
            };
            let s = &self.subjects;
            let answers = [
                bus::request_raw(&self.client, &s.backtest_status(), &reference, TIMEOUT).await.err(),
                bus::request_raw(&self.client, &s.backtest_results(), &reference, TIMEOUT).await.err(),
                bus::request_raw(&self.client, &s.backtest_equity(), &reference, TIMEOUT).await.err(),
                bus::request_raw(&self.client, &s.cancel_backtest(), &reference, TIMEOUT).await.err(),
                bus::request_raw(&self.client, &s.backtest_logs(), &logs, TIMEOUT).await.err(),
                bus::request_raw(&self.client, &s.backtest_positions(), &positions, TIMEOUT).await.err(),
                self.start("none", "{}", 0, 1).await.err(),
            ];
            answers.iter().all(|error| matches!(error, Some(RequestError::Rejected(_)))).then_some(())
        })
        .await;
    }

    pub async fn start(
        &self,
        script_type: &str,
        settings: &str,
        start: i64,
        end: i64,
    ) -> Result<StartBacktestReply, RequestError> {
        self.start_keyed(None, script_type, settings, start, end).await
    }

    /// [`Self::start`] with an `Idempotency-Key` (and the hash the gateway would send).
    pub async fn start_keyed(
        &self,
        idempotency: Option<IdempotencyKey>,
        script_type: &str,
        settings: &str,
        start: i64,
        end: i64,
    ) -> Result<StartBacktestReply, RequestError> {
        let command = StartBacktest {
            partner_id: self.partner,
            user_id: None,
            script_type: script_type.to_string(),
            exchange_id: Some("SIM".to_string()),
            settings: RawValue::from_string(settings.to_string()).unwrap(),
            start_unix: start,
            end_unix: end,
        };
        let request = Command { idempotency, command };
        match bus::request(&self.client, &self.subjects.start_backtest(), &request, TIMEOUT).await? {
            Replayable::Fresh(reply) => Ok(reply),
            Replayable::Replayed(raw) => Ok(serde_json::from_str(raw.get()).unwrap()),
        }
    }

    pub async fn start_ok(&self, script_type: &str, settings: &str) -> BacktestId {
        match self.start(script_type, settings, BTC_1M_FIRST, BTC_1M_FIRST + BTC_1M_CANDLES * 60).await.unwrap() {
            StartBacktestReply::Started(started) => started.backtest_id,
            other => panic!("not started: {other:?}"),
        }
    }

    pub fn reference(&self, id: BacktestId) -> BacktestRef {
        BacktestRef { partner_id: self.partner, backtest_id: id }
    }

    pub async fn status(&self, id: BacktestId) -> BacktestStatus {
        bus::request(&self.client, &self.subjects.backtest_status(), &self.reference(id), TIMEOUT).await.unwrap()
    }

    /// Polls the status until `check` holds. A request that gets no answer is asked again:
    /// one taken by an executor just crashed ([`Crashable::crash`]) is never answered.
    pub async fn wait_for(
        &self,
        id: BacktestId,
        what: &str,
        check: impl Fn(&BacktestStatus) -> bool,
    ) -> BacktestStatus {
        test_support::eventually(what, Duration::from_secs(120), || async {
            let (endpoint, reference) = (self.subjects.backtest_status(), self.reference(id));
            let status: BacktestStatus = match bus::request(&self.client, &endpoint, &reference, TIMEOUT).await {
                Ok(status) => status,
                Err(RequestError::Timeout { .. }) => return None,
                Err(error) => panic!("status of {id}: {error:?}"),
            };
            check(&status).then_some(status)
        })
        .await
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// An executor on its own runtime.
pub struct Crashable {
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: CancellationToken,
    pub instance: String,
}

impl Crashable {
    /// Kills the executor where it stands: no drain, its leases left to run out.
    pub fn crash(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Crashable {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.crash();
    }
}
