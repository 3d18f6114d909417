//! Trades and transactions of the Bot API (reference 001 and CONTRACTS §1).

use super::auth::authenticate;
use super::errors::BotApiError;
use super::{docs, forward, idempotency, parse, validate_trades};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::idempotency::Command;
use bus::messages::trades::{
    AddTransactions, CreateTrade, GetTrade, ListTrades, ParticipationsList, TradeReply, TradesPage,
    TransactionUpdatedReply, TransactionsAddedReply, UpdateTrade, UpdateTransaction,
};
use domain::trade::TradeStatus;
use serde::Deserialize;
use uuid::Uuid;

fn path_uuid(text: &str, name: &str) -> Result<Uuid, BotApiError> {
    Uuid::parse_str(text).map_err(|_| BotApiError::BadRequest(format!("{name} must be a valid UUID")))
}

/// Creates a trade with its entry transactions, atomically.
#[utoipa::path(post, path = "/api/bots/{slug}/trades", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("x-api-key" = String, Header),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a repeat with the same body")),
    request_body = docs::TradeBody,
    responses(
        (status = 200, description = "The trade with its transactions", body = TradeReply),
        docs::IdempotentWriteErrors))]
pub async fn create_trade(
    request: HttpRequest,
    slug: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let input = validate_trades::trade(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command = CreateTrade {
        bot_id: bot.bot_id,
        symbol: input.symbol,
        trade_type: input.trade_type,
        signal_at: input.signal_at,
        status: input.status,
        opened_at: input.opened_at,
        metadata: input.metadata,
        transactions: input.transactions,
    };
    let command = Command { idempotency: idempotency(&request, &body)?, command };
    forward(&state, &state.subjects.create_trade(), &command).await
}

/// Query of `GET /api/bots/{slug}/trades`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradesQuery {
    /// Only trades with this status.
    status: Option<String>,
    /// Only trades of this symbol.
    symbol: Option<String>,
    /// Page size, 1 to 500 (default 100).
    limit: Option<String>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// The bot's trades, newest first, with their transactions.
#[utoipa::path(get, path = "/api/bots/{slug}/trades", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("x-api-key" = String, Header), TradesQuery),
    responses(
        (status = 200, description = "A page of trades", body = TradesPage),
        docs::ReadErrors))]
pub async fn list_trades(
    request: HttpRequest,
    slug: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let query = web::Query::<TradesQuery>::from_query(request.query_string())
        .map_err(|_| BotApiError::BadRequest("Invalid query string".to_string()))?;
    let status = query
        .status
        .as_deref()
        .map(|text| {
            text.parse::<TradeStatus>().map_err(|_| {
                BotApiError::BadRequest(
                    "status must be one of 'pending', 'open', 'closed', 'cancelled', 'error'".into(),
                )
            })
        })
        .transpose()?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=500).contains(limit))
            .ok_or_else(|| BotApiError::BadRequest("limit must be an integer from 1 to 500".into()))?,
    };
    let command =
        ListTrades { bot_id: bot.bot_id, status, symbol: query.symbol.clone(), limit, cursor: query.cursor.clone() };
    forward(&state, &state.subjects.list_trades(), &command).await
}

/// One trade with its transactions and participations.
#[utoipa::path(get, path = "/api/bots/{slug}/trades/{tradeId}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("tradeId" = String, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header)),
    responses(
        (status = 200, description = "The trade", body = TradeReply),
        docs::ReadErrors))]
pub async fn get_trade(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let query = GetTrade { bot_id: bot.bot_id, trade_id: path_uuid(&trade_id, "tradeId")? };
    forward(&state, &state.subjects.get_trade(), &query).await
}

/// Updates `status`, `closedAt`, `netPnl`, `errorMessage`, `errorAt` or `metadata`.
#[utoipa::path(patch, path = "/api/bots/{slug}/trades/{tradeId}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("tradeId" = String, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header)),
    request_body = docs::TradePatchBody,
    responses(
        (status = 200, description = "The updated trade", body = TradeReply),
        docs::WriteErrors))]
pub async fn update_trade(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let trade_id = path_uuid(&trade_id, "tradeId")?;
    let patch = validate_trades::trade_patch(parse(&body)?).map_err(BotApiError::BadRequest)?;
    forward(&state, &state.subjects.update_trade(), &UpdateTrade { bot_id: bot.bot_id, trade_id, patch }).await
}

/// Reference 001: adds transactions to a trade; its status is recomputed.
#[utoipa::path(post, path = "/api/bots/{slug}/trades/{tradeId}/transactions", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("tradeId" = String, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a repeat with the same body")),
    request_body = docs::TransactionsBody,
    responses(
        (status = 200, description = "The trade and how many were added", body = TransactionsAddedReply),
        docs::IdempotentWriteErrors))]
pub async fn add_transactions(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let trade_id = path_uuid(&trade_id, "tradeId")?;
    let transactions = validate_trades::transactions(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command = Command {
        idempotency: idempotency(&request, &body)?,
        command: AddTransactions { bot_id: bot.bot_id, trade_id, transactions },
    };
    forward(&state, &state.subjects.add_transactions(), &command).await
}

/// Updates one transaction; the trade's status is recomputed.
#[utoipa::path(patch, path = "/api/bots/{slug}/trades/{tradeId}/transactions/{transactionId}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("tradeId" = String, Path, description = "Trade UUID"),
        ("transactionId" = String, Path, description = "Transaction UUID"), ("x-api-key" = String, Header)),
    request_body = docs::TransactionPatchBody,
    responses(
        (status = 200, description = "The trade and the transaction", body = TransactionUpdatedReply),
        docs::WriteErrors))]
pub async fn update_transaction(
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id, transaction_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let trade_id = path_uuid(&trade_id, "tradeId")?;
    let transaction_id = path_uuid(&transaction_id, "transactionId")?;
    let patch = validate_trades::transaction_patch(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command = UpdateTransaction { bot_id: bot.bot_id, trade_id, transaction_id, patch };
    forward(&state, &state.subjects.update_transaction(), &command).await
}

/// The trade's participations with their broker order details.
#[utoipa::path(get, path = "/api/bots/{slug}/trades/{tradeId}/participations", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug"), ("tradeId" = String, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header)),
    responses(
        (status = 200, description = "The participations", body = ParticipationsList),
        docs::ReadErrors))]
pub async fn trade_participations(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let query = GetTrade { bot_id: bot.bot_id, trade_id: path_uuid(&trade_id, "tradeId")? };
    forward(&state, &state.subjects.trade_participations(), &query).await
}
