//! The paging of every partner list route (`users/list`, `bots/list`, `bots/user`, `bots/logs`,
//! `bots/positions/closed`): `limit` and `nextPageId` in a JSON body, answered as
//! `{items, nextPageId}`
//! (docs/api/partner.md#paging).
//!
//! - The body may be empty, `null`, `{}` or an object; other fields than `limit`, `nextPageId` and the
//!   ones the route names are refused (`Unknown field 'x'`).
//! - `limit` absent or -1 means [`MAX_PAGE_LIMIT`]; otherwise an integer from 1 to it.
//! - `nextPageId` absent, null or `""` is the first page; otherwise it must be a token the API
//!   handed out (the route's cursor type decodes it completely before any query).
//!
//! A route with fields of its own reads the body with [`object`], checks its fields, then
//! reads the page with [`page`]; a route with none calls [`parse`].

use super::errors::PartnerApiError;
use crate::api::json::{self, Kind, Object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bus::messages::bot_api::paging::TimeCursor;
use bus::messages::partner::MAX_PAGE_LIMIT;
use rust_decimal::prelude::ToPrimitive;
use serde_json::value::RawValue;

/// The names of the paging fields.
pub const FIELDS: [&str; 2] = ["limit", "nextPageId"];

/// The message of a bad `limit`.
pub const LIMIT_MESSAGE: &str = "limit must be -1 or between 1 and 10000";

/// The message of a bad `nextPageId`.
pub const TOKEN_MESSAGE: &str = "nextPageId is not a valid page token";

/// A list position a `nextPageId` token stands for.
pub trait PageCursor: Sized {
    /// Reads a token; `None` when it is not one this API wrote.
    fn decode(token: &str) -> Option<Self>;
}

impl PageCursor for TimeCursor {
    fn decode(token: &str) -> Option<Self> {
        TimeCursor::decode(token)
    }
}

/// A position in a bot's log (`bots/logs`): the number of the last line a page showed. Its
/// token is the number in decimal, base64url-encoded like [`TimeCursor`]'s text, so clients
/// treat it as opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCursor {
    /// The last line shown (line numbers start at 1).
    pub line: i64,
}

impl LineCursor {
    /// The opaque text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.line.to_string())
    }
}

impl PageCursor for LineCursor {
    fn decode(token: &str) -> Option<Self> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        let cursor = LineCursor { line: text.parse().ok().filter(|line| *line >= 1)? };
        // Only the one spelling this API writes: no sign, no leading zero, no stray bits.
        (cursor.encode() == token).then_some(cursor)
    }
}

/// A position in a bot's closed positions (`bots/positions/closed`, newest first): the close
/// time and the engine's number of the last position a page showed, as the runner's
/// [`bus::messages::live::ClosedPositionCursor`]. Its token is `<closeTime>.<position>` in
/// decimal, base64url-encoded like [`LineCursor`]'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosedPositionCursor {
    /// The last position's close time, unix seconds (from 0).
    pub close_time: i64,
    /// The last position's number (from 0).
    pub position: i64,
}

impl ClosedPositionCursor {
    /// The opaque text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.close_time, self.position))
    }
}

impl PageCursor for ClosedPositionCursor {
    fn decode(token: &str) -> Option<Self> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        let (close_time, position) = text.split_once('.')?;
        let number = |digits: &str| digits.parse::<i64>().ok().filter(|value| *value >= 0);
        let cursor = ClosedPositionCursor { close_time: number(close_time)?, position: number(position)? };
        // Only the one spelling this API writes: no sign, no leading zero, no stray bits.
        (cursor.encode() == token).then_some(cursor)
    }
}

impl From<bus::messages::live::ClosedPositionCursor> for ClosedPositionCursor {
    fn from(cursor: bus::messages::live::ClosedPositionCursor) -> Self {
        ClosedPositionCursor { close_time: cursor.close_time, position: cursor.position }
    }
}

impl From<ClosedPositionCursor> for bus::messages::live::ClosedPositionCursor {
    fn from(cursor: ClosedPositionCursor) -> Self {
        bus::messages::live::ClosedPositionCursor { close_time: cursor.close_time, position: cursor.position }
    }
}

/// What a list request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// At most this many items: 1 to [`MAX_PAGE_LIMIT`].
    pub limit: u32,
    /// The position after which the page starts; `None` for the first page.
    pub after: Option<C>,
}

fn invalid(message: &str) -> PartnerApiError {
    PartnerApiError::Validation(message.to_string())
}

/// Reads a list body: empty (or only whitespace) or `null` is `{}`; otherwise a JSON object
/// whose fields are the paging ones or among `extra`.
pub fn object(body: &[u8], extra: &[&str]) -> Result<Object, PartnerApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Object::new());
    }
    let raw: Box<RawValue> = serde_json::from_slice(body).map_err(|_| invalid("Invalid JSON in request body"))?;
    if json::kind(&raw) == Kind::Null {
        return Ok(Object::new());
    }
    let object = json::as_object(&raw).ok_or_else(|| invalid("The request body must be a JSON object"))?;
    let known: Vec<&str> = FIELDS.iter().chain(extra).copied().collect();
    if let Some(message) = json::unknown_field(&object, &known, "") {
        return Err(PartnerApiError::Validation(message));
    }
    Ok(object)
}

/// Reads `limit` and `nextPageId` from a body already read by [`object`].
pub fn page<C: PageCursor>(object: &Object) -> Result<PageRequest<C>, PartnerApiError> {
    let limit = match object.get("limit") {
        None => MAX_PAGE_LIMIT,
        Some(raw) => {
            // An integer by value, as JSON Schema counts one: `5`, `5.0` and `5e0` alike.
            let value = json::as_decimal(raw).filter(|value| value.fract().is_zero()).and_then(|value| value.to_i64());
            match value {
                Some(-1) => MAX_PAGE_LIMIT,
                Some(value) => u32::try_from(value)
                    .ok()
                    .filter(|limit| (1..=MAX_PAGE_LIMIT).contains(limit))
                    .ok_or_else(|| invalid(LIMIT_MESSAGE))?,
                None => return Err(invalid(LIMIT_MESSAGE)),
            }
        }
    };
    let after = match object.get("nextPageId") {
        None => None,
        Some(raw) if json::kind(raw) == Kind::Null => None,
        Some(raw) => match json::as_string(raw) {
            Some(token) if token.is_empty() => None,
            Some(token) => Some(C::decode(&token).ok_or_else(|| invalid(TOKEN_MESSAGE))?),
            None => return Err(invalid(TOKEN_MESSAGE)),
        },
    };
    Ok(PageRequest { limit, after })
}

/// Reads the body of a list route that has no fields but the paging ones.
pub fn parse<C: PageCursor>(body: &[u8]) -> Result<PageRequest<C>, PartnerApiError> {
    page(&object(body, &[])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn error(body: &str) -> String {
        match parse::<TimeCursor>(body.as_bytes()) {
            Err(PartnerApiError::Validation(message)) => message,
            other => panic!("{body}: {other:?}"),
        }
    }

    fn ok(body: &str) -> PageRequest<TimeCursor> {
        parse(body.as_bytes()).unwrap_or_else(|error| panic!("{body}: {error:?}"))
    }

    fn cursor() -> TimeCursor {
        TimeCursor {
            created_at: DateTime::from_timestamp_micros(1_766_069_766_000_001).unwrap(),
            id: "28f19b46-81df-481c-9872-c215626f166e".parse().unwrap(),
        }
    }

    #[test]
    fn an_empty_body_or_object_is_the_first_page_of_the_most_items() {
        let first = PageRequest { limit: MAX_PAGE_LIMIT, after: None };
        for body in
            ["", "  \n", "null", " null ", "{}", r#"{"limit": -1}"#, r#"{"nextPageId": null}"#, r#"{"nextPageId": ""}"#]
        {
            assert_eq!(ok(body), first, "{body:?}");
        }
    }

    #[test]
    fn limit_is_minus_one_or_one_to_ten_thousand() {
        assert_eq!(ok(r#"{"limit": 1}"#).limit, 1);
        assert_eq!(ok(r#"{"limit": 5, "nextPageId": ""}"#).limit, 5);
        assert_eq!(ok(r#"{"limit": 10000}"#).limit, 10_000);
        assert_eq!(ok(r#"{"limit": 73.0}"#).limit, 73, "an integer by value");
        assert_eq!(ok(r#"{"limit": 1e2}"#).limit, 100);
        assert_eq!(ok(r#"{"limit": -1.0}"#).limit, MAX_PAGE_LIMIT);
        for bad in [
            "0",
            "-2",
            "-100",
            "10001",
            "4294967297",
            "99999999999999999999",
            "1.5",
            "1e-1",
            "1e5",
            "\"5\"",
            "null",
            "true",
            "[5]",
            "{}",
        ] {
            assert_eq!(error(&format!(r#"{{"limit": {bad}}}"#)), LIMIT_MESSAGE, "limit {bad}");
        }
    }

    #[test]
    fn next_page_id_must_be_a_token_the_api_wrote() {
        let token = cursor().encode();
        let read = ok(&format!(r#"{{"limit": 5, "nextPageId": "{token}"}}"#));
        assert_eq!(read, PageRequest { limit: 5, after: Some(cursor()) });
        for bad in [r#""N8AoR5407j""#, r#""not base64!""#, "5", "true", "[]", "{}"] {
            assert_eq!(error(&format!(r#"{{"nextPageId": {bad}}}"#)), TOKEN_MESSAGE, "nextPageId {bad}");
        }
    }

    #[test]
    fn a_line_cursor_is_the_line_number_in_base64url() {
        for line in [1, 5, 10_000, 2_000_000_005, i64::MAX] {
            let token = LineCursor { line }.encode();
            assert_eq!(<LineCursor as PageCursor>::decode(&token), Some(LineCursor { line }), "{token}");
        }
        assert_eq!(LineCursor { line: 5 }.encode(), "NQ");
        // The reference's example token, a line number too.
        assert_eq!(LineCursor { line: 2_000_000_005 }.encode(), "MjAwMDAwMDAwNQ");
        let read = page::<LineCursor>(&object(br#"{"limit": 5, "nextPageId": "NDI"}"#, &[]).unwrap()).unwrap();
        assert_eq!(read, PageRequest { limit: 5, after: Some(LineCursor { line: 42 }) });
        // Not a number, 0, negative, signed, leading zeros, out of range, stray bits, padding,
        // the standard alphabet, a length no encoding has, another cursor's token.
        let time = cursor().encode();
        for bad in ["eA", "MA", "LTE", "KzU", "MDU", "OTk5OTk5OTk5OTk5OTk5OTk5OQ", "NR", "NQ==", "N", "N/", &time] {
            assert_eq!(<LineCursor as PageCursor>::decode(bad), None, "{bad}");
        }
        let bad = page::<LineCursor>(&object(br#"{"nextPageId": "MA"}"#, &[]).unwrap());
        assert_eq!(bad, Err(PartnerApiError::Validation(TOKEN_MESSAGE.into())));
    }

    #[test]
    fn a_closed_position_cursor_is_close_time_and_number_in_base64url() {
        let decode = <ClosedPositionCursor as PageCursor>::decode;
        let time = cursor().encode();
        for (close_time, position) in [(0, 0), (1_766_073_600, 7), (1_766_073_600, 0), (i64::MAX, i64::MAX)] {
            let closed = ClosedPositionCursor { close_time, position };
            assert_eq!(decode(&closed.encode()), Some(closed), "{closed:?}");
        }
        let closed = ClosedPositionCursor { close_time: 1_766_073_600, position: 7 };
        assert_eq!(closed.encode(), URL_SAFE_NO_PAD.encode("1766073600.7"));
        let bus = bus::messages::live::ClosedPositionCursor { close_time: 1_766_073_600, position: 7 };
        assert_eq!(ClosedPositionCursor::from(bus), closed);
        assert_eq!(bus::messages::live::ClosedPositionCursor::from(closed), bus);
        let read = page::<ClosedPositionCursor>(
            &object(format!(r#"{{"nextPageId": "{}"}}"#, closed.encode()).as_bytes(), &[]).unwrap(),
        );
        assert_eq!(read.unwrap(), PageRequest { limit: MAX_PAGE_LIMIT, after: Some(closed) });
        // Only the one spelling: no sign, no leading zero, no blank, no other separator, two
        // parts, each in range.
        let spelled = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for bad in [
            "+1766073600.7",
            "1766073600.+7",
            "-1.7",
            "1766073600.-7",
            "01766073600.7",
            "1766073600.07",
            "00.0",
            " 1766073600.7",
            "1766073600.7 ",
            "1766073600_7",
            "1766073600,7",
            "1766073600.7.1",
            "1766073600.",
            ".7",
            "1766073600",
            "9223372036854775808.0",
            "0.9223372036854775808",
            "1e3.7",
        ] {
            assert_eq!(decode(&spelled(bad)), None, "{bad:?}");
        }
        let token = closed.encode();
        assert_eq!(ClosedPositionCursor { close_time: 1, position: 10 }.encode(), "MS4xMA");
        // Stray bits ("MS4xMB" reads as "1.10" too), padding, a cut token, not base64url, the
        // other cursors' tokens.
        let line = LineCursor { line: 5 }.encode();
        for bad in ["MS4xMB", "MS4xMA==", "MC4w=", &token[1..], "MC4+", "", "!", &line, &time] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
        // And the other cursors refuse its token.
        assert_eq!(<LineCursor as PageCursor>::decode(&token), None);
        assert_eq!(<TimeCursor as PageCursor>::decode(&token), None);
        let bad = page::<ClosedPositionCursor>(&object(br#"{"nextPageId": "NQ"}"#, &[]).unwrap());
        assert_eq!(bad, Err(PartnerApiError::Validation(TOKEN_MESSAGE.into())));
    }

    #[test]
    fn the_body_must_be_a_json_object_of_known_fields() {
        assert_eq!(error("{"), "Invalid JSON in request body");
        assert_eq!(error("[]"), "The request body must be a JSON object");
        assert_eq!(error("5"), "The request body must be a JSON object");
        assert_eq!(error(r#""{}""#), "The request body must be a JSON object");
        assert_eq!(error(r#"{"limit": 5, "userId": "x"}"#), "Unknown field 'userId'");
        // Unknown fields are refused before the values are read.
        assert_eq!(error(r#"{"limit": 0, "page": 2}"#), "Unknown field 'page'");
    }

    #[test]
    fn a_route_may_allow_fields_of_its_own_and_other_cursor_types() {
        #[derive(Debug, PartialEq, Eq)]
        struct Number(u32);
        impl PageCursor for Number {
            fn decode(token: &str) -> Option<Self> {
                token.parse().ok().map(Number)
            }
        }
        let body = object(br#"{"userId": "u", "limit": 3, "nextPageId": "42"}"#, &["userId"]).unwrap();
        assert_eq!(json::as_string(&body["userId"]).as_deref(), Some("u"));
        assert_eq!(page::<Number>(&body).unwrap(), PageRequest { limit: 3, after: Some(Number(42)) });
        let body = object(br#"{"nextPageId": "x"}"#, &["userId"]).unwrap();
        assert_eq!(page::<Number>(&body), Err(PartnerApiError::Validation(TOKEN_MESSAGE.into())));
    }
}
