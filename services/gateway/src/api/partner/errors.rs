//! The Partner API's envelope and error codes (docs/api/partner.md#errors): every response is
//! `{isSuccess, code, message, data}`; `code` 0 is success.

use crate::api::errors::CommonError;
use crate::api::family::Family;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bus::{BusError, RequestError};
use serde_json::json;
use std::fmt;
use tracing::error;

/// What the ledger's refusal of an edit of a follower says (`Bot '<id>' follows a master bot
/// and cannot be edited directly`): 1008 rather than 1003.
const FOLLOWER_CONFLICT: &str = "follows a master bot";

/// Every way a Partner API request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerApiError {
    /// 400, code 1000: validation failed (the message names the field).
    Validation(String),
    /// 404, code 1001: unknown user (or another partner's).
    UnknownUser(String),
    /// 404, code 1002: unknown bot (or another partner's).
    UnknownBot(String),
    /// 409, code 1003: the record's state forbids it (a bot already running or stopped, a
    /// user with running bots, a request with this `Idempotency-Key` still being processed).
    StateConflict(String),
    /// 400, code 1004: the exchange is not one the user has an account on.
    ExchangeMismatch(String),
    /// 400, code 1005: a preview of a bot type that has none (only grid bots have one).
    PreviewUnsupported(String),
    /// 409, code 1006: results, logs or positions asked for before completion.
    BacktestNotCompleted(String),
    /// 422, code 1007: no price data: no price history for a backtest's market and range, no
    /// current price for a preview's market.
    NoPriceHistory(String),
    /// 409, code 1008: the bot follows a master bot and cannot be edited directly.
    FollowerNotEditable(String),
    /// 404, code 1009: unknown backtest (or another partner's).
    UnknownBacktest(String),
    /// 404, code 1010: unknown signal token.
    UnknownSignal(String),
    /// 422, code 1011: `Idempotency-Key` reused with another body.
    IdempotencyKeyReused(String),
    /// 404, code 1012: unknown position (or not the bot's).
    UnknownPosition(String),
    /// 401, code 1401: partner key missing or invalid.
    Unauthorized(String),
    /// 503 (9503), 504 (9504: a backend took the request but did not answer in time), 413
    /// (1413) or 500 (9000) in the envelope.
    Common(CommonError),
}

impl PartnerApiError {
    /// Maps a failed executor request. Typed refusals carry client-fit messages.
    pub fn from_backtest_request(failure: RequestError) -> Self {
        match failure {
            RequestError::Rejected(BusError::Invalid { message }) => PartnerApiError::Validation(message),
            RequestError::Rejected(BusError::NotFound { message }) => PartnerApiError::UnknownBacktest(message),
            // Not completed; on a start, the first request with its Idempotency-Key still runs.
            RequestError::Rejected(BusError::Conflict { message }) => PartnerApiError::BacktestNotCompleted(message),
            RequestError::Rejected(BusError::IdempotencyKeyReused { message }) => {
                PartnerApiError::IdempotencyKeyReused(message)
            }
            other => Self::common(other),
        }
    }

    /// Maps a failed ledger request about a partner's users (`users/...`): an unknown user →
    /// 1001, a refused value → 1000, a state conflict (running bots, a request with the same
    /// `Idempotency-Key` in progress) → 1003, a reused key → 1011, the rest the common mapping.
    pub fn from_user_request(failure: RequestError) -> Self {
        match failure {
            RequestError::Rejected(BusError::NotFound { message }) => PartnerApiError::UnknownUser(message),
            RequestError::Rejected(BusError::Invalid { message }) => PartnerApiError::Validation(message),
            RequestError::Rejected(BusError::Conflict { message }) => PartnerApiError::StateConflict(message),
            RequestError::Rejected(BusError::IdempotencyKeyReused { message }) => {
                PartnerApiError::IdempotencyKeyReused(message)
            }
            other => Self::common(other),
        }
    }

    /// Maps a failed ledger request about hosted bots (`bots/...`). The ledger checks the user
    /// before the bot and words the two refusals `User '<id>' not found` and `Bot '<id>' not
    /// found`, so the message tells them apart: `User '` → 1001, any other not found → 1002. A
    /// refused value → 1000; a conflict about a follower (`... follows a master bot ...`) →
    /// 1008, any other conflict (already running or stopped, a request with the same
    /// `Idempotency-Key` in progress) → 1003; forbidden (the exchange is not the user's) →
    /// 1004; a reused key → 1011; the rest the common mapping.
    pub fn from_bot_request(failure: RequestError) -> Self {
        match failure {
            RequestError::Rejected(BusError::NotFound { message }) if message.starts_with("User '") => {
                PartnerApiError::UnknownUser(message)
            }
            RequestError::Rejected(BusError::NotFound { message }) => PartnerApiError::UnknownBot(message),
            RequestError::Rejected(BusError::Invalid { message }) => PartnerApiError::Validation(message),
            RequestError::Rejected(BusError::Conflict { message }) if message.contains(FOLLOWER_CONFLICT) => {
                PartnerApiError::FollowerNotEditable(message)
            }
            RequestError::Rejected(BusError::Conflict { message }) => PartnerApiError::StateConflict(message),
            RequestError::Rejected(BusError::Forbidden { message }) => PartnerApiError::ExchangeMismatch(message),
            RequestError::Rejected(BusError::IdempotencyKeyReused { message }) => {
                PartnerApiError::IdempotencyKeyReused(message)
            }
            other => Self::common(other),
        }
    }

    /// Maps a failed runner request about a hosted bot's runtime (`bots/orders`, `bots/logs`,
    /// `bots/positions/...`), asked once the ledger said the bot is the partner's. The runner's not found (it does not
    /// know the bot, or purged it) → 1002 worded as the ledger words it for the id as `sent`;
    /// the rest the common mapping (the gateway checked the request, so a refusal of its shape
    /// is the gateway's fault: 9000).
    pub fn from_runtime_request(failure: RequestError, sent: &str) -> Self {
        match failure {
            RequestError::Rejected(BusError::NotFound { .. }) => {
                PartnerApiError::UnknownBot(format!("Bot '{sent}' not found"))
            }
            other => Self::common(other),
        }
    }

    /// Maps a failed runner request for a grid's preview (`bots/preview`), asked once the
    /// ledger checked the would-be bot: the runner's not found (no quote of the market heard
    /// yet, `No current price for <SYMBOL>`) → 1007 with its message; its refusal of settings
    /// the market's precision cannot hold → 1000; the rest the common mapping.
    pub fn from_preview_request(failure: RequestError) -> Self {
        match failure {
            RequestError::Rejected(BusError::NotFound { message }) => PartnerApiError::NoPriceHistory(message),
            // Settings the ledger accepted that the market's precision refuses (levels closer
            // than a tick): the engine names the setting.
            RequestError::Rejected(BusError::Invalid { message }) => PartnerApiError::Validation(message),
            other => Self::common(other),
        }
    }

    /// Maps a failed runner request about signals (`signals/send`, `signals/get`): not found
    /// (a token never signalled) → 1010 with the runner's message; a refused value → 1000; a
    /// request with the same `Idempotency-Key` still running → 1003; a reused key → 1011; the
    /// rest the common mapping.
    pub fn from_signal_request(failure: RequestError) -> Self {
        match failure {
            RequestError::Rejected(BusError::NotFound { message }) => PartnerApiError::UnknownSignal(message),
            RequestError::Rejected(BusError::Invalid { message }) => PartnerApiError::Validation(message),
            RequestError::Rejected(BusError::Conflict { message }) => PartnerApiError::StateConflict(message),
            RequestError::Rejected(BusError::IdempotencyKeyReused { message }) => {
                PartnerApiError::IdempotencyKeyReused(message)
            }
            other => Self::common(other),
        }
    }

    /// The shared mapping: unavailable → 9503, timed out → 9504, anything else → 9000
    /// (logged here, once).
    pub fn common(failure: RequestError) -> Self {
        let common = CommonError::from_request(&failure);
        if common == CommonError::Internal {
            error!(error = %failure, "partner API backend request failed");
        }
        PartnerApiError::Common(common)
    }

    fn code(&self) -> u16 {
        match self {
            PartnerApiError::Validation(_) => 1000,
            PartnerApiError::UnknownUser(_) => 1001,
            PartnerApiError::UnknownBot(_) => 1002,
            PartnerApiError::StateConflict(_) => 1003,
            PartnerApiError::ExchangeMismatch(_) => 1004,
            PartnerApiError::PreviewUnsupported(_) => 1005,
            PartnerApiError::BacktestNotCompleted(_) => 1006,
            PartnerApiError::NoPriceHistory(_) => 1007,
            PartnerApiError::FollowerNotEditable(_) => 1008,
            PartnerApiError::UnknownBacktest(_) => 1009,
            PartnerApiError::UnknownSignal(_) => 1010,
            PartnerApiError::IdempotencyKeyReused(_) => 1011,
            PartnerApiError::UnknownPosition(_) => 1012,
            PartnerApiError::Unauthorized(_) => 1401,
            PartnerApiError::Common(_) => 9000,
        }
    }
}

impl fmt::Display for PartnerApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl ResponseError for PartnerApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            PartnerApiError::Validation(_)
            | PartnerApiError::ExchangeMismatch(_)
            | PartnerApiError::PreviewUnsupported(_) => StatusCode::BAD_REQUEST,
            PartnerApiError::UnknownUser(_)
            | PartnerApiError::UnknownBot(_)
            | PartnerApiError::UnknownBacktest(_)
            | PartnerApiError::UnknownSignal(_)
            | PartnerApiError::UnknownPosition(_) => StatusCode::NOT_FOUND,
            PartnerApiError::StateConflict(_)
            | PartnerApiError::BacktestNotCompleted(_)
            | PartnerApiError::FollowerNotEditable(_) => StatusCode::CONFLICT,
            PartnerApiError::NoPriceHistory(_) | PartnerApiError::IdempotencyKeyReused(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            PartnerApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            PartnerApiError::Common(common) => common.respond(Family::Partner).status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PartnerApiError::Common(common) => common.respond(Family::Partner),
            PartnerApiError::Validation(message)
            | PartnerApiError::UnknownUser(message)
            | PartnerApiError::UnknownBot(message)
            | PartnerApiError::StateConflict(message)
            | PartnerApiError::ExchangeMismatch(message)
            | PartnerApiError::PreviewUnsupported(message)
            | PartnerApiError::BacktestNotCompleted(message)
            | PartnerApiError::NoPriceHistory(message)
            | PartnerApiError::FollowerNotEditable(message)
            | PartnerApiError::UnknownBacktest(message)
            | PartnerApiError::UnknownSignal(message)
            | PartnerApiError::IdempotencyKeyReused(message)
            | PartnerApiError::UnknownPosition(message)
            | PartnerApiError::Unauthorized(message) => HttpResponse::build(self.status_code())
                .json(json!({ "isSuccess": false, "code": self.code(), "message": message, "data": null })),
        }
    }
}

/// A success envelope around `data`, given as JSON text (forwarded byte for byte).
pub fn success(data: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(format!(r#"{{"isSuccess":true,"code":0,"message":"","data":{data}}}"#))
}

/// A success envelope around `data` serialised here.
pub fn success_of<T: serde::Serialize>(data: &T) -> Result<HttpResponse, PartnerApiError> {
    let json = serde_json::to_string(data).map_err(|_| PartnerApiError::Common(CommonError::Internal))?;
    Ok(success(&json))
}

/// A write's reply in the envelope: computed now, or the first request's stored reply as it
/// was (byte for byte).
pub fn replayable<T: serde::Serialize>(
    reply: bus::messages::idempotency::Replayable<T>,
) -> Result<HttpResponse, PartnerApiError> {
    match reply {
        bus::messages::idempotency::Replayable::Fresh(value) => success_of(&value),
        bus::messages::idempotency::Replayable::Replayed(raw) => Ok(success(raw.get())),
    }
}

/// The `Idempotency-Key` of a partner write, with the hash of its request; a malformed key is
/// 1000.
pub fn idempotency(
    request: &actix_web::HttpRequest,
    body: &[u8],
) -> Result<Option<bus::messages::idempotency::IdempotencyKey>, PartnerApiError> {
    crate::api::bot::idempotency(request, body)
        .map_err(|_| PartnerApiError::Validation("Idempotency-Key must be 1 to 255 visible ASCII characters".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body(error: PartnerApiError) -> (u16, serde_json::Value) {
        let response = error.error_response();
        let status = response.status().as_u16();
        (status, serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap())
    }

    #[actix_web::test]
    async fn each_error_has_its_status_and_code_in_the_envelope() {
        let cases = [
            (PartnerApiError::Validation("settings.gridCount: must be at least 2".into()), 400, 1000),
            (PartnerApiError::UnknownUser("User 'x' not found".into()), 404, 1001),
            (PartnerApiError::UnknownBot("Bot 'x' not found".into()), 404, 1002),
            (PartnerApiError::StateConflict("Bot 'x' is already running".into()), 409, 1003),
            (PartnerApiError::ExchangeMismatch("exchangeId 'SIM' is not the user's".into()), 400, 1004),
            (PartnerApiError::PreviewUnsupported("webhook bots have no preview".into()), 400, 1005),
            (PartnerApiError::BacktestNotCompleted("not yet".into()), 409, 1006),
            (PartnerApiError::NoPriceHistory("none".into()), 422, 1007),
            (PartnerApiError::FollowerNotEditable("Bot 'x' follows a master bot".into()), 409, 1008),
            (PartnerApiError::UnknownBacktest("Backtest 'x' not found".into()), 404, 1009),
            (PartnerApiError::UnknownSignal("Signal token 'x' not found".into()), 404, 1010),
            (PartnerApiError::IdempotencyKeyReused("reused".into()), 422, 1011),
            (PartnerApiError::UnknownPosition("Position 'x' not found".into()), 404, 1012),
            (PartnerApiError::Unauthorized("Invalid partner API key".into()), 401, 1401),
            (PartnerApiError::Common(CommonError::Unavailable), 503, 9503),
            (PartnerApiError::Common(CommonError::Timeout), 504, 9504),
            (PartnerApiError::Common(CommonError::Internal), 500, 9000),
        ];
        for (error, status, code) in cases {
            let (got_status, body) = body(error).await;
            assert_eq!(got_status, status);
            assert_eq!(body["code"], code);
            assert_eq!(body["isSuccess"], false);
            assert!(body["data"].is_null());
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }

    #[test]
    fn bus_refusals_map_to_partner_codes() {
        let map = |error: BusError| PartnerApiError::from_backtest_request(RequestError::Rejected(error));
        assert!(matches!(map(BusError::invalid("x")), PartnerApiError::Validation(_)));
        assert!(matches!(map(BusError::not_found("x")), PartnerApiError::UnknownBacktest(_)));
        assert!(matches!(map(BusError::Conflict { message: "x".into() }), PartnerApiError::BacktestNotCompleted(_)));
        let reused = BusError::IdempotencyKeyReused { message: "x".into() };
        assert!(matches!(map(reused), PartnerApiError::IdempotencyKeyReused(_)));
        assert!(matches!(map(BusError::unavailable("x")), PartnerApiError::Common(CommonError::Unavailable)));
        let timeout = RequestError::Timeout { subject: "s".into(), timeout_ms: 1 };
        assert_eq!(PartnerApiError::from_backtest_request(timeout), PartnerApiError::Common(CommonError::Timeout));
        let gone = RequestError::NoResponders { subject: "s".into() };
        assert_eq!(PartnerApiError::from_backtest_request(gone), PartnerApiError::Common(CommonError::Unavailable));
    }

    #[test]
    fn bot_request_refusals_map_to_bot_codes() {
        use PartnerApiError as E;
        let rejected = |error: BusError| RequestError::Rejected(error);
        let conflict = |message: &str| rejected(BusError::Conflict { message: message.into() });
        let bot = "7d7e643ac399492c8adf1add09316abb";
        let cases = [
            (rejected(BusError::not_found("User 'u' not found")), E::UnknownUser("User 'u' not found".into())),
            (
                rejected(BusError::not_found(format!("Bot '{bot}' not found"))),
                E::UnknownBot(format!("Bot '{bot}' not found")),
            ),
            (rejected(BusError::not_found("Bot 'xyz' not found")), E::UnknownBot("Bot 'xyz' not found".into())),
            (
                rejected(BusError::invalid("settings.symbol: unknown market 'X'")),
                E::Validation("settings.symbol: unknown market 'X'".into()),
            ),
            (
                conflict(&format!("Bot '{bot}' follows a master bot and cannot be edited directly")),
                E::FollowerNotEditable(format!("Bot '{bot}' follows a master bot and cannot be edited directly")),
            ),
            (
                conflict(&format!("Bot '{bot}' is already running")),
                E::StateConflict(format!("Bot '{bot}' is already running")),
            ),
            (
                conflict(&format!("Bot '{bot}' is already stopped")),
                E::StateConflict(format!("Bot '{bot}' is already stopped")),
            ),
            (
                conflict("A request with this Idempotency-Key is in progress"),
                E::StateConflict("A request with this Idempotency-Key is in progress".into()),
            ),
            (
                rejected(BusError::Forbidden { message: "exchangeId 'BITMEX' is not the exchange of user 'u'".into() }),
                E::ExchangeMismatch("exchangeId 'BITMEX' is not the exchange of user 'u'".into()),
            ),
            (
                rejected(BusError::IdempotencyKeyReused { message: "reused".into() }),
                E::IdempotencyKeyReused("reused".into()),
            ),
            (rejected(BusError::unavailable("db down")), E::Common(CommonError::Unavailable)),
            (RequestError::Timeout { subject: "s".into(), timeout_ms: 1 }, E::Common(CommonError::Timeout)),
            (RequestError::NoResponders { subject: "s".into() }, E::Common(CommonError::Unavailable)),
            (RequestError::Codec { subject: "s".into(), reason: "x".into() }, E::Common(CommonError::Internal)),
        ];
        for (failure, expected) in cases {
            let described = format!("{failure:?}");
            assert_eq!(PartnerApiError::from_bot_request(failure), expected, "{described}");
        }
    }

    #[test]
    fn runtime_request_refusals_name_the_bot_as_the_ledger_does() {
        use PartnerApiError as E;
        let map = |failure: RequestError| PartnerApiError::from_runtime_request(failure, "7D7E643A");
        assert_eq!(
            map(RequestError::Rejected(BusError::not_found("Bot 7d7e643a-... is not known here"))),
            E::UnknownBot("Bot '7D7E643A' not found".into())
        );
        assert_eq!(map(RequestError::Rejected(BusError::unavailable("db down"))), E::Common(CommonError::Unavailable));
        assert_eq!(map(RequestError::Rejected(BusError::invalid("limit"))), E::Common(CommonError::Internal));
        let timeout = RequestError::Timeout { subject: "s".into(), timeout_ms: 1 };
        assert_eq!(map(timeout), E::Common(CommonError::Timeout));
        assert_eq!(map(RequestError::NoResponders { subject: "s".into() }), E::Common(CommonError::Unavailable));
    }

    #[test]
    fn preview_request_refusals_keep_the_runners_no_price_message() {
        use PartnerApiError as E;
        let map = PartnerApiError::from_preview_request;
        assert_eq!(
            map(RequestError::Rejected(BusError::not_found("No current price for SIM_BTC_USDT_"))),
            E::NoPriceHistory("No current price for SIM_BTC_USDT_".into())
        );
        assert_eq!(map(RequestError::Rejected(BusError::unavailable("db down"))), E::Common(CommonError::Unavailable));
        let close = "validation failed: gridCount: levels are closer than one price tick";
        assert_eq!(map(RequestError::Rejected(BusError::invalid(close))), E::Validation(close.into()));
        let timeout = RequestError::Timeout { subject: "s".into(), timeout_ms: 1 };
        assert_eq!(map(timeout), E::Common(CommonError::Timeout));
        assert_eq!(map(RequestError::NoResponders { subject: "s".into() }), E::Common(CommonError::Unavailable));
    }

    #[test]
    fn user_request_refusals_map_to_user_codes() {
        let map = |error: BusError| PartnerApiError::from_user_request(RequestError::Rejected(error));
        assert_eq!(
            map(BusError::not_found("User 'x' not found")),
            PartnerApiError::UnknownUser("User 'x' not found".into())
        );
        assert_eq!(
            map(BusError::invalid("exchangeId: disabled")),
            PartnerApiError::Validation("exchangeId: disabled".into())
        );
        let running = BusError::Conflict { message: "User 'x' has running bots".into() };
        assert_eq!(map(running), PartnerApiError::StateConflict("User 'x' has running bots".into()));
        let reused = BusError::IdempotencyKeyReused { message: "x".into() };
        assert!(matches!(map(reused), PartnerApiError::IdempotencyKeyReused(_)));
        assert_eq!(map(BusError::unavailable("db down")), PartnerApiError::Common(CommonError::Unavailable));
        assert_eq!(map(BusError::Forbidden { message: "x".into() }), PartnerApiError::Common(CommonError::Internal));
        let timeout = RequestError::Timeout { subject: "s".into(), timeout_ms: 1 };
        assert_eq!(PartnerApiError::from_user_request(timeout), PartnerApiError::Common(CommonError::Timeout));
    }
}
