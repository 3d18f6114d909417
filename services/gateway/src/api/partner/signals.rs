//! A partner's signals to its webhook bots (reference 003's `signals/send` and `signals/get`,
//! docs/live.md#signals).
//!
//! ```text
//! send: client ─► gateway  the signal checked whole (1000), against the gateway's clock
//!                   ├─ qry.ledger.signal_bots ─► the partner's webhook bots with the token
//!                   │                            (none: 1010, another partner's token too)
//!                   └─ cmd.live.send_signal ───► runner: the signal once per (token,
//!                                                timestamp, action) and a receipt per bot,
//!                                                committed together ─► `true`
//! get:  client ─► gateway ─ qry.live.signal ─► the token's last signal and its receipts
//! ```
//!
//! Each bot's owner delivers the signal at its market's next quote (docs/live.md#signals).

mod parse;

use crate::api::partner::auth::authenticate;
use crate::api::partner::docs::signals as docs;
use crate::api::partner::errors::{PartnerApiError, idempotency, replayable, success};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::idempotency::Command;
use bus::messages::signals::{FindSignalBots, SendSignal};

/// Send a signal to every webhook bot of the partner that listens to its token: `data` is
/// `true` once the signal and one receipt per bot are stored. A repeat of the same token,
/// timestamp and action answers `true` and does nothing; so does a repeat with the same
/// `Idempotency-Key` and body.
#[utoipa::path(post, path = "/partner/v1/signals/send", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key"),
        crate::api::bot::docs::IdempotencyKeyHeader),
    request_body(content = docs::SendSignalBody, example = json!(docs::send_body_example())),
    responses(
        (status = 200, description = "`data`: `true`: the signal is stored with a receipt per listening bot \
            (`pending` for a running bot, `skipped` with `bot is stopped` for a stopped one), or it was \
            received before (same token, timestamp and action) and nothing changed. Each running bot acts on it \
            at its market's next quote, once; `signals/get` shows what each did",
            body = super::docs::BoolEnvelope, example = json!(docs::true_example())),
        docs::SendErrors))]
pub async fn send(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let signal = parse::send(&body, chrono::Utc::now().timestamp())?;
    let key = idempotency(&request, &body)?;
    let question = FindSignalBots { partner_id, signal_token: signal.signal_token.clone() };
    let bots = bus::request(&state.nats, &state.subjects.signal_bots(), &question, state.backend_timeout())
        .await
        .map_err(PartnerApiError::common)?;
    if bots.is_empty() {
        return Err(unknown_token(&signal.signal_token));
    }
    let command = Command { idempotency: key, command: SendSignal { partner_id, signal, bots } };
    let reply = bus::request(&state.nats, &state.subjects.send_signal(), &command, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_signal_request)?;
    replayable(reply)
}

/// The partner's last signal with a token and what each bot did with it: `data` is the signal
/// with one receipt per bot.
#[utoipa::path(post, path = "/partner/v1/signals/get", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::GetSignalBody, example = json!({"signalToken": "my-btc-signal-token"})),
    responses(
        (status = 200, description = "`data`: the last signal the partner sent with the token (by the time it was \
            received), with one receipt per bot it went to: `pending` until the bot's next quote, then \
            `delivered` (with the order placed and its status as it moves, or the exchange's refusal as \
            `reason`) or `skipped` (`bot is stopped`, `maxLag exceeded at delivery`)",
            body = docs::SignalEnvelope, example = json!(docs::signal_example())),
        docs::GetErrors))]
pub async fn get(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::get(partner_id, &body)?;
    // Forwarded as the runner wrote it: amounts and metadata stay digit for digit.
    let reply = bus::request_raw(&state.nats, &state.subjects.signal(), &query, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_signal_request)?;
    Ok(success(reply.get()))
}

/// 1010 for a token none of the partner's webhook bots listens to.
fn unknown_token(token: &str) -> PartnerApiError {
    PartnerApiError::UnknownSignal(format!("No webhook bot listens to signal token '{token}'"))
}
