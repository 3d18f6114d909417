//! The Bot API's error bodies (references 000–002, docs/api/bot.md#errors).

use crate::api::errors::CommonError;
use crate::api::family::Family;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bus::{BusError, RequestError};
use serde_json::json;
use std::fmt;
use tracing::error;

/// Every way a Bot API request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotApiError {
    /// 400 `{error, code: "BAD_REQUEST"}`.
    BadRequest(String),
    /// 401 `{message: "API key required. Include x-api-key header."}`.
    MissingKey,
    /// 403 `{message: "Invalid API key for this bot"}`.
    InvalidKey,
    /// 404 `{error, code: "NOT_FOUND"}`.
    NotFound(String),
    /// 409 `{error, code: "CONFLICT"}`: a repeat while the first request still runs.
    Conflict(String),
    /// 422 `{error, code: "IDEMPOTENCY_KEY_REUSED"}`.
    IdempotencyKeyReused(String),
    /// 503, 504, 413 or 500 in the Bot API's shape (504: the ledger took the request but did
    /// not answer in time).
    Common(CommonError),
}

impl BotApiError {
    /// The reference's text for an invalid slug.
    pub fn invalid_slug() -> Self {
        BotApiError::BadRequest(
            "Invalid slug format. Only alphanumeric characters, hyphens, and underscores are allowed.".to_string(),
        )
    }

    /// Maps a failed ledger request. Typed refusals carry the reference's text already.
    pub fn from_request(failure: RequestError) -> Self {
        match failure {
            RequestError::Rejected(BusError::NotFound { message }) => BotApiError::NotFound(message),
            RequestError::Rejected(BusError::Forbidden { .. }) => BotApiError::InvalidKey,
            RequestError::Rejected(BusError::Invalid { message }) => BotApiError::BadRequest(message),
            RequestError::Rejected(BusError::Conflict { message }) => BotApiError::Conflict(message),
            RequestError::Rejected(BusError::IdempotencyKeyReused { message }) => {
                BotApiError::IdempotencyKeyReused(message)
            }
            other => {
                let common = CommonError::from_request(&other);
                if common == CommonError::Internal {
                    error!(error = %other, "ledger request failed");
                }
                BotApiError::Common(common)
            }
        }
    }
}

impl fmt::Display for BotApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl ResponseError for BotApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            BotApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            BotApiError::MissingKey => StatusCode::UNAUTHORIZED,
            BotApiError::InvalidKey => StatusCode::FORBIDDEN,
            BotApiError::NotFound(_) => StatusCode::NOT_FOUND,
            BotApiError::Conflict(_) => StatusCode::CONFLICT,
            BotApiError::IdempotencyKeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            BotApiError::Common(common) => common.respond(Family::Bot).status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            BotApiError::BadRequest(message) => {
                HttpResponse::build(status).json(json!({ "error": message, "code": "BAD_REQUEST" }))
            }
            BotApiError::MissingKey => {
                HttpResponse::build(status).json(json!({ "message": "API key required. Include x-api-key header." }))
            }
            BotApiError::InvalidKey => {
                HttpResponse::build(status).json(json!({ "message": "Invalid API key for this bot" }))
            }
            BotApiError::NotFound(message) => {
                HttpResponse::build(status).json(json!({ "error": message, "code": "NOT_FOUND" }))
            }
            BotApiError::Conflict(message) => {
                HttpResponse::build(status).json(json!({ "error": message, "code": "CONFLICT" }))
            }
            BotApiError::IdempotencyKeyReused(message) => {
                HttpResponse::build(status).json(json!({ "error": message, "code": "IDEMPOTENCY_KEY_REUSED" }))
            }
            BotApiError::Common(common) => common.respond(Family::Bot),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn a_ledger_timeout_is_a_504_and_no_responders_a_503() {
        let timeout = BotApiError::from_request(RequestError::Timeout { subject: "x".into(), timeout_ms: 5 });
        assert_eq!(timeout.status_code(), StatusCode::GATEWAY_TIMEOUT);
        let body = to_bytes(timeout.error_response().into_body()).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            json!({"error": "Request timed out; retry with the same Idempotency-Key", "code": "GATEWAY_TIMEOUT"})
        );
        let gone = BotApiError::from_request(RequestError::NoResponders { subject: "x".into() });
        assert_eq!(gone.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
