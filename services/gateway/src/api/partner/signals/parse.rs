//! Reading `signals/send` and `signals/get` bodies (docs/live.md#signals). A signal is checked
//! whole before anybody is asked: JSON → unknown fields (`Unknown field 'signal.x'`) → each
//! field in the reference's order, every message naming its path → the time rules, against
//! the gateway's clock. Each refusal is 400, code 1000.

use crate::api::json::{self, Kind, Object};
use crate::api::partner::errors::PartnerApiError;
use crate::api::partner::fields::{body_object, invalid};
use bus::messages::partner::reference::JsonDecimal;
use bus::messages::signals::{GetSignal, InvestmentTypeMsg, SignalActionMsg, SignalMsg};
use domain::PartnerId;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::value::RawValue;

/// The fields a signal may have.
const SIGNAL_FIELDS: [&str; 8] =
    ["signalToken", "action", "amount", "timestamp", "price", "investmentType", "maxLag", "metadata"];

/// The longest token: the longest a webhook bot's `signalToken` may be.
pub const MAX_TOKEN_CHARS: usize = 128;

/// The most bytes of `metadata` kept, as it stood in the body.
pub const MAX_METADATA_BYTES: usize = 4 * 1024;

/// How far ahead of the gateway's clock a timestamp may be (clocks drift).
pub const FUTURE_TOLERANCE_SECS: i64 = 60;

/// The largest `maxLag` (and `timestamp`), seconds: what the document states.
pub const MAX_LAG_SECS: i64 = 9_999_999_999;

/// The largest `amount` or `price`.
pub const MAX_NUMBER: i64 = 1_000_000_000_000_000;

/// The most decimal places of an `amount` or `price`.
pub const MAX_SCALE: u32 = 18;

/// The message of an action that is not one of the six, spelled lowercase.
pub const ACTION_MESSAGE: &str =
    "signal.action must be one of buy, sell, enter_long, exit_long, enter_short, exit_short";

/// `signals/send`: `{signal: {...}}`, checked at `now` (Unix seconds).
pub fn send(body: &[u8], now: i64) -> Result<SignalMsg, PartnerApiError> {
    let object = body_object(body, &["signal"])?;
    let signal = object
        .get("signal")
        .filter(|raw| json::kind(raw) == Kind::Object)
        .and_then(|raw| json::as_object(raw))
        .ok_or_else(|| invalid("signal is required and must be an object"))?;
    if let Some(message) = json::unknown_field(&signal, &SIGNAL_FIELDS, "signal.") {
        return Err(invalid(message));
    }
    let signal_token = token(&signal, "signal.signalToken")?;
    let action = signal
        .get("action")
        .and_then(|raw| json::as_string(raw))
        .and_then(|text| SignalActionMsg::parse(&text))
        .ok_or_else(|| invalid(ACTION_MESSAGE))?;
    let amount = positive(&signal, "amount")?.ok_or_else(|| invalid("signal.amount is required"))?;
    let timestamp = integer(&signal, "timestamp", 0)?.ok_or_else(|| invalid("signal.timestamp is required"))?;
    let price = positive(&signal, "price")?;
    let investment_type = investment_type(&signal)?;
    let max_lag = integer(&signal, "maxLag", 1)?;
    if max_lag.is_some_and(|max_lag| max_lag > MAX_LAG_SECS) {
        return Err(invalid(format!("signal.maxLag must be at most {MAX_LAG_SECS}")));
    }
    let metadata = metadata(&signal)?;
    if timestamp > now.saturating_add(FUTURE_TOLERANCE_SECS) {
        return Err(invalid("signal.timestamp is in the future"));
    }
    if let Some(max_lag) = max_lag
        && now.saturating_sub(timestamp) > max_lag
    {
        return Err(invalid(format!("signal is older than maxLag ({max_lag} s)")));
    }
    Ok(SignalMsg {
        signal_token,
        action,
        amount: JsonDecimal(amount),
        timestamp,
        price: price.map(JsonDecimal),
        investment_type,
        max_lag,
        metadata,
    })
}

/// `signals/get`: `{signalToken}`, with a signal's token rules.
pub fn get(partner_id: PartnerId, body: &[u8]) -> Result<GetSignal, PartnerApiError> {
    let object = body_object(body, &["signalToken"])?;
    Ok(GetSignal { partner_id, signal_token: token(&object, "signalToken")? })
}

/// A token: not blank, at most 128 characters, no NUL (no Postgres text can hold it).
fn token(object: &Object, path: &str) -> Result<String, PartnerApiError> {
    let token = object
        .get("signalToken")
        .and_then(|raw| json::as_string(raw))
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| invalid(format!("{path} is required and must be a non-empty string")))?;
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(invalid(format!("{path} must be at most {MAX_TOKEN_CHARS} characters")));
    }
    if token.contains('\0') {
        return Err(invalid(format!("{path} must not contain the \\u0000 character")));
    }
    Ok(token)
}

/// An optional positive number (`null` is absent) up to 1e15 with at most 18 decimal places,
/// read exactly.
fn positive(signal: &Object, name: &str) -> Result<Option<Decimal>, PartnerApiError> {
    let raw = match signal.get(name) {
        None => return Ok(None),
        Some(raw) if json::kind(raw) == Kind::Null => return Ok(None),
        Some(raw) => raw,
    };
    if json::kind(raw) != Kind::Number
        || raw.get().starts_with('-')
        || json::as_decimal(raw).is_some_and(|v| v.is_zero())
    {
        return Err(invalid(format!("signal.{name} must be a positive number")));
    }
    json::as_decimal(raw)
        .map(|value| value.normalize())
        .filter(|value| *value <= Decimal::from(MAX_NUMBER) && value.scale() <= MAX_SCALE)
        .map(Some)
        .ok_or_else(|| invalid(format!("signal.{name} must be at most 1e15 with at most 18 decimal places")))
}

/// An optional integer of at least `min` (`null` is absent). As in JSON Schema, `5.0` is the
/// integer 5.
fn integer(signal: &Object, name: &str, min: i64) -> Result<Option<i64>, PartnerApiError> {
    let refused = || invalid(format!("signal.{name} must be an integer of at least {min}"));
    match signal.get(name) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == Kind::Null => Ok(None),
        Some(raw) => json::as_decimal(raw)
            .filter(|value| value.fract().is_zero())
            .and_then(|value| value.to_i64())
            .filter(|value| *value >= min)
            .map(Some)
            .ok_or_else(refused),
    }
}

fn investment_type(signal: &Object) -> Result<InvestmentTypeMsg, PartnerApiError> {
    match signal.get("investmentType") {
        None => Ok(InvestmentTypeMsg::Base),
        Some(raw) if json::kind(raw) == Kind::Null => Ok(InvestmentTypeMsg::Base),
        Some(raw) => match json::as_string(raw).as_deref() {
            Some("base") => Ok(InvestmentTypeMsg::Base),
            Some("quote") => Ok(InvestmentTypeMsg::Quote),
            _ => Err(invalid("signal.investmentType must be base or quote")),
        },
    }
}

/// The partner's object as sent (`{}` when absent or null), at most 4 KiB.
fn metadata(signal: &Object) -> Result<Box<RawValue>, PartnerApiError> {
    match signal.get("metadata") {
        None => Ok(empty_object()),
        Some(raw) if json::kind(raw) == Kind::Null => Ok(empty_object()),
        Some(raw) if json::kind(raw) == Kind::Object => {
            json::check_opaque(raw, MAX_METADATA_BYTES).map_err(|error| invalid(error.message("signal.metadata")))?;
            Ok(raw.clone())
        }
        Some(_) => Err(invalid("signal.metadata must be an object")),
    }
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_else(|_| unreachable!("`{{}}` is JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn send_json(signal: serde_json::Value) -> Result<SignalMsg, String> {
        let body = serde_json::json!({ "signal": signal }).to_string();
        send(body.as_bytes(), NOW).map_err(|error| match error {
            PartnerApiError::Validation(message) => message,
            other => panic!("not a validation error: {other:?}"),
        })
    }

    fn minimal() -> serde_json::Value {
        serde_json::json!({"signalToken": "tok", "action": "buy", "amount": 0.01, "timestamp": NOW})
    }

    fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut signal = minimal();
        signal[key] = value;
        signal
    }

    fn without(key: &str) -> serde_json::Value {
        let mut signal = minimal();
        signal.as_object_mut().unwrap().remove(key);
        signal
    }

    #[test]
    fn a_minimal_signal_gets_its_defaults() {
        let signal = send_json(minimal()).unwrap();
        assert_eq!((signal.signal_token.as_str(), signal.action, signal.timestamp), ("tok", SignalActionMsg::Buy, NOW));
        assert_eq!((signal.amount, signal.price, signal.max_lag), (JsonDecimal(Decimal::new(1, 2)), None, None));
        assert_eq!((signal.investment_type, signal.metadata.get()), (InvestmentTypeMsg::Base, "{}"));
    }

    #[test]
    fn every_field_is_read_exactly_and_metadata_is_kept_as_sent() {
        let signal = send_json(serde_json::json!({"signalToken": "tok", "action": "exit_short", "amount": 12.5,
            "timestamp": NOW - 30, "price": 43250.5, "investmentType": "quote", "maxLag": 60,
            "metadata": {"source": "TradingView", "confidence": 0.85}}))
        .unwrap();
        assert_eq!(signal.action, SignalActionMsg::ExitShort);
        assert_eq!((signal.price, signal.max_lag), (Some(JsonDecimal(Decimal::new(432505, 1))), Some(60)));
        assert_eq!(signal.investment_type, InvestmentTypeMsg::Quote);
        assert_eq!(signal.metadata.get(), r#"{"confidence":0.85,"source":"TradingView"}"#);
        let body = br#"{"signal": {"signalToken": "t", "action": "sell", "amount": 1, "timestamp": 1800000000,
            "metadata": {"b": 1,  "a": [1.50, "x"]}}}"#;
        assert_eq!(send(body, NOW).unwrap().metadata.get(), r#"{"b": 1,  "a": [1.50, "x"]}"#, "byte for byte");
    }

    #[test]
    fn actions_are_lowercase_only() {
        for action in ["buy", "sell", "enter_long", "exit_long", "enter_short", "exit_short"] {
            assert!(send_json(with("action", action.into())).is_ok(), "{action}");
        }
        for action in
            [serde_json::json!("BUY"), serde_json::json!("Buy"), serde_json::json!("hold"), serde_json::json!(1)]
        {
            assert_eq!(send_json(with("action", action)).unwrap_err(), ACTION_MESSAGE);
        }
        assert_eq!(send_json(without("action")).unwrap_err(), ACTION_MESSAGE);
    }

    #[test]
    fn required_fields_are_named_by_their_path() {
        assert_eq!(
            send_json(without("signalToken")).unwrap_err(),
            "signal.signalToken is required and must be a non-empty string"
        );
        assert_eq!(
            send_json(with("signalToken", " ".into())).unwrap_err(),
            "signal.signalToken is required and must be a non-empty string"
        );
        assert_eq!(
            send_json(with("signalToken", "x".repeat(129).into())).unwrap_err(),
            "signal.signalToken must be at most 128 characters"
        );
        assert_eq!(send_json(without("amount")).unwrap_err(), "signal.amount is required");
        assert_eq!(send_json(without("timestamp")).unwrap_err(), "signal.timestamp is required");
        let body = serde_json::json!({}).to_string();
        assert_eq!(send(body.as_bytes(), NOW).unwrap_err(), invalid("signal is required and must be an object"));
        let body = serde_json::json!({"signal": [1]}).to_string();
        assert_eq!(send(body.as_bytes(), NOW).unwrap_err(), invalid("signal is required and must be an object"));
    }

    #[test]
    fn numbers_must_be_positive_and_integers_whole() {
        for amount in [serde_json::json!(0), serde_json::json!(-1), serde_json::json!("1"), serde_json::json!(true)] {
            assert_eq!(send_json(with("amount", amount)).unwrap_err(), "signal.amount must be a positive number");
        }
        assert_eq!(send_json(with("price", 0.into())).unwrap_err(), "signal.price must be a positive number");
        assert_eq!(send_json(with("price", serde_json::Value::Null)).unwrap().price, None, "null price: market");
        assert_eq!(
            send_json(with("timestamp", serde_json::json!(1_800_000_000.0))).unwrap().timestamp,
            NOW,
            "5.0 is 5"
        );
        for timestamp in [serde_json::json!(1.5), serde_json::json!(-1), serde_json::json!("1800000000")] {
            assert_eq!(
                send_json(with("timestamp", timestamp)).unwrap_err(),
                "signal.timestamp must be an integer of at least 0"
            );
        }
        assert_eq!(send_json(with("maxLag", 0.into())).unwrap_err(), "signal.maxLag must be an integer of at least 1");
        assert_eq!(
            send_json(with("maxLag", 10_000_000_000_i64.into())).unwrap_err(),
            "signal.maxLag must be at most 9999999999"
        );
        assert_eq!(
            send_json(with("signalToken", "a\u{0}b".into())).unwrap_err(),
            "signal.signalToken must not contain the \\u0000 character"
        );
        for huge in ["1e40", "1000000000000000.5", "0.0000000000000000001"] {
            let body =
                format!(r#"{{"signal": {{"signalToken": "t", "action": "buy", "amount": {huge}, "timestamp": 0}}}}"#);
            assert_eq!(
                send(body.as_bytes(), NOW).unwrap_err(),
                invalid("signal.amount must be at most 1e15 with at most 18 decimal places"),
                "{huge}"
            );
        }
        let body = br#"{"signal": {"signalToken": "t", "action": "buy", "amount": 1000000000000000, "timestamp": 0}}"#;
        assert!(send(body, NOW).is_ok(), "1e15 itself is allowed");
    }

    #[test]
    fn time_rules_use_the_gateways_clock() {
        assert!(send_json(with("timestamp", (NOW + 60).into())).is_ok(), "a minute of drift is allowed");
        assert_eq!(send_json(with("timestamp", (NOW + 61).into())).unwrap_err(), "signal.timestamp is in the future");
        let mut old = with("timestamp", (NOW - 3600).into());
        old["maxLag"] = 60.into();
        assert_eq!(send_json(old).unwrap_err(), "signal is older than maxLag (60 s)");
        let mut in_time = with("timestamp", (NOW - 60).into());
        in_time["maxLag"] = 60.into();
        assert!(send_json(in_time).is_ok(), "exactly maxLag old is in time");
        assert!(send_json(with("timestamp", 0.into())).is_ok(), "no maxLag: no age limit");
    }

    #[test]
    fn investment_type_and_metadata_have_their_rules() {
        assert_eq!(
            send_json(with("investmentType", "Base".into())).unwrap_err(),
            "signal.investmentType must be base or quote"
        );
        assert_eq!(
            send_json(with("metadata", serde_json::json!([1]))).unwrap_err(),
            "signal.metadata must be an object"
        );
        let big = serde_json::json!({"x": "y".repeat(4096)});
        assert_eq!(
            send_json(with("metadata", big)).unwrap_err(),
            "signal.metadata must be at most 4 KiB (4096 bytes) of JSON"
        );
        assert_eq!(
            send_json(with("metadata", serde_json::json!({"n": "\u{0}"}))).unwrap_err(),
            "signal.metadata must not contain the \\u0000 character"
        );
    }

    #[test]
    fn unknown_fields_are_refused_at_either_level() {
        assert_eq!(send_json(with("leverage", 2.into())).unwrap_err(), "Unknown field 'signal.leverage'");
        let body = serde_json::json!({"signal": minimal(), "extra": 1}).to_string();
        assert_eq!(send(body.as_bytes(), NOW).unwrap_err(), invalid("Unknown field 'extra'"));
        assert_eq!(send(b"{", NOW).unwrap_err(), invalid("Invalid JSON in request body"));
    }

    #[test]
    fn get_needs_a_token() {
        let partner = PartnerId::new();
        assert_eq!(get(partner, br#"{"signalToken": "tok"}"#).unwrap().signal_token, "tok");
        for body in [&br#"{}"#[..], br#"{"signalToken": null}"#, br#"{"signalToken": ""}"#] {
            assert_eq!(
                get(partner, body).unwrap_err(),
                invalid("signalToken is required and must be a non-empty string")
            );
        }
        assert_eq!(get(partner, br#"{"signalToken": "t", "x": 1}"#).unwrap_err(), invalid("Unknown field 'x'"));
        let long = format!(r#"{{"signalToken": "{}"}}"#, "x".repeat(129));
        assert_eq!(get(partner, long.as_bytes()).unwrap_err(), invalid("signalToken must be at most 128 characters"));
        assert_eq!(
            get(partner, br#"{"signalToken": "a\u0000b"}"#).unwrap_err(),
            invalid("signalToken must not contain the \\u0000 character")
        );
    }
}
