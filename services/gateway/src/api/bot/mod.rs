//! The Bot API (`/api/bots/:slug/...`, references 000–002 and docs/api/bot.md).
//!
//! Every handler: authenticate (before reading the body) → parse and validate with the
//! reference's messages → one request to the ledger → forward its reply.

pub mod auth;
pub mod docs;
pub mod errors;
pub mod fields;
pub mod query;
pub mod trades;
pub mod validate;
pub mod validate_patches;
pub mod validate_trades;

use super::Router;
use crate::api::json;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use auth::authenticate;
use bus::messages::bot_api::paging::{AccountCursor, STATES_PAGE_MAX, StateCursor};
use bus::messages::bot_api::{
    BotConfigReply, CreateParticipations, GetBotConfig, GetStates, ParticipationsReply, StatesListReply, StatesReply,
    UpsertStates,
};
use bus::messages::idempotency::{Command, IdempotencyKey};
use errors::BotApiError;
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub(super) fn routes(router: &mut Router<'_>) {
    router
        .route(Method::GET, "/api/bots/{slug}", get_bot)
        .route(Method::POST, "/api/bots/{slug}/participations", create_participations)
        .route(Method::POST, "/api/bots/{slug}/state", upsert_states)
        .route(Method::GET, "/api/bots/{slug}/state", list_states)
        .route(Method::POST, "/api/bots/{slug}/trades", trades::create_trade)
        .route(Method::GET, "/api/bots/{slug}/trades", trades::list_trades)
        .route(Method::GET, "/api/bots/{slug}/trades/{tradeId}", trades::get_trade)
        .route(Method::PATCH, "/api/bots/{slug}/trades/{tradeId}", trades::update_trade)
        .route(Method::POST, "/api/bots/{slug}/trades/{tradeId}/transactions", trades::add_transactions)
        .route(
            Method::PATCH,
            "/api/bots/{slug}/trades/{tradeId}/transactions/{transactionId}",
            trades::update_transaction,
        )
        .route(Method::GET, "/api/bots/{slug}/trades/{tradeId}/participations", trades::trade_participations)
        .route(Method::GET, "/api/bots/{slug}/trades/{tradeId}/transactions", trades::list_transactions);
}

/// Sends one request to the ledger and answers with its reply as it is: the ledger builds the
/// reference's body, and forwarding the raw JSON keeps it byte for byte.
pub(super) async fn forward<Req: serde::Serialize, Resp>(
    state: &AppState,
    endpoint: &bus::Endpoint<Req, Resp>,
    request: &Req,
) -> Result<HttpResponse, BotApiError> {
    let reply = bus::request_raw(&state.nats, endpoint, request, state.backend_timeout())
        .await
        .map_err(BotApiError::from_request)?;
    Ok(HttpResponse::Ok().content_type("application/json").body(reply.get().to_string()))
}

/// The `Idempotency-Key` of a POST, with the hash of what it came with.
pub(super) fn idempotency(request: &HttpRequest, body: &[u8]) -> Result<Option<IdempotencyKey>, BotApiError> {
    let Some(value) = request.headers().get("idempotency-key") else { return Ok(None) };
    let key =
        value.to_str().ok().filter(|key| !key.is_empty() && key.len() <= 255).ok_or_else(|| {
            BotApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into())
        })?;
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(request.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    let request_hash = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(Some(IdempotencyKey { key: key.to_string(), request_hash }))
}

pub(super) fn parse(body: &[u8]) -> Result<Option<json::Object>, BotApiError> {
    json::parse_body(body).map_err(|_| BotApiError::BadRequest("Invalid JSON in request body".to_string()))
}

/// Query of `GET /api/bots/{slug}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct BotQuery {
    /// The `nextFollowersCursor` of the previous reply: followers after it.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    followers_cursor: Option<String>,
    /// The `nextStatesCursor` of the previous reply: states after it.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    states_cursor: Option<String>,
}

/// The bot's own configuration: followers and stored state. Never a credential. At most 500
/// followers and 500 states (fewer when they would not fit one reply); `nextFollowersCursor`
/// / `nextStatesCursor` appear when a list goes on.
#[utoipa::path(get, path = "/api/bots/{slug}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug (`/^[a-zA-Z0-9_-]+$/`)", pattern = r"^[a-zA-Z0-9_-]+$"), ("x-api-key" = String, Header),
        BotQuery),
    responses(
        (status = 200, description = "The bot", body = BotConfigReply, example = json!(docs::bot_example())),
        docs::ReadErrors))]
pub async fn get_bot(
    request: HttpRequest,
    slug: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let params: BotQuery = query::parse(&request)?;
    let command = GetBotConfig {
        bot_id: bot.bot_id,
        followers_after: query::cursor(params.followers_cursor.as_deref(), "followersCursor", AccountCursor::decode)?,
        states_after: query::cursor(params.states_cursor.as_deref(), "statesCursor", StateCursor::decode)?,
    };
    forward(&state, &state.subjects.bot_config(), &command).await
}

/// Reference 000: link a bot trade to users' broker orders. Items succeed or fail alone.
#[utoipa::path(post, path = "/api/bots/{slug}/participations", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("x-api-key" = String, Header),
        docs::IdempotencyKeyHeader),
    request_body = docs::ParticipationsBody,
    responses(
        (status = 200, description = "Per-item results (partial success possible)", body = ParticipationsReply),
        docs::IdempotentWriteErrors))]
pub async fn create_participations(
    request: HttpRequest,
    slug: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let participations = validate::participations(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command = Command {
        idempotency: idempotency(&request, &body)?,
        command: CreateParticipations { bot_id: bot.bot_id, slug: bot.slug, participations },
    };
    forward(&state, &state.subjects.create_participations(), &command).await
}

/// Reference 002: upsert per (account, ticker) state. Items succeed or fail alone.
#[utoipa::path(post, path = "/api/bots/{slug}/state", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("x-api-key" = String, Header),
        docs::IdempotencyKeyHeader),
    request_body = docs::StatesBody,
    responses(
        (status = 200, description = "Per-item results (partial success possible)", body = StatesReply),
        docs::IdempotentWriteErrors))]
pub async fn upsert_states(
    request: HttpRequest,
    slug: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let states = validate::states(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command =
        Command { idempotency: idempotency(&request, &body)?, command: UpsertStates { bot_id: bot.bot_id, states } };
    forward(&state, &state.subjects.upsert_states(), &command).await
}

/// Filters and page of `GET /api/bots/{slug}/state`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StateFilter {
    /// Only this broker account's states.
    #[param(format = Uuid)]
    account_id: Option<String>,
    /// Only this ticker's states.
    #[param(format = Uuid)]
    ticker_id: Option<String>,
    /// Page size, 1 to 1000 (default 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

/// An optional query parameter that names a record: any typed id parses from a UUID's text.
fn optional_id<Id: std::str::FromStr>(value: Option<&str>, name: &str) -> Result<Option<Id>, BotApiError> {
    value
        .map(|text| text.parse().map_err(|_| BotApiError::BadRequest(format!("{name} must be a valid UUID"))))
        .transpose()
}

/// The bot's stored states, so a restarted bot can resume: by account then ticker, a page of
/// at most `limit` (fewer when they would not fit one reply), `nextCursor` when more follow.
#[utoipa::path(get, path = "/api/bots/{slug}/state", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("x-api-key" = String, Header), StateFilter),
    responses(
        (status = 200, description = "Stored states", body = StatesListReply, example = json!(docs::states_example())),
        docs::ReadErrors))]
pub async fn list_states(
    request: HttpRequest,
    slug: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let filter: StateFilter = query::parse(&request)?;
    let command = GetStates {
        bot_id: bot.bot_id,
        account_id: optional_id(filter.account_id.as_deref(), "accountId")?,
        ticker_id: optional_id(filter.ticker_id.as_deref(), "tickerId")?,
        limit: query::limit(filter.limit.as_deref(), STATES_PAGE_MAX, STATES_PAGE_MAX)?,
        after: query::cursor(filter.cursor.as_deref(), "cursor", StateCursor::decode)?,
    };
    forward(&state, &state.subjects.bot_states(), &command).await
}
