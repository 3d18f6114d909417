//! Backtests through the gateway, the ledger (partner keys) and the backtest-executor:
//! start → status → results for a grid and a DCA bot, ownership, authentication, results
//! asked for too early (the executor's pause hook holds a run mid-way) and `Idempotency-Key`.

use crate::system::System;
use backtest_executor::app::{PauseRelease, TestHooks};
use backtest_executor::settings::WorkerSettings;
use domain::ServiceName;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

/// First open time of `BTC_USDT-1m.csv`, and how many of its candles the test imports.
const FIRST: i64 = 1_689_677_460;
const CANDLES: i64 = 5_000;

const GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
    "investmentAsset": "Quote", "investmentAmount": 9900}"#;
const DCA: &str = r#"{"symbol": "SIM_BTC_USDT_", "baseOrderAmount": 100, "safetyOrderAmount": 200,
    "maxSafetyOrders": 5, "priceDeviation": 1, "takeProfit": 1}"#;

/// The first `CANDLES` candles of the real 1m series, in a file of their own.
fn slice() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata/BTC_USDT-1m.csv");
    let text = std::fs::read_to_string(source).unwrap();
    let lines: Vec<&str> = text.lines().take(usize::try_from(CANDLES).unwrap() + 1).collect();
    let path = std::env::temp_dir().join(format!("e2e-btc-1m-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

struct Partner {
    id: String,
    key: String,
}

/// The system with two partners, the candles imported and an executor whose workers pause
/// once at 20 % (released by [`Backtests::release`]).
struct Backtests {
    system: System,
    alice: Partner,
    bob: Partner,
    release: PauseRelease,
}

async fn send(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.expect("the gateway answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

fn envelope(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

impl Backtests {
    async fn start() -> Self {
        let mut system = System::start().await.expect("the system starts");
        let partner = async |name: &str| {
            let created = system.admin(AdminCommand::CreatePartner { name: name.into() }).await;
            Partner {
                id: created["partnerId"].as_str().unwrap().to_string(),
                key: created["apiKey"].as_str().unwrap().to_string(),
            }
        };
        let (alice, bob) = (partner("Alice Capital").await, partner("Bob Markets").await);
        let file = slice();
        let report = system.import_candles("SIM_BTC_USDT_", "1m", &file).await;
        std::fs::remove_file(file).ok();
        assert_eq!(report["inserted"], CANDLES, "{report}");
        let worker = WorkerSettings { workers: 2, chunk_size: 500, poll_interval_ms: 200, ..WorkerSettings::default() };
        let hooks = TestHooks { pause_at_progress: Some(20) };
        let release = system.restart_backtest_executor(worker, hooks).await.expect("the executor restarts");
        let backtests = Self { system, alice, bob, release };
        // The restarted executor's responders subscribe in the background.
        test_support::eventually("the executor answers", Duration::from_secs(10), || async {
            let path = format!("/partner/v1/bots/backtest/{}/status", uuid::Uuid::now_v7());
            (backtests.get(&backtests.alice, &path).await.0 == 404).then_some(())
        })
        .await;
        backtests
    }

    async fn get(&self, partner: &Partner, path: &str) -> (u16, Value) {
        let request = test_support::http_client().get(self.system.url(path)).header("x-api-key", &partner.key);
        let (status, text) = send(request).await;
        (status, envelope(&text))
    }

    async fn post(&self, key: Option<&str>, idempotency: Option<&str>, body: &str) -> (u16, String) {
        let mut request = test_support::http_client()
            .post(self.system.url("/partner/v1/bots/backtest"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(idempotency) = idempotency {
            request = request.header("Idempotency-Key", idempotency);
        }
        send(request).await
    }

    fn body(script_type: &str, settings: &str) -> String {
        let settings: Value = serde_json::from_str(settings).unwrap();
        json!({"type": script_type, "exchangeId": "SIM", "settings": settings,
            "startUnix": FIRST, "endUnix": FIRST + CANDLES * 60})
        .to_string()
    }

    /// Starts a backtest for alice; its id.
    async fn start_backtest(&self, script_type: &str, settings: &str) -> String {
        let (status, text) = self.post(Some(&self.alice.key), None, &Self::body(script_type, settings)).await;
        assert_eq!(status, 200, "{text}");
        let body = envelope(&text);
        assert_eq!((body["isSuccess"].clone(), body["code"].clone()), (json!(true), json!(0)), "{body}");
        body["data"]["backtestId"].as_str().unwrap().to_string()
    }

    async fn status(&self, id: &str) -> Value {
        let (code, body) = self.get(&self.alice, &format!("/partner/v1/bots/backtest/{id}/status")).await;
        assert_eq!(code, 200, "{body}");
        body["data"].clone()
    }

    /// Waits for the worker to pause mid-way, checks that results are refused, then lets it
    /// finish; the results.
    async fn run_through_pause(&self, id: &str) -> Value {
        let paused = test_support::eventually("the run to execute", Duration::from_secs(60), || async {
            let status = self.status(id).await;
            (status["state"] == "executing").then_some(status)
        })
        .await;
        // Held at 20 % until released: it cannot have finished.
        assert!(paused["progress"].as_u64().unwrap() < 100, "{paused}");
        let (code, body) = self.get(&self.alice, &format!("/partner/v1/bots/backtest/{id}/results")).await;
        assert_eq!((code, body["code"].clone()), (409, json!(1006)), "results before completion: {body}");
        assert_eq!(body["isSuccess"], false);

        let done = test_support::eventually("the backtest completes", Duration::from_secs(120), || async {
            self.release.release();
            let status = self.status(id).await;
            (!["loading_script", "loading_data", "executing"].contains(&status["state"].as_str().unwrap()))
                .then_some(status)
        })
        .await;
        assert_eq!(done["state"], "completed", "{done}");
        assert_eq!(done["progress"], 100);
        assert!(done["serviceId"].as_str().unwrap().contains("/w"), "a worker ran it: {done}");

        let (code, body) = self.get(&self.alice, &format!("/partner/v1/bots/backtest/{id}/results")).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["code"], 0);
        let results = body["data"].clone();
        assert_eq!(results["backtestId"], id);
        assert_eq!(results["market"], "SIM:BTC-USDT");
        assert_eq!(
            (results["startUnix"].as_i64(), results["endUnix"].as_i64()),
            (Some(FIRST), Some(FIRST + CANDLES * 60))
        );
        assert_eq!(results["summary"]["profitCurrency"], "USDT", "{results}");
        let logs = results["logs"].as_array().unwrap();
        assert!(!logs.is_empty() && logs.len() <= 50, "{results}");
        assert!(logs[0].as_str().unwrap().contains(" ||| 0 ||| "), "{logs:?}");
        results
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn grid_and_dca_backtests_run_through_the_partner_api() {
    let backtests = Backtests::start().await;

    let grid = backtests.start_backtest("spot_grid", GRID).await;
    let results = backtests.run_through_pause(&grid).await;
    assert!(results["orders"]["total"].as_u64().unwrap() > 0, "{results}");

    let dca = backtests.start_backtest("spot_dollar_cost_averaging", DCA).await;
    let results = backtests.run_through_pause(&dca).await;
    assert!(results["orders"]["total"].as_u64().unwrap() > 0, "{results}");
    assert!(results["positions"].is_object(), "{results}");

    // Another partner's key: the backtest does not exist for them.
    for path in ["status", "results", "logs", "positions"] {
        let (code, body) = backtests.get(&backtests.bob, &format!("/partner/v1/bots/backtest/{grid}/{path}")).await;
        assert_eq!((code, body["code"].clone()), (404, json!(1009)), "{path}: {body}");
    }
    let (code, body) = backtests.get(&backtests.alice, &format!("/partner/v1/bots/backtest/{grid}/logs")).await;
    assert_eq!(code, 200, "the owner still sees it: {body}");

    // No key, or a key that is not a partner's.
    let body = Backtests::body("spot_grid", GRID);
    for key in [None, Some("not-a-key")] {
        let (code, text) = backtests.post(key, None, &body).await;
        assert_eq!((code, envelope(&text)["code"].clone()), (401, json!(1401)), "{key:?}: {text}");
    }
    let (code, body) = backtests
        .get(&Partner { id: String::new(), key: String::new() }, &format!("/partner/v1/bots/backtest/{grid}/status"))
        .await;
    assert_eq!((code, body["code"].clone()), (401, json!(1401)), "{body}");
}
#[tokio::test(flavor = "multi_thread")]
async fn a_start_with_an_idempotency_key_runs_once() {
    let backtests = Backtests::start().await;
    let count = async || {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        let mut connection = backtests.system.db(ServiceName::BacktestExecutor).connect().await;
        diesel_async::RunQueryDsl::get_result::<Count>(
            diesel::sql_query("SELECT count(*) FROM backtests"),
            &mut connection,
        )
        .await
        .unwrap()
        .count
    };
    let grid = Backtests::body("spot_grid", GRID);
    let key = Some(backtests.alice.key.as_str());

    let (code, first) = backtests.post(key, Some("bt-1"), &grid).await;
    assert_eq!(code, 200, "{first}");
    let (code, again) = backtests.post(key, Some("bt-1"), &grid).await;
    assert_eq!((code, &again), (200, &first), "the first reply, byte for byte");
    assert_eq!(count().await, 1, "no second backtest");

    let dca = Backtests::body("spot_dollar_cost_averaging", DCA);
    let (code, refused) = backtests.post(key, Some("bt-1"), &dca).await;
    assert_eq!(code, 422, "{refused}");
    assert_eq!(envelope(&refused)["code"], 1011);
    assert_eq!(count().await, 1);

    // Keys are per partner: bob's `bt-1` is his own.
    let (code, bobs) = backtests.post(Some(&backtests.bob.key), Some("bt-1"), &grid).await;
    assert_eq!(code, 200, "{bobs}");
    assert_ne!(envelope(&bobs)["data"]["backtestId"], envelope(&first)["data"]["backtestId"]);
    // Another key runs again.
    let (code, _) = backtests.post(key, Some("bt-2"), &grid).await;
    assert_eq!(code, 200);
    assert_eq!(count().await, 3);
    backtests.release.release();
}

impl Backtests {
    /// A user of `partner` with an account on each of `brokers`; the user's id.
    async fn user(&self, partner: &Partner, email: &str, brokers: &[&str]) -> String {
        let partner_id = partner.id.parse().unwrap();
        let user = self.system.admin(AdminCommand::CreateUser { partner: Some(partner_id), email: email.into() }).await;
        let user_id = user["userId"].as_str().unwrap().to_string();
        for (n, broker) in brokers.iter().enumerate() {
            let account = AdminCommand::CreateBrokerAccount {
                user: user_id.parse().unwrap(),
                broker: broker.to_string(),
                account_number: format!("{email}-{n}"),
            };
            self.system.admin(account).await;
        }
        user_id
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_users_backtest_runs_only_for_the_partners_user_on_an_exchange_they_have() {
    let backtests = Backtests::start().await;
    let paper = backtests.user(&backtests.alice, "paper@alice.example", &["SIM"]).await;
    let broker_only = backtests.user(&backtests.alice, "tradier@alice.example", &["TRADIER"]).await;
    let bobs = backtests.user(&backtests.bob, "user@bob.example", &["SIM"]).await;
    let with_user = |user: &str| {
        let mut body: Value = serde_json::from_str(&Backtests::body("spot_grid", GRID)).unwrap();
        body["userId"] = json!(user);
        body.to_string()
    };
    let alice = Some(backtests.alice.key.as_str());

    let (status, text) = backtests.post(alice, None, &with_user(&paper)).await;
    assert_eq!(status, 200, "{text}");

    let (status, text) = backtests.post(alice, None, &with_user(&broker_only)).await;
    let body = envelope(&text);
    assert_eq!((status, body["code"].clone()), (400, json!(1004)), "{body}");
    assert_eq!(
        body["message"],
        format!("exchangeId 'SIM' is not an exchange user '{broker_only}' has an account on (the user's: TRADIER)")
    );

    for other in [bobs.as_str(), "01a1fc15-0000-7000-8000-000000000000", "not-a-user"] {
        let (status, text) = backtests.post(alice, None, &with_user(other)).await;
        let body = envelope(&text);
        assert_eq!((status, body["code"].clone()), (404, json!(1001)), "{other}: {body}");
        assert_eq!(body["message"], format!("User '{other}' not found"));
    }
}
