//! A backend that took a request but answered too late gives 504 in the family's shape; nobody
//! to take it stays 503. The backends here are in-test fakes on the gateway's prefix: the
//! ledger's `authenticate` answers at once, and the slow ones take the request, note its
//! `Tb-Deadline` header and reply only after the gateway has given up.

use bus::deadline::{DEADLINE_HEADER, commit_margin};
use bus::messages::ledger_auth::{Credential, Principal};
use domain::api_key::KeyProof;
use domain::{BotId, PartnerId};
use futures::StreamExt;
use gateway::{App, Settings};
use platform::settings::HttpSettings;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use test_support::TestNats;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use uuid::Uuid;

const BOT_KEY: &str = "bot-key";
const PARTNER_KEY: &str = "partner-key";
/// The gateway's backend timeout in these tests: short, so that they wait little.
const TIMEOUT: Duration = Duration::from_millis(500);

const TRADE: &str = r#"{"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"}"#;
const BACKTEST: &str = r#"{"type": "spot_grid", "exchangeId": "SIM", "settings": {"symbol": "SIM_BTC_USDT_"},
    "startUnix": 1689677460, "endUnix": 1689763860}"#;

/// A gateway with [`TIMEOUT`] as its backend timeout, and the fakes' shutdown.
struct Setup {
    addr: SocketAddr,
    nats: TestNats,
    shutdown: CancellationToken,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Setup {
    /// The gateway with a fast `authenticate` behind it.
    async fn start() -> Self {
        let setup = Self::gateway().await;
        setup.fake_authenticate().await;
        setup
    }

    /// The gateway alone.
    async fn gateway() -> Self {
        test_support::init_logging();
        let nats = TestNats::new();
        let shutdown = CancellationToken::new();
        let mut settings = Settings {
            http: HttpSettings { port: 0, workers: 1, ..HttpSettings::local(0) },
            nats: nats.settings(),
            ..Default::default()
        };
        settings.gateway.backend_timeout_ms = u64::try_from(TIMEOUT.as_millis()).unwrap();
        let app = App::build(settings).await.expect("the gateway starts");
        let addr = app.addr();
        tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self { addr, nats, shutdown }
    }

    /// The ledger's `authenticate`, answering at once: `BOT_KEY` is bot `alpha`'s,
    /// `PARTNER_KEY` a partner's.
    async fn fake_authenticate(&self) {
        let client = self.nats.client().await;
        let endpoint = self.nats.subjects().authenticate();
        let subject = endpoint.subject().to_string();
        tokio::spawn(bus::serve(
            client.clone(),
            endpoint,
            self.shutdown.clone(),
            |credential: Credential| async move {
                match credential {
                    Credential::Bot { slug, key } if slug == "alpha" && key == KeyProof::of(BOT_KEY) => {
                        Ok(Principal::Bot { bot_id: BotId::from_uuid(Uuid::from_u128(1)), slug })
                    }
                    Credential::Partner { key } if key == KeyProof::of(PARTNER_KEY) => {
                        Ok(Principal::Partner { partner_id: PartnerId::from_uuid(Uuid::from_u128(2)) })
                    }
                    _ => Err(bus::BusError::Forbidden { message: "Invalid API key".into() }),
                }
            },
        ));
        test_support::eventually("the fake authenticate", Duration::from_secs(5), || {
            let (client, subject) = (client.clone(), subject.clone());
            async move { client.request(subject, "null".into()).await.ok().map(|_| ()) }
        })
        .await;
    }

    /// A backend on `subject` that takes each request, records its `Tb-Deadline` header, and
    /// answers well after the gateway's timeout.
    async fn slow_backend(&self, subject: &str) -> Arc<Mutex<Vec<Option<String>>>> {
        let client = self.nats.client().await;
        let mut requests = client.subscribe(subject.to_string()).await.unwrap();
        // Once this round trip is back, the server has the subscription.
        test_support::sync(&client).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::clone(&seen);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    () = shutdown.cancelled() => return,
                    message = requests.next() => match message { Some(message) => message, None => return },
                };
                let deadline = message.headers.as_ref().and_then(|headers| headers.get(DEADLINE_HEADER));
                recorder.lock().unwrap().push(deadline.map(|value| value.as_str().to_string()));
                let client = client.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(TIMEOUT * 3).await;
                    if let Some(reply) = message.reply {
                        let _ = client.publish(reply, r#"{"ok": {"late": true}}"#.into()).await;
                    }
                });
            }
        });
        seen
    }

    async fn send(&self, method: reqwest::Method, path: &str, key: &str, body: Option<&str>) -> (u16, Value) {
        let mut request =
            test_support::http_client().request(method, format!("http://{}{path}", self.addr)).header("x-api-key", key);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

fn now_ms() -> u64 {
    u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

/// The deadline the backend saw lies between "sent, plus the timeout less its margin" and the
/// moment the client got its 504.
fn assert_deadline_in(seen: &[Option<String>], sent_ms: u64, answered_ms: u64) {
    let [Some(deadline)] = seen else { panic!("one request with a {DEADLINE_HEADER} header: {seen:?}") };
    let deadline: u64 = deadline.parse().unwrap();
    let earliest = sent_ms + u64::try_from((TIMEOUT - commit_margin(TIMEOUT)).as_millis()).unwrap();
    assert!((earliest..=answered_ms).contains(&deadline), "{earliest} <= {deadline} <= {answered_ms}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_api_backend_that_answers_too_late_is_a_504_and_a_missing_one_a_503() {
    let setup = Setup::start().await;
    let seen = setup.slow_backend(setup.nats.subjects().create_trade().subject()).await;

    let sent = now_ms();
    let (status, body) = setup.send(reqwest::Method::POST, "/api/bots/alpha/trades", BOT_KEY, Some(TRADE)).await;
    let answered = now_ms();
    assert_eq!(status, 504, "{body}");
    assert_eq!(
        body,
        json!({"error": "Request timed out; retry with the same Idempotency-Key", "code": "GATEWAY_TIMEOUT"})
    );
    assert_deadline_in(&seen.lock().unwrap(), sent, answered);

    // Nobody serves the bot's configuration: nothing took the request.
    let (status, body) = setup.send(reqwest::Method::GET, "/api/bots/alpha", BOT_KEY, None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, json!({"error": "Service temporarily unavailable", "code": "SERVICE_UNAVAILABLE"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_api_backend_that_answers_too_late_is_a_504_and_a_missing_one_a_503() {
    let setup = Setup::start().await;
    let seen = setup.slow_backend(setup.nats.subjects().start_backtest().subject()).await;

    let sent = now_ms();
    let (status, body) =
        setup.send(reqwest::Method::POST, "/partner/v1/bots/backtest", PARTNER_KEY, Some(BACKTEST)).await;
    let answered = now_ms();
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["isSuccess"], false);
    assert_eq!(body["code"], 9504);
    assert!(body["data"].is_null());
    assert!(body["message"].as_str().unwrap().contains("Idempotency-Key"), "{body}");
    assert_deadline_in(&seen.lock().unwrap(), sent, answered);

    let status_path = format!("/partner/v1/bots/backtest/{}/status", Uuid::now_v7());
    let (status, body) = setup.send(reqwest::Method::GET, &status_path, PARTNER_KEY, None).await;
    assert_eq!((status, body["code"].clone()), (503, json!(9503)), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_authentication_is_a_504_too() {
    let setup = Setup::gateway().await;
    let seen = setup.slow_backend(setup.nats.subjects().authenticate().subject()).await;
    let (status, body) = setup.send(reqwest::Method::GET, "/api/bots/alpha", BOT_KEY, None).await;
    assert_eq!((status, body["code"].clone()), (504, json!("GATEWAY_TIMEOUT")), "{body}");
    let status_path = format!("/partner/v1/bots/backtest/{}/status", Uuid::now_v7());
    let (status, body) = setup.send(reqwest::Method::GET, &status_path, PARTNER_KEY, None).await;
    assert_eq!((status, body["code"].clone()), (504, json!(9504)), "{body}");
    assert_eq!(seen.lock().unwrap().len(), 2, "both requests reached the slow ledger");
}

#[test]
fn every_bot_and_partner_route_documents_its_504_with_the_body() {
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let expected_code = if path.starts_with("/api/bots") {
            json!("GATEWAY_TIMEOUT")
        } else if path.starts_with("/partner/v1") {
            json!(9504)
        } else {
            continue;
        };
        for (method, operation) in item.as_object().unwrap() {
            let response = &operation["responses"]["504"];
            let example = &response["content"]["application/json"]["example"];
            assert_eq!(example["code"], expected_code, "{method} {path}: {response}");
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} operations checked");
}
