//! Request and error body shapes of the Bot API for the OpenAPI document. Requests are
//! parsed field by field (see `validate`), so these types only describe them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

/// `{error, code}`: 400 (`BAD_REQUEST`), 404 (`NOT_FOUND`), 413 (`PAYLOAD_TOO_LARGE`),
/// 500 (`INTERNAL_SERVER_ERROR`), 503 (`SERVICE_UNAVAILABLE`).
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
        errors(&[400, 401, 403, 404, 503])
    }
}

/// Errors of the write routes without `Idempotency-Key` (PATCH).
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 413, 503])
    }
}

/// Errors of the POST routes, which honour `Idempotency-Key`.
pub struct IdempotentWriteErrors;

impl IntoResponses for IdempotentWriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 409, 413, 422, 503])
    }
}
