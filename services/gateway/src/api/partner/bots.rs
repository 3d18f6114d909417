//! A partner's hosted bots (reference 003, docs/api/partner.md#hosted-bots): list, a user's,
//! get, create, edit, copy, start, stop, delete. The ledger keeps the definitions and desired
//! states and does every record check (user → bot → state → market → exchange → settings),
//! answering typed refusals whose messages are client-ready; the gateway checks the request's
//! shape ([`parse`]) and forwards it. A bot's open orders and log are the runner's
//! ([`runtime`]), and so is a grid's preview ([`preview`]), once the ledger checked it.

pub mod parse;
pub mod preview;
pub mod runtime;

use super::auth::authenticate;
use super::docs::bots as docs;
use super::errors::{PartnerApiError, idempotency, replayable, success};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::hosted::Desired;
use bus::messages::idempotency::Command;

// Create and copy forward their reply raw (`request_raw`) rather than through `replayable`:
// a `Replayable` is untagged on the wire, so a fresh bot and a replayed one are the same JSON,
// and a `Replayable<HostedBotView>` cannot be decoded at all (the bot's `settings` is a
// `RawValue`, which serde cannot read from the buffered content an untagged enum tries its
// variants on).

/// A page of the partner's hosted bots, newest first: `data` is `{items, nextPageId}`.
#[utoipa::path(post, path = "/partner/v1/bots/list", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = Option<docs::ListBotsBody>, example = json!({"limit": 10, "nextPageId": ""})),
    responses(
        (status = 200, description = "`data`: `{items, nextPageId}`, the partner's bots of every user, newest first. \
            A page ends at `limit` bots or near 256 KiB, whichever comes first; `nextPageId` is non-null while \
            more remain", body = docs::BotsPageEnvelope, example = json!(docs::bots_page_example())),
        docs::ListErrors))]
pub async fn list(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::list(partner_id, &body)?;
    let reply = bus::request_raw(&state.nats, &state.subjects.hosted_bots(), &query, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    Ok(success(reply.get()))
}

/// A page of one user's hosted bots, newest first: `data` is `{items, nextPageId}`.
#[utoipa::path(post, path = "/partner/v1/bots/user", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::UserBotsBody,
        example = json!({"userId": "f873b314-f165-45a0-b658-d15ff37d529a", "limit": 10, "nextPageId": ""})),
    responses(
        (status = 200, description = "`data`: `{items, nextPageId}`, the user's bots, newest first; paged like \
            `bots/list`", body = docs::BotsPageEnvelope, example = json!(docs::bots_page_example())),
        docs::UserListErrors))]
pub async fn user(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::user_list(partner_id, &body)?;
    let reply = bus::request_raw(&state.nats, &state.subjects.hosted_bots(), &query, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    Ok(success(reply.get()))
}

/// One of a user's hosted bots: `data` is the bot.
#[utoipa::path(post, path = "/partner/v1/bots/get", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::BotRefBody, example = json!({"userId": "f873b314-f165-45a0-b658-d15ff37d529a",
        "botId": "7d7e643ac399492c8adf1add09316abb"})),
    responses(
        (status = 200, description = "`data`: the bot. `profit` and `roi` are 0 until live trading lands",
            body = docs::BotEnvelope, example = json!(docs::bot_example())),
        docs::GetErrors))]
pub async fn get(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::get(partner_id, &body)?;
    let reply = bus::request_raw(&state.nats, &state.subjects.hosted_bot(), &query, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    Ok(success(reply.get()))
}

/// Create a hosted bot for a user and start it: `data` is the new bot, `running`. With
/// `Idempotency-Key`, a repeat of the same body answers the same bot and creates nothing.
#[utoipa::path(post, path = "/partner/v1/bots/create", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::CreateBotBody, example = json!(docs::create_body_example())),
    responses(
        (status = 200, description = "`data`: the new bot, every setting with its default filled in. Create starts \
            the bot, so `status` is `running` (the reference's example shows `stopped`: an artefact of it). \
            `profit` and `roi` are 0 until live trading lands", body = docs::BotEnvelope,
            example = json!(docs::bot_example())),
        docs::CreateErrors))]
pub async fn create(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let command = parse::create(partner_id, &body)?;
    let command = Command { idempotency: idempotency(&request, &body)?, command };
    let reply = bus::request_raw(&state.nats, &state.subjects.create_hosted_bot(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    Ok(success(reply.get()))
}

/// Change a bot's settings: the keys sent are merged into the stored ones; a key the script
/// does not mark `canBeEdited` is refused when it changes. A master's edit reaches its
/// followers. `data` is `true`.
#[utoipa::path(post, path = "/partner/v1/bots/edit", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::EditBotBody, example = json!({"userId": "f873b314-f165-45a0-b658-d15ff37d529a",
        "botId": "7d7e643ac399492c8adf1add09316abb", "settings": {"stopCondition": "Price", "stopType": "Above value",
        "stopValue": 55000, "stopExit": true}})),
    responses(
        (status = 200, description = "`data`: `true`", body = super::docs::BoolEnvelope,
            example = json!({"isSuccess": true, "code": 0, "message": "", "data": true})),
        docs::EditErrors))]
pub async fn edit(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let command = parse::edit(partner_id, &body)?;
    let command = Command { idempotency: idempotency(&request, &body)?, command };
    let reply = bus::request(&state.nats, &state.subjects.edit_hosted_bot(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    replayable(reply)
}

/// Copy a bot for another user on the same exchange, running; `followUpdates` makes the copy a
/// follower of the bot's root master. `data` is the new bot.
#[utoipa::path(post, path = "/partner/v1/bots/copy", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::CopyBotBody, example = json!({"userId": "696c712e-346b-4631-9df8-38fe59211493",
        "botId": "7d7e643ac399492c8adf1add09316abb", "followUpdates": true, "settings": {"investmentAmount": 5000}})),
    responses(
        (status = 200, description = "`data`: the copy, `running`, with `masterBotId` the root master's id when it \
            follows updates (else `\"\"`)", body = docs::BotEnvelope, example = json!(docs::copy_example())),
        docs::CopyErrors))]
pub async fn copy(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let command = parse::copy(partner_id, &body)?;
    let command = Command { idempotency: idempotency(&request, &body)?, command };
    let reply = bus::request_raw(&state.nats, &state.subjects.copy_hosted_bot(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    Ok(success(reply.get()))
}

async fn set_status(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    desired: Desired,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let command = parse::set_status(partner_id, &body, desired)?;
    let command = Command { idempotency: idempotency(&request, &body)?, command };
    let reply = bus::request(&state.nats, &state.subjects.set_hosted_bot_status(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    replayable(reply)
}

/// Start a stopped bot: `data` is `true`.
#[utoipa::path(post, path = "/partner/v1/bots/start", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::BotIdBody, example = json!({"botId": "7d7e643ac399492c8adf1add09316abb"})),
    responses(
        (status = 200, description = "`data`: `true`", body = super::docs::BoolEnvelope,
            example = json!({"isSuccess": true, "code": 0, "message": "", "data": true})),
        docs::StartErrors))]
pub async fn start(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    set_status(request, body, state, Desired::Running).await
}

/// Stop a running bot (its open orders are cancelled, its positions and history kept): `data`
/// is `true`.
#[utoipa::path(post, path = "/partner/v1/bots/stop", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::BotIdBody, example = json!({"botId": "7d7e643ac399492c8adf1add09316abb"})),
    responses(
        (status = 200, description = "`data`: `true`", body = super::docs::BoolEnvelope,
            example = json!({"isSuccess": true, "code": 0, "message": "", "data": true})),
        docs::StopErrors))]
pub async fn stop(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    set_status(request, body, state, Desired::Stopped).await
}

/// Delete a bot (stopped first if running); a master's followers become independent. `data`
/// is `true`; the id answers 1002 from then on.
#[utoipa::path(post, path = "/partner/v1/bots/delete", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::BotIdBody, example = json!({"botId": "7d7e643ac399492c8adf1add09316abb"})),
    responses(
        (status = 200, description = "`data`: `true`", body = super::docs::BoolEnvelope,
            example = json!({"isSuccess": true, "code": 0, "message": "", "data": true})),
        docs::DeleteErrors))]
pub async fn delete(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let command = parse::delete(partner_id, &body)?;
    let command = Command { idempotency: idempotency(&request, &body)?, command };
    let reply = bus::request(&state.nats, &state.subjects.delete_hosted_bot(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    replayable(reply)
}
