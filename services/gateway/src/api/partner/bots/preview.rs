//! A grid bot's preview (reference 003's `bots/preview`, docs/api/partner.md#a-grids-preview):
//! what a start would place now, nothing created and nothing placed. The ledger checks the
//! would-be bot exactly as `bots/create` does and stores nothing; the runner previews the
//! canonical settings at its latest quote of the market.
//!
//! ```text
//! client ─► gateway ─ qry.ledger.check_hosted_bot ─► ledger   user (1001) → exchange (1004)
//!              │                                              → settings (1000): canonical
//!              │                                                settings and the market
//!              └──── qry.live.preview_grid ─► runner          no quote of the market yet → 1007
//! ```
//!
//! Only grids have a preview: the gateway refuses the other types (1005) before asking anybody.

use super::parse;
use crate::api::partner::auth::authenticate;
use crate::api::partner::docs::bots as docs;
use crate::api::partner::errors::{PartnerApiError, success};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::live::PreviewGrid;

/// What a grid bot would place if started now, and what it would need: `data` is the preview.
#[utoipa::path(post, path = "/partner/v1/bots/preview", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::PreviewBotBody, example = json!(docs::preview_body_example())),
    responses(
        (status = 200, description = "`data`: what the grid would do if started now, at the live-session-runner's \
            latest quote of `settings.symbol`'s market, with the fees (0.1 % a fill) and the paper balance (10,000 \
            of the quote currency) a started bot has. An estimate: the price may move before a start. Nothing is \
            created or placed. The example: a spot grid 100–140 in 4 \
            grids with 1,000 USDT (`Quote`) and `tradeToFillGrid`, at 125",
            body = docs::GridPreviewEnvelope, example = json!(docs::preview_example())),
        docs::PreviewErrors))]
pub async fn preview(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let check = parse::preview(partner_id, &body)?;
    let script_type = check.script_type.clone();
    let checked = bus::request(&state.nats, &state.subjects.check_hosted_bot(), &check, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    let question = PreviewGrid { script_type, settings: checked.settings, market: checked.market };
    // Forwarded as the runner wrote it, so its numbers stay digit for digit.
    let preview = bus::request_raw(&state.nats, &state.subjects.preview_grid(), &question, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_preview_request)?;
    Ok(success(preview.get()))
}
