//! Partner backtest routes: authentication, body checks, the envelope and the mapping of the
//! executor's answers to codes. The ledger's `authenticate` and the executor's subjects are
//! tiny in-test responders here (the real executor is exercised from its own tests).

use crate::support::Gateway;
use bus::messages::backtest::{
    BacktestEquity, BacktestPage, BacktestRef, BacktestResults, BacktestStarted, BacktestStatus, EquitySample,
    GetBacktestLogs, StartBacktest, StartBacktestReply,
};
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::ledger_auth::{Credential, Principal};
use bus::{BusError, Endpoint};
use domain::{BacktestId, PartnerId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub(crate) const KEY: &str = "partner-key";

struct Fakes {
    shutdown: CancellationToken,
}

impl Drop for Fakes {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) async fn serve<Req, Resp, H, Fut>(
    gateway: &Gateway,
    shutdown: &CancellationToken,
    endpoint: Endpoint<Req, Resp>,
    handler: H,
) where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    H: Fn(Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, BusError>> + Send + 'static,
{
    let client = gateway.nats.client().await;
    let subject = endpoint.subject().to_string();
    tokio::spawn(bus::serve(client.clone(), endpoint, shutdown.clone(), handler));
    test_support::eventually("a fake responder", Duration::from_secs(5), || {
        let (client, subject) = (client.clone(), subject.clone());
        async move { client.request(subject, "null".into()).await.ok().map(|_| ()) }
    })
    .await;
}

pub(crate) fn partner() -> PartnerId {
    PartnerId::from_uuid(Uuid::from_u128(7))
}

/// The ledger's authenticate: `KEY` is the partner's.
pub(crate) async fn fake_ledger(gateway: &Gateway, shutdown: &CancellationToken) {
    serve(gateway, shutdown, gateway.nats.subjects().authenticate(), |credential: Credential| async move {
        match credential {
            Credential::Partner { key } if key == domain::api_key::KeyProof::of(KEY) => {
                Ok(Principal::Partner { partner_id: partner() })
            }
            _ => Err(BusError::Forbidden { message: "Invalid API key".into() }),
        }
    })
    .await;
}

/// An executor that knows one completed backtest (`done`) and one still running (`running`).
async fn fakes(gateway: &Gateway, done: BacktestId, running: BacktestId) -> Fakes {
    let shutdown = CancellationToken::new();
    fake_ledger(gateway, &shutdown).await;
    let subjects = gateway.nats.subjects();
    let known = move |reference: &BacktestRef| -> Result<bool, BusError> {
        if reference.partner_id != partner() || (reference.backtest_id != done && reference.backtest_id != running) {
            return Err(BusError::not_found(format!("Backtest '{}' not found", reference.backtest_id)));
        }
        Ok(reference.backtest_id == done)
    };
    serve(gateway, &shutdown, subjects.start_backtest(), move |command: Command<StartBacktest>| async move {
        let request = command.command;
        if request.start_unix < 100 {
            let message = "No price history for SIM_BTC_USDT_".into();
            return Ok(Replayable::Fresh(StartBacktestReply::NoPriceHistory { message }));
        }
        if request.script_type != "spot_grid" {
            return Err(BusError::invalid("type: must be one of spot_grid, ..."));
        }
        Ok(Replayable::Fresh(StartBacktestReply::Started(BacktestStarted {
            backtest_id: done,
            service_id: "backtest-executor-1".into(),
            message: "Backtest started successfully.".into(),
        })))
    })
    .await;
    serve(gateway, &shutdown, subjects.backtest_status(), move |reference: BacktestRef| async move {
        let completed = known(&reference)?;
        Ok(BacktestStatus {
            backtest_id: reference.backtest_id,
            state: if completed { "completed" } else { "executing" }.into(),
            progress: if completed { 100 } else { 40 },
            message: String::new(),
            service_id: "backtest-executor-1/w0".into(),
        })
    })
    .await;
    serve(gateway, &shutdown, subjects.backtest_results(), move |reference: BacktestRef| async move {
        if !known(&reference)? {
            return Err(BusError::Conflict { message: "Backtest is not completed (state: executing)".into() });
        }
        Ok(BacktestResults(
            RawValue::from_string(r#"{"market":"SIM:BTC-USDT","summary":{"roi":1.50}}"#.into()).unwrap(),
        ))
    })
    .await;
    serve(gateway, &shutdown, subjects.backtest_logs(), move |request: GetBacktestLogs| async move {
        let reference = BacktestRef { partner_id: request.partner_id, backtest_id: request.backtest_id };
        known(&reference)?;
        let items = RawValue::from_string(format!(r#"[{{"lineNumber":0,"limit":{}}}]"#, request.limit)).unwrap();
        Ok(BacktestPage { items, next_page_id: None })
    })
    .await;
    serve(gateway, &shutdown, subjects.cancel_backtest(), move |reference: BacktestRef| async move {
        known(&reference).map(|_| true)
    })
    .await;
    serve(gateway, &shutdown, subjects.backtest_equity(), move |reference: BacktestRef| async move {
        known(&reference)?;
        Ok(BacktestEquity {
            backtest_id: reference.backtest_id,
            market: "SIM:BTC-USDT".into(),
            points: vec![EquitySample {
                time: 0,
                equity: rust_decimal::Decimal::from(10_000),
                drawdown: rust_decimal::Decimal::ZERO,
            }],
        })
    })
    .await;
    Fakes { shutdown }
}

async fn call(gateway: &Gateway, method: &str, path: &str, key: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let client = test_support::http_client();
    let mut request = match method {
        "GET" => client.get(gateway.url(path)),
        _ => client.post(gateway.url(path)),
    };
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

const BODY: &str = r#"{"type": "spot_grid", "exchangeId": "SIM", "settings": {"symbol": "SIM_BTC_USDT_"},
    "startUnix": 1689677460, "endUnix": 1689763860}"#;

#[tokio::test(flavor = "multi_thread")]
async fn backtest_routes_answer_in_the_envelope_with_their_codes() {
    let gateway = Gateway::start().await;
    let (done, running) = (BacktestId::new(), BacktestId::new());
    let _fakes = fakes(&gateway, done, running).await;

    let (status, body) = call(&gateway, "POST", "/partner/v1/bots/backtest", Some(KEY), Some(BODY)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["isSuccess"], true);
    assert_eq!(body["code"], 0);
    assert_eq!(body["data"]["backtestId"], done.to_string());
    assert_eq!(body["data"]["serviceId"], "backtest-executor-1");

    let invalid_type = BODY.replace("spot_grid", "nope");
    let (status, body) = call(&gateway, "POST", "/partner/v1/bots/backtest", Some(KEY), Some(&invalid_type)).await;
    assert_eq!((status, body["code"].clone()), (400, json!(1000)), "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("type"));
    let (status, body) =
        call(&gateway, "POST", "/partner/v1/bots/backtest", Some(KEY), Some(r#"{"type": "spot_grid", "x": 1}"#)).await;
    assert_eq!((status, body["message"].clone()), (400, json!("Unknown field 'x'")));
    let no_history = BODY.replace("1689677460", "1");
    let (status, body) = call(&gateway, "POST", "/partner/v1/bots/backtest", Some(KEY), Some(&no_history)).await;
    assert_eq!((status, body["code"].clone()), (422, json!(1007)), "{body}");

    let path = |id: BacktestId, what: &str| format!("/partner/v1/bots/backtest/{id}/{what}");
    let (status, body) = call(&gateway, "GET", &path(running, "status"), Some(KEY), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["progress"], 40);
    let results = test_support::http_client()
        .get(gateway.url(&path(done, "results")))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(results.status(), 200);
    let text = results.text().await.unwrap();
    assert!(text.contains(r#""roi":1.50"#), "numbers are forwarded byte for byte: {text}");
    assert!(text.starts_with(r#"{"isSuccess":true,"code":0,"message":"","data":"#), "{text}");
    let (status, body) = call(&gateway, "GET", &path(running, "results"), Some(KEY), None).await;
    assert_eq!((status, body["code"].clone()), (409, json!(1006)));
    let (status, body) = call(&gateway, "GET", &format!("{}?limit=10000", path(done, "logs")), Some(KEY), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["limit"], 10_000, "data is the array: {body}");
    let (status, body) = call(&gateway, "GET", &format!("{}?limit=0", path(done, "logs")), Some(KEY), None).await;
    assert_eq!((status, body["code"].clone()), (400, json!(1000)));
    let (status, body) = call(&gateway, "POST", &path(running, "cancel"), Some(KEY), None).await;
    assert_eq!((status, body["data"].clone()), (200, json!(true)));
    let (status, body) = call(&gateway, "GET", &path(BacktestId::new(), "status"), Some(KEY), None).await;
    assert_eq!((status, body["code"].clone()), (404, json!(1009)));
    let (status, body) = call(&gateway, "GET", "/partner/v1/bots/backtest/not-a-uuid/results", Some(KEY), None).await;
    assert_eq!((status, body["code"].clone()), (404, json!(1009)));

    let svg = test_support::http_client()
        .get(gateway.url(&path(done, "equity.svg")))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<svg"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_or_unknown_partner_key_is_401_code_1401() {
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    let path = format!("/partner/v1/bots/backtest/{}/status", BacktestId::new());
    for key in [None, Some("wrong")] {
        let (status, body) = call(&gateway, "GET", &path, key, None).await;
        assert_eq!(
            (status, body["code"].clone(), body["isSuccess"].clone()),
            (401, json!(1401), json!(false)),
            "{body}"
        );
        let (status, body) = call(&gateway, "POST", "/partner/v1/bots/backtest", key, Some(BODY)).await;
        assert_eq!((status, body["code"].clone()), (401, json!(1401)));
    }
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn no_executor_running_is_503_code_9503_at_once() {
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    let (status, body) = call(&gateway, "POST", "/partner/v1/bots/backtest", Some(KEY), Some(BODY)).await;
    assert_eq!((status, body["code"].clone()), (503, json!(9503)), "{body}");
    let (status, body) =
        call(&gateway, "GET", &format!("/partner/v1/bots/backtest/{}/logs", BacktestId::new()), Some(KEY), None).await;
    assert_eq!((status, body["code"].clone()), (503, json!(9503)), "{body}");
    shutdown.cancel();
}
