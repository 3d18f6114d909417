//! Request and envelope shapes of the Partner API for the OpenAPI document. Requests are
//! parsed field by field (see `backtest::parse_start`), so these types only describe them.

#![allow(dead_code)]

pub mod bots;
pub mod reference;
pub mod signals;
pub mod users;

use crate::api::errors::TIMEOUT_MESSAGE;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

/// `{isSuccess: false, code, message, data: null}`: 1000 (400) validation, 1001 (404) unknown
/// user, 1002 (404) unknown bot, 1003 (409) state conflict, 1004 (400) exchange not the user's,
/// 1005 (400) no preview for the bot type, 1006 (409) not completed, 1007 (422) no price
/// history, 1008 (409) a follower cannot be edited, 1009 (404) unknown backtest, 1010 (404)
/// unknown signal token, 1011 (422) `Idempotency-Key` reused, 1012 (404) unknown position,
/// 1401 (401) key missing or invalid, 1405 (405) method not allowed, 1413 (413) body too large,
/// 1429 (429) too many requests, 9503 (503) backend unavailable, 9504 (504) backend did not
/// answer in time, 9000 (500).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerErrorEnvelope {
    /// `false`.
    is_success: bool,
    /// The error code.
    code: u16,
    /// What went wrong (validation messages name the field).
    message: String,
    /// `null`.
    #[schema(value_type = Option<Object>)]
    data: Option<String>,
}

/// `POST /partner/v1/bots/backtest` (reference 003). `endUnix` must be after `startUnix`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartBacktestBody {
    /// The partner's user the backtest is for (optional; an id that is not the partner's
    /// user answers 404, code 1001).
    #[schema(format = Uuid)]
    user_id: Option<String>,
    /// The hosted bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
    /// `SIM` (the default; the only exchange with stored history).
    #[schema(value_type = Option<String>, pattern = "^SIM$")]
    exchange_id: Option<String>,
    /// The bot's settings (`GET /scripts` metadata); `symbol` is a SIM market such as `SIM_BTC_USDT_`;
    /// optional `interval` (minutes) picks a stored timeframe, else the finest one is used.
    #[schema(value_type = Object)]
    settings: String,
    /// Range start, unix seconds (inclusive).
    #[schema(minimum = 0, maximum = 2147483647)]
    start_unix: i64,
    /// Range end, unix seconds (exclusive).
    #[schema(minimum = 0, maximum = 2147483647)]
    end_unix: i64,
}

/// The hosted bot types a backtest runs.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScriptType {
    /// Spot grid.
    SpotGrid,
    /// Futures grid.
    FuturesGrid,
    /// Spot DCA.
    SpotDollarCostAveraging,
    /// Futures DCA.
    FuturesDollarCostAveraging,
    /// Webhook (signals).
    Webhook,
}

/// `data` of a started backtest.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BacktestStartedData {
    /// The backtest's id.
    backtest_id: String,
    /// The executor instance that accepted it.
    service_id: String,
    /// Confirmation text.
    message: String,
}

/// Success envelope of `POST /bots/backtest`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StartedEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The started backtest.
    data: BacktestStartedData,
}

/// `data` of the status route.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BacktestStatusData {
    /// The backtest.
    backtest_id: String,
    /// `loading_script`, `loading_data`, `executing`, `completed`, `failed`, `cancelled`.
    state: String,
    /// 0–100.
    progress: u8,
    /// What it does, or why it failed.
    message: String,
    /// The worker that runs it (`<instance>/w<n>`), or the accepting instance while queued.
    service_id: String,
}

/// Success envelope of the status route.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StatusEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The status.
    data: BacktestStatusData,
}

/// Success envelope of the results route: `data` as reference 003 shows it (`backtestId`,
/// `startUnix`, `endUnix`, `executionStart`, `executionEnd`, `market`, `summary`,
/// `performance`, `orders`, `positions`, `logs`).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ResultsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The results.
    #[schema(value_type = Object)]
    data: String,
}

/// `data: true`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BoolEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// `true`.
    data: bool,
}

/// The envelope with `code` one of `codes`, so a client (and the fuzzer) can tell a
/// documented refusal from any other body with the same status.
fn envelope(codes: &[u16]) -> RefOr<Schema> {
    let code = ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some(codes.iter().copied()));
    let is_success = ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([false]));
    let all_of = AllOfBuilder::new()
        .item(Ref::from_schema_name("PartnerErrorEnvelope"))
        .item(ObjectBuilder::new().property("code", code).property("isSuccess", is_success))
        .build();
    RefOr::T(Schema::AllOf(all_of))
}

fn described(description: &str, codes: &[u16]) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(envelope(codes))))
        .build()
        .into()
}

/// 504, with the body a client gets.
fn timed_out() -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(envelope(&[9504])))
        .example(Some(serde_json::json!({"isSuccess": false, "code": 9504, "message": TIMEOUT_MESSAGE, "data": null})))
        .build();
    ResponseBuilder::new()
        .description(
            "Code 9504: a backend took the request but did not answer in time; a write may or may not have \
             happened (a backend rolls back what it could not commit in time). Retry with the same Idempotency-Key",
        )
        .content("application/json", content)
        .build()
        .into()
}

/// The shared error responses; every route also gets 504, since every route asks a backend
/// (at least the ledger, for the key).
fn errors(codes: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses: BTreeMap<String, RefOr<Response>> = codes
        .iter()
        .filter_map(|code| {
            let response = match code {
                400 => described("Code 1000: validation failed; the message names the field", &[1000]),
                401 => described("Code 1401: partner key missing or invalid", &[1401]),
                404 => described("Code 1009: unknown backtest (another partner's backtest too)", &[1009]),
                409 => described("Code 1006: the backtest has not completed", &[1006]),
                413 => described("Code 1413: body above 512 KiB", &[1413]),
                422 => described("Code 1007: no price history for the market and range", &[1007]),
                500 => described("Code 9000: internal error", &[9000]),
                503 => described("Code 9503: the backtest-executor or the ledger is unavailable", &[9503]),
                _ => return None,
            };
            Some((code.to_string(), response))
        })
        .collect();
    responses.insert("504".into(), timed_out());
    responses
}

/// Errors of `POST /bots/backtest`.
pub struct StartErrors;

impl IntoResponses for StartErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = errors(&[401, 413, 500, 503]);
        responses.insert(
            "400".into(),
            described(
                "Code 1000: validation failed, the message names the field; code 1004: `exchangeId` is not an exchange the user has an account on",
                &[1000, 1004],
            ),
        );
        responses.insert("404".into(), described("Code 1001: unknown user (another partner's user too)", &[1001]));
        responses.insert(
            "409".into(),
            described("Code 1006: a request with this Idempotency-Key is still being processed", &[1006]),
        );
        responses.insert(
            "422".into(),
            described(
                "Code 1007: no price history for the market and range; code 1011: Idempotency-Key reused with another body",
                &[1007, 1011],
            ),
        );
        responses
    }
}

/// Errors of status and cancel.
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[401, 404, 500, 503])
    }
}

/// Errors of the routes that need a completed backtest.
pub struct CompletedReadErrors;

impl IntoResponses for CompletedReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 404, 409, 500, 503])
    }
}
