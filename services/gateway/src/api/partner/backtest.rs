//! Backtests (reference 003, docs/api/partner.md#backtests): authenticate → check the body's
//! shape → (for a user's backtest, the user and their exchange with the ledger) → one request
//! to the backtest-executor → its reply in the envelope.

use super::auth::authenticate;
use super::docs;
use super::errors::{PartnerApiError, success};
use super::svg;
use crate::api::json::{self, Kind};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::backtest::{BacktestRef, StartBacktest, StartBacktestReply};
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::partner::GetPartnerUser;
use bus::{BusError, RequestError};
use domain::{BacktestId, PartnerId, UserId};
use listing::Listing;
use serde_json::value::RawValue;

pub mod listing;
pub mod schemas;

const FIELDS: [&str; 6] = ["userId", "type", "exchangeId", "settings", "startUnix", "endUnix"];

/// Checks the body's shape; the executor validates type, settings, market and range.
pub fn parse_start(body: &[u8], partner_id: PartnerId) -> Result<StartBacktest, PartnerApiError> {
    let invalid = |message: &str| PartnerApiError::Validation(message.to_string());
    let object = json::parse_body(body)
        .map_err(|_| invalid("Invalid JSON in request body"))?
        .ok_or_else(|| invalid("The request body must be a JSON object"))?;
    if let Some(message) = json::unknown_field(&object, &FIELDS, "") {
        return Err(PartnerApiError::Validation(message));
    }
    let optional_string = |name: &str| -> Result<Option<String>, PartnerApiError> {
        match object.get(name) {
            None => Ok(None),
            Some(raw) if json::kind(raw) == Kind::Null => Ok(None),
            Some(raw) => json::as_string(raw).map(Some).ok_or_else(|| invalid(&format!("{name} must be a string"))),
        }
    };
    let script_type = optional_string("type")?.ok_or_else(|| invalid("type is required"))?;
    let settings = match object.get("settings") {
        Some(raw) if json::kind(raw) == Kind::Object => raw.clone(),
        _ => return Err(invalid("settings is required and must be an object")),
    };
    let unix = |name: &str| -> Result<i64, PartnerApiError> {
        object
            .get(name)
            .filter(|raw| json::kind(raw) == Kind::Number)
            .and_then(|raw| raw.get().parse::<i64>().ok())
            .filter(|value| (0..=i64::from(i32::MAX)).contains(value))
            .ok_or_else(|| invalid(&format!("{name} is required and must be a unix timestamp in seconds")))
    };
    Ok(StartBacktest {
        partner_id,
        user_id: optional_string("userId")?,
        script_type,
        exchange_id: optional_string("exchangeId")?,
        settings,
        start_unix: unix("startUnix")?,
        end_unix: unix("endUnix")?,
    })
}

/// The path's backtest id; anything that is not a UUID is an unknown backtest.
fn backtest_ref(id: &str, partner_id: PartnerId) -> Result<BacktestRef, PartnerApiError> {
    let backtest_id: BacktestId =
        id.parse().map_err(|_| PartnerApiError::UnknownBacktest(format!("Backtest '{id}' not found")))?;
    Ok(BacktestRef { partner_id, backtest_id })
}

async fn forward<Req: serde::Serialize, Resp>(
    state: &AppState,
    endpoint: &bus::Endpoint<Req, Resp>,
    request: &Req,
) -> Result<Box<RawValue>, PartnerApiError> {
    bus::request_raw(&state.nats, endpoint, request, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_backtest_request)
}

/// Start a backtest of a hosted bot type over stored candles. With `Idempotency-Key`, a repeat
/// of the same body replays the first reply (same `backtestId`, no second backtest).
#[utoipa::path(post, path = "/partner/v1/bots/backtest", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body = docs::StartBacktestBody,
    responses(
        (status = 200, description = "Queued: `data` is `{backtestId, serviceId, message}`", body = docs::StartedEnvelope),
        docs::StartErrors))]
pub async fn start(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let command = parse_start(&body, partner)?;
    check_user(&state, &command).await?;
    let idempotency = super::errors::idempotency(&request, &body)?;
    let command = Command { idempotency, command };
    let reply = bus::request(&state.nats, &state.subjects.start_backtest(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_backtest_request)?;
    let internal = || PartnerApiError::Common(crate::api::errors::CommonError::Internal);
    // A replay is the stored reply; the envelope is rebuilt from it exactly as the first time.
    let reply = match reply {
        Replayable::Fresh(reply) => reply,
        Replayable::Replayed(raw) => serde_json::from_str(raw.get()).map_err(|_| internal())?,
    };
    match reply {
        StartBacktestReply::Started(started) => Ok(success(&serde_json::to_string(&started).map_err(|_| internal())?)),
        StartBacktestReply::NoPriceHistory { message } => Err(PartnerApiError::NoPriceHistory(message)),
    }
}

/// A backtest for one of the partner's users must run on an exchange the user has an account
/// on: the ledger knows the partner's users and their accounts.
async fn check_user(state: &AppState, command: &StartBacktest) -> Result<(), PartnerApiError> {
    let Some(user) = &command.user_id else { return Ok(()) };
    let unknown = || PartnerApiError::UnknownUser(format!("User '{user}' not found"));
    let user_id = user.parse::<UserId>().map_err(|_| unknown())?;
    let query = GetPartnerUser { partner_id: command.partner_id, user_id };
    let found = bus::request(&state.nats, &state.subjects.partner_user(), &query, state.backend_timeout()).await;
    let found = match found {
        Ok(found) => found,
        Err(RequestError::Rejected(BusError::NotFound { .. })) => return Err(unknown()),
        Err(other) => return Err(PartnerApiError::common(other)),
    };
    let exchange = command.exchange_id.as_deref().unwrap_or("SIM");
    if found.exchanges.iter().any(|owned| owned.eq_ignore_ascii_case(exchange)) {
        return Ok(());
    }
    let owned = if found.exchanges.is_empty() { "none".to_string() } else { found.exchanges.join(", ") };
    Err(PartnerApiError::ExchangeMismatch(format!(
        "exchangeId '{exchange}' is not an exchange user '{user}' has an account on (the user's: {owned})"
    )))
}

/// State, progress (0–100), message and worker of a backtest.
#[utoipa::path(get, path = "/partner/v1/bots/backtest/{id}/status", tag = "partner-api",
    params(("id" = uuid::Uuid, Path, description = "Backtest id"), ("x-api-key" = String, Header)),
    responses(
        (status = 200, description = "`data`: `{backtestId, state, progress, message, serviceId}`", body = docs::StatusEnvelope),
        docs::ReadErrors))]
pub async fn status(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let reference = backtest_ref(&id, partner)?;
    Ok(success(forward(&state, &state.subjects.backtest_status(), &reference).await?.get()))
}

/// Results of a completed backtest: summary, performance, orders, positions, first 50 log lines.
#[utoipa::path(get, path = "/partner/v1/bots/backtest/{id}/results", tag = "partner-api",
    params(("id" = uuid::Uuid, Path, description = "Backtest id"), ("x-api-key" = String, Header)),
    responses(
        (status = 200, description = "`data`: the results (reference 003); `market` as `SIM:BTC-USDT`, logs as `<unix> ||| <level> ||| <message>`", body = docs::ResultsEnvelope),
        docs::CompletedReadErrors))]
pub async fn results(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let reference = backtest_ref(&id, partner)?;
    Ok(success(forward(&state, &state.subjects.backtest_results(), &reference).await?.get()))
}

/// The whole structured log of a completed backtest (`data` the array of reference 003), or
/// one page of it with `limit`.
#[utoipa::path(get, path = "/partner/v1/bots/backtest/{id}/logs", tag = "partner-api",
    params(("id" = uuid::Uuid, Path, description = "Backtest id"), ("x-api-key" = String, Header), listing::Paging),
    responses(
        (status = 200, description = "`data`: the log lines in order, all of them (streamed) or, with `limit`, one page",
            body = schemas::LogsEnvelope,
            headers(("X-Next-Page-Id" = String, description = "With `limit`: the `nextPageId` of the next page; absent on the last page"))),
        docs::CompletedReadErrors))]
pub async fn logs(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let reference = backtest_ref(&id, partner)?;
    listing::respond(&request, &state, Listing::Logs, reference).await
}

/// Positions of a completed backtest with their entry and exit orders (reference 003's compact
/// keys): all of them, or one page with `limit`.
#[utoipa::path(get, path = "/partner/v1/bots/backtest/{id}/positions", tag = "partner-api",
    params(("id" = uuid::Uuid, Path, description = "Backtest id"), ("x-api-key" = String, Header), listing::Paging),
    responses(
        (status = 200, description = "`data`: the positions in order, all of them (streamed) or, with `limit`, one page",
            body = schemas::PositionsEnvelope,
            headers(("X-Next-Page-Id" = String, description = "With `limit`: the `nextPageId` of the next page; absent on the last page"))),
        docs::CompletedReadErrors))]
pub async fn positions(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let reference = backtest_ref(&id, partner)?;
    listing::respond(&request, &state, Listing::Positions, reference).await
}

/// Cancel a backtest: `true` (also when it had already finished).
#[utoipa::path(post, path = "/partner/v1/bots/backtest/{id}/cancel", tag = "partner-api",
    params(("id" = uuid::Uuid, Path, description = "Backtest id"), ("x-api-key" = String, Header)),
    responses(
        (status = 200, description = "`data`: `true`", body = docs::BoolEnvelope),
        docs::ReadErrors))]
pub async fn cancel(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let reference = backtest_ref(&id, partner)?;
    Ok(success(forward(&state, &state.subjects.cancel_backtest(), &reference).await?.get()))
}

/// The equity curve and drawdown of a completed backtest as an SVG image.
#[utoipa::path(get, path = "/partner/v1/bots/backtest/{id}/equity.svg", tag = "partner-api",
    params(("id" = uuid::Uuid, Path, description = "Backtest id"), ("x-api-key" = String, Header)),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
        docs::CompletedReadErrors))]
pub async fn equity_svg(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner = authenticate(&request, &state).await?;
    let reference = backtest_ref(&id, partner)?;
    let equity = bus::request(&state.nats, &state.subjects.backtest_equity(), &reference, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_backtest_request)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg::render(&equity)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(body: &str) -> String {
        match parse_start(body.as_bytes(), PartnerId::new()) {
            Err(PartnerApiError::Validation(message)) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_body_shape_is_checked_naming_the_field() {
        assert_eq!(error("{"), "Invalid JSON in request body");
        assert_eq!(error("[]"), "The request body must be a JSON object");
        assert_eq!(error(r#"{"foo": 1}"#), "Unknown field 'foo'");
        assert_eq!(error(r#"{"settings": {}}"#), "type is required");
        assert_eq!(error(r#"{"type": "spot_grid"}"#), "settings is required and must be an object");
        assert!(error(r#"{"type": "spot_grid", "settings": {}, "startUnix": "x"}"#).starts_with("startUnix"));
        assert!(
            error(r#"{"type": "spot_grid", "settings": {}, "startUnix": 1, "endUnix": 1.5}"#).starts_with("endUnix")
        );
        let ok = parse_start(
            br#"{"type": "spot_grid", "settings": {"a": 1.10}, "startUnix": 1, "endUnix": 2, "userId": null}"#,
            PartnerId::new(),
        )
        .unwrap();
        assert_eq!(ok.settings.get(), r#"{"a": 1.10}"#, "settings travel byte for byte");
        assert_eq!((ok.start_unix, ok.end_unix, ok.user_id), (1, 2, None));
    }
}
