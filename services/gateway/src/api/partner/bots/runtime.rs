//! A hosted bot's runtime (reference 003's `bots/orders` and `bots/logs`,
//! docs/api/partner.md#a-bots-orders-and-log): the live-session-runner holds it, the ledger
//! knows whose bot it is.
//!
//! ```text
//! client ─► gateway ─ qry.ledger.hosted_bot ─► ledger     the partner's bot? (else 1002)
//!              │      (a yes is cached 5 s per partner and bot id)
//!              └──── qry.live.bot_orders | bot_logs ─► runner   (not found → 1002 too)
//! ```

use super::parse;
use crate::api::errors::CommonError;
use crate::api::partner::auth::authenticate;
use crate::api::partner::docs::bots as docs;
use crate::api::partner::errors::{PartnerApiError, success, success_of};
use crate::api::partner::paging::LineCursor;
use crate::auth_cache::HostedBotKey;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::hosted::GetHostedBot;
use bus::messages::live::{BotLogLine, BotLogPage, GetBotLogs, GetBotOrders};
use domain::BotId;
use serde::Serialize;
use tracing::error;

/// The open orders of one of the partner's bots, oldest first: `data` is the array.
#[utoipa::path(post, path = "/partner/v1/bots/orders", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::BotIdBody, example = json!({"botId": "6dafad4e364449c9906296aab8eff2f7"})),
    responses(
        (status = 200, description = "`data`: the bot's open orders, oldest first (`[]` for none, and for a \
            stopped bot, whose orders are cancelled). `positionId` is that of the position a closing order \
            closes, `\"\"` for an opening order; fills are whole, so `amountFilled` is 0",
            body = docs::BotOrdersEnvelope, example = json!(docs::orders_example())),
        docs::OrdersErrors))]
pub async fn orders(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let bot = parse::orders(partner_id, &body)?;
    let bot_id = hosted_bot(&state, &bot).await?;
    let reply =
        bus::request_raw(&state.nats, &state.subjects.bot_orders(), &GetBotOrders { bot_id }, state.backend_timeout())
            .await
            .map_err(|failure| PartnerApiError::from_runtime_request(failure, &bot.bot_id))?;
    Ok(success(reply.get()))
}

/// A page of one of the partner's bots' log, oldest line first: `data` is `{items, nextPageId}`.
#[utoipa::path(post, path = "/partner/v1/bots/logs", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::BotLogsBody,
        example = json!({"botId": "895aef7fe5eb4b368ece3d4e65729769", "limit": 5, "nextPageId": "", "offset": 0})),
    responses(
        (status = 200, description = "`data`: `{items, nextPageId}`, the bot's log lines oldest first, from line \
            `offset + 1`, or after the last line of the page `nextPageId` came with. A page ends at `limit` lines \
            or near 256 KiB, whichever comes first; `nextPageId` is non-null while more lines remain, null on the \
            last page", body = docs::BotLogsEnvelope, example = json!(docs::logs_example())),
        docs::LogsErrors))]
pub async fn logs(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::logs(partner_id, &body)?;
    let bot_id = hosted_bot(&state, &query.bot).await?;
    let page_request = GetBotLogs { bot_id, after_line: query.after_line, limit: query.limit };
    let page = bus::request(&state.nats, &state.subjects.bot_logs(), &page_request, state.backend_timeout())
        .await
        .map_err(|failure| PartnerApiError::from_runtime_request(failure, &query.bot.bot_id))?;
    success_of(&LogPage::from(page))
}

/// The bot `query` names, when it is the partner's: the ledger answers as it does `bots/get`
/// (1002 `Bot '<id>' not found` for an unknown, deleted, malformed or another partner's id),
/// and a yes is reused for a few seconds, so paging through a log asks the ledger once.
async fn hosted_bot(state: &AppState, query: &GetHostedBot) -> Result<BotId, PartnerApiError> {
    let key = HostedBotKey { partner_id: query.partner_id, bot_id: query.bot_id.clone() };
    if let Some(bot_id) = state.hosted_bot_cache.get(&key) {
        return Ok(bot_id);
    }
    let bot = bus::request(&state.nats, &state.subjects.hosted_bot(), query, state.backend_timeout())
        .await
        .map_err(PartnerApiError::from_bot_request)?;
    let bot_id = bot.bot_id.parse::<BotId>().map_err(|_| {
        error!(bot.id = %bot.bot_id, "the ledger answered a hosted bot id that is not a UUID");
        PartnerApiError::Common(CommonError::Internal)
    })?;
    state.hosted_bot_cache.put(key, bot_id);
    Ok(bot_id)
}

/// `data` of `bots/logs`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogPage {
    items: Vec<BotLogLine>,
    next_page_id: Option<String>,
}

impl From<BotLogPage> for LogPage {
    fn from(page: BotLogPage) -> Self {
        // The next page starts after the last line shown.
        let next_page_id =
            page.items.last().filter(|_| page.more).map(|line| LineCursor { line: line.line_number }.encode());
        LogPage { items: page.items, next_page_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(line_number: i64) -> BotLogLine {
        BotLogLine {
            line_number,
            timestamp: 1_766_070_000,
            severity: "info".into(),
            color: None,
            message: "Bot started".into(),
        }
    }

    #[test]
    fn the_next_page_id_is_the_last_lines_while_more_remain() {
        let page = |items: Vec<BotLogLine>, more| serde_json::to_value(LogPage::from(BotLogPage { items, more }));
        let more = page(vec![line(4), line(5)], true).unwrap();
        assert_eq!(more["nextPageId"], json!(LineCursor { line: 5 }.encode()));
        assert_eq!(
            more["items"][1],
            json!({"lineNumber": 5, "timestamp": 1_766_070_000, "severity": "info", "color": null,
                   "message": "Bot started"})
        );
        assert_eq!(page(vec![line(4), line(5)], false).unwrap()["nextPageId"], json!(null));
        assert_eq!(page(vec![], false).unwrap(), json!({"items": [], "nextPageId": null}));
    }
}
