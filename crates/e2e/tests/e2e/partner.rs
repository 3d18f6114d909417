//! Calling the Partner API as a partner would: a key, a method, a path, a JSON body, and the
//! envelope back.

use crate::system::System;
use serde_json::Value;
use trade_ledger::admin::AdminCommand;

/// Sends one request with `key` in `x-api-key` (and `Idempotency-Key` when given); returns
/// the status and the body (`Value::Null` when it is not JSON).
pub async fn send(
    system: &System,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let client = test_support::http_client();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, system.url(path)).header("x-api-key", key);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    if let Some(idempotency_key) = idempotency_key {
        request = request.header("idempotency-key", idempotency_key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// [`send`] without an `Idempotency-Key`.
pub async fn call(system: &System, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    send(system, key, method, path, body, None).await
}

/// `POST /partner/v1/<route>` with `body`: the status and the envelope.
pub async fn post(system: &System, key: &str, route: &str, body: Value) -> (u16, Value) {
    call(system, key, "POST", &format!("/partner/v1/{route}"), Some(body)).await
}

/// `route` that must answer 200 with `isSuccess`: its `data`.
pub async fn ok(system: &System, key: &str, route: &str, body: Value) -> Value {
    let (status, reply) = post(system, key, route, body).await;
    assert_eq!((status, reply["isSuccess"].clone()), (200, serde_json::json!(true)), "{route}: {reply}");
    reply["data"].clone()
}

/// A new partner's API key.
pub async fn partner_key(system: &System, name: &str) -> String {
    let partner = system.admin(AdminCommand::CreatePartner { name: name.into() }).await;
    partner["apiKey"].as_str().unwrap().to_string()
}

/// `admin create-exchange` of a spot exchange named after its id (`calendar` JSON, or always
/// open), enabled unless `disabled`.
pub fn exchange(id: &str, calendar: Option<String>, disabled: bool) -> AdminCommand {
    AdminCommand::CreateExchange {
        id: id.into(),
        name: format!("{id} exchange"),
        spot: true,
        leverage: false,
        calendar,
        disabled,
        has_adapter: false,
    }
}

/// A SIM market of the test's own (`SIM_<tag><8 hex>_USDT_`, 2 price and 5 amount decimals),
/// so that the quotes a test pushes reach only its own bots.
pub async fn own_sim_market(system: &System, tag: &str) -> String {
    let symbol = format!("SIM_{tag}{}_USDT_", &uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase());
    system
        .admin(AdminCommand::CreateTicker {
            symbol: symbol.clone(),
            asset_type: "crypto".into(),
            exchange: Some("SIM".into()),
            price_decimals: 2,
            amount_decimals: 5,
            min_amount: Some("0.00001".parse().unwrap()),
        })
        .await;
    symbol
}

/// A new paper user of the partner on SIM: its id.
pub async fn sim_user(system: &System, key: &str) -> Value {
    ok(system, key, "users/create", serde_json::json!({"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x"}))
        .await
}
