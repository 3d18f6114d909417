//! Trades and transactions of the Bot API (reference 001 and docs/api/bot.md#trades).

use super::auth::authenticate;
use super::errors::BotApiError;
use super::{docs, forward, idempotency, parse, query, validate_patches, validate_trades};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::messages::bot_api::paging::{TRANSACTIONS_PAGE_DEFAULT, TRANSACTIONS_PAGE_MAX, TimeCursor};
use bus::messages::idempotency::Command;
use bus::messages::trades::{
    AddTransactions, CreateTrade, GetTrade, ListTrades, ListTransactions, ParticipationsList, TradeReply, TradesPage,
    TransactionUpdatedReply, TransactionsAddedReply, TransactionsPage, UpdateTrade, UpdateTransaction,
};
use domain::trade::TradeStatus;
use domain::{TradeId, TransactionId};
use serde::Deserialize;
use std::str::FromStr;

/// A path segment that names a record: any typed id parses from a UUID's text.
fn path_id<Id: FromStr>(text: &str, name: &str) -> Result<Id, BotApiError> {
    text.parse().map_err(|_| BotApiError::BadRequest(format!("{name} must be a valid UUID")))
}

/// Creates a trade with its entry transactions, atomically. The reply includes at most 100
/// transactions; beyond that (or when they would not fit one reply) it is
/// `{success, trade (without transactions), transactionCount, truncated: true}`.
#[utoipa::path(post, path = "/api/bots/{slug}/trades", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("x-api-key" = String, Header),
        docs::IdempotencyKeyHeader),
    request_body = docs::TradeBody,
    responses(
        (status = 200, description = "The trade with its transactions, or the truncated reply", body = TradeReply,
            examples(
                ("with transactions" = (value = json!(docs::trade_example(true)))),
                ("truncated" = (summary = "More than 100 transactions", value = json!(docs::truncated_example()))))),
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
    #[param(value_type = Option<TradeStatus>, inline)]
    status: Option<String>,
    /// Only trades of this symbol.
    symbol: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

/// The bot's trades, newest first, with their transactions. A page holds at most `limit`
/// trades, fewer when more would not fit one reply (follow `nextCursor`); a trade whose
/// transactions alone would not fit comes without them, with `transactionCount` and
/// `truncated: true` (read them with `GET .../trades/{tradeId}/transactions`).
#[utoipa::path(get, path = "/api/bots/{slug}/trades", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("x-api-key" = String, Header), TradesQuery),
    responses(
        (status = 200, description = "A page of trades", body = TradesPage),
        docs::ReadErrors))]
pub async fn list_trades(
    request: HttpRequest,
    slug: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let bot = authenticate(&request, &slug, &state).await?;
    let params: TradesQuery = query::parse(&request)?;
    let status = params
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
    let symbol = query::text(params.symbol, "symbol")?;
    let limit = query::limit(params.limit.as_deref(), 100, 500)?;
    // Checked here so a forged cursor is a 400 before the ledger sees it; it travels as sent.
    query::cursor(params.cursor.as_deref(), "cursor", TimeCursor::decode)?;
    let command = ListTrades { bot_id: bot.bot_id, status, symbol, limit, cursor: params.cursor };
    forward(&state, &state.subjects.list_trades(), &command).await
}

/// Query of `GET /api/bots/{slug}/trades/{tradeId}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TradeQuery {
    /// The `nextTransactionsCursor` of the previous reply: transactions after it.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    transactions_cursor: Option<String>,
    /// The `nextParticipationsCursor` of the previous reply: participations after it.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    participations_cursor: Option<String>,
}

/// One trade with at most 500 of its transactions and 500 of its participations, oldest
/// first (fewer when they would not fit one reply); `nextTransactionsCursor` /
/// `nextParticipationsCursor` appear when a list goes on.
#[utoipa::path(get, path = "/api/bots/{slug}/trades/{tradeId}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("tradeId" = uuid::Uuid, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header), TradeQuery),
    responses(
        (status = 200, description = "The trade", body = TradeReply, example = json!(docs::trade_detail_example())),
        docs::ReadErrors))]
pub async fn get_trade(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let trade_id: TradeId = path_id(&trade_id, "tradeId")?;
    let params: TradeQuery = query::parse(&request)?;
    let command = GetTrade {
        bot_id: bot.bot_id,
        trade_id,
        transactions_after: query::cursor(
            params.transactions_cursor.as_deref(),
            "transactionsCursor",
            TimeCursor::decode,
        )?,
        participations_after: query::cursor(
            params.participations_cursor.as_deref(),
            "participationsCursor",
            TimeCursor::decode,
        )?,
    };
    forward(&state, &state.subjects.get_trade(), &command).await
}

/// Query of `GET /api/bots/{slug}/trades/{tradeId}/transactions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionsQuery {
    /// Page size, 1 to 1000 (default 500).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

/// A page of the trade's transactions, oldest first: at most `limit` (fewer when they would
/// not fit one reply), and `nextCursor` for the next page (`null` on the last).
#[utoipa::path(get, path = "/api/bots/{slug}/trades/{tradeId}/transactions", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("tradeId" = uuid::Uuid, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header), TransactionsQuery),
    responses(
        (status = 200, description = "A page of transactions", body = TransactionsPage,
            example = json!(docs::transactions_page_example())),
        docs::ReadErrors))]
pub async fn list_transactions(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let trade_id: TradeId = path_id(&trade_id, "tradeId")?;
    let params: TransactionsQuery = query::parse(&request)?;
    let command = ListTransactions {
        bot_id: bot.bot_id,
        trade_id,
        limit: query::limit(params.limit.as_deref(), TRANSACTIONS_PAGE_DEFAULT, TRANSACTIONS_PAGE_MAX)?,
        after: query::cursor(params.cursor.as_deref(), "cursor", TimeCursor::decode)?,
    };
    forward(&state, &state.subjects.trade_transactions(), &command).await
}

/// Updates `status`, `closedAt`, `netPnl`, `errorMessage`, `errorAt` or `metadata`. Like
/// creating a trade, the reply includes at most 100 transactions, else the truncated reply.
#[utoipa::path(patch, path = "/api/bots/{slug}/trades/{tradeId}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("tradeId" = uuid::Uuid, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header)),
    request_body = docs::TradePatchBody,
    responses(
        (status = 200, description = "The updated trade, or the truncated reply", body = TradeReply,
            examples(
                ("with transactions" = (value = json!(docs::trade_example(true)))),
                ("truncated" = (summary = "More than 100 transactions", value = json!(docs::truncated_example()))))),
        docs::WriteErrors))]
pub async fn update_trade(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BotApiError> {
    let (slug, trade_id) = path.into_inner();
    let bot = authenticate(&request, &slug, &state).await?;
    let trade_id: TradeId = path_id(&trade_id, "tradeId")?;
    let patch = validate_patches::trade_patch(parse(&body)?).map_err(BotApiError::BadRequest)?;
    forward(&state, &state.subjects.update_trade(), &UpdateTrade { bot_id: bot.bot_id, trade_id, patch }).await
}

/// Reference 001: adds transactions to a trade; its status is recomputed.
#[utoipa::path(post, path = "/api/bots/{slug}/trades/{tradeId}/transactions", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("tradeId" = uuid::Uuid, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header),
        docs::IdempotencyKeyHeader),
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
    let trade_id: TradeId = path_id(&trade_id, "tradeId")?;
    let transactions = validate_trades::transactions(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command = Command {
        idempotency: idempotency(&request, &body)?,
        command: AddTransactions { bot_id: bot.bot_id, trade_id, transactions },
    };
    forward(&state, &state.subjects.add_transactions(), &command).await
}

/// Updates one transaction; the trade's status is recomputed.
#[utoipa::path(patch, path = "/api/bots/{slug}/trades/{tradeId}/transactions/{transactionId}", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("tradeId" = uuid::Uuid, Path, description = "Trade UUID"),
        ("transactionId" = uuid::Uuid, Path, description = "Transaction UUID"), ("x-api-key" = String, Header)),
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
    let trade_id: TradeId = path_id(&trade_id, "tradeId")?;
    let transaction_id: TransactionId = path_id(&transaction_id, "transactionId")?;
    let patch = validate_patches::transaction_patch(parse(&body)?).map_err(BotApiError::BadRequest)?;
    let command = UpdateTransaction { bot_id: bot.bot_id, trade_id, transaction_id, patch };
    forward(&state, &state.subjects.update_transaction(), &command).await
}

/// Query of `GET /api/bots/{slug}/trades/{tradeId}/participations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParticipationsQuery {
    /// The `nextCursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

/// The trade's participations with their broker order details, oldest first: at most 500
/// (fewer when they would not fit one reply), `nextCursor` when more follow.
#[utoipa::path(get, path = "/api/bots/{slug}/trades/{tradeId}/participations", tag = "bot-api",
    params(("slug" = String, Path, description = "Bot slug", pattern = r"^[a-zA-Z0-9_-]+$"), ("tradeId" = uuid::Uuid, Path, description = "Trade UUID"),
        ("x-api-key" = String, Header), ParticipationsQuery),
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
    let trade_id: TradeId = path_id(&trade_id, "tradeId")?;
    let params: ParticipationsQuery = query::parse(&request)?;
    let command = GetTrade {
        bot_id: bot.bot_id,
        trade_id,
        transactions_after: None,
        participations_after: query::cursor(params.cursor.as_deref(), "cursor", TimeCursor::decode)?,
    };
    forward(&state, &state.subjects.trade_participations(), &command).await
}
