//! Every partner backtest route through the gateway on the whole 1-minute BTC series: start,
//! status, results, a page of logs and of positions, the equity curve as SVG, cancel after
//! completion, and the errors in the envelope. (It lived in the backtest-executor's tests with a
//! gateway and an in-test `authenticate` responder; here the ledger authenticates the partner.)

use crate::partner::call;
use crate::system::System;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

/// First open time of `BTC_USDT-1m.csv` and its number of candles.
const BTC_1M_FIRST: i64 = 1_689_677_460;
const BTC_1M_CANDLES: i64 = 46_001;

const GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
    "investmentAsset": "Quote", "investmentAmount": 9900}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_runs_a_backtest_through_the_gateway() {
    let system = System::start().await.expect("the system starts");
    let partner = system.admin(AdminCommand::CreatePartner { name: "Backtest Partner".into() }).await;
    let key = partner["apiKey"].as_str().unwrap().to_string();
    let candles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata/BTC_USDT-1m.csv");
    let report = system.import_candles("SIM_BTC_USDT_", "1m", &candles).await;
    assert_eq!(report["inserted"], BTC_1M_CANDLES, "{report}");
    // The executor's responders subscribe in the background.
    test_support::eventually("the executor answers", Duration::from_secs(10), || async {
        let path = format!("/partner/v1/bots/backtest/{}/status", uuid::Uuid::now_v7());
        (call(&system, &key, "GET", &path, None).await.0 == 404).then_some(())
    })
    .await;

    let settings: Value = serde_json::from_str(GRID).unwrap();
    let body = json!({"type": "spot_grid", "exchangeId": "SIM", "settings": settings,
        "startUnix": BTC_1M_FIRST, "endUnix": BTC_1M_FIRST + BTC_1M_CANDLES * 60});
    let (status, started) = call(&system, &key, "POST", "/partner/v1/bots/backtest", Some(body.clone())).await;
    assert_eq!(status, 200, "{started}");
    let id = started["data"]["backtestId"].as_str().unwrap().to_string();

    // Too early is 1006 unless it already finished; then poll to completion.
    let done = test_support::eventually("completion", Duration::from_secs(120), || async {
        let (_, status) = call(&system, &key, "GET", &format!("/partner/v1/bots/backtest/{id}/status"), None).await;
        (status["data"]["state"] == "completed").then_some(status)
    })
    .await;
    assert_eq!(done["data"]["progress"], 100);
    let (status, results) = call(&system, &key, "GET", &format!("/partner/v1/bots/backtest/{id}/results"), None).await;
    assert_eq!(status, 200);
    assert_eq!(results["data"]["market"], "SIM:BTC-USDT");
    assert!(results["data"]["logs"].as_array().unwrap().len() <= 50);
    // `data` is the array (reference 003); with `limit`, one page (the next token is the
    // `X-Next-Page-Id` header, checked in the gateway's and the other end-to-end tests).
    let (status, logs) =
        call(&system, &key, "GET", &format!("/partner/v1/bots/backtest/{id}/logs?limit=10"), None).await;
    assert_eq!(status, 200);
    assert_eq!(logs["data"].as_array().unwrap().len(), 10);
    let (status, positions) =
        call(&system, &key, "GET", &format!("/partner/v1/bots/backtest/{id}/positions?limit=5"), None).await;
    assert_eq!(status, 200);
    assert!(positions["data"][0]["eno"].is_array(), "{positions}");
    let svg = test_support::http_client()
        .get(system.url(&format!("/partner/v1/bots/backtest/{id}/equity.svg")))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<polyline"));
    let (status, cancelled) =
        call(&system, &key, "POST", &format!("/partner/v1/bots/backtest/{id}/cancel"), None).await;
    assert_eq!((status, cancelled["data"].clone()), (200, json!(true)));
    let (_, after) = call(&system, &key, "GET", &format!("/partner/v1/bots/backtest/{id}/status"), None).await;
    assert_eq!(after["data"]["state"], "completed", "a finished backtest stays as it is");

    // Errors in the envelope.
    let (status, error) = call(
        &system,
        &key,
        "POST",
        "/partner/v1/bots/backtest",
        Some(json!({"type": "spot_grid", "settings": {"symbol": "SIM_BTC_USDT_"}, "startUnix": 1, "endUnix": 2})),
    )
    .await;
    assert_eq!((status, error["code"].clone()), (400, json!(1000)), "{error}");
    let mut early = body.clone();
    early["startUnix"] = json!(1000);
    early["endUnix"] = json!(2000);
    let (status, error) = call(&system, &key, "POST", "/partner/v1/bots/backtest", Some(early)).await;
    assert_eq!((status, error["code"].clone()), (422, json!(1007)), "{error}");
    let (status, error) =
        call(&system, &key, "GET", &format!("/partner/v1/bots/backtest/{}/results", uuid::Uuid::now_v7()), None).await;
    assert_eq!((status, error["code"].clone()), (404, json!(1009)));
}
