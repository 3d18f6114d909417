//! Query strings of the Bot API's reads: page sizes are ranges, cursors are decoded here (a
//! forged or malformed one is a 400 naming its parameter before any request to the ledger),
//! and text that reaches a query may not hold the NUL character.

use super::errors::BotApiError;
use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;

/// The query string as `T`; a malformed one is `Invalid query string`.
pub fn parse<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, BotApiError> {
    web::Query::<T>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| BotApiError::BadRequest("Invalid query string".to_string()))
}

/// `limit`: absent → `default`, else an integer from 1 to `max`.
pub fn limit(text: Option<&str>, default: u32, max: u32) -> Result<u32, BotApiError> {
    match text {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=max).contains(limit))
            .ok_or_else(|| BotApiError::BadRequest(format!("limit must be an integer from 1 to {max}"))),
    }
}

/// A cursor parameter read by `decode`; one it refuses is `<name> is invalid`.
pub fn cursor<C>(text: Option<&str>, name: &str, decode: fn(&str) -> Option<C>) -> Result<Option<C>, BotApiError> {
    text.map(|text| decode(text).ok_or_else(|| BotApiError::BadRequest(format!("{name} is invalid")))).transpose()
}

/// A text parameter that is compared in a query: Postgres refuses the NUL character.
pub fn text(value: Option<String>, name: &str) -> Result<Option<String>, BotApiError> {
    match value {
        Some(text) if text.contains('\0') => {
            Err(BotApiError::BadRequest(format!("{name} must not contain the \\u0000 character")))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bus::messages::bot_api::paging::TimeCursor;

    #[test]
    fn limits_cursors_and_text() {
        assert_eq!(limit(None, 100, 500), Ok(100));
        assert_eq!(limit(Some("500"), 100, 500), Ok(500));
        for bad in ["0", "501", "-1", "ten", ""] {
            assert_eq!(
                limit(Some(bad), 100, 500),
                Err(BotApiError::BadRequest("limit must be an integer from 1 to 500".into()))
            );
        }
        assert_eq!(cursor(None, "cursor", TimeCursor::decode), Ok(None));
        assert_eq!(
            cursor(Some("bogus"), "transactionsCursor", TimeCursor::decode),
            Err(BotApiError::BadRequest("transactionsCursor is invalid".into()))
        );
        assert_eq!(
            text(Some("A\0".into()), "symbol"),
            Err(BotApiError::BadRequest("symbol must not contain the \\u0000 character".into()))
        );
        assert_eq!(text(Some("AAPL".into()), "symbol"), Ok(Some("AAPL".into())));
    }
}
