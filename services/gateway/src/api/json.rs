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

/// Why an opaque JSON value (`metadata`, `state`) is refused.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum OpaqueError {
    /// Its text is longer than allowed.
    TooLarge {
        /// The limit, in bytes.
        max_bytes: usize,
    },
    /// A string or key holds the `\u0000` escape, which no Postgres text can store.
    Nul,
    /// A `\ud800`–`\udfff` escape without its pair: not a character at all.
    UnpairedSurrogate,
    /// A number with more than [`MAX_DIGITS`] digits or an exponent beyond ±[`MAX_EXPONENT`]:
    /// nine bytes such as `1e99999` would otherwise stand for 100,000 digits.
    HugeNumber,
}

/// The most digits (integer and fraction) a number inside opaque JSON may have.
pub const MAX_DIGITS: usize = 40;

/// The largest exponent (either sign) a number inside opaque JSON may have.
pub const MAX_EXPONENT: u32 = 40;

impl OpaqueError {
    /// The 400 message for `field`.
    pub fn message(self, field: &str) -> String {
        match self {
            OpaqueError::TooLarge { max_bytes } => {
                format!("{field} must be at most {} KiB ({max_bytes} bytes) of JSON", max_bytes / 1024)
            }
            OpaqueError::Nul => format!("{field} must not contain the \\u0000 character"),
            OpaqueError::UnpairedSurrogate => {
                format!("{field} must not contain an unpaired surrogate escape (\\ud800 to \\udfff)")
            }
            OpaqueError::HugeNumber => format!(
                "{field} must not contain a number with more than {MAX_DIGITS} digits or an exponent beyond ±{MAX_EXPONENT}"
            ),
        }
    }
}

/// Checks an opaque value that is stored and returned as sent: at most `max_bytes` bytes of
/// its text as it stood in the body, and nothing Postgres cannot store or that stands for far
/// more than it weighs. The value is valid JSON already (the body parsed), so this only scans
/// its strings and numbers.
pub fn check_opaque(raw: &RawValue, max_bytes: usize) -> Result<(), OpaqueError> {
    let text = raw.get().as_bytes();
    if text.len() > max_bytes {
        return Err(OpaqueError::TooLarge { max_bytes });
    }
    let mut at = 0;
    while let Some(&byte) = text.get(at) {
        at = match byte {
            b'"' => scan_string(text, at + 1)?,
            b'-' | b'0'..=b'9' => scan_number(text, at)?,
            _ => at + 1,
        };
    }
    Ok(())
}

/// The code unit of the `\uXXXX` escape whose `u` is at `at`.
fn escape_unit(text: &[u8], at: usize) -> Option<u16> {
    let hex = std::str::from_utf8(text.get(at + 1..at + 5)?).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

/// Scans a string from just after its opening quote; returns where it ends.
fn scan_string(text: &[u8], mut at: usize) -> Result<usize, OpaqueError> {
    while let Some(&byte) = text.get(at) {
        match byte {
            b'"' => return Ok(at + 1),
            b'\\' if text.get(at + 1) == Some(&b'u') => {
                let unit = escape_unit(text, at + 1).unwrap_or_default();
                at += 6;
                match unit {
                    0 => return Err(OpaqueError::Nul),
                    0xD800..=0xDBFF => {
                        let low = (text.get(at..at + 2) == Some(b"\\u")).then(|| escape_unit(text, at + 1)).flatten();
                        if !matches!(low, Some(0xDC00..=0xDFFF)) {
                            return Err(OpaqueError::UnpairedSurrogate);
                        }
                        at += 6;
                    }
                    0xDC00..=0xDFFF => return Err(OpaqueError::UnpairedSurrogate),
                    _ => {}
                }
            }
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
    Ok(at)
}

/// Scans a number from its first character; returns where it ends.
fn scan_number(text: &[u8], mut at: usize) -> Result<usize, OpaqueError> {
    let mut digits = 0;
    while let Some(&byte) = text.get(at) {
        match byte {
            b'0'..=b'9' => digits += 1,
            b'-' | b'.' => {}
            _ => break,
        }
        at += 1;
    }
    if digits > MAX_DIGITS {
        return Err(OpaqueError::HugeNumber);
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(text.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let start = at;
        while text.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let exponent = std::str::from_utf8(&text[start..at]).ok().map(|digits| digits.trim_start_matches('0'));
        let within =
            exponent.is_some_and(|digits| digits.len() <= 2 && digits.parse::<u32>().unwrap_or(0) <= MAX_EXPONENT);
        if !within {
            return Err(OpaqueError::HugeNumber);
        }
    }
    Ok(at)
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

    fn opaque(text: &str) -> Result<(), OpaqueError> {
        let object = parse_body(format!(r#"{{"v": {text}}}"#).as_bytes()).unwrap().unwrap();
        check_opaque(&object["v"], 1024)
    }

    #[test]
    fn opaque_json_is_refused_only_for_what_cannot_come_back_as_sent() {
        for fine in [
            r#"{"a": "x\\u0000", "b": "\\\\\u0041"}"#,
            r#"{"emoji": "\ud83d\ude00", "e": "\u00e9", "q": "\"\\"}"#,
            r#"{"n": [1e40, -1E-40, 1e+040, 0.123456789012345678901234567890123456789]}"#,
            r#"{"deep": {"list": [true, false, null, -0, 12.5e3]}}"#,
        ] {
            assert_eq!(opaque(fine), Ok(()), "{fine}");
        }
        assert_eq!(opaque(r#"{"a": "\u0000"}"#), Err(OpaqueError::Nul));
        assert_eq!(opaque(r#"{"a": "\\\u0000"}"#), Err(OpaqueError::Nul), "after an escaped backslash");
        assert_eq!(opaque(r#"{"x\u0000": 1}"#), Err(OpaqueError::Nul), "keys too");
        assert_eq!(opaque(r#"{"a": "\ud800"}"#), Err(OpaqueError::UnpairedSurrogate));
        assert_eq!(opaque(r#"{"a": "\ud800\u0041"}"#), Err(OpaqueError::UnpairedSurrogate));
        assert_eq!(opaque(r#"{"a": "\udc00"}"#), Err(OpaqueError::UnpairedSurrogate));
        assert_eq!(opaque(r#"{"a": 1e99999}"#), Err(OpaqueError::HugeNumber));
        assert_eq!(opaque(r#"{"a": 1e-41}"#), Err(OpaqueError::HugeNumber));
        assert_eq!(opaque(r#"{"a": 1e00000000000000000000000041}"#), Err(OpaqueError::HugeNumber));
        assert_eq!(opaque(&format!(r#"{{"a": {}}}"#, "9".repeat(41))), Err(OpaqueError::HugeNumber));
        let large = format!(r#"{{"a": "{}"}}"#, "x".repeat(1020));
        assert_eq!(opaque(&large), Err(OpaqueError::TooLarge { max_bytes: 1024 }));
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let object = parse_body(br#"{"known": 1, "extra": 2}"#).unwrap().unwrap();
        assert_eq!(unknown_field(&object, &["known"], "items[0]."), Some("Unknown field 'items[0].extra'".into()));
        assert_eq!(unknown_field(&object, &["known", "extra"], ""), None);
    }
}
