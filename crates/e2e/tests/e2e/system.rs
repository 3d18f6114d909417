//! The whole system, started in-process for one test, with a local Tradier server behind the
//! fetcher and the market feed (no replayed markets: tests push their own quotes). The runner
//! runs on the test's clock ([`System::clock`]); tests stamp their quotes from it, and can kill
//! the runner (its `App` dropped without a graceful stop) and start another.

use domain::ServiceName;
use live_session_runner::clock::ManualClock;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use test_support::{TestDb, TestNats, backend_settings_as};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tradier_sim::TradierSim;

/// The key the test fetcher encrypts credentials with.
pub const FETCHER_KEY: [u8; 32] = [9; 32];

/// A running backend service and what stops it.
struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

/// Gateway + four backends on one random prefix.
pub struct System {
    pub gateway: SocketAddr,
    /// The Tradier-compatible server the fetcher talks to.
    pub tradier: TradierSim,
    /// The market feed; tests push quotes through its control endpoint.
    pub feed: market_feed::Feed,
    /// The runner's clock: it moves only when the test moves it.
    pub clock: ManualClock,
    backends: BTreeMap<ServiceName, Running>,
    /// Runners besides the first, by replica name (two replicas on one database and prefix).
    more_runners: BTreeMap<String, Running>,
    /// The first runner's replica name.
    runner_name: String,
    dbs: BTreeMap<ServiceName, TestDb>,
    gateway_shutdown: CancellationToken,
    nats: TestNats,
}

fn migrations_dir(crate_dir: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services").join(crate_dir).join("migrations")
}

fn fetcher_settings(db: &TestDb, nats: &TestNats, tradier: &TradierSim) -> outbox_broker_fetcher::Settings {
    use base64::Engine;
    let mut settings = outbox_broker_fetcher::Settings::with_backend(backend_settings_as(
        db,
        nats,
        ServiceName::OutboxBrokerFetcher.as_str(),
    ));
    settings.credentials.encryption_key = base64::engine::general_purpose::STANDARD.encode(FETCHER_KEY);
    settings.brokers.tradier.base_url = tradier.base_url();
    settings.brokers.tradier.sandbox_base_url = tradier.base_url();
    settings.fetch.backoff_base_ms = 20;
    settings.fetch.backoff_cap_ms = 200;
    settings.fetch.max_failures = 3;
    settings.fetch.poll_interval_ms = 50;
    settings
}

/// The runner with every time constant short enough for a test: a killed runner's runs are
/// taken over within about a second.
pub fn runner_settings(db: &TestDb, nats: &TestNats) -> live_session_runner::Settings {
    let mut settings = live_session_runner::Settings::with_backend(backend_settings_as(
        db,
        nats,
        ServiceName::LiveSessionRunner.as_str(),
    ));
    settings.live.lease_secs = 1;
    settings.live.tick_ms = 50;
    settings.live.checkpoint_secs = 1;
    settings
}

fn ledger_settings(db: &TestDb, nats: &TestNats) -> trade_ledger::Settings {
    let mut settings =
        trade_ledger::Settings::with_backend(backend_settings_as(db, nats, ServiceName::TradeLedger.as_str()));
    // Recovery within a test's patience.
    settings.fetch_sweep.after_secs = 1;
    settings.fetch_sweep.interval_secs = 1;
    settings
}

macro_rules! start_backend {
    ($krate:ident, $service:expr, $settings:expr) => {{
        let shutdown = CancellationToken::new();
        let app = $krate::App::build($settings).await?;
        Running { task: tokio::spawn(app.run_until_stopped(shutdown.clone())), shutdown }
    }};
}

impl System {
    /// Starts every service; returns when all of them are serving.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on(TestNats::new()).await
    }

    /// Starts every service on `nats`, each connecting as its own bus user (which matters on a
    /// private server with the generated permissions, [`TestNats::secured`]).
    pub async fn start_on(nats: TestNats) -> anyhow::Result<Self> {
        test_support::init_logging();
        let tradier = TradierSim::start("127.0.0.1:0".parse()?).await?;
        let dbs = BTreeMap::from([
            (ServiceName::TradeLedger, db(ServiceName::TradeLedger, trade_ledger::MIGRATIONS, "trade-ledger").await),
            (
                ServiceName::OutboxBrokerFetcher,
                db(ServiceName::OutboxBrokerFetcher, outbox_broker_fetcher::MIGRATIONS, "outbox-broker-fetcher").await,
            ),
            (
                ServiceName::BacktestExecutor,
                db(ServiceName::BacktestExecutor, backtest_executor::MIGRATIONS, "backtest-executor").await,
            ),
            (
                ServiceName::LiveSessionRunner,
                db(ServiceName::LiveSessionRunner, live_session_runner::MIGRATIONS, "live-session-runner").await,
            ),
        ]);
        let settings = |service: ServiceName| backend_settings_as(&dbs[&service], &nats, service.as_str());
        let executor_settings = |service| backtest_executor::Settings::with_backend(settings(service));
        let clock = ManualClock::starting_now();
        let (runner_name, runner) =
            start_runner(runner_settings(&dbs[&ServiceName::LiveSessionRunner], &nats), &clock).await?;
        let backends = BTreeMap::from([
            (
                ServiceName::TradeLedger,
                start_backend!(
                    trade_ledger,
                    ServiceName::TradeLedger,
                    ledger_settings(&dbs[&ServiceName::TradeLedger], &nats)
                ),
            ),
            (
                ServiceName::OutboxBrokerFetcher,
                start_backend!(
                    outbox_broker_fetcher,
                    ServiceName::OutboxBrokerFetcher,
                    fetcher_settings(&dbs[&ServiceName::OutboxBrokerFetcher], &nats, &tradier)
                ),
            ),
            (
                ServiceName::BacktestExecutor,
                start_backend!(
                    backtest_executor,
                    ServiceName::BacktestExecutor,
                    executor_settings(ServiceName::BacktestExecutor)
                ),
            ),
            (ServiceName::LiveSessionRunner, runner),
        ]);
        let mut feed_settings = market_feed::FeedSettings {
            http: platform::settings::HttpSettings { port: 0, ..platform::settings::HttpSettings::local(0) },
            nats: nats.settings_as(bus::permissions::MARKET_FEED_USER),
            ..market_feed::FeedSettings::default()
        };
        feed_settings.feed.markets.clear();
        let feed = market_feed::Feed::start(feed_settings, CancellationToken::new()).await?;
        let gateway_shutdown = CancellationToken::new();
        let settings = gateway::Settings {
            http: platform::settings::HttpSettings {
                port: 0,
                workers: 1,
                ..platform::settings::HttpSettings::local(0)
            },
            nats: nats.settings_as(bus::GATEWAY_USER),
            ..Default::default()
        };
        let gateway = gateway::App::build(settings).await?;
        let addr = gateway.addr();
        tokio::spawn(gateway.run_until_stopped(gateway_shutdown.clone()));
        Ok(Self {
            gateway: addr,
            tradier,
            feed,
            clock,
            backends,
            more_runners: BTreeMap::new(),
            runner_name,
            dbs,
            gateway_shutdown,
            nats,
        })
    }

    /// The database of a backend service.
    pub fn db(&self, service: ServiceName) -> &TestDb {
        &self.dbs[&service]
    }

    /// The test's NATS corner (prefix, subjects, client).
    pub fn nats(&self) -> &TestNats {
        &self.nats
    }

    /// Runs a `trade-ledger admin` command against the ledger's database.
    pub async fn admin(&self, command: trade_ledger::admin::AdminCommand) -> serde_json::Value {
        trade_ledger::admin::run(self.db(ServiceName::TradeLedger).url(), command).await.expect("admin command")
    }

    /// Runs an `outbox-broker-fetcher admin` command with `stdin` piped in.
    pub async fn fetcher_admin(
        &self,
        command: outbox_broker_fetcher::admin::AdminCommand,
        stdin: &str,
    ) -> serde_json::Value {
        let cipher = outbox_broker_fetcher::crypto::CredentialCipher::new(Some(FETCHER_KEY));
        let url = self.db(ServiceName::OutboxBrokerFetcher).url();
        outbox_broker_fetcher::admin::run(url, &cipher, command, stdin.as_bytes()).await.expect("fetcher admin command")
    }

    /// The gateway's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway)
    }

    /// Stops one backend service gracefully and waits until it has ended (its database stays).
    pub async fn stop(&mut self, service: ServiceName) {
        if let Some(running) = self.backends.remove(&service) {
            running.shutdown.cancel();
            tokio::time::timeout(Duration::from_secs(15), running.task)
                .await
                .expect("the service stops within its drain time")
                .expect("the service task did not panic");
        }
    }

    /// Imports a candle CSV into the backtest-executor's database (`backtest-executor
    /// import-candles`).
    pub async fn import_candles(&self, market: &str, timeframe: &str, file: &Path) -> serde_json::Value {
        let url = self.db(ServiceName::BacktestExecutor).url();
        let report =
            backtest_executor::usecase::import::run(url, market, timeframe, file).await.expect("candle import");
        serde_json::to_value(report).expect("the report is JSON")
    }

    /// Kills the runner named `name` (see [`Self::runner_names`]): its `App` is dropped without
    /// a graceful stop, so nothing more is written and its runs stay leased until their leases
    /// run out (as a killed process).
    pub async fn kill_runner(&mut self, name: &str) {
        let running = if name == self.runner_name {
            self.backends.remove(&ServiceName::LiveSessionRunner)
        } else {
            self.more_runners.remove(name)
        };
        let running = running.expect("a runner of that name runs");
        running.task.abort();
        let ended = tokio::time::timeout(Duration::from_secs(15), running.task).await;
        assert!(ended.is_ok(), "the killed runner's task ends");
    }

    /// The replica names of the runners running: the first one's first.
    pub fn runner_names(&self) -> Vec<String> {
        let first = self.backends.contains_key(&ServiceName::LiveSessionRunner).then(|| self.runner_name.clone());
        first.into_iter().chain(self.more_runners.keys().cloned()).collect()
    }

    /// Starts one more runner on the same database, prefix and clock (after a kill, or beside
    /// the ones running); returns its replica name.
    pub async fn start_runner(&mut self) -> anyhow::Result<String> {
        let settings = runner_settings(self.db(ServiceName::LiveSessionRunner), &self.nats);
        let (name, running) = start_runner(settings, &self.clock).await?;
        self.more_runners.insert(name.clone(), running);
        Ok(name)
    }

    /// Every order the runner ever wrote for `bot` (open or not): how tests see that nothing
    /// was placed twice.
    pub async fn orders_written(&self, bot: &str) -> i64 {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use live_session_runner::store::schema::{run_orders, runs};
        let mut connection = self.db(ServiceName::LiveSessionRunner).connect().await;
        let bot: domain::BotId = bot.parse().unwrap();
        run_orders::table
            .inner_join(runs::table)
            .filter(runs::bot_id.eq(bot))
            .count()
            .get_result(&mut connection)
            .await
            .unwrap()
    }

    /// Pushes a quote of `symbol` through the feed, stamped with the runner's clock now.
    pub async fn push_quote(&self, symbol: &str, bid: &str, ask: &str, last: &str) -> serde_json::Value {
        let now = live_session_runner::clock::Clock::now_ms(&self.clock);
        let body = serde_json::json!({"symbol": symbol, "bid": bid, "ask": ask, "last": last, "timeMs": now});
        let reply = reqwest::Client::new()
            .post(format!("{}/_feed/quotes", self.feed.base_url()))
            .json(&body)
            .send()
            .await
            .expect("the feed answers");
        assert!(reply.status().is_success(), "the feed took the quote: {}", reply.status());
        reply.json().await.expect("the published quote")
    }

    /// Restarts the backtest-executor with these worker settings and test hooks (e.g. the
    /// pause hook); the handle releases paused workers. Its responders subscribe in the
    /// background: callers wait until it answers.
    pub async fn restart_backtest_executor(
        &mut self,
        worker: backtest_executor::settings::WorkerSettings,
        hooks: backtest_executor::app::TestHooks,
    ) -> anyhow::Result<backtest_executor::app::PauseRelease> {
        self.stop(ServiceName::BacktestExecutor).await;
        let mut settings = backtest_executor::Settings::with_backend(backend_settings_as(
            self.db(ServiceName::BacktestExecutor),
            &self.nats,
            ServiceName::BacktestExecutor.as_str(),
        ));
        settings.worker = worker;
        let shutdown = CancellationToken::new();
        let app = backtest_executor::App::build_with_test_hooks(settings, hooks).await?;
        let release = app.pause_release();
        let running = Running { task: tokio::spawn(app.run_until_stopped(shutdown.clone())), shutdown };
        self.backends.insert(ServiceName::BacktestExecutor, running);
        Ok(release)
    }

    /// Starts the fetcher again after [`Self::stop`].
    pub async fn restart_fetcher(&mut self) -> anyhow::Result<()> {
        let settings = fetcher_settings(self.db(ServiceName::OutboxBrokerFetcher), &self.nats, &self.tradier);
        let running = start_backend!(outbox_broker_fetcher, ServiceName::OutboxBrokerFetcher, settings);
        self.backends.insert(ServiceName::OutboxBrokerFetcher, running);
        Ok(())
    }
}

/// Starts a runner on `clock`; returns its replica name (the owner its leases name).
async fn start_runner(
    settings: live_session_runner::Settings,
    clock: &ManualClock,
) -> anyhow::Result<(String, Running)> {
    let shutdown = CancellationToken::new();
    let app = live_session_runner::App::build_with(
        settings,
        Arc::new(clock.clone()),
        live_session_runner::live::Latency::default(),
    )
    .await?;
    let name = app.instance().to_string();
    Ok((name, Running { task: tokio::spawn(app.run_until_stopped(shutdown.clone())), shutdown }))
}

async fn db(service: ServiceName, migrations: diesel_migrations::EmbeddedMigrations, crate_dir: &str) -> TestDb {
    TestDb::new(service.context(), migrations, &migrations_dir(crate_dir)).await
}

impl Drop for System {
    fn drop(&mut self) {
        self.gateway_shutdown.cancel();
        for running in self.backends.values().chain(self.more_runners.values()) {
            running.shutdown.cancel();
        }
    }
}
