//! The Partner API's reference data on a fresh system: the exchanges and markets of the
//! ledger's catalogue (no seed), the engine's scripts, and their errors in the envelope.

use crate::partner::{call, exchange, partner_key};
use crate::system::System;
use chrono::{Datelike, Utc};
use serde_json::{Value, json};
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

/// Waits until the ledger's responders answer the gateway.
async fn ready(system: &System, key: &str) {
    test_support::eventually("the ledger answers", Duration::from_secs(10), || async {
        (call(system, key, "GET", "/partner/v1/exchanges", None).await.0 == 200).then_some(())
    })
    .await;
}

fn ticker(symbol: &str, exchange: &str) -> AdminCommand {
    AdminCommand::CreateTicker {
        symbol: symbol.into(),
        asset_type: "crypto".into(),
        exchange: Some(exchange.into()),
        price_decimals: 2,
        amount_decimals: 3,
        min_amount: None,
    }
}

fn market<'a>(markets: &'a Value, symbol: &str) -> Option<&'a Value> {
    markets["data"].as_array().unwrap().iter().find(|market| market["symbol"] == symbol)
}

#[tokio::test(flavor = "multi_thread")]
async fn exchanges_and_markets_come_from_the_catalogue_with_their_calendars() {
    let system = System::start().await.expect("the system starts");
    let key = partner_key(&system, "Reference Partner").await;
    ready(&system, &key).await;

    // A calendar open only the day after tomorrow (UTC) is closed now.
    let later = (Utc::now().weekday().number_from_monday() + 1) % 7 + 1;
    let closed = json!({"kind": "weekly", "tz": "UTC", "open": "09:30", "close": "16:00", "days": [later]});
    system.admin(exchange("TESTX", Some(closed.to_string()), false)).await;
    system.admin(ticker("TESTX_SOL_USD_", "TESTX")).await;
    system.admin(exchange("OFFX", None, true)).await;
    system.admin(ticker("OFFX_ADA_USD_", "OFFX")).await;

    let (status, exchanges) = call(&system, &key, "GET", "/partner/v1/exchanges", None).await;
    assert_eq!(status, 200, "{exchanges}");
    assert_eq!((exchanges["isSuccess"].clone(), exchanges["code"].clone()), (json!(true), json!(0)));
    let listed = exchanges["data"].as_array().unwrap();
    assert!(listed.contains(&json!({"id": "SIM", "name": "Simulated exchange", "isSpot": true, "isLeverage": true})));
    assert!(listed.iter().any(|exchange| exchange["id"] == "TESTX"));
    assert!(!listed.iter().any(|exchange| exchange["id"] == "OFFX"), "a disabled exchange is not listed");

    let (status, markets) = call(&system, &key, "GET", "/partner/v1/markets", None).await;
    assert_eq!(status, 200, "{markets}");
    let btc = market(&markets, "SIM_BTC_USDT_").expect("SIM_BTC_USDT_ without a seed");
    assert_eq!(
        btc,
        &json!({"exchangeId": "SIM", "name": "BTC/USDT", "fullName": "Simulated exchange BTC/USDT",
            "symbol": "SIM_BTC_USDT_", "exchangeSymbol": "BTCUSDT", "baseCurrency": "BTC", "quoteCurrency": "USDT",
            "priceDecimals": 2, "amountDecimals": 5, "minimumTradeAmount": 0.00001, "minimumTradeVolume": 0,
            "amountLabel": "BTC", "profitLabel": "USDT", "isSpot": true, "isLeverage": true, "isOpen": true}),
        "all 16 fields"
    );
    assert_eq!(market(&markets, "SIM_ETH_USDT_").unwrap()["amountDecimals"], 4);
    assert_eq!(market(&markets, "TESTX_SOL_USD_").expect("listed")["isOpen"], false, "its calendar is closed");
    assert!(market(&markets, "OFFX_ADA_USD_").is_none(), "a market of a disabled exchange is not listed");
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_are_the_engines_five_types() {
    let system = System::start().await.expect("the system starts");
    let key = partner_key(&system, "Scripts Partner").await;
    ready(&system, &key).await;

    let (status, scripts) = call(&system, &key, "GET", "/partner/v1/scripts", None).await;
    assert_eq!(status, 200, "{scripts}");
    let types: Vec<&str> = scripts["data"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["spot_grid", "futures_grid", "spot_dollar_cost_averaging", "futures_dollar_cost_averaging", "webhook"]
    );

    let (status, grid) =
        call(&system, &key, "POST", "/partner/v1/scripts/script", Some(json!({"type": "spot_grid"}))).await;
    assert_eq!(status, 200, "{grid}");
    assert_eq!(grid["data"]["name"], "Spot Grid Bot");
    let symbol = &grid["data"]["settings"][0];
    for field in ["key", "group", "name", "description", "type", "value", "canBeEdited", "options"] {
        assert!(symbol.get(field).is_some(), "a setting has {field}: {symbol}");
    }

    let one_of = "type must be one of spot_grid, futures_grid, spot_dollar_cost_averaging, \
                  futures_dollar_cost_averaging, webhook";
    for body in [json!({"type": "margin_grid"}), json!({}), json!({"type": 3})] {
        let (status, refused) = call(&system, &key, "POST", "/partner/v1/scripts/script", Some(body.clone())).await;
        assert_eq!((status, refused["code"].clone()), (400, json!(1000)), "{body}: {refused}");
        assert_eq!(refused["message"], one_of, "{body}");
        assert_eq!(refused["isSuccess"], false);
    }

    for path in ["/partner/v1/exchanges", "/partner/v1/markets", "/partner/v1/scripts"] {
        let (status, refused) = call(&system, "", "GET", path, None).await;
        assert_eq!((status, refused["code"].clone()), (401, json!(1401)), "{path} without a key");
        let (status, refused) = call(&system, "tb_000000000000_wrong", "GET", path, None).await;
        assert_eq!((status, refused["code"].clone()), (401, json!(1401)), "{path} with a wrong key");
        let (status, refused) = call(&system, &key, "POST", path, None).await;
        assert_eq!((status, refused["code"].clone()), (405, json!(1405)), "{path} by POST");
    }
}
