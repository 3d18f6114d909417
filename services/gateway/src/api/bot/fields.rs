//! Readers of single body fields, shared by the Bot API's validators. Each refuses with a
//! message naming the field, and also refuses what Postgres cannot store or a reply could not
//! carry back as sent: the NUL character, decimals beyond ±1e15 or with more than 18
//! decimal places, times outside the years 1000–9999, oversized or unreadable opaque JSON.

use crate::api::json::{self, Object};
use crate::api::time::parse_timestamp;
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, dec};
use serde_json::value::RawValue;

/// A field's value, or the 400 message naming it.
pub type Check<T> = Result<T, String>;

/// The most items a bulk array may hold (docs/api/common.md#body-limits).
pub const MAX_ITEMS: usize = 1000;

/// The most bytes of a `metadata` object, as its text stood in the body.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// The most bytes of one `state` object, as its text stood in the body.
pub const MAX_STATE_BYTES: usize = 64 * 1024;

/// The largest magnitude of a decimal field: a sum of any 1,000 of them stays far inside
/// what a decimal holds (about 7.9e28).
pub const MAX_DECIMAL: Decimal = dec!(1e15);

/// The most decimal places of a decimal field.
pub const MAX_SCALE: u32 = 18;

/// `field` under `path` (`transactions[0].symbol`), or `field` alone at the root.
pub fn join(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_string() } else { format!("{path}.{field}") }
}

/// A string Postgres can store: no NUL character (every other one is fine in `text`).
pub fn storable(text: String, name: &str) -> Check<String> {
    if text.contains('\0') { Err(format!("{name} must not contain the \\u0000 character")) } else { Ok(text) }
}

/// The message of a decimal out of [`bounded`]'s range.
fn out_of_bounds(name: &str) -> String {
    format!("{name} must be within ±1e15 and have at most {MAX_SCALE} decimal places")
}

/// A decimal within ±1e15 with at most 18 decimal places, as written (`1.0000` has four).
pub fn bounded(value: Decimal, name: &str) -> Check<Decimal> {
    if value.abs() > MAX_DECIMAL || value.scale() > MAX_SCALE { Err(out_of_bounds(name)) } else { Ok(value) }
}

/// A JSON number as a [`bounded`] decimal; `None` when `raw` is not a number. A number no
/// exact decimal holds (`5e-324`, `1e400`, 30 significant digits) is refused for its size,
/// like one past the bounds: it is a number, so "must be a number" would mislead.
pub fn number(raw: &RawValue, name: &str) -> Option<Check<Decimal>> {
    (json::kind(raw) == json::Kind::Number)
        .then(|| json::as_decimal(raw).ok_or_else(|| out_of_bounds(name)).and_then(|value| bounded(value, name)))
}

/// A [`bounded`] decimal written as a number or a numeric string (prices).
pub fn decimal_field(raw: &RawValue, name: &str) -> Check<Decimal> {
    number(raw, name).unwrap_or_else(|| {
        json::as_string(raw)
            .and_then(|text| json::exact_decimal(text.trim()))
            .ok_or_else(|| format!("{name} must be a number or a numeric string"))
            .and_then(|value| bounded(value, name))
    })
}

/// A required string field.
pub fn required_string(item: &Object, path: &str, field: &str) -> Check<String> {
    let name = join(path, field);
    let text = item
        .get(field)
        .and_then(|raw| json::as_string(raw))
        .ok_or_else(|| format!("{name} is required and must be a string"))?;
    storable(text, &name)
}

/// A non-empty string field (`symbol`, `assetType`, `side`, `type`).
pub fn non_empty(item: &Object, path: &str, field: &str) -> Check<String> {
    required_string(item, path, field).and_then(|text| {
        if text.trim().is_empty() {
            Err(format!("{} is required and must be a string", join(path, field)))
        } else {
            Ok(text)
        }
    })
}

/// An optional string field; `null` counts as absent.
pub fn optional_string(item: &Object, path: &str, field: &str) -> Check<Option<String>> {
    let name = join(path, field);
    match item.get(field) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == json::Kind::Null => Ok(None),
        Some(raw) => {
            let text = json::as_string(raw).ok_or_else(|| format!("{name} must be a string"))?;
            storable(text, &name).map(Some)
        }
    }
}

/// An optional decimal written as a number or a numeric string; `null` counts as absent.
pub fn optional_decimal(item: &Object, path: &str, field: &str) -> Check<Option<Decimal>> {
    let name = join(path, field);
    match item.get(field) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == json::Kind::Null => Ok(None),
        Some(raw) => decimal_field(raw, &name).map(Some),
    }
}

/// An optional time; `null` counts as absent.
pub fn optional_timestamp(item: &Object, path: &str, field: &str) -> Check<Option<DateTime<Utc>>> {
    let message = || format!("{} must be a valid ISO timestamp", join(path, field));
    match optional_string(item, path, field) {
        Ok(None) => Ok(None),
        Ok(Some(text)) => parse_timestamp(&text).map(Some).ok_or_else(message),
        Err(_) => Err(message()),
    }
}

/// An object kept as sent (`metadata`, `state`): an object, at most `max_bytes` of text,
/// nothing Postgres cannot store, no number that stands for far more than it weighs.
pub fn opaque_object(raw: Box<RawValue>, name: &str, max_bytes: usize) -> Check<Box<RawValue>> {
    if json::kind(&raw) != json::Kind::Object {
        return Err(format!("{name} must be an object"));
    }
    json::check_opaque(&raw, max_bytes).map_err(|error| error.message(name))?;
    Ok(raw)
}

/// The `metadata` of a trade or transaction (`{}` when absent), taken out of `item`.
pub fn metadata(item: &mut Object, path: &str) -> Check<Box<RawValue>> {
    match item.remove("metadata") {
        None => RawValue::from_string("{}".to_string()).map_err(|error| error.to_string()),
        Some(raw) => opaque_object(raw, &join(path, "metadata"), MAX_METADATA_BYTES),
    }
}

/// An array element that must be an object.
pub fn item_object(raw: &RawValue, path: &str) -> Check<Object> {
    json::as_object(raw).ok_or_else(|| format!("{path} must be an object"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Object {
        json::parse_body(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn strings_with_nul_are_refused_by_name() {
        let item = object(r#"{"a": "x\u0000y", "b": "ok"}"#);
        assert_eq!(required_string(&item, "t[0]", "a").unwrap_err(), "t[0].a must not contain the \\u0000 character");
        assert_eq!(optional_string(&item, "", "a").unwrap_err(), "a must not contain the \\u0000 character");
        assert_eq!(optional_string(&item, "", "b").unwrap().as_deref(), Some("ok"));
    }

    #[test]
    fn decimals_stay_within_their_bounds() {
        let item = object(
            r#"{"ok": 1000000000000000, "big": 1000000000000000.1, "neg": "-1e16",
                "places": 0.1234567890123456789, "fine": "0.123456789012345678",
                "tiny": 5e-324, "huge": 1e400, "long": 1.00000000000000000000000000001}"#,
        );
        assert_eq!(optional_decimal(&item, "", "ok").unwrap(), Some(MAX_DECIMAL));
        assert_eq!(optional_decimal(&item, "", "fine").unwrap().unwrap().scale(), 18);
        for field in ["big", "neg", "places", "tiny", "huge", "long"] {
            assert_eq!(
                optional_decimal(&item, "x", field).unwrap_err(),
                format!("x.{field} must be within ±1e15 and have at most 18 decimal places")
            );
        }
    }

    #[test]
    fn metadata_is_capped_by_its_text() {
        let at_limit = format!(r#"{{"metadata": {{"k": "{}"}}}}"#, "x".repeat(MAX_METADATA_BYTES - 9));
        assert!(metadata(&mut object(&at_limit), "").is_ok());
        let over = format!(r#"{{"metadata": {{"k": "{}"}}}}"#, "x".repeat(MAX_METADATA_BYTES - 8));
        assert_eq!(
            metadata(&mut object(&over), "transactions[3]").unwrap_err(),
            "transactions[3].metadata must be at most 16 KiB (16384 bytes) of JSON"
        );
        assert_eq!(metadata(&mut object(r#"{"metadata": [1]}"#), "").unwrap_err(), "metadata must be an object");
    }
}
