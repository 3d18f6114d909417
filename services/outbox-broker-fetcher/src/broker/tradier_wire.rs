//! Tradier's JSON for one order, read exactly.
//!
//! Numbers are read from their JSON text (serde_json's `RawValue`), never through `f64`, so
//! `0.1` stays `0.1` and `50.00000000` stays fifty. Tradier's known quirks are accepted:
//!
//! - `leg` is an array, or a single object when there is one leg;
//! - a value may be `null`, the string `"null"`, or a number written as a string;
//! - a `200` answer may carry `{"errors": {"error": [...]}}` (or a single string) instead of an
//!   order; "not found" there means the order is not visible (yet).

use super::order::status_from_tradier;
use super::{BrokerError, BrokerOrder};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::str::FromStr;

/// Longest broker message kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    order: Option<&'a RawValue>,
    #[serde(borrow, default)]
    errors: Option<&'a RawValue>,
}

/// The fields the fetcher reads; everything else stays in `raw` only.
#[derive(Deserialize)]
struct WireOrder<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    symbol: Option<&'a RawValue>,
    #[serde(borrow, default)]
    side: Option<&'a RawValue>,
    #[serde(borrow, default)]
    quantity: Option<&'a RawValue>,
    #[serde(borrow, default)]
    exec_quantity: Option<&'a RawValue>,
    #[serde(borrow, default)]
    avg_fill_price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    leg: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WireErrors {
    #[serde(default)]
    error: serde_json::Value,
}

/// Parses the body of a `2xx` answer to `GET /v1/accounts/{account_id}/orders/{id}`.
pub(crate) fn parse_order_response(body: &[u8]) -> Result<BrokerOrder, BrokerError> {
    let text = std::str::from_utf8(body)
        .map_err(|error| BrokerError::Malformed(format!("broker answered a body that is not UTF-8: {error}")))?;
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(json_error)?;
    match envelope.order {
        Some(order) if is_object(order) => parse_order(order, "order"),
        _ => match envelope.errors {
            Some(errors) if is_object(errors) => Err(errors_payload(errors)),
            _ => Err(BrokerError::Malformed("broker answered JSON without an `order` object".to_string())),
        },
    }
}

fn json_error(error: serde_json::Error) -> BrokerError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            BrokerError::Malformed(format!("broker answered invalid JSON: {error}"))
        }
        Category::Data => BrokerError::Malformed(format!("broker answered JSON of an unexpected shape: {error}")),
    }
}

fn is_object(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}

/// `null` or `"null"`.
fn is_null(raw: &RawValue) -> bool {
    matches!(raw.get().trim(), "null" | "\"null\"")
}

/// Tradier's `errors` payload: "not found" means not visible (yet); anything else is a refusal.
fn errors_payload(errors: &RawValue) -> BrokerError {
    let messages: Vec<String> = match serde_json::from_str::<WireErrors>(errors.get()) {
        Ok(WireErrors { error: serde_json::Value::String(message) }) => vec![message],
        Ok(WireErrors { error: serde_json::Value::Array(items) }) => {
            items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_string)).collect()
        }
        _ => vec![errors.get().to_string()],
    };
    if messages.iter().any(|message| message.to_ascii_lowercase().contains("not found")) {
        return BrokerError::NotVisible;
    }
    BrokerError::Refused { status: 200, message: shorten(&messages.join("; ")) }
}

/// At most [`MAX_MESSAGE_CHARS`] characters on one line.
pub(crate) fn shorten(message: &str) -> String {
    let one_line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_MESSAGE_CHARS {
        return one_line;
    }
    let mut short: String = one_line.chars().take(MAX_MESSAGE_CHARS).collect();
    short.push('…');
    short
}

/// One order object (`what` names it in error messages: `order`, `leg 2 of order 229063`).
fn parse_order(raw: &RawValue, what: &str) -> Result<BrokerOrder, BrokerError> {
    let wire: WireOrder<'_> = serde_json::from_str(raw.get())
        .map_err(|error| BrokerError::Malformed(format!("broker answered an unreadable {what}: {error}")))?;
    let id = text(wire.id).ok_or_else(|| BrokerError::Malformed(format!("{what} has no `id`")))?;
    let what = if what == "order" { format!("order {id}") } else { what.to_string() };
    let broker_status = text(wire.status).ok_or_else(|| BrokerError::Malformed(format!("{what} has no `status`")))?;
    let quantity = decimal(wire.quantity, "quantity", &what)?
        .ok_or_else(|| BrokerError::Malformed(format!("{what} has no `quantity`")))?;
    let filled_quantity = decimal(wire.exec_quantity, "exec_quantity", &what)?.unwrap_or(Decimal::ZERO);
    let avg_fill_price = decimal(wire.avg_fill_price, "avg_fill_price", &what)?;
    let legs = match wire.leg {
        Some(leg) if !is_null(leg) => legs(leg, &what)?,
        _ => Vec::new(),
    };
    let raw_value: serde_json::Value = serde_json::from_str(raw.get()).map_err(json_error)?;
    Ok(BrokerOrder {
        id,
        status: status_from_tradier(&broker_status),
        broker_status,
        symbol: text(wire.symbol),
        side: text(wire.side),
        quantity,
        avg_fill_price: avg_fill_price.filter(|_| !filled_quantity.is_zero()),
        filled_quantity,
        legs,
        raw: raw_value,
    })
}

/// `leg`: an array of orders, or a single order object.
fn legs(raw: &RawValue, parent: &str) -> Result<Vec<BrokerOrder>, BrokerError> {
    if is_object(raw) {
        return Ok(vec![parse_order(raw, &format!("leg 1 of {parent}"))?]);
    }
    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|error| {
        BrokerError::Malformed(format!("`leg` of {parent} is neither an object nor a list: {error}"))
    })?;
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| parse_order(item, &format!("leg {} of {parent}", index + 1)))
        .collect()
}

/// A string or number field as text; `None` for absent, `null`, `"null"` or empty.
fn text(raw: Option<&RawValue>) -> Option<String> {
    let raw = raw?;
    let value = match serde_json::from_str::<serde_json::Value>(raw.get()).ok()? {
        serde_json::Value::String(text) => text,
        serde_json::Value::Number(_) => raw.get().trim().to_string(),
        _ => return None,
    };
    let value = value.trim();
    (!value.is_empty() && value != "null").then(|| value.to_string())
}

/// A numeric field read exactly from its JSON text (a number, or a number in a string);
/// `None` for absent, `null`, `"null"` or an empty string.
fn decimal(raw: Option<&RawValue>, field: &str, what: &str) -> Result<Option<Decimal>, BrokerError> {
    let Some(raw) = raw else { return Ok(None) };
    let json = raw.get().trim();
    let number = if json.starts_with('"') {
        serde_json::from_str::<String>(json)
            .map_err(|error| BrokerError::Malformed(format!("`{field}` of {what} is unreadable: {error}")))?
    } else {
        json.to_string()
    };
    let number = number.trim();
    if number.is_empty() || number == "null" {
        return Ok(None);
    }
    let parsed = if number.contains(['e', 'E']) { Decimal::from_scientific(number) } else { Decimal::from_str(number) };
    parsed.map(Some).map_err(|_| {
        BrokerError::Malformed(format!("`{field}` of {what} is not a decimal number: {}", shorten(number)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn parse(body: &str) -> Result<BrokerOrder, BrokerError> {
        parse_order_response(body.as_bytes())
    }

    #[test]
    fn prices_and_quantities_are_exact() {
        let order = parse(
            r#"{"order":{"id":1,"status":"filled","quantity":0.3,"exec_quantity":"0.3",
                "avg_fill_price":0.1,"price":187.93,"symbol":"AAPL","side":"buy"}}"#,
        )
        .unwrap();
        assert_eq!(order.quantity, dec!(0.3));
        assert_eq!(order.filled_quantity, dec!(0.3));
        assert_eq!(order.avg_fill_price, Some(dec!(0.1)));
        assert_eq!(order.avg_fill_price.unwrap().to_string(), "0.1");
        let order =
            parse(r#"{"order":{"id":2,"status":"filled","quantity":1e2,"exec_quantity":100,"avg_fill_price":187.93}}"#)
                .unwrap();
        assert_eq!(order.quantity, dec!(100));
        assert_eq!(order.avg_fill_price, Some(dec!(187.93)));
        let digits = parse(
            r#"{"order":{"id":3,"status":"filled","quantity":1,"exec_quantity":1,"avg_fill_price":123456.123456789012}}"#,
        )
        .unwrap();
        assert_eq!(digits.avg_fill_price, Some(dec!(123456.123456789012)), "more digits than an f64 holds");
    }

    #[test]
    fn a_single_leg_object_and_null_patterns_are_accepted() {
        let order = parse(
            r#"{"order":{"id":10,"status":"open","quantity":1.00000000,"exec_quantity":"null","avg_fill_price":null,
                "symbol":"null","class":"multileg","leg":{"id":11,"status":"open","quantity":1,"side":"buy_to_open"}}}"#,
        )
        .unwrap();
        assert_eq!(order.filled_quantity, Decimal::ZERO);
        assert_eq!(order.avg_fill_price, None);
        assert_eq!(order.symbol, None);
        assert_eq!(order.legs.len(), 1);
        assert_eq!(order.legs[0].id, "11");
        assert_eq!(order.legs[0].side.as_deref(), Some("buy_to_open"));
        let no_legs = parse(r#"{"order":{"id":12,"status":"open","quantity":1,"leg":"null"}}"#).unwrap();
        assert!(no_legs.legs.is_empty());
    }

    #[test]
    fn nothing_filled_means_no_average_price() {
        let order = parse(
            r#"{"order":{"id":1,"status":"expired","quantity":5,"exec_quantity":0,"avg_fill_price":0.00000000}}"#,
        )
        .unwrap();
        assert_eq!(order.avg_fill_price, None);
        assert_eq!(order.status, crate::broker::OrderStatus::Expired);
        assert_eq!(order.broker_status, "expired");
    }

    #[test]
    fn an_errors_payload_is_not_visible_or_refused() {
        assert_eq!(parse(r#"{"errors":{"error":["Order not found"]}}"#), Err(BrokerError::NotVisible));
        assert_eq!(parse(r#"{"errors":{"error":"order not found"}}"#), Err(BrokerError::NotVisible));
        assert_eq!(
            parse(r#"{"errors":{"error":["AccountDisabled","Account is disabled"]}}"#),
            Err(BrokerError::Refused { status: 200, message: "AccountDisabled; Account is disabled".into() })
        );
    }

    #[test]
    fn unreadable_answers_say_what_is_wrong() {
        let error = parse(r#"{"order": {"id": 1, "status": "fi"#).unwrap_err();
        assert_eq!(
            error,
            BrokerError::Malformed(
                "broker answered invalid JSON: EOF while parsing a string at line 1 column 33".into()
            )
        );
        let error = parse(r#"{"order":{"status":"filled","quantity":1}}"#).unwrap_err();
        assert_eq!(error, BrokerError::Malformed("order has no `id`".into()));
        let error = parse(r#"{"order":{"id":5,"status":"filled","quantity":"lots"}}"#).unwrap_err();
        assert_eq!(error, BrokerError::Malformed("`quantity` of order 5 is not a decimal number: lots".into()));
        let error =
            parse(r#"{"order":{"id":5,"status":"filled","quantity":1,"leg":[{"id":6,"quantity":1}]}}"#).unwrap_err();
        assert_eq!(error, BrokerError::Malformed("leg 1 of order 5 has no `status`".into()));
        let error = parse(r#"{"orders":{"order":[]}}"#).unwrap_err();
        assert_eq!(error, BrokerError::Malformed("broker answered JSON without an `order` object".into()));
        assert!(
            matches!(parse("\"null\""), Err(BrokerError::Malformed(message)) if message.contains("unexpected shape"))
        );
        assert!(matches!(parse("[1,2]"), Err(BrokerError::Malformed(_))));
        assert!(matches!(parse_order_response(&[0xff, 0xfe]), Err(BrokerError::Malformed(_))));
    }

    #[test]
    fn long_messages_are_shortened_to_one_line() {
        let message = shorten(&format!("a\nb {}", "x".repeat(500)));
        assert!(message.starts_with("a b x"));
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
