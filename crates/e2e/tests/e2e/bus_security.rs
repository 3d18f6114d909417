//! The bus is a trust boundary: on a `nats-server` configured with the generated users and
//! permissions, the whole system still serves, and a client holding the gateway's credentials
//! can neither listen to the ledger's requests, nor read another service's replies, nor
//! publish events.

use crate::system::System;
use async_nats::{Event, ServerError};
use futures::StreamExt;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::TestNats;
use trade_ledger::admin::AdminCommand;

/// A connection as `user` that records the server's error reports.
async fn connect_as(nats: &TestNats, user: &str) -> (async_nats::Client, Arc<Mutex<Vec<String>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let client = nats
        .options_as(user)
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                if let Event::ServerError(ServerError::Other(text)) = event {
                    seen.lock().unwrap().push(text);
                }
            }
        })
        .connect(nats.url())
        .await
        .unwrap();
    (client, errors)
}

async fn violation(errors: &Arc<Mutex<Vec<String>>>, what: &str) -> String {
    test_support::eventually(what, Duration::from_secs(5), || {
        let found = errors.lock().unwrap().iter().find(|text| text.contains("Permissions Violation")).cloned();
        async move { found }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_system_serves_on_a_bus_with_per_service_permissions_and_nothing_more() {
    let system = System::start_on(TestNats::secured().await).await.expect("the system starts");
    let nats = system.nats();
    let subjects = nats.subjects();

    // The gateway answers a Bot API request through the ledger, and every backend answers.
    let bot =
        system.admin(AdminCommand::CreateBot { slug: "secure-bot".into(), name: "Secure".into(), owner: None }).await;
    let response = test_support::http_client()
        .get(system.url("/api/bots/secure-bot"))
        .header("x-api-key", bot["apiKey"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let status = test_support::http_client().get(system.url("/status")).send().await.unwrap();
    assert_eq!(status.status(), 200, "{}", status.text().await.unwrap());

    // Events flow through JetStream under the services' own users: a participation goes
    // ledger → fetcher → ledger, and a backtest is queued and run by the executor.
    a_participation_comes_back_from_the_fetcher(&system, bot["apiKey"].as_str().unwrap()).await;
    a_backtest_completes(&system).await;
    let log = nats.server_log().unwrap();
    assert!(!log.contains("Violation"), "a service lacked a permission it needs:\n{log}");

    // With the gateway's credentials, subscribing to the ledger's requests is refused and
    // delivers nothing, even while requests flow.
    let (gateway, errors) = connect_as(nats, bus::GATEWAY_USER).await;
    let mut snooped = gateway.subscribe(subjects.authenticate().subject().to_string()).await.unwrap();
    gateway.flush().await.unwrap();
    let text = violation(&errors, "a subscribe violation").await;
    assert!(text.contains("Subscription") && text.contains("authenticate"), "{text}");
    let probe = nats.client().await;
    probe.publish(subjects.authenticate().subject().to_string(), "{}".into()).await.unwrap();
    probe.flush().await.unwrap();
    let nothing = tokio::time::timeout(Duration::from_millis(500), snooped.next()).await;
    assert!(!matches!(nothing, Ok(Some(_))), "the gateway's user received a ledger request");

    // Nor may it publish an event as if it were the ledger.
    errors.lock().unwrap().clear();
    gateway.publish(subjects.participation_created().subject().to_string(), "{}".into()).await.unwrap();
    gateway.flush().await.unwrap();
    let text = violation(&errors, "a publish violation").await;
    assert!(text.contains("Publish"), "{text}");

    // A service cannot read another's replies: the ledger's user may not subscribe to the
    // gateway's inbox.
    let (ledger, ledger_errors) = connect_as(nats, domain::ServiceName::TradeLedger.as_str()).await;
    let _inbox = ledger.subscribe(format!("{}.>", bus::inbox_prefix(bus::GATEWAY_USER))).await.unwrap();
    ledger.flush().await.unwrap();
    let text = violation(&ledger_errors, "an inbox violation").await;
    assert!(text.contains("_INBOX.gateway"), "{text}");
}

async fn send(request: reqwest::RequestBuilder) -> serde_json::Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// A participation for an account without broker credentials: the fetcher parks it and the
/// ledger shows `fetch_failed` with `no_credentials`.
async fn a_participation_comes_back_from_the_fetcher(system: &System, key: &str) {
    let user = system.admin(AdminCommand::CreateUser { partner: None, email: "sec@example.com".into() }).await;
    let user_id = user["userId"].as_str().unwrap().to_string();
    let account = system
        .admin(AdminCommand::CreateBrokerAccount {
            user: user_id.parse().unwrap(),
            broker: "TRADIER".into(),
            account_number: "VA-SEC-1".into(),
        })
        .await;
    let account_id = account["brokerAccountId"].as_str().unwrap().to_string();
    system
        .admin(AdminCommand::CreateTicker {
            symbol: "AAPL".into(),
            asset_type: "stock".into(),
            exchange: Some("NASDAQ".into()),
            price_decimals: 2,
            amount_decimals: 0,
            min_amount: None,
        })
        .await;
    system
        .admin(AdminCommand::Follow {
            bot: "secure-bot".into(),
            broker_account: account_id.parse().unwrap(),
            ticker: "AAPL".into(),
            quantity: "1".parse().unwrap(),
        })
        .await;
    let http = test_support::http_client();
    let trade = send(http.post(system.url("/api/bots/secure-bot/trades")).header("x-api-key", key).json(&json!({
        "symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"
    })))
    .await;
    let trade_id = trade["trade"]["id"].as_str().unwrap().to_string();
    send(http.post(system.url("/api/bots/secure-bot/participations")).header("x-api-key", key).json(&json!({
        "participations": [{"botTradeId": trade_id, "userId": user_id, "brokerAccountId": account_id,
                            "brokerOrderId": "ORDER-1"}]
    })))
    .await;
    let path = system.url(&format!("/api/bots/secure-bot/trades/{trade_id}/participations"));
    test_support::eventually("the fetch outcome reaches the ledger", Duration::from_secs(20), || {
        let request = http.get(&path).header("x-api-key", key);
        async move {
            let body = send(request).await;
            let participation = &body["participations"][0];
            (participation["fetchStatus"] == "fetch_failed").then(|| {
                assert_eq!(participation["fetchError"]["code"], "no_credentials", "{body}");
            })
        }
    })
    .await;
}

/// A small grid backtest, queued through the executor's own stream, runs to completion.
async fn a_backtest_completes(system: &System) {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata/BTC_USDT-1m.csv");
    let lines: Vec<String> = std::fs::read_to_string(source).unwrap().lines().take(301).map(String::from).collect();
    let file = std::env::temp_dir().join(format!("sec-btc-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    system.import_candles("SIM_BTC_USDT_", "1m", &file).await;
    std::fs::remove_file(file).ok();
    let partner = system.admin(AdminCommand::CreatePartner { name: "Secure".into() }).await;
    let key = partner["apiKey"].as_str().unwrap().to_string();
    let http = test_support::http_client();
    let started = send(http.post(system.url("/partner/v1/bots/backtest")).header("x-api-key", &key).json(&json!({
        "type": "spot_grid", "exchangeId": "SIM", "startUnix": 1_689_677_460, "endUnix": 1_689_677_460 + 299 * 60,
        "settings": {"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 10,
                     "investmentAsset": "Quote", "investmentAmount": 1000}
    })))
    .await;
    let id = started["data"]["backtestId"].as_str().unwrap().to_string();
    let path = system.url(&format!("/partner/v1/bots/backtest/{id}/status"));
    test_support::eventually("the backtest completes", Duration::from_secs(20), || {
        let request = http.get(&path).header("x-api-key", &key);
        async move { (send(request).await["data"]["state"] == "completed").then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_with_wrong_credentials_does_not_start() {
    let nats = TestNats::secured().await;
    let mut settings = nats.settings_as(bus::GATEWAY_USER);
    settings.password = Some(domain::Secret::new("not-the-password"));
    let error = platform::backend::connect_nats(&settings, bus::GATEWAY_USER, "gateway-test").await.unwrap_err();
    let text = format!("{error:#}");
    assert!(text.contains("connecting to NATS"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");

    // Credentials written into the URL are refused the same way and never repeated.
    settings.url = nats.url().replace("nats://", "nats://gateway:url-password@");
    settings.user = None;
    settings.password = None;
    let error = platform::backend::connect_nats(&settings, bus::GATEWAY_USER, "gateway-test").await.unwrap_err();
    let text = format!("{error:#}");
    assert!(text.contains("gateway:***@") && !text.contains("url-password"), "{text}");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made with the
/// machine's `openssl` in `dir`.
fn certificates(dir: &std::path::Path) {
    let script = r#"
        set -e
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        key ca.key; key server.key; key client.key
        openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=test-ca \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
        openssl req -new -key server.key -out server.csr -subj /CN=localhost
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
        openssl req -new -key client.key -out client.csr -subj /CN=gateway
        printf 'extendedKeyUsage=clientAuth\n' > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
    "#;
    let status = std::process::Command::new("bash").arg("-c").arg(script).current_dir(dir).status().unwrap();
    assert!(status.success(), "openssl could not make the test certificates");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_connects_over_tls_with_a_private_ca_and_a_client_certificate() {
    let dir = std::env::temp_dir().join(format!("tb-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir);
    let file = |name: &str| dir.join(name);
    let server = test_support::PrivateNats::start(&format!(
        "tls {{ cert_file: {:?}, key_file: {:?}, ca_file: {:?}, verify: true }}",
        file("server.pem"),
        file("server.key"),
        file("ca.pem")
    ));
    let mut settings = platform::settings::NatsSettings { url: server.url.clone(), ..Default::default() };
    settings.tls.ca_file = Some(file("ca.pem"));
    settings.tls.cert_file = Some(file("client.pem"));
    settings.tls.key_file = Some(file("client.key"));

    let client = platform::backend::connect_nats(&settings, bus::GATEWAY_USER, "tls-test").await.unwrap();
    let mut echo = client.subscribe("echo").await.unwrap();
    client.publish("echo", "over tls".into()).await.unwrap();
    let message = tokio::time::timeout(Duration::from_secs(5), echo.next()).await.unwrap().unwrap();
    assert_eq!(&message.payload[..], b"over tls");

    // Without the client certificate the server refuses the connection.
    settings.tls.cert_file = None;
    settings.tls.key_file = None;
    assert!(platform::backend::connect_nats(&settings, bus::GATEWAY_USER, "tls-test").await.is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
