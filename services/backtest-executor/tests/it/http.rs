//! The partner backtest routes end to end: gateway → executor over real NATS and Postgres.
//! The ledger's `authenticate` is an in-test responder (one partner key).

use crate::support::{BTC_1M_CANDLES, BTC_1M_FIRST, GRID, World};
use backtest_executor::settings::WorkerSettings;
use bus::BusError;
use bus::messages::ledger_auth::{Credential, Principal};
use gateway::GatewaySettings;
use platform::settings::HttpSettings;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const KEY: &str = "partner-key";

async fn gateway(world: &World, shutdown: &CancellationToken) -> String {
    let partner = world.partner;
    let client = world.client.clone();
    let endpoint = world.subjects.authenticate();
    let subject = endpoint.subject().to_string();
    tokio::spawn(bus::serve(client.clone(), endpoint, shutdown.clone(), move |credential: Credential| async move {
        match credential {
            Credential::Partner { key } if key == domain::api_key::KeyProof::of(KEY) => {
                Ok(Principal::Partner { partner_id: partner })
            }
            _ => Err(BusError::Forbidden { message: "Invalid API key".into() }),
        }
    }));
    test_support::eventually("the authenticate responder", Duration::from_secs(5), || {
        let (client, subject) = (client.clone(), subject.clone());
        async move { client.request(subject, "null".into()).await.ok().map(|_| ()) }
    })
    .await;
    let settings = GatewaySettings {
        http: HttpSettings { port: 0, workers: 1, ..HttpSettings::local(0) },
        nats: world.nats.settings(),
        ..Default::default()
    };
    let app = gateway::App::build(settings, shutdown.clone()).await.unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    base
}

async fn call(base: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = test_support::http_client();
    let mut request = match method {
        "GET" => client.get(format!("{base}{path}")),
        _ => client.post(format!("{base}{path}")),
    }
    .header("x-api-key", KEY);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_runs_a_backtest_through_the_gateway() {
    let world = World::new().await;
    let _executor = world.executor(WorkerSettings { poll_interval_ms: 200, ..WorkerSettings::default() }).await;
    let shutdown = CancellationToken::new();
    let base = gateway(&world, &shutdown).await;
    let settings: Value = serde_json::from_str(GRID).unwrap();
    let body = json!({"type": "spot_grid", "exchangeId": "SIM", "settings": settings,
        "startUnix": BTC_1M_FIRST, "endUnix": BTC_1M_FIRST + BTC_1M_CANDLES * 60});
    let (status, started) = call(&base, "POST", "/partner/v1/bots/backtest", Some(body.clone())).await;
    assert_eq!(status, 200, "{started}");
    let id = started["data"]["backtestId"].as_str().unwrap().to_string();

    // Too early is 1006 unless it already finished; then poll to completion.
    let done = test_support::eventually("completion", Duration::from_secs(120), || {
        let (base, id) = (base.clone(), id.clone());
        async move {
            let (_, status) = call(&base, "GET", &format!("/partner/v1/bots/backtest/{id}/status"), None).await;
            (status["data"]["state"] == "completed").then_some(status)
        }
    })
    .await;
    assert_eq!(done["data"]["progress"], 100);
    let (status, results) = call(&base, "GET", &format!("/partner/v1/bots/backtest/{id}/results"), None).await;
    assert_eq!(status, 200);
    assert_eq!(results["data"]["market"], "SIM:BTC-USDT");
    assert!(results["data"]["logs"].as_array().unwrap().len() <= 50);
    // `data` is the array (reference 003); with `limit`, one page (the next token is the
    // `X-Next-Page-Id` header, checked in the gateway's and the end-to-end tests).
    let (status, logs) = call(&base, "GET", &format!("/partner/v1/bots/backtest/{id}/logs?limit=10"), None).await;
    assert_eq!(status, 200);
    assert_eq!(logs["data"].as_array().unwrap().len(), 10);
    let (status, positions) =
        call(&base, "GET", &format!("/partner/v1/bots/backtest/{id}/positions?limit=5"), None).await;
    assert_eq!(status, 200);
    assert!(positions["data"][0]["eno"].is_array(), "{positions}");
    let svg = test_support::http_client()
        .get(format!("{base}/partner/v1/bots/backtest/{id}/equity.svg"))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<polyline"));
    let (status, cancelled) = call(&base, "POST", &format!("/partner/v1/bots/backtest/{id}/cancel"), None).await;
    assert_eq!((status, cancelled["data"].clone()), (200, json!(true)));
    let (_, after) = call(&base, "GET", &format!("/partner/v1/bots/backtest/{id}/status"), None).await;
    assert_eq!(after["data"]["state"], "completed", "a finished backtest stays as it is");

    // Errors in the envelope.
    let (status, error) = call(
        &base,
        "POST",
        "/partner/v1/bots/backtest",
        Some(json!({"type": "spot_grid", "settings": {"symbol": "SIM_BTC_USDT_"}, "startUnix": 1, "endUnix": 2})),
    )
    .await;
    assert_eq!((status, error["code"].clone()), (400, json!(1000)), "{error}");
    let mut early = body.clone();
    early["startUnix"] = json!(1000);
    early["endUnix"] = json!(2000);
    let (status, error) = call(&base, "POST", "/partner/v1/bots/backtest", Some(early)).await;
    assert_eq!((status, error["code"].clone()), (422, json!(1007)), "{error}");
    let (status, error) =
        call(&base, "GET", &format!("/partner/v1/bots/backtest/{}/results", uuid::Uuid::now_v7()), None).await;
    assert_eq!((status, error["code"].clone()), (404, json!(1009)));
    shutdown.cancel();
}
