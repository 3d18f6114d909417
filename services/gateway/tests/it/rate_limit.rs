//! Rate limits per key: a burst over the family's limit gets 429 with `Retry-After` in the
//! family's shape, other keys go on, and a refused request reaches no backend (not even the
//! ledger's key check). The ledger here is an in-test fake that counts what it is asked.

use bus::messages::ledger_auth::{Credential, Principal};
use domain::api_key::KeyProof;
use domain::{BotId, PartnerId};
use futures::StreamExt;
use gateway::settings::{RateLimit, RateLimits};
use gateway::{App, Settings};
use platform::settings::HttpSettings;
use reqwest::Method;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use test_support::TestNats;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use uuid::Uuid;

const ALPHA_KEY: &str = "alpha-key";
const BETA_KEY: &str = "beta-key";
const PARTNER_KEY: &str = "partner-key";

/// A gateway with the given limits, and what its fake ledger was asked.
pub struct Limited {
    addr: SocketAddr,
    nats: TestNats,
    shutdown: CancellationToken,
    /// `authenticate` requests the fake ledger got.
    authentications: Arc<AtomicUsize>,
    /// `GET /api/bots/{slug}` requests the fake ledger got.
    bot_configs: Arc<AtomicUsize>,
}

impl Drop for Limited {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Limits that a test's requests never meet, except where it lowers one.
pub fn generous() -> RateLimits {
    let limit = RateLimit { per_second: 10_000, burst: 10_000 };
    RateLimits { bot: limit, partner: limit, user: limit, ..RateLimits::default() }
}

impl Limited {
    /// Where the gateway listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A gateway with `limits` and no backend behind it.
    pub async fn gateway(limits: RateLimits) -> Self {
        test_support::init_logging();
        let nats = TestNats::new();
        let shutdown = CancellationToken::new();
        let mut settings = Settings {
            http: HttpSettings { port: 0, workers: 1, ..HttpSettings::local(0) },
            nats: nats.settings(),
            ..Default::default()
        };
        settings.gateway.rate_limits = limits;
        let app = App::build(settings).await.expect("the gateway starts");
        let addr = app.addr();
        tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self { addr, nats, shutdown, authentications: Arc::default(), bot_configs: Arc::default() }
    }

    /// A gateway with `limits` and a fake ledger: `ALPHA_KEY` is bot `alpha`'s, `BETA_KEY`
    /// bot `beta`'s, `PARTNER_KEY` a partner's; `GET /api/bots/{slug}` answers at once.
    async fn start(limits: RateLimits) -> Self {
        let setup = Self::gateway(limits).await;
        setup.fake_authenticate().await;
        setup.fake_bot_config().await;
        setup
    }

    async fn fake_authenticate(&self) {
        let client = self.nats.client().await;
        let endpoint = self.nats.subjects().authenticate();
        let subject = endpoint.subject().to_string();
        let counter = Arc::clone(&self.authentications);
        tokio::spawn(bus::serve(client.clone(), endpoint, self.shutdown.clone(), move |credential: Credential| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                match credential {
                    Credential::Bot { slug, key } if slug == "alpha" && key == KeyProof::of(ALPHA_KEY) => {
                        Ok(Principal::Bot { bot_id: BotId::from_uuid(Uuid::from_u128(1)), slug })
                    }
                    Credential::Bot { slug, key } if slug == "beta" && key == KeyProof::of(BETA_KEY) => {
                        Ok(Principal::Bot { bot_id: BotId::from_uuid(Uuid::from_u128(2)), slug })
                    }
                    Credential::Partner { key } if key == KeyProof::of(PARTNER_KEY) => {
                        Ok(Principal::Partner { partner_id: PartnerId::from_uuid(Uuid::from_u128(3)) })
                    }
                    _ => Err(bus::BusError::Forbidden { message: "Invalid API key".into() }),
                }
            }
        }));
        test_support::eventually("the fake authenticate", Duration::from_secs(5), || {
            let (client, subject) = (client.clone(), subject.clone());
            async move { client.request(subject, "null".into()).await.ok().map(|_| ()) }
        })
        .await;
    }

    /// The ledger's bot configuration, answered at once and counted.
    async fn fake_bot_config(&self) {
        let client = self.nats.client().await;
        let mut requests = client.subscribe(self.nats.subjects().bot_config().subject().to_string()).await.unwrap();
        // Once the server answers this flush, it has the subscription.
        client.flush().await.unwrap();
        let (counter, shutdown) = (Arc::clone(&self.bot_configs), self.shutdown.clone());
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    () = shutdown.cancelled() => return,
                    message = requests.next() => match message { Some(message) => message, None => return },
                };
                counter.fetch_add(1, Ordering::SeqCst);
                if let Some(reply) = message.reply {
                    let _ = client.publish(reply, r#"{"ok": {"success": true, "bot": {}}}"#.into()).await;
                }
            }
        });
    }

    /// Sends `method path` with `headers`; answers status, `Retry-After` and the JSON body.
    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
        let mut request = test_support::http_client().request(method, format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|value| value.to_str().unwrap().to_string());
        let body = response.bytes().await.unwrap();
        (status, retry_after, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Sends the same GET `times` times, one after the other; answers each reply.
    async fn burst(&self, times: usize, path: &str, headers: &[(&str, &str)]) -> Burst {
        let mut replies = Vec::new();
        for _ in 0..times {
            replies.push(self.send(Method::GET, path, headers).await);
        }
        Burst(replies)
    }
}

/// The replies to a burst: status, `Retry-After` and body of each.
struct Burst(Vec<(u16, Option<String>, Value)>);

impl Burst {
    fn statuses(&self) -> Vec<u16> {
        self.0.iter().map(|(status, _, _)| *status).collect()
    }

    fn count(&self, status: u16) -> usize {
        self.statuses().into_iter().filter(|got| *got == status).count()
    }

    /// Checks that the first `burst` replies are the route's own (`allowed`) and that the
    /// burst was refused: with one token a second, however slow the machine, most of the rest
    /// are 429 (a token may come back meanwhile, so one may pass). Answers the first 429.
    fn refused_after(&self, burst: usize, allowed: u16) -> (Option<String>, Value) {
        let statuses = self.statuses();
        assert!(statuses[..burst].iter().all(|status| *status == allowed), "{statuses:?}");
        assert!(statuses.iter().all(|status| [allowed, 429].contains(status)), "{statuses:?}");
        assert!(self.count(429) * 2 >= statuses.len() - burst, "{statuses:?}");
        let (_, retry_after, body) = self.0.iter().find(|(status, _, _)| *status == 429).unwrap().clone();
        (retry_after, body)
    }
}

fn with_bot(per_second: u32, burst: u32) -> RateLimits {
    RateLimits { bot: RateLimit { per_second, burst }, ..generous() }
}

/// The 429 example the OpenAPI document gives for `method path`.
fn documented_429(method: &str, path: &str) -> Value {
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    document["paths"][path][method]["responses"]["429"]["content"]["application/json"]["example"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_over_the_limit_gets_429_while_another_key_gets_200() {
    let setup = Limited::start(with_bot(1, 3)).await;
    let burst = setup.burst(10, "/api/bots/alpha", &[("x-api-key", ALPHA_KEY)]).await;
    let (retry_after, body) = burst.refused_after(3, 200);
    assert_eq!(body, json!({"error": "Too many requests", "code": "RATE_LIMITED"}));
    assert_eq!(body, documented_429("get", "/api/bots/{slug}"));
    assert_eq!(retry_after.as_deref(), Some("1"), "one token a second: retry within a second");

    // Another bot's key has its own bucket.
    let (status, _, body) = setup.send(Method::GET, "/api/bots/beta", &[("x-api-key", BETA_KEY)]).await;
    assert_eq!((status, body), (200, json!({"success": true, "bot": {}})));

    // Only what was let through reached the ledger.
    assert_eq!(setup.bot_configs.load(Ordering::SeqCst), burst.count(200) + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_limit_applies_before_the_ledger_checks_the_key() {
    let setup = Limited::start(with_bot(1, 2)).await;
    let burst = setup.burst(8, "/api/bots/alpha", &[("x-api-key", "not-a-key")]).await;
    burst.refused_after(2, 403);
    // An unknown key is never cached: each 403 asked the ledger, no 429 did.
    assert_eq!(setup.authentications.load(Ordering::SeqCst), burst.count(403));
    assert_eq!(setup.bot_configs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_key_the_bucket_is_the_client_address() {
    let setup = Limited::start(with_bot(1, 2)).await;
    setup.burst(6, "/api/bots/alpha", &[]).await.refused_after(2, 401);
    // A key draws from its own bucket, not the address's.
    let (status, _, _) = setup.send(Method::GET, "/api/bots/alpha", &[("x-api-key", ALPHA_KEY)]).await;
    assert_eq!(status, 200);
    assert_eq!(setup.authentications.load(Ordering::SeqCst), 1, "401s never ask the ledger");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_partner_api_answers_429_in_its_envelope() {
    let limits = RateLimits { partner: RateLimit { per_second: 1, burst: 2 }, ..generous() };
    let setup = Limited::start(limits).await;
    let path = format!("/partner/v1/bots/backtest/{}/status", Uuid::now_v7());
    let burst = setup.burst(6, &path, &[("x-api-key", "not-a-partner-key")]).await;
    let (retry_after, body) = burst.refused_after(2, 401);
    assert!(retry_after.is_some());
    assert_eq!(body, json!({"isSuccess": false, "code": 1429, "message": "Too many requests", "data": null}));
    assert_eq!(body, documented_429("get", "/partner/v1/bots/backtest/{id}/status"));
    // The Bot API's limit is another bucket.
    let (status, _, _) = setup.send(Method::GET, "/api/bots/alpha", &[("x-api-key", ALPHA_KEY)]).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_user_family_answers_429_in_its_shape_and_probes_are_never_limited() {
    let limits = RateLimits { user: RateLimit { per_second: 1, burst: 2 }, ..generous() };
    let setup = Limited::gateway(limits).await;
    let (retry_after, body) = setup.burst(6, "/openapi.json", &[]).await.refused_after(2, 200);
    assert!(retry_after.is_some());
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(body, documented_429("get", "/openapi.json"));
    // A user token has its own bucket.
    let (status, _, _) = setup.send(Method::GET, "/openapi.json", &[("authorization", "Bearer t")]).await;
    assert_eq!(status, 200);
    for probe in ["/health", "/ready"] {
        assert_eq!(setup.burst(10, probe, &[]).await.statuses(), vec![200; 10], "{probe}");
    }
}
