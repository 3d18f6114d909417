#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_decimal::dec;
use serde_json::{Value, json};

use super::*;
use crate::scripts::{SettingType, SettingValue, script};

fn parse(v: Value) -> Result<BotSettings, serde_json::Error> {
    serde_json::from_value(v)
}

fn field(s: &BotSettings) -> String {
    s.validate().unwrap_err().field
}

/// The reference's `POST /bots/create` example, on our market.
fn spot_grid() -> Value {
    json!({"type": "spot_grid", "settings": {
        "symbol": "SIM_ETH_USDT_", "lowerLimit": 3000, "upperLimit": 4000, "gridMode": "Arithmetic",
        "gridCount": 2, "investmentAsset": "Quote", "investmentAmount": 100, "tradeToFillGrid": false,
        "startCondition": "Instant", "startType": "Above value", "startValue": 0,
        "stopCondition": "Manual", "stopType": "Above value", "stopValue": 0, "stopExit": false
    }})
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v["settings"][key] = val;
    v
}

#[test]
fn reference_spot_grid_reads() {
    let s = parse(spot_grid()).unwrap();
    let BotSettings::SpotGrid(g) = &s else { panic!("{s:?}") };
    assert_eq!((g.lower_limit, g.upper_limit, g.grid_count), (dec!(3000), dec!(4000), 2));
    assert_eq!(g.asset(), InvestmentAsset::Quote);
    assert_eq!(s.script_type().as_str(), "spot_grid");
    assert_eq!(s.symbol(), "SIM_ETH_USDT_");
    s.validate().unwrap();
    // Round trip.
    assert_eq!(parse(serde_json::to_value(&s).unwrap()).unwrap(), s);
}

#[test]
fn reference_futures_grid_reads() {
    let v = json!({"type": "futures_grid", "settings": {
        "lowerLimit": 3000, "upperLimit": 4000, "gridMode": "Arithmetic", "gridCount": 2,
        "investmentAmount": 100, "maxWin": 50, "maxLoss": 20, "startCondition": "Instant",
        "startType": "Above value", "startValue": 0, "stopCondition": "Manual", "stopType": "Above value",
        "stopValue": 0, "stopExit": false, "symbol": "SIM_ETH_USDT_", "leverage": 5
    }});
    let s = parse(v).unwrap();
    let BotSettings::FuturesGrid(g) = &s else { panic!() };
    assert_eq!((g.max_win, g.max_loss, g.leverage()), (Some(dec!(50)), Some(dec!(20)), 5));
    s.validate().unwrap();
}

#[test]
fn unknown_settings_are_refused() {
    let e = parse(with(spot_grid(), "grid_levels", json!(10))).unwrap_err();
    assert!(e.to_string().contains("unknown field `grid_levels`"), "{e}");
}

#[test]
fn settings_of_the_other_market_type_are_refused() {
    let s = parse(with(spot_grid(), "maxWin", json!(5))).unwrap();
    assert_eq!(field(&s), "maxWin");
    let s = parse(with(spot_grid(), "leverage", json!(2))).unwrap();
    assert_eq!(field(&s), "leverage");
    let mut v = with(spot_grid(), "tradeToFillGrid", json!(true));
    v["type"] = json!("futures_grid");
    assert_eq!(field(&parse(v).unwrap()), "investmentAsset");
}

#[test]
fn grid_validation_names_the_field() {
    let cases = [
        ("lowerLimit", json!(0)),
        ("upperLimit", json!(2999)),
        ("gridCount", json!(0)),
        ("gridCount", json!(1001)),
        ("investmentAmount", json!(-1)),
        ("symbol", json!(" ")),
        ("interval", json!(0)),
    ];
    for (k, v) in cases {
        let s = parse(with(spot_grid(), k, v.clone())).unwrap();
        assert_eq!(field(&s), k, "{k} = {v}");
    }
    let v = with(with(spot_grid(), "stopCondition", json!("RSI")), "stopValue", json!(101));
    assert_eq!(field(&parse(v).unwrap()), "stopValue");
    let e = parse(with(spot_grid(), "startType", json!("Above"))).unwrap_err();
    assert!(e.to_string().contains("unknown variant"), "{e}");
}

fn dca(kind: &str) -> Value {
    json!({"type": kind, "settings": {
        "symbol": "SIM_BTC_USDT_", "direction": "Buy", "baseOrderAmount": 100, "safetyOrderAmount": 200,
        "maxSafetyOrders": 5, "priceDeviation": 1, "safetyOrderStepScale": 1, "safetyOrderVolumeScale": 1,
        "takeProfit": 1
    }})
}

#[test]
fn dca_reads_and_validates() {
    let s = parse(dca("spot_dollar_cost_averaging")).unwrap();
    s.validate().unwrap();
    let cases = [
        ("baseOrderAmount", json!(0)),
        ("safetyOrderAmount", json!(0)),
        ("maxSafetyOrders", json!(101)),
        ("priceDeviation", json!(100)),
        ("safetyOrderStepScale", json!(0)),
        ("safetyOrderVolumeScale", json!(11)),
        ("takeProfit", json!(0)),
        ("leverage", json!(3)),
    ];
    for (k, v) in cases {
        let s = parse(with(dca("spot_dollar_cost_averaging"), k, v.clone())).unwrap();
        assert_eq!(field(&s), k, "{k} = {v}");
    }
    // 5 safety orders 25 % apart reach 125 % below the base price.
    let s = parse(with(dca("spot_dollar_cost_averaging"), "priceDeviation", json!(25))).unwrap();
    assert_eq!(field(&s), "priceDeviation");
    // A short deal can go that far up.
    let v = with(with(dca("spot_dollar_cost_averaging"), "priceDeviation", json!(25)), "direction", json!("Sell"));
    parse(v).unwrap().validate().unwrap();
    // Futures take a leverage.
    let s = parse(with(dca("futures_dollar_cost_averaging"), "leverage", json!(3))).unwrap();
    s.validate().unwrap();
    let s = parse(with(dca("futures_dollar_cost_averaging"), "leverage", json!(101))).unwrap();
    assert_eq!(field(&s), "leverage");
}

#[test]
fn dca_defaults() {
    let v = json!({"type": "spot_dollar_cost_averaging", "settings": {
        "symbol": "SIM_BTC_USDT_", "baseOrderAmount": 10, "safetyOrderAmount": 20
    }});
    let BotSettings::SpotDca(d) = parse(v).unwrap() else { panic!() };
    assert_eq!(d.direction, DcaDirection::Buy);
    assert_eq!((d.max_safety_orders, d.price_deviation, d.take_profit), (5, dec!(2), dec!(1)));
}

fn webhook(signals: Value) -> Value {
    json!({"type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_", "signalToken": "t", "signals": signals}})
}

#[test]
fn webhook_signals_read_and_validate() {
    let v = webhook(json!([
        {"timestamp": 1_700_000_000, "action": "buy", "amount": 0.01},
        {"timestamp": 1_700_000_060, "action": "exit_long", "amount": "0.5", "price": 101.5}
    ]));
    let s = parse(v).unwrap();
    s.validate().unwrap();
    let BotSettings::Webhook(w) = &s else { panic!() };
    assert_eq!(w.signals[1].action, SignalAction::ExitLong);
    assert_eq!(w.signals[1].price, Some(dec!(101.5)));
    assert_eq!(w.signals[0].amount, dec!(0.01), "JSON numbers are read exactly");

    let e = parse(webhook(json!([{"timestamp": 1, "action": "BUY", "amount": 1}]))).unwrap_err();
    assert!(e.to_string().contains("unknown variant `BUY`"), "actions are lowercase only: {e}");
    let s = parse(webhook(json!([
        {"timestamp": 1, "action": "buy", "amount": 1},
        {"timestamp": 2, "action": "sell", "amount": 0}
    ])))
    .unwrap();
    assert_eq!(field(&s), "signals[1].amount");
    let s = parse(webhook(json!([{"timestamp": 1, "action": "buy", "amount": 1, "price": -1}]))).unwrap();
    assert_eq!(field(&s), "signals[0].price");
}

/// A sample value of a setting for the metadata checks.
fn sample(key: &str, kind: SettingType, options: &[&str]) -> Value {
    match (key, kind) {
        ("upperLimit", _) => json!(200),
        ("lowerLimit", _) => json!(100),
        (_, SettingType::String) => json!("SIM_BTC_USDT_"),
        (_, SettingType::Number) => json!(1),
        (_, SettingType::Option) => json!(options[0]),
        (_, SettingType::Boolean) => json!(false),
        (_, SettingType::Array) => json!([]),
    }
}

#[test]
fn metadata_keys_are_exactly_the_settings() {
    for t in crate::ScriptType::ALL {
        let meta = script(t);
        // Every setting listed, with a sample value, reads and validates.
        let all: serde_json::Map<String, Value> =
            meta.settings.iter().map(|m| (m.key.to_owned(), sample(m.key, m.kind, &m.options))).collect();
        let full = json!({"type": t.as_str(), "settings": Value::Object(all.clone())});
        let s = parse(full).unwrap_or_else(|e| panic!("{t:?}: {e}"));
        assert_eq!(s.script_type(), t);
        s.validate().unwrap_or_else(|e| panic!("{t:?}: {e}"));
        // Only the required ones: reads, and the defaults are the metadata's.
        let required: serde_json::Map<String, Value> = all
            .iter()
            .filter(|(k, _)| meta.settings.iter().any(|m| m.key == *k && m.required))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let s = parse(json!({"type": t.as_str(), "settings": Value::Object(required.clone())}))
            .unwrap_or_else(|e| panic!("{t:?} required only: {e}"));
        let back = serde_json::to_value(&s).unwrap();
        for m in meta.settings.iter().filter(|m| !m.required) {
            let got = back["settings"].get(m.key);
            let want = match &m.value {
                SettingValue::None => None,
                SettingValue::Text(t) => Some(json!(t)),
                SettingValue::Number(d) => Some(json!(d.to_string())),
                SettingValue::Bool(b) => Some(json!(b)),
                SettingValue::EmptyArray => Some(json!([])),
            };
            // Type-specific settings are optional in the shared struct: absent means default.
            if let (None, Some(_)) = (got, &want) {
                assert!(
                    matches!(m.key, "leverage" | "maxWin" | "maxLoss" | "investmentAsset" | "tradeToFillGrid"),
                    "{t:?} {}",
                    m.key
                );
                continue;
            }
            if let (Some(got), SettingValue::Number(d)) = (got, &m.value) {
                let n: rust_decimal::Decimal = got.to_string().trim_matches('"').parse().unwrap();
                assert_eq!(n, *d, "{t:?} default of {}", m.key);
                continue;
            }
            assert_eq!(got.cloned(), want, "{t:?} default of {}", m.key);
        }
        // Each required one missing fails.
        for k in required.keys() {
            let mut less = required.clone();
            less.remove(k);
            let r = parse(json!({"type": t.as_str(), "settings": Value::Object(less)}));
            assert!(r.is_err(), "{t:?} without {k} should fail");
        }
    }
}

#[test]
fn metadata_serializes_like_the_reference() {
    let v = serde_json::to_value(crate::scripts()).unwrap();
    let grid = &v[0];
    assert_eq!(grid["type"], "spot_grid");
    let lower = &grid["settings"][1];
    assert_eq!(lower["key"], "lowerLimit");
    assert_eq!(lower["value"], json!(null));
    assert_eq!(lower["canBeEdited"], json!(false));
    let stop_exit = grid["settings"].as_array().unwrap().iter().find(|s| s["key"] == "stopExit").unwrap();
    assert_eq!((stop_exit["value"].clone(), stop_exit["canBeEdited"].clone()), (json!(false), json!(true)));
    let signals = v[4]["settings"].as_array().unwrap().iter().find(|s| s["key"] == "signals").unwrap();
    assert_eq!(
        (signals["backtestOnly"].clone(), signals["value"].clone(), signals["type"].clone()),
        (json!(true), json!([]), json!("array"))
    );
    let dev = v[2]["settings"].as_array().unwrap().iter().find(|s| s["key"] == "priceDeviation").unwrap();
    assert_eq!(dev["value"], json!(2));
}
