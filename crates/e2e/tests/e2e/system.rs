//! The whole system, started in-process for one test.

use domain::ServiceName;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use test_support::{TestDb, TestNats, backend_settings};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running backend service and what stops it.
struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    _db: TestDb,
}

/// Gateway + four backends on one random prefix.
pub struct System {
    pub gateway: SocketAddr,
    backends: BTreeMap<ServiceName, Running>,
    gateway_shutdown: CancellationToken,
    _nats: TestNats,
}

fn migrations_dir(crate_dir: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services").join(crate_dir).join("migrations")
}

macro_rules! start_backend {
    ($krate:ident, $dir:literal, $service:expr, $nats:expr) => {
        start_backend!($krate, $dir, $service, $nats, |settings| settings)
    };
    ($krate:ident, $dir:literal, $service:expr, $nats:expr, $settings:expr) => {{
        let db = TestDb::new($service.context(), $krate::MIGRATIONS, &migrations_dir($dir)).await;
        let shutdown = CancellationToken::new();
        let app = $krate::App::build($settings(backend_settings(&db, $nats)), shutdown.clone()).await?;
        ($service, Running { shutdown, task: tokio::spawn(app.run_until_stopped()), _db: db })
    }};
}

impl System {
    /// Starts every service; returns when all of them are serving.
    pub async fn start() -> anyhow::Result<Self> {
        test_support::init_logging();
        let nats = TestNats::new();
        let backends = BTreeMap::from([
            start_backend!(trade_ledger, "trade-ledger", ServiceName::TradeLedger, &nats),
            start_backend!(
                outbox_broker_fetcher,
                "outbox-broker-fetcher",
                ServiceName::OutboxBrokerFetcher,
                &nats,
                outbox_broker_fetcher::settings::with_backend
            ),
            start_backend!(backtest_executor, "backtest-executor", ServiceName::BacktestExecutor, &nats),
            start_backend!(live_session_runner, "live-session-runner", ServiceName::LiveSessionRunner, &nats),
        ]);
        let gateway_shutdown = CancellationToken::new();
        let settings = gateway::GatewaySettings {
            http: platform::settings::HttpSettings {
                port: 0,
                workers: 1,
                ..platform::settings::HttpSettings::local(0)
            },
            nats: nats.settings(),
            ..Default::default()
        };
        let gateway = gateway::App::build(settings, gateway_shutdown.clone()).await?;
        let addr = gateway.addr();
        tokio::spawn(gateway.run_until_stopped());
        Ok(Self { gateway: addr, backends, gateway_shutdown, _nats: nats })
    }

    /// The database of a running backend service.
    pub fn db(&self, service: ServiceName) -> &TestDb {
        &self.backends[&service]._db
    }

    /// The test's NATS corner (prefix, subjects, client).
    pub fn nats(&self) -> &TestNats {
        &self._nats
    }

    /// Runs a `trade-ledger admin` command against the ledger's database.
    pub async fn admin(&self, command: trade_ledger::admin::AdminCommand) -> serde_json::Value {
        trade_ledger::admin::run(self.db(ServiceName::TradeLedger).url(), command).await.expect("admin command")
    }

    /// The gateway's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway)
    }

    /// Stops one backend service gracefully and waits until it has ended.
    pub async fn stop(&mut self, service: ServiceName) {
        if let Some(running) = self.backends.remove(&service) {
            running.shutdown.cancel();
            tokio::time::timeout(Duration::from_secs(15), running.task)
                .await
                .expect("the service stops within its drain time")
                .expect("the service task did not panic");
        }
    }
}

impl Drop for System {
    fn drop(&mut self) {
        self.gateway_shutdown.cancel();
        for running in self.backends.values() {
            running.shutdown.cancel();
        }
    }
}
