//! Partner users and reference data: the routes against an in-test ledger (catalogue and
//! users) and fetcher (the credential store), checking what each route sends and how the
//! answers map to the envelope and its codes. The keys of `users/create` go to the fetcher
//! only, and never come back in a reply.

use crate::partner_backtest::{KEY, fake_ledger, partner, serve};
use crate::support::{self, Gateway};
use bus::BusError;
use bus::messages::bot_api::paging::TimeCursor;
use bus::messages::credentials::StoreExchangeCredentials;
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::partner::reference::{ExchangeView, JsonDecimal, ListExchanges, ListMarkets, MarketView};
use bus::messages::partner::{
    CreatePartnerUser, DeletePartnerUser, GetPartnerUser, ListPartnerUsers, PartnerUser, PartnerUserView,
    PartnerUsersPage,
};
use chrono::DateTime;
use domain::UserId;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const SECRET: &str = "very-secret-key-that-must-never-come-back";

/// What the fakes were asked.
#[derive(Default)]
struct Seen {
    lists: Vec<ListPartnerUsers>,
    stores: Vec<StoreExchangeCredentials>,
    creates: Vec<Command<CreatePartnerUser>>,
    deletes: Vec<Command<DeletePartnerUser>>,
}

type Fakes = support::Fakes<Seen>;

fn known_user() -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x696c_712e_346b_4631_9df8_38fe_5921_1493))
}

/// A user with running bots: deleting them is a conflict.
fn busy_user() -> UserId {
    UserId::from_uuid(Uuid::from_u128(0xb05e))
}

fn created_user() -> UserId {
    UserId::from_uuid(Uuid::from_u128(0xc4ea7e))
}

fn view(user_id: UserId) -> PartnerUserView {
    PartnerUserView {
        user_id,
        exchange_id: Some("BITMEX".into()),
        exchange_user_id: None,
        created_at: 1_766_069_766,
        bots_started: 2,
        bots_active: 1,
    }
}

fn cursor() -> TimeCursor {
    TimeCursor { created_at: DateTime::from_timestamp(1_766_069_766, 0).unwrap(), id: *known_user().as_uuid() }
}

async fn fakes(gateway: &Gateway) -> Fakes {
    let fakes = Fakes::default();
    let (seen, shutdown) = (&fakes.seen, &fakes.shutdown);
    fake_ledger(gateway, shutdown).await;
    let subjects = gateway.nats.subjects();
    serve(gateway, shutdown, subjects.exchanges(), |_: ListExchanges| async {
        Ok(vec![
            ExchangeView { id: "SIM".into(), name: "Simulated exchange".into(), is_spot: true, is_leverage: true },
            ExchangeView { id: "BITMEX".into(), name: "BitMEX Derivative".into(), is_spot: false, is_leverage: true },
        ])
    })
    .await;
    serve(gateway, shutdown, subjects.markets(), |_: ListMarkets| async {
        Ok(vec![MarketView {
            exchange_id: "SIM".into(),
            name: "BTC/USDT".into(),
            full_name: "Simulated exchange BTC/USDT".into(),
            symbol: "SIM_BTC_USDT_".into(),
            exchange_symbol: "BTCUSDT".into(),
            base_currency: "BTC".into(),
            quote_currency: "USDT".into(),
            price_decimals: 2,
            amount_decimals: 5,
            minimum_trade_amount: JsonDecimal(rust_decimal::Decimal::new(1, 5)),
            minimum_trade_volume: JsonDecimal(rust_decimal::Decimal::ZERO),
            amount_label: "BTC".into(),
            profit_label: "USDT".into(),
            is_spot: true,
            is_leverage: true,
            is_open: true,
        }])
    })
    .await;
    let lists = seen.clone();
    serve(gateway, shutdown, subjects.partner_users(), move |query: ListPartnerUsers| {
        let lists = lists.clone();
        async move {
            lists.lock().unwrap().lists.push(query.clone());
            let next_page_id = query.after.is_none().then(|| cursor().encode());
            Ok(PartnerUsersPage { items: vec![view(known_user())], next_page_id })
        }
    })
    .await;
    serve(gateway, shutdown, subjects.partner_user(), |query: GetPartnerUser| async move {
        if query.partner_id != partner() || query.user_id != known_user() {
            return Err(BusError::not_found(format!("User '{}' not found", query.user_id)));
        }
        Ok(PartnerUser { user: view(query.user_id), exchanges: vec!["BITMEX".into()] })
    })
    .await;
    let stores = seen.clone();
    serve(gateway, shutdown, subjects.store_exchange_credentials(), move |store: StoreExchangeCredentials| {
        let stores = stores.clone();
        async move {
            if store.extra_key.as_ref().is_some_and(|extra| extra.expose() == "refused") {
                return Err(BusError::invalid(format!(
                    "extraKey: '{}' is not a passphrase",
                    store.secret_key.expose()
                )));
            }
            stores.lock().unwrap().stores.push(store);
            Ok(true)
        }
    })
    .await;
    let creates = seen.clone();
    serve(gateway, shutdown, subjects.create_partner_user(), move |command: Command<CreatePartnerUser>| {
        let creates = creates.clone();
        async move {
            if command.idempotency.as_ref().is_some_and(|key| key.key == "reused") {
                return Err(BusError::IdempotencyKeyReused { message: "Idempotency-Key reused".into() });
            }
            let replay = command.idempotency.is_some()
                && creates.lock().unwrap().creates.iter().any(|seen| seen.idempotency == command.idempotency);
            creates.lock().unwrap().creates.push(command);
            if replay {
                return Ok(Replayable::Replayed(
                    serde_json::value::RawValue::from_string(format!("\"{}\"", created_user())).unwrap(),
                ));
            }
            Ok(Replayable::Fresh(created_user()))
        }
    })
    .await;
    let deletes = seen.clone();
    serve(gateway, shutdown, subjects.delete_partner_user(), move |command: Command<DeletePartnerUser>| {
        let deletes = deletes.clone();
        async move {
            let user = command.command.user_id;
            deletes.lock().unwrap().deletes.push(command);
            if user == busy_user() {
                return Err(BusError::Conflict { message: format!("User '{user}' has running bots") });
            }
            if user != known_user() {
                return Err(BusError::not_found("not found"));
            }
            Ok(Replayable::Fresh(true))
        }
    })
    .await;
    fakes
}

async fn call(gateway: &Gateway, method: &str, path: &str, body: Option<&str>, key: Option<&str>) -> (u16, Value) {
    let client = test_support::http_client();
    let mut request = match method {
        "GET" => client.get(gateway.url(path)),
        _ => client.post(gateway.url(path)),
    }
    .header("x-api-key", KEY);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(!text.contains(SECRET), "a key came back: {text}");
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

async fn post(gateway: &Gateway, path: &str, body: &str) -> (u16, Value) {
    call(gateway, "POST", path, Some(body), None).await
}

fn refusal(answer: &(u16, Value)) -> (u16, Value, Value) {
    (answer.0, answer.1["code"].clone(), answer.1["message"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_data_comes_from_the_ledger_and_the_engine() {
    let gateway = Gateway::start().await;
    let _fakes = fakes(&gateway).await;

    let (status, body) = call(&gateway, "GET", "/partner/v1/exchanges", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["isSuccess"].clone(), body["code"].clone()), (json!(true), json!(0)));
    assert_eq!(
        body["data"][1],
        json!({"id": "BITMEX", "name": "BitMEX Derivative", "isSpot": false, "isLeverage": true})
    );

    let markets = test_support::http_client()
        .get(gateway.url("/partner/v1/markets"))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(markets.contains(r#""minimumTradeAmount":0.00001,"#), "decimals forwarded digit for digit: {markets}");
    let markets: Value = serde_json::from_str(&markets).unwrap();
    assert_eq!(markets["data"][0]["symbol"], "SIM_BTC_USDT_");
    assert_eq!(markets["data"][0].as_object().unwrap().len(), 16);

    let (status, body) = call(&gateway, "GET", "/partner/v1/scripts", None, None).await;
    assert_eq!(status, 200);
    let types: Vec<_> = body["data"].as_array().unwrap().iter().map(|script| script["type"].clone()).collect();
    assert_eq!(
        types,
        ["spot_grid", "futures_grid", "spot_dollar_cost_averaging", "futures_dollar_cost_averaging", "webhook"]
    );
    let (status, body) = post(&gateway, "/partner/v1/scripts/script", r#"{"type": "webhook"}"#).await;
    assert_eq!((status, body["data"]["type"].clone()), (200, json!("webhook")));
    assert_eq!(
        body["data"],
        serde_json::to_value(engine::scripts::script(engine::scripts::ScriptType::Webhook)).unwrap()
    );
    let refused = post(&gateway, "/partner/v1/scripts/script", r#"{"type": "grid"}"#).await;
    assert_eq!(refusal(&refused), (400, json!(1000), json!(gateway::api::partner::reference::TYPE_MESSAGE)));
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_listed_by_page_and_read_one_by_one() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let (status, body) = call(&gateway, "POST", "/partner/v1/users/list", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["items"][0]["userId"], known_user().to_string());
    assert_eq!(body["data"]["items"][0]["exchangeUserId"], Value::Null);
    let token = body["data"]["nextPageId"].as_str().unwrap().to_string();
    let (status, body) =
        post(&gateway, "/partner/v1/users/list", &format!(r#"{{"limit": 5, "nextPageId": "{token}"}}"#)).await;
    assert_eq!((status, body["data"]["nextPageId"].clone()), (200, Value::Null));
    {
        let seen = fakes.seen.lock().unwrap();
        let asked: Vec<_> = seen.lists.iter().map(|query| (query.partner_id, query.limit, query.after)).collect();
        assert_eq!(asked, [(partner(), 10_000, None), (partner(), 5, Some(cursor()))]);
    }
    for (body, message) in [
        (r#"{"limit": 0}"#, "limit must be -1 or between 1 and 10000"),
        (r#"{"nextPageId": "N8AoR5407j"}"#, "nextPageId is not a valid page token"),
        (r#"{"userId": "x"}"#, "Unknown field 'userId'"),
        ("{", "Invalid JSON in request body"),
    ] {
        assert_eq!(refusal(&post(&gateway, "/partner/v1/users/list", body).await), (400, json!(1000), json!(message)));
    }
    assert_eq!(fakes.seen.lock().unwrap().lists.len(), 2, "refused before any request");

    let (status, body) = post(&gateway, "/partner/v1/users/get", &format!(r#"{{"userId": "{}"}}"#, known_user())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"userId": known_user().to_string(), "exchangeId": "BITMEX", "exchangeUserId": null,
               "createdAt": 1_766_069_766, "botsStarted": 2, "botsActive": 1})
    );
    let other = UserId::new();
    let unknown = post(&gateway, "/partner/v1/users/get", &format!(r#"{{"userId": "{other}"}}"#)).await;
    assert_eq!(refusal(&unknown), (404, json!(1001), json!(format!("User '{other}' not found"))));
    let malformed = post(&gateway, "/partner/v1/users/get", r#"{"userId": "nope"}"#).await;
    assert_eq!(refusal(&malformed), (404, json!(1001), json!("User 'nope' not found")));
    let missing = post(&gateway, "/partner/v1/users/get", "{}").await;
    assert_eq!(refusal(&missing), (400, json!(1000), json!("userId is required and must be a non-empty string")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_is_created_with_its_keys_sealed_in_the_fetcher_only() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let created = json!(created_user().to_string());

    // A paper account: nothing stored.
    let paper = r#"{"exchangeId": "SIM", "publicKey": "sim", "secretKey": "anything", "exchangeUserId": ""}"#;
    let (status, body) = post(&gateway, "/partner/v1/users/create", paper).await;
    assert_eq!((status, body["data"].clone()), (200, created.clone()), "{body}");
    {
        let seen = fakes.seen.lock().unwrap();
        assert!(seen.stores.is_empty());
        let command = &seen.creates[0].command;
        assert_eq!((command.partner_id, command.exchange_id.as_str(), command.paper), (partner(), "SIM", true));
        assert_eq!(command.exchange_user_id, None);
    }

    // Real keys: sealed under the broker account the ledger is then told about.
    let real = format!(
        r#"{{"exchangeId": "BITMEX", "publicKey": "pub-1", "secretKey": "{SECRET}", "extraKey": null,
            "exchangeUserId": "customer-42"}}"#
    );
    let (status, body) = call(&gateway, "POST", "/partner/v1/users/create", Some(&real), Some("create-1")).await;
    assert_eq!((status, body["data"].clone()), (200, created.clone()), "{body}");
    let (status, body) = call(&gateway, "POST", "/partner/v1/users/create", Some(&real), Some("create-1")).await;
    assert_eq!((status, body["data"].clone()), (200, created.clone()), "a replay answers the stored reply: {body}");
    {
        let seen = fakes.seen.lock().unwrap();
        assert_eq!(seen.stores.len(), 2);
        let (store, command) = (&seen.stores[0], &seen.creates[1]);
        assert_eq!((store.exchange_id.as_str(), store.public_key.expose()), ("BITMEX", "pub-1"));
        assert_eq!((store.secret_key.expose(), store.extra_key.clone()), (SECRET, None));
        assert_eq!(command.command.broker_account_id, store.broker_account_id);
        assert_eq!(command.command.exchange_user_id.as_deref(), Some("customer-42"));
        assert!(!command.command.paper);
        assert_eq!(command.idempotency.as_ref().unwrap().key, "create-1");
        assert_eq!(seen.stores[1].broker_account_id, store.broker_account_id, "a replay upserts the same row");
        assert_eq!(seen.creates[2].command.broker_account_id, store.broker_account_id);
    }
    let other_body = real.replace("pub-1", "pub-2");
    let reused = call(&gateway, "POST", "/partner/v1/users/create", Some(&other_body), Some("reused")).await;
    assert_eq!((reused.0, reused.1["code"].clone()), (422, json!(1011)));
    {
        let seen = fakes.seen.lock().unwrap();
        assert_ne!(seen.stores[2].broker_account_id, seen.stores[0].broker_account_id, "never the first user's row");
    }

    let stores_before = fakes.seen.lock().unwrap().stores.len();
    let unknown_exchange = real.replace("BITMEX", "BINANCE");
    let refused = post(&gateway, "/partner/v1/users/create", &unknown_exchange).await;
    assert_eq!(refusal(&refused), (400, json!(1000), json!("exchangeId: unknown exchange 'BINANCE'")));
    let refused = post(&gateway, "/partner/v1/users/create", &real.replace("BITMEX", "bitmex")).await;
    assert_eq!(refusal(&refused).1, json!(1000), "exact match");
    let refused = post(&gateway, "/partner/v1/users/create", r#"{"exchangeId": "SIM", "publicKey": "sim"}"#).await;
    assert_eq!(refusal(&refused), (400, json!(1000), json!("secretKey is required and must be a non-empty string")));
    let refused = post(&gateway, "/partner/v1/users/create", &real.replace("null", r#""refused""#)).await;
    assert_eq!(refusal(&refused).0, 400, "the store's refusal is a 1000 without the key (checked by call)");
    assert_eq!(fakes.seen.lock().unwrap().stores.len(), stores_before, "refused before storing");
    let bad_key = call(&gateway, "POST", "/partner/v1/users/create", Some(paper), Some("")).await;
    assert_eq!(refusal(&bad_key).1, json!(1000));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_is_deleted_unless_unknown_or_busy() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let body = |user: UserId| format!(r#"{{"userId": "{user}"}}"#);

    let (status, answer) =
        call(&gateway, "POST", "/partner/v1/users/delete", Some(&body(known_user())), Some("delete-1")).await;
    assert_eq!((status, answer["data"].clone()), (200, json!(true)), "{answer}");
    {
        let seen = fakes.seen.lock().unwrap();
        assert_eq!(seen.deletes[0].command, DeletePartnerUser { partner_id: partner(), user_id: known_user() });
        assert_eq!(seen.deletes[0].idempotency.as_ref().unwrap().key, "delete-1");
    }
    let busy = post(&gateway, "/partner/v1/users/delete", &body(busy_user())).await;
    assert_eq!(refusal(&busy), (409, json!(1003), json!(format!("User '{}' has running bots", busy_user()))));
    let other = UserId::new();
    let unknown = post(&gateway, "/partner/v1/users/delete", &body(other)).await;
    assert_eq!(refusal(&unknown), (404, json!(1001), json!(format!("User '{other}' not found"))));
    let malformed = post(&gateway, "/partner/v1/users/delete", r#"{"userId": "123"}"#).await;
    assert_eq!(refusal(&malformed), (404, json!(1001), json!("User '123' not found")));
    assert_eq!(fakes.seen.lock().unwrap().deletes.len(), 3, "a malformed id asks nobody");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_checks_the_key_first_and_a_missing_backend_is_9503() {
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    let routes = [
        ("GET", "/partner/v1/exchanges"),
        ("GET", "/partner/v1/markets"),
        ("GET", "/partner/v1/scripts"),
        ("POST", "/partner/v1/scripts/script"),
        ("POST", "/partner/v1/users/list"),
        ("POST", "/partner/v1/users/get"),
        ("POST", "/partner/v1/users/create"),
        ("POST", "/partner/v1/users/delete"),
    ];
    for (method, path) in routes {
        let client = test_support::http_client();
        let request = match method {
            "GET" => client.get(gateway.url(path)),
            _ => client.post(gateway.url(path)).body("{"),
        };
        let response = request.header("x-api-key", "wrong").send().await.unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 1401, "{method} {path}");
    }
    // Only the ledger's authenticate answers: the catalogue and the users are unavailable.
    let (status, body) = call(&gateway, "GET", "/partner/v1/exchanges", None, None).await;
    assert_eq!((status, body["code"].clone()), (503, json!(9503)), "{body}");
    let (status, body) = call(&gateway, "GET", "/partner/v1/scripts", None, None).await;
    assert_eq!(status, 200, "scripts need no backend but the key check: {body}");
    let (status, body) = post(&gateway, "/partner/v1/users/list", "").await;
    assert_eq!((status, body["code"].clone()), (503, json!(9503)), "{body}");
    shutdown.cancel();
}
