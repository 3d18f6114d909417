//! Error bodies of each API family, for the failures every route shares: no backend to take
//! the request (503), a backend that took it but did not answer in time (504), a body that
//! is too large (413), a method the path does not have (405) and a client over its rate
//! limit (429). Internal causes never reach a body; they are logged where the error is
//! handled.
//!
//! 503 and 504 differ for the client: after a 503 nothing happened; after a 504 the backend
//! had the request, and the write may or may not have happened. (A backend rolls back a
//! write whose deadline passed before its commit, so usually it did not; the reply only
//! promises that a retry with the same `Idempotency-Key` is safe.)

use super::family::Family;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bus::RequestError;
use serde_json::json;
use std::fmt;

/// The shared failures of a request, to be rendered in one family's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommonError {
    /// No backend service took the request: no responders or a broken connection.
    Unavailable,
    /// A backend took the request but did not answer in time: the outcome is unknown.
    Timeout,
    /// The body is larger than the limit.
    PayloadTooLarge,
    /// The path exists but not with this method (the caller adds the `Allow` header).
    MethodNotAllowed,
    /// The client's bucket is empty (the caller adds the `Retry-After` header).
    RateLimited,
    /// Something failed that the client cannot fix.
    Internal,
}

impl CommonError {
    /// Classifies a failed bus request. A typed refusal other than "unavailable" is a route's
    /// own business; reaching this function with one is an internal error.
    pub fn from_request(error: &RequestError) -> Self {
        if error.is_timeout() {
            CommonError::Timeout
        } else if error.is_unavailable() {
            CommonError::Unavailable
        } else {
            CommonError::Internal
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            CommonError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            CommonError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            CommonError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            CommonError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            CommonError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            CommonError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response in `family`'s shape.
    pub fn respond(self, family: Family) -> HttpResponse {
        HttpResponse::build(self.status()).json(self.body(family))
    }

    /// The body in `family`'s shape (also the OpenAPI document's example).
    pub fn body(self, family: Family) -> serde_json::Value {
        match family {
            Family::Bot => {
                let (error, code) = match self {
                    CommonError::Unavailable => ("Service temporarily unavailable", "SERVICE_UNAVAILABLE"),
                    CommonError::Timeout => (TIMEOUT_MESSAGE_BOT, "GATEWAY_TIMEOUT"),
                    CommonError::PayloadTooLarge => ("Request body too large", "PAYLOAD_TOO_LARGE"),
                    CommonError::MethodNotAllowed => ("Method not allowed", "METHOD_NOT_ALLOWED"),
                    CommonError::RateLimited => ("Too many requests", "RATE_LIMITED"),
                    CommonError::Internal => ("Internal server error", "INTERNAL_SERVER_ERROR"),
                };
                json!({ "error": error, "code": code })
            }
            Family::Partner => {
                let (code, message) = match self {
                    CommonError::Unavailable => (9503, "Service temporarily unavailable"),
                    CommonError::Timeout => (9504, TIMEOUT_MESSAGE),
                    CommonError::PayloadTooLarge => (1413, "Request body too large"),
                    CommonError::MethodNotAllowed => (1405, "Method not allowed"),
                    CommonError::RateLimited => (1429, "Too many requests"),
                    CommonError::Internal => (9000, "Internal error"),
                };
                json!({ "isSuccess": false, "code": code, "message": message, "data": null })
            }
            Family::User => {
                let (error, message) = match self {
                    CommonError::Unavailable => ("unavailable", "A backend service is unavailable; retry shortly."),
                    CommonError::Timeout => ("timeout", TIMEOUT_MESSAGE),
                    CommonError::PayloadTooLarge => ("payload_too_large", "Request body too large."),
                    CommonError::MethodNotAllowed => {
                        ("method_not_allowed", "Method not allowed; the Allow header lists this path's methods.")
                    }
                    CommonError::RateLimited => {
                        ("rate_limited", "Too many requests; retry after the seconds in the Retry-After header.")
                    }
                    CommonError::Internal => ("internal", "Internal error."),
                };
                json!({ "error": error, "message": message })
            }
        }
    }
}

/// The Bot API's 504 text.
pub const TIMEOUT_MESSAGE_BOT: &str = "Request timed out; retry with the same Idempotency-Key";

/// The partner and user APIs' 504 message.
pub const TIMEOUT_MESSAGE: &str =
    "The request timed out; it may or may not have been applied. Retry with the same Idempotency-Key.";

/// A [`CommonError`] bound to its family, usable as an actix error.
#[derive(Debug)]
pub struct FamilyError {
    /// Which family's shape.
    pub family: Family,
    /// What went wrong.
    pub error: CommonError,
}

impl fmt::Display for FamilyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:?} API)", self.error, self.family)
    }
}

impl ResponseError for FamilyError {
    fn status_code(&self) -> StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.error.respond(self.family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body(response: HttpResponse) -> serde_json::Value {
        serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap()
    }

    #[actix_web::test]
    async fn unavailable_has_each_familys_shape() {
        let bot = CommonError::Unavailable.respond(Family::Bot);
        assert_eq!(bot.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body(bot).await, json!({"error": "Service temporarily unavailable", "code": "SERVICE_UNAVAILABLE"}));
        let partner = body(CommonError::Unavailable.respond(Family::Partner)).await;
        assert_eq!(partner["code"], 9503);
        assert_eq!(partner["isSuccess"], false);
        let user = body(CommonError::Unavailable.respond(Family::User)).await;
        assert_eq!(user["error"], "unavailable");
    }

    #[actix_web::test]
    async fn too_large_has_each_familys_shape() {
        let bot = CommonError::PayloadTooLarge.respond(Family::Bot);
        assert_eq!(bot.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body(bot).await, json!({"error": "Request body too large", "code": "PAYLOAD_TOO_LARGE"}));
    }

    #[actix_web::test]
    async fn timeout_has_each_familys_shape() {
        let bot = CommonError::Timeout.respond(Family::Bot);
        assert_eq!(bot.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            body(bot).await,
            json!({"error": "Request timed out; retry with the same Idempotency-Key", "code": "GATEWAY_TIMEOUT"})
        );
        let partner = CommonError::Timeout.respond(Family::Partner);
        assert_eq!(partner.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            body(partner).await,
            json!({"isSuccess": false, "code": 9504, "message": TIMEOUT_MESSAGE, "data": null})
        );
        let user = CommonError::Timeout.respond(Family::User);
        assert_eq!(user.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(body(user).await, json!({"error": "timeout", "message": TIMEOUT_MESSAGE}));
    }

    #[actix_web::test]
    async fn method_not_allowed_and_rate_limited_have_each_familys_shape() {
        let cases = [
            (
                CommonError::MethodNotAllowed,
                405,
                json!({"error": "Method not allowed", "code": "METHOD_NOT_ALLOWED"}),
                1405,
                "method_not_allowed",
            ),
            (
                CommonError::RateLimited,
                429,
                json!({"error": "Too many requests", "code": "RATE_LIMITED"}),
                1429,
                "rate_limited",
            ),
        ];
        for (error, status, bot_body, partner_code, user_error) in cases {
            let bot = error.respond(Family::Bot);
            assert_eq!(bot.status().as_u16(), status);
            assert_eq!(body(bot).await, bot_body);
            let partner = error.respond(Family::Partner);
            assert_eq!(partner.status().as_u16(), status);
            let partner = body(partner).await;
            assert_eq!((partner["isSuccess"].clone(), partner["code"].clone()), (json!(false), json!(partner_code)));
            assert!(partner["data"].is_null());
            let user = error.respond(Family::User);
            assert_eq!(user.status().as_u16(), status);
            let user = body(user).await;
            assert_eq!(user["error"], user_error);
            assert!(user["message"].as_str().is_some_and(|message| !message.is_empty()));
        }
    }

    #[test]
    fn no_responders_mean_unavailable_and_timeouts_mean_timeout() {
        let no_responders = RequestError::NoResponders { subject: "tb.qry.ledger.ping.v1".into() };
        assert_eq!(CommonError::from_request(&no_responders), CommonError::Unavailable);
        let timeout = RequestError::Timeout { subject: "x".into(), timeout_ms: 5 };
        assert_eq!(CommonError::from_request(&timeout), CommonError::Timeout);
        let codec = RequestError::Codec { subject: "x".into(), reason: "bad".into() };
        assert_eq!(CommonError::from_request(&codec), CommonError::Internal);
    }
}
