//! The Tradier client against `tradier-sim`: the fixtures, every error mapping, the rate
//! limit waits, and that no log line or error carries the token.

use super::*;
use crate::broker::{OrderStatus, SimBroker};
use domain::Secret;
use rust_decimal::{Decimal, dec};
use std::sync::{Arc, Mutex};
use tradier_sim::{Fixture, HeldOrder, SimStatus, Step, TradierSim};

const ACCOUNT: &str = "VA000001";
const TOKEN: &str = "tradier-secret-token-0123456789";

async fn sim() -> TradierSim {
    TradierSim::start("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client_for(live: &TradierSim, sandbox: &TradierSim, timeout: Duration) -> TradierClient {
    TradierClient::new(TradierConfig {
        live_base_url: live.base_url(),
        sandbox_base_url: sandbox.base_url(),
        request_timeout: timeout,
    })
    .unwrap()
}

fn client(sim: &TradierSim) -> TradierClient {
    client_for(sim, sim, Duration::from_secs(5))
}

fn token(environment: TradierEnvironment) -> BrokerToken {
    BrokerToken { token: Secret::new(TOKEN), environment }
}

async fn fetch(client: &TradierClient, order_id: &str) -> Result<BrokerOrder, BrokerError> {
    let order = OrderRef { account_number: ACCOUNT, order_id };
    client.fetch_order(Some(&token(TradierEnvironment::Live)), order).await
}

async fn fetch_fixture(sim: &TradierSim, fixture: Fixture) -> BrokerOrder {
    sim.hold(ACCOUNT, "1", HeldOrder::Fixture { fixture });
    fetch(&client(sim), "1").await.unwrap()
}

#[tokio::test]
async fn the_equity_fixture_parses() {
    let sim = sim().await;
    let order = fetch_fixture(&sim, Fixture::Equity).await;
    assert_eq!(order.id, "228175");
    assert_eq!(order.status, OrderStatus::Expired);
    assert_eq!(order.broker_status, "expired");
    assert_eq!(order.symbol.as_deref(), Some("AAPL"));
    assert_eq!(order.side.as_deref(), Some("buy"));
    assert_eq!(order.quantity, dec!(50));
    assert_eq!(order.filled_quantity, Decimal::ZERO);
    assert_eq!(order.avg_fill_price, None);
    assert!(order.legs.is_empty());
    assert_eq!(order.raw["class"], "equity");
    assert_eq!(order.raw["price"], 22.0);
}

#[tokio::test]
async fn the_option_fixture_parses() {
    let sim = sim().await;
    let order = fetch_fixture(&sim, Fixture::Option).await;
    assert_eq!(order.id, "228749");
    assert_eq!(order.status, OrderStatus::Expired);
    assert_eq!(order.symbol.as_deref(), Some("SPY"));
    assert_eq!(order.side.as_deref(), Some("buy_to_open"));
    assert_eq!(order.quantity, dec!(1));
    assert_eq!(order.raw["option_symbol"], "SPY180720C00274000");
    assert!(order.legs.is_empty());
}

#[tokio::test]
async fn the_combo_fixture_parses_with_its_legs() {
    let sim = sim().await;
    let order = fetch_fixture(&sim, Fixture::Combo).await;
    assert_eq!(order.id, "229063");
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.broker_status, "canceled");
    assert_eq!(order.quantity, dec!(1));
    let legs: Vec<(&str, &str, Decimal, OrderStatus)> = order
        .legs
        .iter()
        .map(|leg| (leg.id.as_str(), leg.side.as_deref().unwrap(), leg.quantity, leg.status))
        .collect();
    assert_eq!(
        legs,
        vec![
            ("229064", "buy", dec!(100), OrderStatus::Cancelled),
            ("229065", "sell_to_close", dec!(1), OrderStatus::Cancelled)
        ]
    );
    assert_eq!(order.legs[1].raw["option_symbol"], "SPY180720C00274000");
}

#[tokio::test]
async fn the_multileg_fixture_parses_with_its_legs() {
    let sim = sim().await;
    let order = fetch_fixture(&sim, Fixture::Multileg).await;
    assert_eq!(order.id, "229123");
    assert_eq!(order.status, OrderStatus::Expired);
    assert_eq!(order.raw["strategy"], "condor");
    assert_eq!(order.legs.len(), 4);
    let ids: Vec<&str> = order.legs.iter().map(|leg| leg.id.as_str()).collect();
    assert_eq!(ids, ["229124", "229125", "229126", "229127"]);
    let sides: Vec<&str> = order.legs.iter().filter_map(|leg| leg.side.as_deref()).collect();
    assert_eq!(sides, ["buy_to_open", "sell_to_open", "sell_to_open", "buy_to_open"]);
    assert!(order.legs.iter().all(|leg| leg.status == OrderStatus::Expired && leg.quantity == dec!(1)));
}

#[tokio::test]
async fn the_simulators_default_order_is_the_sim_brokers_order() {
    let sim = sim().await;
    let fetched = fetch(&client(&sim), "1234567").await.unwrap();
    let simulated = SimBroker::order("1234567");
    assert_eq!(fetched.status, OrderStatus::Filled);
    assert_eq!(
        (&fetched.id, &fetched.symbol, fetched.quantity, fetched.filled_quantity, fetched.avg_fill_price),
        (&simulated.id, &simulated.symbol, simulated.quantity, simulated.filled_quantity, simulated.avg_fill_price)
    );
}

#[tokio::test]
async fn held_states_and_exact_decimals_come_through() {
    let sim = sim().await;
    sim.hold(
        ACCOUNT,
        "7",
        HeldOrder::Status {
            status: SimStatus::PartiallyFilled,
            quantity: Some(dec!(10)),
            exec_quantity: Some(dec!(3)),
            avg_fill_price: Some(dec!(0.1)),
        },
    );
    let order = fetch(&client(&sim), "7").await.unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
    assert_eq!((order.quantity, order.filled_quantity), (dec!(10), dec!(3)));
    assert_eq!(order.avg_fill_price, Some(dec!(0.1)));
    assert_eq!(order.avg_fill_price.unwrap().to_string(), "0.10");

    let body = r#"{"order":{"id":8,"status":"pending","quantity":"2.5","exec_quantity":"null","leg":
        {"id":9,"status":"pending","quantity":2.5,"side":"buy_to_open"}}}"#;
    sim.hold(ACCOUNT, "8", HeldOrder::Raw { body: body.into() });
    let order = fetch(&client(&sim), "8").await.unwrap();
    assert_eq!(order.status, OrderStatus::Open);
    assert_eq!(order.broker_status, "pending");
    assert_eq!(order.quantity, dec!(2.5));
    assert_eq!(order.legs.len(), 1, "a single leg object is a list of one");
}

#[tokio::test]
async fn a_429_is_rate_limited_until_the_expiry_header() {
    let sim = sim().await;
    sim.script(ACCOUNT, "1", vec![Step::RateLimited { reset_in_ms: 1_500 }]);
    let error = fetch(&client(&sim), "1").await.unwrap_err();
    let retry_after = error.retry_after().unwrap();
    assert!(retry_after > Duration::from_millis(1_000) && retry_after <= Duration::from_millis(1_500), "{error:?}");
    assert!(error.is_retryable());
    assert!(fetch(&client(&sim), "1").await.is_ok());
}

#[tokio::test]
async fn server_errors_are_retryable_server_errors() {
    let sim = sim().await;
    sim.script(ACCOUNT, "1", vec![Step::ServerError { status: 500 }, Step::ServerError { status: 503 }]);
    let client = client(&sim);
    assert_eq!(fetch(&client, "1").await, Err(BrokerError::Server { status: 500 }));
    assert_eq!(fetch(&client, "1").await, Err(BrokerError::Server { status: 503 }));
    assert!(fetch(&client, "1").await.is_ok());
}

#[tokio::test]
async fn a_reset_connection_is_a_transport_error() {
    let sim = sim().await;
    sim.script(ACCOUNT, "1", vec![Step::Reset]);
    let client = client(&sim);
    let error = fetch(&client, "1").await.unwrap_err();
    assert!(matches!(&error, BrokerError::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert!(!error.to_string().contains(ACCOUNT), "no URL in the message: {error}");
    assert!(fetch(&client, "1").await.is_ok());
}

#[tokio::test]
async fn a_held_request_times_out() {
    let sim = sim().await;
    sim.script(ACCOUNT, "1", vec![Step::Timeout]);
    let client = client_for(&sim, &sim, Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(fetch(&client, "1").await, Err(BrokerError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(fetch(&client, "1").await.is_ok());
}

#[tokio::test]
async fn an_order_not_visible_yet_is_found_later() {
    let sim = sim().await;
    sim.script(ACCOUNT, "1", vec![Step::NotFound]);
    let client = client(&sim);
    assert_eq!(fetch(&client, "1").await, Err(BrokerError::NotVisible));
    assert_eq!(fetch(&client, "1").await.unwrap().status, OrderStatus::Filled);
    assert_eq!(sim.requests(ACCOUNT, "1"), 2);
}

#[tokio::test]
async fn malformed_json_is_a_clear_permanent_error() {
    let sim = sim().await;
    sim.script(ACCOUNT, "1", vec![Step::Malformed]);
    let error = fetch(&client(&sim), "1").await.unwrap_err();
    let BrokerError::Malformed(message) = &error else { panic!("{error:?}") };
    assert!(message.starts_with("broker answered invalid JSON: EOF while parsing"), "{message}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn the_bearer_token_is_sent_and_a_wrong_one_is_unauthorized() {
    let sim = sim().await;
    sim.require_token(ACCOUNT, TOKEN);
    let client = client(&sim);
    assert!(fetch(&client, "1").await.is_ok(), "the right bearer is accepted");
    let wrong = BrokerToken { token: Secret::new("wrong"), environment: TradierEnvironment::Live };
    let order = OrderRef { account_number: ACCOUNT, order_id: "1" };
    assert_eq!(client.fetch_order(Some(&wrong), order).await, Err(BrokerError::Unauthorized));
    assert_eq!(client.fetch_order(None, order).await, Err(BrokerError::Unauthorized));
    let unusable = BrokerToken { token: Secret::new("bad\ntoken"), environment: TradierEnvironment::Live };
    assert_eq!(client.fetch_order(Some(&unusable), order).await, Err(BrokerError::Unauthorized));
    assert!(!BrokerError::Unauthorized.is_retryable());
}

#[tokio::test]
async fn the_tokens_environment_picks_the_base_url() {
    let live = sim().await;
    let sandbox = sim().await;
    let client = client_for(&live, &sandbox, Duration::from_secs(5));
    let order = OrderRef { account_number: ACCOUNT, order_id: "5" };
    client.fetch_order(Some(&token(TradierEnvironment::Sandbox)), order).await.unwrap();
    assert_eq!((live.requests(ACCOUNT, "5"), sandbox.requests(ACCOUNT, "5")), (0, 1));
    client.fetch_order(Some(&token(TradierEnvironment::Live)), order).await.unwrap();
    assert_eq!((live.requests(ACCOUNT, "5"), sandbox.requests(ACCOUNT, "5")), (1, 1));
}

#[tokio::test]
async fn ids_stay_inside_their_path_segment() {
    let sim = sim().await;
    let client = client(&sim);
    let url = client.order_url(TradierEnvironment::Live, OrderRef { account_number: "VA/1", order_id: "../2?x" });
    assert_eq!(url.as_str(), format!("{}/v1/accounts/VA%2F1/orders/..%2F2%3Fx?includeTags=true", sim.base_url()));
}

#[test]
fn base_urls_are_checked() {
    let config = |live: &str| TradierConfig {
        live_base_url: live.to_string(),
        sandbox_base_url: "https://sandbox.tradier.com".to_string(),
        request_timeout: Duration::from_secs(5),
    };
    assert!(TradierClient::new(config("https://api.tradier.com")).is_ok());
    let error = TradierClient::new(config("api.tradier.com")).unwrap_err();
    assert_eq!(error.to_string(), "live_base_url is not an absolute http(s) URL: \"api.tradier.com\"");
    assert!(TradierClient::new(config("ftp://api.tradier.com")).is_err());
}

#[tokio::test]
async fn https_goes_through_rustls_with_ring() {
    // A TCP server that answers the TLS ClientHello with garbage: the client must build,
    // speak TLS (ring provider installed, no panic) and report a transport error.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello).await;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let client = TradierClient::new(TradierConfig {
        live_base_url: format!("https://127.0.0.1:{port}"),
        sandbox_base_url: "https://sandbox.tradier.com".to_string(),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let error = fetch(&client, "1").await.unwrap_err();
    assert!(matches!(&error, BrokerError::Transport(_)), "{error:?}");
    assert!(!error.to_string().contains(TOKEN));
}

#[test]
fn rate_limit_waits_follow_the_headers() {
    let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
    let headers = |pairs: &[(&'static str, &str)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    };
    let wait = |pairs: &[(&'static str, &str)]| rate_limit_wait(&headers(pairs), now);
    assert_eq!(wait(&[("x-ratelimit-expiry", "1700000002500")]), Duration::from_millis(2_500));
    assert_eq!(wait(&[("x-ratelimit-expiry", "1700000003")]), Duration::from_secs(3), "seconds are accepted");
    assert_eq!(wait(&[("x-ratelimit-expiry", "1699999999000")]), MIN_RATE_LIMIT_WAIT, "a past expiry");
    assert_eq!(wait(&[("x-ratelimit-expiry", "1800000000000")]), MAX_RATE_LIMIT_WAIT);
    assert_eq!(wait(&[("retry-after", "4")]), Duration::from_secs(4));
    assert_eq!(wait(&[("x-ratelimit-expiry", "soon")]), DEFAULT_RATE_LIMIT_WAIT);
    assert_eq!(wait(&[]), DEFAULT_RATE_LIMIT_WAIT);
}

/// Every span field and event field, formatted, at every level.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for CapturedLogs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut logs = self.0.lock().unwrap();
        span.record(&mut Fields(&mut logs));
        logs.push('\n');
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut logs = self.0.lock().unwrap();
        logs.push_str(event.metadata().target());
        logs.push(' ');
        event.record(&mut Fields(&mut logs));
        logs.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn no_log_line_or_error_carries_the_token() {
    let logs = CapturedLogs::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    let sim = sim().await;
    sim.require_token(ACCOUNT, TOKEN);
    sim.script(ACCOUNT, "1", vec![Step::RateLimited { reset_in_ms: 200 }, Step::Reset, Step::Malformed]);
    let client = client(&sim);
    // Other tests hit the same callsites on other threads with no subscriber; recompute the
    // cached interest so that this thread's subscriber sees every event (tracing caches
    // interest per callsite, process-wide).
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        tracing::callsite::rebuild_interest_cache();
        outcomes.push(fetch(&client, "1").await);
    }
    let wrong = BrokerToken { token: Secret::new("another-secret-token"), environment: TradierEnvironment::Live };
    tracing::callsite::rebuild_interest_cache();
    outcomes.push(client.fetch_order(Some(&wrong), OrderRef { account_number: ACCOUNT, order_id: "1" }).await);
    sim.shutdown().await;

    let logs = logs.0.lock().unwrap().clone();
    assert!(logs.contains("tradier order fetch"), "the client logs at debug: {logs}");
    assert!(!logs.contains(TOKEN) && !logs.contains("another-secret-token"), "{logs}");
    for outcome in &outcomes {
        let text = format!("{outcome:?} {}", outcome.as_ref().map_or_else(ToString::to_string, |o| o.id.clone()));
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(!format!("{client:?}").contains(TOKEN));
}
