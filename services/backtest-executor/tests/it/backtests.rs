//! Start → status → results, logs and positions; validation; cancel; take-over of a dead
//! worker's job.

use crate::support::{BTC_1M_CANDLES, BTC_1M_FIRST, DCA, GRID, TIMEOUT, World};
use backtest_executor::app::TestHooks;
use backtest_executor::settings::WorkerSettings;
use bus::messages::backtest::{
    BacktestEquity, BacktestPage, GetBacktestLogs, GetBacktestPositions, StartBacktestReply,
};
use bus::{BusError, RequestError};
use domain::{BacktestId, PartnerId};
use serde_json::Value;
use std::time::Duration;

fn workers() -> WorkerSettings {
    WorkerSettings { workers: 2, poll_interval_ms: 200, ..WorkerSettings::default() }
}

fn rejected(result: Result<impl std::fmt::Debug, RequestError>) -> BusError {
    match result {
        Err(RequestError::Rejected(error)) => error,
        other => panic!("expected a typed refusal, got {other:?}"),
    }
}

async fn results(world: &World, id: BacktestId) -> Result<Value, RequestError> {
    bus::request_raw(&world.client, &world.subjects.backtest_results(), &world.reference(id), TIMEOUT)
        .await
        .map(|raw| serde_json::from_str(raw.get()).unwrap())
}

async fn run_to_completion(world: &World, script_type: &str, settings: &str) -> (BacktestId, Value) {
    let id = world.start_ok(script_type, settings).await;
    let status = world
        .wait_for(id, "the backtest to finish", |s| {
            !["loading_script", "loading_data", "executing"].contains(&s.state.as_str())
        })
        .await;
    assert_eq!(status.state, "completed", "{status:?}");
    assert_eq!(status.progress, 100);
    assert!(status.service_id.contains("/w"), "a worker ran it: {status:?}");
    (id, results(world, id).await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_backtest_runs_to_results_logs_and_positions() {
    let world = World::new().await;
    let _executor = world.executor(workers()).await;
    let (id, results) = run_to_completion(&world, "spot_grid", GRID).await;
    assert_eq!(results["backtestId"], id.to_string());
    assert_eq!(results["market"], "SIM:BTC-USDT");
    assert_eq!(results["startUnix"], BTC_1M_FIRST);
    assert_eq!(results["summary"]["profitCurrency"], "USDT");
    assert!(results["summary"]["realizedProfit"].is_number(), "{results}");
    assert!(results["orders"]["total"].as_u64().unwrap() > 0, "{results}");
    let logs = results["logs"].as_array().unwrap();
    assert!(!logs.is_empty() && logs.len() <= 50);
    assert!(logs[0].as_str().unwrap().contains(" ||| 0 ||| "), "{logs:?}");

    // The whole log in pages of 100: every line once, in order.
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let request = GetBacktestLogs { partner_id: world.partner, backtest_id: id, limit: 100, next_page_id: cursor };
        let page: BacktestPage =
            bus::request(&world.client, &world.subjects.backtest_logs(), &request, TIMEOUT).await.unwrap();
        let items: Vec<Value> = serde_json::from_str(page.items.get()).unwrap();
        for item in &items {
            assert_eq!(item["lineNumber"], seen);
            seen += 1;
        }
        match page.next_page_id {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(seen >= logs.len() as u64);

    let request = GetBacktestPositions { partner_id: world.partner, backtest_id: id, limit: 1000, next_page_id: None };
    let page: BacktestPage =
        bus::request(&world.client, &world.subjects.backtest_positions(), &request, TIMEOUT).await.unwrap();
    let positions: Vec<Value> = serde_json::from_str(page.items.get()).unwrap();
    assert!(!positions.is_empty());
    let first = &positions[0];
    assert_eq!(first["ma"], "SIM_BTC_USDT_");
    assert_eq!(first["d"], 0);
    assert!(first["eno"].as_array().unwrap().len() == 1, "{first}");
    assert!(first["ap"].is_number());

    let equity: BacktestEquity =
        bus::request(&world.client, &world.subjects.backtest_equity(), &world.reference(id), TIMEOUT).await.unwrap();
    assert!(equity.points.len() > 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dca_backtest_completes_with_positions() {
    let world = World::new().await;
    let _executor = world.executor(workers()).await;
    let (_id, results) = run_to_completion(&world, "spot_dollar_cost_averaging", DCA).await;
    assert!(results["positions"]["closedPositions"].as_u64().unwrap() > 0, "{results}");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_requests_name_the_field_and_change_nothing() {
    let world = World::new().await;
    let _executor = world.executor(workers()).await;
    let end = BTC_1M_FIRST + 3600;
    let cases = [
        ("nope", GRID.to_string(), "type:"),
        ("spot_grid", GRID.replace("\"gridCount\": 30", "\"gridCount\": 0"), "settings.gridCount"),
        ("spot_grid", GRID.replace("SIM_BTC_USDT_", "BINANCE_BTC_USDT_"), "settings.symbol"),
        ("spot_grid", GRID.replace("\"gridCount\": 30", "\"gridCount\": 30, \"foo\": 1"), "settings:"),
        ("spot_dollar_cost_averaging", DCA.replace("\"takeProfit\": 1", "\"takeProfit\": -1"), "settings.takeProfit"),
        ("spot_grid", GRID.replace("}", ", \"interval\": 15}"), "settings.interval"),
    ];
    for (script_type, settings, field) in cases {
        let error = rejected(world.start(script_type, &settings, BTC_1M_FIRST, end).await);
        match error {
            BusError::Invalid { message } => assert!(message.starts_with(field), "{field}: {message}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    let error = rejected(world.start("spot_grid", GRID, end, BTC_1M_FIRST).await);
    assert!(matches!(error, BusError::Invalid { ref message } if message.starts_with("endUnix")), "{error:?}");
    // Before any stored candle: no price history (partner code 1007).
    match world.start("spot_grid", GRID, 1_000, 2_000).await.unwrap() {
        StartBacktestReply::NoPriceHistory { message } => assert!(message.contains("SIM_BTC_USDT_"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_other_partners_backtests_are_not_found() {
    let world = World::new().await;
    let _executor = world.executor(workers()).await;
    let error = rejected(results(&world, BacktestId::new()).await);
    assert!(matches!(error, BusError::NotFound { .. }), "{error:?}");
    let id = world.start_ok("spot_grid", GRID).await;
    let stranger = bus::messages::backtest::BacktestRef { partner_id: PartnerId::new(), backtest_id: id };
    for result in [
        bus::request_raw(&world.client, &world.subjects.backtest_status(), &stranger, TIMEOUT).await,
        bus::request_raw(&world.client, &world.subjects.cancel_backtest(), &stranger, TIMEOUT).await,
    ] {
        assert!(matches!(rejected(result), BusError::NotFound { .. }));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backtest_cancelled_mid_run_stays_cancelled_and_has_no_results() {
    let world = World::new().await;
    let executor = world.paused_executor(WorkerSettings { chunk_size: 5_000, ..workers() }, 10).await;
    let id = world.start_ok("spot_grid", GRID).await;
    world.wait_for(id, "the run to execute", |s| s.state == "executing").await;
    // Paused mid-run: results are not there yet (partner code 1006).
    let error = rejected(results(&world, id).await);
    assert!(matches!(error, BusError::Conflict { .. }), "{error:?}");
    let cancelled: bool =
        bus::request(&world.client, &world.subjects.cancel_backtest(), &world.reference(id), TIMEOUT).await.unwrap();
    assert!(cancelled);
    executor.release.release();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = world.status(id).await;
    assert_eq!(status.state, "cancelled", "{status:?}");
    assert!(matches!(rejected(results(&world, id).await), BusError::Conflict { .. }));
    // Cancelling again is still `true`.
    let again: bool =
        bus::request(&world.client, &world.subjects.cancel_backtest(), &world.reference(id), TIMEOUT).await.unwrap();
    assert!(again);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_workers_job_is_taken_over_and_completes_once() {
    let world = World::new().await;
    // Worker A holds the job at 10 % (its lease timer renewing the 1 s lease), then dies.
    let mut dying = world
        .crashable_executor(
            WorkerSettings {
                workers: 1,
                chunk_size: 5_000,
                lease_secs: 1,
                poll_interval_ms: 200,
                ..WorkerSettings::default()
            },
            TestHooks { pause_at_progress: Some(10) },
        )
        .await;
    let id = world.start_ok("spot_grid", GRID).await;
    let first = world.wait_for(id, "worker A to run it", |s| s.state == "executing").await;
    assert!(first.service_id.starts_with(&dying.instance), "{first:?}");
    let (token, _) = world.lease_of(id).await;
    let token = token.unwrap();
    let healthy = world.executor(WorkerSettings { workers: 1, lease_secs: 1, ..workers() }).await;
    dying.crash();
    let done = world.wait_for(id, "worker B to finish it", |s| s.state == "completed").await;
    assert!(done.service_id.starts_with(&healthy.instance), "{done:?}");
    let before = results(&world, id).await.unwrap();
    // A's writes, had it lived on, are fenced out: they name a lease it no longer holds.
    let mut connection = world.db.connect().await;
    let late = backtest_executor::store::runs::checkpoint(&mut connection, id, token, "executing", 50, "late", 1.0);
    assert!(!late.await.unwrap());
    let after = world.status(id).await;
    assert_eq!((after.state.as_str(), after.service_id.as_str()), ("completed", done.service_id.as_str()));
    assert_eq!(results(&world, id).await.unwrap(), before);
    let _ = BTC_1M_CANDLES;
}
