//! A hosted bot's runtime (reference 003's `bots/orders`, `bots/logs` and `bots/positions/...`,
//! docs/api/partner.md#a-bots-orders-log-and-positions): the live-session-runner holds it, the
//! ledger knows whose bot it is.
//!
//! ```text
//! client ─► gateway ─ qry.ledger.hosted_bot ─► ledger     the partner's bot? (else 1002)
//!              │      (a yes is cached 5 s per partner and bot id)
//!              └──── qry.live.bot_orders | bot_logs | bot_positions | position_orders ─► runner
//!                    (not found → 1002 too; no such position → 1012)
//! ```

use super::parse;
use crate::api::errors::CommonError;
use crate::api::partner::auth::authenticate;
use crate::api::partner::docs::bots as docs;
use crate::api::partner::errors::{PartnerApiError, success, success_of};
use crate::api::partner::paging::{ClosedPositionCursor, LineCursor};
use crate::auth_cache::HostedBotKey;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::Endpoint;
use bus::messages::hosted::GetHostedBot;
use bus::messages::live::{
    BotLogLine, BotLogPage, BotPosition, BotPositionsPage, GetBotLogs, GetBotOrders, GetBotPositions, GetPositionOrders,
};
use bus::messages::partner::MAX_PAGE_LIMIT;
use domain::BotId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
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
    let orders = ask_runner_raw(&state, &bot, &state.subjects.bot_orders(), |bot_id| GetBotOrders { bot_id }).await?;
    Ok(success(orders.get()))
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
    let lines_after = |bot_id| GetBotLogs { bot_id, after_line: query.after_line, limit: query.limit };
    let page = ask_runner(&state, &query.bot, &state.subjects.bot_logs(), lines_after).await?;
    success_of(&LogPage::from(page))
}

/// The open positions of one of the partner's bots, oldest first: `data` is the array.
#[utoipa::path(post, path = "/partner/v1/bots/positions/open", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::BotIdBody, example = json!({"botId": "6dafad4e364449c9906296aab8eff2f7"})),
    responses(
        (status = 200, description = "`data`: the bot's open positions, oldest first, all of them (not paged; `[]` \
            for none). `amount` is the amount still open; `unrealizedProfit` is at the runner's latest price; \
            `realizedProfit` is GROSS, the profit of the exits so far before fees (the fees of the position's fills \
            are in `feeCosts`), unlike the bot's `profit` (net of fees) and a backtest position's `rp`; \
            `closeTime` is 0 and `exitPrice` null before any exit",
            body = docs::OpenPositionsEnvelope, example = json!(docs::open_positions_example())),
        docs::OpenPositionsErrors))]
pub async fn open_positions(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let bot = parse::orders(partner_id, &body)?;
    // Open positions are few (a grid's levels at most), so one reply holds them all.
    let all_open = |bot_id| GetBotPositions { bot_id, closed: false, after: None, limit: MAX_PAGE_LIMIT };
    let page = ask_runner(&state, &bot, &state.subjects.bot_positions(), all_open).await?;
    success_of(&page.items)
}

/// A page of one of the partner's bots' closed positions, newest first: `data` is
/// `{items, nextPageId}`.
#[utoipa::path(post, path = "/partner/v1/bots/positions/closed", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::ClosedPositionsBody,
        example = json!({"botId": "18c561aa5a9c4e54af24fb8c21a2040a", "limit": 50, "nextPageId": ""})),
    responses(
        (status = 200, description = "`data`: `{items, nextPageId}`, the bot's closed positions, newest first (by \
            close time), after the last position of the page `nextPageId` came with. A page ends at `limit` \
            positions or near 256 KiB, whichever comes first; `nextPageId` is non-null while more positions remain, \
            null on the last page. `amount` is the amount entered; `realizedProfit` is GROSS, `(exit − entry) × \
            amount` before fees (the fees are in `feeCosts`), unlike the bot's `profit` (net of fees) and a \
            backtest position's `rp`; `roi` is `realizedProfit` over the entry notional / leverage, in percent",
            body = docs::ClosedPositionsEnvelope, example = json!(docs::closed_positions_example())),
        docs::ClosedPositionsErrors))]
pub async fn closed_positions(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::closed_positions(partner_id, &body)?;
    let closed_after = |bot_id| GetBotPositions { bot_id, closed: true, after: query.after, limit: query.limit };
    let page = ask_runner(&state, &query.bot, &state.subjects.bot_positions(), closed_after).await?;
    success_of(&ClosedPositionsPage::from(page))
}

/// The entry and exit orders of one of the positions of one of the partner's bots: `data` is
/// `{positionId, enterOrders, exitOrders}`.
#[utoipa::path(post, path = "/partner/v1/bots/positions/orders", tag = "partner-api",
    params(("x-api-key" = String, Header, description = "The partner's key")),
    request_body(content = docs::PositionOrdersBody,
        example = json!({"botId": "bedc8bb485514565b64a728fc0886a95", "positionId": "0190d5f4b2c36d7e8f9a0b1c2d3e4f5a"})),
    responses(
        (status = 200, description = "`data`: `{positionId, enterOrders, exitOrders}`, the fills of the position \
            (open or closed), each list in order. `profit` and `roi` are 0 on an entry; on an exit they are the \
            GROSS profit of that exit's share (before fees; its fee is in `feeCosts`) and that profit over its \
            share's entry notional, in percent",
            body = docs::PositionOrdersEnvelope, example = json!(docs::position_orders_example())),
        docs::PositionOrdersErrors))]
pub async fn position_orders(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PartnerApiError> {
    let partner_id = authenticate(&request, &state).await?;
    let query = parse::position_orders(partner_id, &body)?;
    let fills_of = |bot_id| GetPositionOrders { bot_id, position_id: query.position_id.clone() };
    let orders = ask_runner(&state, &query.bot, &state.subjects.position_orders(), fills_of).await?;
    // The runner answers `None` for an id that names none of the bot's positions, malformed
    // ones included.
    let orders = orders
        .ok_or_else(|| PartnerApiError::UnknownPosition(format!("Position '{}' not found", query.position_id)))?;
    success_of(&orders)
}

/// Asks the runner's `endpoint` about the bot `bot` names, once the ledger says it is the
/// partner's ([`hosted_bot`]): `question` builds the request from the bot's id. A failure maps
/// with [`PartnerApiError::from_runtime_request`], so a bot the runner does not know reads as
/// the ledger's 1002 for the id as the client sent it.
async fn ask_runner<Question, Answer>(
    state: &AppState,
    bot: &GetHostedBot,
    endpoint: &Endpoint<Question, Answer>,
    question: impl FnOnce(BotId) -> Question,
) -> Result<Answer, PartnerApiError>
where
    Question: Serialize,
    Answer: DeserializeOwned,
{
    let question = question(hosted_bot(state, bot).await?);
    bus::request(&state.nats, endpoint, &question, state.backend_timeout())
        .await
        .map_err(|failure| PartnerApiError::from_runtime_request(failure, &bot.bot_id))
}

/// [`ask_runner`], the answer kept as the runner's JSON text: for a reply the route forwards
/// as it is, so its numbers stay byte for byte (a decode and re-encode could rewrite them).
async fn ask_runner_raw<Question, Answer>(
    state: &AppState,
    bot: &GetHostedBot,
    endpoint: &Endpoint<Question, Answer>,
    question: impl FnOnce(BotId) -> Question,
) -> Result<Box<RawValue>, PartnerApiError>
where
    Question: Serialize,
{
    let question = question(hosted_bot(state, bot).await?);
    bus::request_raw(&state.nats, endpoint, &question, state.backend_timeout())
        .await
        .map_err(|failure| PartnerApiError::from_runtime_request(failure, &bot.bot_id))
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

/// `data` of `bots/positions/closed`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClosedPositionsPage {
    items: Vec<BotPosition>,
    next_page_id: Option<String>,
}

impl From<BotPositionsPage> for ClosedPositionsPage {
    fn from(page: BotPositionsPage) -> Self {
        // The runner says where the next page starts (the last position shown) while more remain.
        let next_page_id = page.next.map(|next| ClosedPositionCursor::from(next).encode());
        ClosedPositionsPage { items: page.items, next_page_id }
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

    #[test]
    fn the_next_closed_page_id_is_the_runners_next_encoded() {
        use bus::messages::live::ClosedPositionCursor as Next;
        let page = |next| serde_json::to_value(ClosedPositionsPage::from(BotPositionsPage { items: vec![], next }));
        let next = Next { close_time: 1_766_073_600, position: 7 };
        let encoded = ClosedPositionCursor { close_time: 1_766_073_600, position: 7 }.encode();
        assert_eq!(page(Some(next)).unwrap(), json!({"items": [], "nextPageId": encoded}));
        assert_eq!(page(None).unwrap(), json!({"items": [], "nextPageId": null}));
    }
}
