//! Reading request bodies exactly. A body is parsed into an object whose values stay raw JSON
//! text, so each field can be checked with the reference's own message, numbers become
//! decimals without passing through binary floating point, and opaque objects (a bot's
//! `state`, `metadata`) reach the database byte for byte.

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A JSON object whose values are unparsed.
pub type Object = BTreeMap<String, Box<RawValue>>;

/// Why a body is not JSON.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidJson;

/// The kind of a JSON value, read from its first character.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

/// The kind of a raw value.
pub fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'"') => Kind::String,
        Some(b'[') => Kind::Array,
        Some(b'{') => Kind::Object,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'n') => Kind::Null,
        _ => Kind::Number,
    }
}

/// Parses a body: `Ok(Some(object))` for a JSON object, `Ok(None)` for any other JSON value,
/// `Err` when it is not JSON at all.
pub fn parse_body(bytes: &[u8]) -> Result<Option<Object>, InvalidJson> {
    let raw: Box<RawValue> = serde_json::from_slice(bytes).map_err(|_| InvalidJson)?;
    Ok(as_object(&raw))
}

/// The value as an object of raw values, if it is one.
pub fn as_object(raw: &RawValue) -> Option<Object> {
    (kind(raw) == Kind::Object).then(|| serde_json::from_str(raw.get()).ok()).flatten()
}

/// The value as an array of raw values, if it is one.
pub fn as_array(raw: &RawValue) -> Option<Vec<Box<RawValue>>> {
    (kind(raw) == Kind::Array).then(|| serde_json::from_str(raw.get()).ok()).flatten()
}

/// The value as a string, if it is one.
pub fn as_string(raw: &RawValue) -> Option<String> {
    (kind(raw) == Kind::String).then(|| serde_json::from_str(raw.get()).ok()).flatten()
}

/// The value as an exact decimal, if it is a JSON number that fits one (28 significant digits).
pub fn as_decimal(raw: &RawValue) -> Option<Decimal> {
    if kind(raw) != Kind::Number {
        return None;
    }
    exact_decimal(raw.get())
}

/// Parses decimal text exactly: a value that does not fit 28 significant digits is refused,
/// never rounded (also in exponent form, whose mantissa is checked first).
pub fn exact_decimal(text: &str) -> Option<Decimal> {
    match text.split_once(['e', 'E']) {
        None => Decimal::from_str_exact(text).ok(),
        Some((mantissa, _)) => {
            Decimal::from_str_exact(mantissa).ok()?;
            Decimal::from_scientific(text).ok()
        }
    }
}

/// Whether an opaque JSON value can be stored as `jsonb`: Postgres refuses the `\u0000` escape.
pub fn storable(raw: &RawValue) -> bool {
    !raw.get().contains("\\u0000")
}

/// The first key of `object` that is not in `known`, as `Unknown field '<prefix><key>'`.
pub fn unknown_field(object: &Object, known: &[&str], prefix: &str) -> Option<String> {
    object.keys().find(|key| !known.contains(&key.as_str())).map(|key| format!("Unknown field '{prefix}{key}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn numbers_are_read_exactly() {
        assert_eq!(as_decimal(&raw("0.1")), Some(dec!(0.1)));
        assert_eq!(as_decimal(&raw("12345678901234567.123456789")), Some(dec!(12345678901234567.123456789)));
        assert_eq!(as_decimal(&raw("1e3")), Some(dec!(1000)));
        assert_eq!(as_decimal(&raw("-2.50")), Some(dec!(-2.50)));
        assert_eq!(as_decimal(&raw("\"1\"")), None, "a string is not a number");
    }

    #[test]
    fn bodies_that_are_not_objects_or_not_json_are_told_apart() {
        assert!(matches!(parse_body(b"{oops"), Err(InvalidJson)));
        assert!(matches!(parse_body(b"[1]"), Ok(None)));
        let object = parse_body(br#"{"a": {"x": 1.10}, "b": "s"}"#).unwrap().unwrap();
        assert_eq!(object["a"].get(), r#"{"x": 1.10}"#, "nested values keep their text");
        assert_eq!(as_string(&object["b"]).as_deref(), Some("s"));
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let object = parse_body(br#"{"known": 1, "extra": 2}"#).unwrap().unwrap();
        assert_eq!(unknown_field(&object, &["known"], "items[0]."), Some("Unknown field 'items[0].extra'".into()));
        assert_eq!(unknown_field(&object, &["known", "extra"], ""), None);
    }
}
