//! Reading a Partner API body field by field, in the reference's order, with the messages
//! every partner route uses (each refusal is 400, code 1000).

use super::errors::PartnerApiError;
use crate::api::json::{self, Kind, Object};

/// A validation error (1000) with `message`.
pub fn invalid(message: impl Into<String>) -> PartnerApiError {
    PartnerApiError::Validation(message.into())
}

/// The body as an object of `known` fields: invalid JSON, another value or an unknown field
/// is refused.
pub fn body_object(body: &[u8], known: &[&str]) -> Result<Object, PartnerApiError> {
    let object = json::parse_body(body)
        .map_err(|_| invalid("Invalid JSON in request body"))?
        .ok_or_else(|| invalid("The request body must be a JSON object"))?;
    match json::unknown_field(&object, known, "") {
        Some(message) => Err(invalid(message)),
        None => Ok(object),
    }
}

/// A required non-empty string field.
pub fn required_string(object: &Object, name: &str) -> Result<String, PartnerApiError> {
    object
        .get(name)
        .and_then(|raw| json::as_string(raw))
        .filter(|value| !value.is_empty())
        .ok_or_else(|| invalid(format!("{name} is required and must be a non-empty string")))
}

/// An optional field that is a string or null.
pub fn optional_string(object: &Object, name: &str) -> Result<Option<String>, PartnerApiError> {
    match object.get(name) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == Kind::Null => Ok(None),
        Some(raw) => json::as_string(raw).map(Some).ok_or_else(|| invalid(format!("{name} must be a string or null"))),
    }
}
