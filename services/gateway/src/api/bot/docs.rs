//! Request and error body shapes of the Bot API for the OpenAPI document. Requests are
//! parsed field by field (see `validate`), so these types only describe them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use utoipa::openapi::{Content, ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

/// `{error, code}`: 400 (`BAD_REQUEST`), 404 (`NOT_FOUND`), 413 (`PAYLOAD_TOO_LARGE`),
/// 500 (`INTERNAL_SERVER_ERROR`), 503 (`SERVICE_UNAVAILABLE`), 504 (`GATEWAY_TIMEOUT`).
#[derive(ToSchema)]
pub struct ErrorBody {
    /// The message, e.g. `Bot with slug 'my-bot' not found`.
    error: String,
    /// `BAD_REQUEST`, `NOT_FOUND`, ...
    code: String,
}

/// `{message}`: 401 `API key required. Include x-api-key header.`, 403 `Invalid API key for this bot`.
#[derive(ToSchema)]
pub struct MessageBody {
    /// The message.
    message: String,
}

/// `POST /api/bots/{slug}/participations` (reference 000).
#[derive(ToSchema)]
pub struct ParticipationsBody {
    /// 1 to 1,000 items.
    participations: Vec<ParticipationItem>,
}

/// One participation.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ParticipationItem {
    /// UUID of the bot trade.
    bot_trade_id: String,
    /// UUID of the user.
    user_id: String,
    /// UUID of the user's broker account.
    broker_account_id: String,
    /// Broker order id (non-empty).
    broker_order_id: String,
    /// Child order ids.
    child_order_ids: Option<Vec<String>>,
    /// Units (positive; defaults to 1).
    #[schema(value_type = Option<f64>)]
    units: Option<String>,
}

/// `POST /api/bots/{slug}/state` (reference 002).
#[derive(ToSchema)]
pub struct StatesBody {
    /// 1 to 1,000 items.
    states: Vec<StateItem>,
}

/// One state update.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StateItem {
    /// UUID of the user broker account.
    account_id: String,
    /// UUID of the ticker.
    ticker_id: String,
    /// The bot's state (a plain object).
    #[schema(value_type = Object)]
    state: String,
}

/// `POST /api/bots/{slug}/trades`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TradeBody {
    /// Symbol.
    symbol: String,
    /// `long` or `short`.
    trade_type: String,
    /// When the signal fired (RFC 3339; no offset means UTC).
    signal_at: String,
    /// An explicit status (else derived).
    status: Option<String>,
    /// An explicit open time.
    opened_at: Option<String>,
    /// Metadata object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<String>,
    /// Entry transactions (reference 001's fields).
    transactions: Option<Vec<TransactionItem>>,
}

/// `POST .../transactions` (reference 001).
#[derive(ToSchema)]
pub struct TransactionsBody {
    /// 1 to 1,000 transactions.
    transactions: Vec<TransactionItem>,
}

/// One transaction (reference 001). Prices are strings or numbers; quantity is a number.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionItem {
    /// `entry` or `exit`.
    transaction_group: String,
    /// Required for exits.
    exit_type: Option<String>,
    /// Required for `trim` exits.
    trim_level: Option<f64>,
    /// Symbol.
    symbol: String,
    /// `stock`, `option`, ...
    asset_type: String,
    /// `buy` or `sell`.
    side: String,
    /// `market`, `limit`, `stop`, ...
    #[schema(rename = "type")]
    order_type: String,
    /// Quantity.
    quantity: f64,
    /// RFC 3339 time.
    transaction_date: String,
    /// Stop price.
    stop_price: Option<String>,
    /// Limit price.
    price: Option<String>,
    /// `call` or `put`.
    option_type: Option<String>,
    /// Strike price.
    strike_price: Option<String>,
    /// Expiration date.
    expiration_date: Option<String>,
    /// `open` (default), `filled` or `cancelled`.
    status: Option<String>,
    /// Fill time.
    filled_at: Option<String>,
    /// Fill price.
    filled_price: Option<String>,
    /// Filled quantity.
    filled_quantity: Option<String>,
    /// Average fill price.
    avg_fill_price: Option<String>,
    /// Broker code.
    broker: Option<String>,
    /// Broker account number.
    broker_account_number: Option<String>,
    /// Broker order id.
    broker_order_id: Option<String>,
    /// Broker parent order id.
    broker_parent_order_id: Option<String>,
    /// Notes.
    notes: Option<String>,
    /// Metadata object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<String>,
}

/// `PATCH /api/bots/{slug}/trades/{tradeId}`: at least one field; `null` clears.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TradePatchBody {
    /// Explicit status; `closed` first fills every open exit.
    status: Option<String>,
    /// Close time.
    closed_at: Option<String>,
    /// Net P&L (number or numeric string).
    net_pnl: Option<String>,
    /// Error message.
    error_message: Option<String>,
    /// Error time.
    error_at: Option<String>,
    /// Metadata object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<String>,
}

/// `PATCH .../transactions/{transactionId}`: at least one field; `null` clears.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionPatchBody {
    /// `open`, `filled` or `cancelled`.
    status: Option<String>,
    /// Fill time.
    filled_at: Option<String>,
    /// Filled quantity.
    filled_quantity: Option<String>,
    /// Average fill price.
    avg_fill_price: Option<String>,
    /// Stop price.
    stop_price: Option<String>,
    /// Limit price.
    price: Option<String>,
    /// Broker parent order id.
    broker_parent_order_id: Option<String>,
    /// Notes.
    notes: Option<String>,
    /// Metadata object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<String>,
}

/// The error responses every Bot API route shares, for the OpenAPI document.
fn errors(codes: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    let error_body = || Content::new(Some(Ref::from_schema_name("ErrorBody")));
    let message_body = || Content::new(Some(Ref::from_schema_name("MessageBody")));
    let described = |description: &str, content: Content| -> RefOr<Response> {
        ResponseBuilder::new().description(description).content("application/json", content).build().into()
    };
    codes
        .iter()
        .filter_map(|code| {
            let response = match code {
                400 => described("Invalid slug, path id, JSON or body: the first failing field, with the references' texts", error_body()),
                401 => described("`API key required. Include x-api-key header.`", message_body()),
                403 => described("`Invalid API key for this bot`", message_body()),
                404 => described(
                    "`Bot with slug '<slug>' not found`, or a trade / transaction in the path that is not this bot's (`Trade not found`)",
                    error_body(),
                ),
                409 => described("A request with this Idempotency-Key is still being processed (`CONFLICT`)", error_body()),
                413 => described("Body above 512 KiB (`PAYLOAD_TOO_LARGE`)", error_body()),
                422 => described("Idempotency-Key reused with a different request (`IDEMPOTENCY_KEY_REUSED`)", error_body()),
                503 => described("The ledger is unavailable (`SERVICE_UNAVAILABLE`)", error_body()),
                504 => described(
                    "The ledger took the request but did not answer in time (`GATEWAY_TIMEOUT`): a write may or may not have happened (the ledger rolls back what it could not commit in time); retry with the same Idempotency-Key",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .example(Some(serde_json::json!({
                            "error": crate::api::errors::TIMEOUT_MESSAGE_BOT, "code": "GATEWAY_TIMEOUT"
                        })))
                        .build(),
                ),
                _ => return None,
            };
            Some((code.to_string(), response))
        })
        .collect()
}

/// Errors of the read routes.
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 503, 504])
    }
}

/// Errors of the write routes without `Idempotency-Key` (PATCH).
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 413, 503, 504])
    }
}

/// Errors of the POST routes, which honour `Idempotency-Key`.
pub struct IdempotentWriteErrors;

impl IntoResponses for IdempotentWriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 409, 413, 422, 503, 504])
    }
}

// Examples of the paged and truncated replies, for the OpenAPI document.

const TRADE_ID: &str = "0190d5f0-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
const BOT_ID: &str = "0190d5e0-0000-7000-8000-000000000001";

fn transaction_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0190d5f0-1a2b-7c3d-8e4f-000000000001", "botTradeId": TRADE_ID, "transactionGroup": "entry",
        "exitType": null, "trimLevel": null, "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
        "quantity": 100, "transactionDate": "2024-01-15T10:30:00.000Z", "stopPrice": null, "price": null,
        "optionType": null, "strikePrice": null, "expirationDate": null, "status": "filled",
        "filledAt": "2024-01-15T10:30:05.000Z", "filledPrice": null, "filledQuantity": null, "avgFillPrice": "150.25",
        "broker": null, "brokerAccountNumber": null, "brokerOrderId": null, "brokerParentOrderId": null, "notes": null,
        "metadata": {}, "createdAt": "2024-01-15T10:30:06.000Z", "updatedAt": "2024-01-15T10:30:06.000Z"
    })
}

fn trade_object(transactions: bool) -> serde_json::Value {
    let mut trade = serde_json::json!({
        "id": TRADE_ID, "botId": BOT_ID, "symbol": "AAPL", "tradeType": "long", "status": "open",
        "signalAt": "2024-01-15T10:30:00.000Z", "openedAt": "2024-01-15T10:30:05.000Z", "closedAt": null,
        "netPnl": null, "errorMessage": null, "errorAt": null, "metadata": {"strategy": "breakout", "risk": "low"},
        "createdAt": "2024-01-15T10:30:06.000Z", "lastUpdateAt": "2024-01-15T10:30:06.000Z"
    });
    if transactions {
        trade["transactions"] = serde_json::json!([transaction_example()]);
    }
    trade
}

/// `{success, trade}` with the trade's transactions.
pub fn trade_example(transactions: bool) -> serde_json::Value {
    serde_json::json!({ "success": true, "trade": trade_object(transactions) })
}

/// A write's reply when the trade has more than 100 transactions.
pub fn truncated_example() -> serde_json::Value {
    serde_json::json!({ "success": true, "trade": trade_object(false), "transactionCount": 2000, "truncated": true })
}

/// `GET .../trades/{tradeId}` of a trade whose transactions go on past the first 500.
pub fn trade_detail_example() -> serde_json::Value {
    let mut trade = trade_object(true);
    trade["participations"] = serde_json::json!([]);
    serde_json::json!({
        "success": true, "trade": trade, "nextTransactionsCursor": "MTcwNTMxNDYwNjAwMDAwMF8wMTkwZDVmMC0xYTJiLTdjM2QtOGU0Zi0wMDAwMDAwMDAxZjQ"
    })
}

/// A page of `GET .../trades/{tradeId}/transactions`.
pub fn transactions_page_example() -> serde_json::Value {
    serde_json::json!({
        "success": true, "transactions": [transaction_example()],
        "nextCursor": "MTcwNTMxNDYwNjAwMDAwMF8wMTkwZDVmMC0xYTJiLTdjM2QtOGU0Zi0wMDAwMDAwMDAwMDE"
    })
}

fn state_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0190d5f2-0000-7000-8000-000000000009", "botId": BOT_ID,
        "userBrokerAccountId": "550e8400-e29b-41d4-a716-446655440000",
        "tickerId": "0190d5e1-0000-7000-8000-000000000002", "state": {"lastPrice": 150.25, "position": "long"}
    })
}

/// `GET /api/bots/{slug}` with more followers than one reply holds.
pub fn bot_example() -> serde_json::Value {
    serde_json::json!({
        "success": true,
        "bot": {
            "id": BOT_ID, "slug": "my-bot", "name": "My bot",
            "followers": [{
                "id": "550e8400-e29b-41d4-a716-446655440000", "accountNumber": "VA0001",
                "userId": "789e4567-e89b-12d3-a456-426614174002", "broker": "TRADIER",
                "tickers": [{"tickerId": "0190d5e1-0000-7000-8000-000000000002", "symbol": "AAPL", "status": "active", "quantity": "1"}]
            }],
            "states": [state_example()]
        },
        "nextFollowersCursor": "NTUwZTg0MDAtZTI5Yi00MWQ0LWE3MTYtNDQ2NjU1NDQwMDAw"
    })
}

/// `GET /api/bots/{slug}/state` with more states than the page holds.
pub fn states_example() -> serde_json::Value {
    serde_json::json!({
        "success": true, "states": [state_example()],
        "nextCursor": "NTUwZTg0MDAtZTI5Yi00MWQ0LWE3MTYtNDQ2NjU1NDQwMDAwXzAxOTBkNWUxLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMg"
    })
}
