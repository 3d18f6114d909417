//! Request and error body shapes of the Bot API for the OpenAPI document. Requests are
//! parsed field by field (see `validate`), so these types only describe them: the request
//! bodies, with every rule a JSON Schema can state, are in `bodies`; the error responses, each
//! status with its one `code`, and the reply examples are here.

#![allow(dead_code)]

mod bodies;

pub use bodies::*;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

/// `{error, code}`: 400 (`BAD_REQUEST`), 404 (`NOT_FOUND`), 405 (`METHOD_NOT_ALLOWED`),
/// 413 (`PAYLOAD_TOO_LARGE`), 429 (`RATE_LIMITED`), 500 (`INTERNAL_SERVER_ERROR`),
/// 503 (`SERVICE_UNAVAILABLE`), 504 (`GATEWAY_TIMEOUT`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The message, e.g. `Bot with slug 'my-bot' not found`.
    error: String,
    /// `BAD_REQUEST`, `NOT_FOUND`, ...
    code: String,
}

/// `{message}`: 401 `API key required. Include x-api-key header.`, 403 `Invalid API key for this bot`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The message.
    message: String,
}

/// The one `code` a Bot API error body carries with each status.
pub fn error_code(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "BAD_REQUEST",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        422 => "IDEMPOTENCY_KEY_REUSED",
        429 => "RATE_LIMITED",
        500 => "INTERNAL_SERVER_ERROR",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        _ => return None,
    })
}

/// `ErrorBody` with its `code` fixed to the status's, so a client (and the fuzzer) can tell
/// a documented refusal from any other body with the same status.
fn error_schema(status: u16) -> RefOr<Schema> {
    let code = ObjectBuilder::new().schema_type(Type::String).enum_values(error_code(status).map(|code| [code]));
    let all_of = AllOfBuilder::new()
        .item(Ref::from_schema_name("ErrorBody"))
        .item(ObjectBuilder::new().property("code", code))
        .build();
    RefOr::T(Schema::AllOf(all_of))
}

/// The error responses every Bot API route shares, for the OpenAPI document.
fn errors(codes: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    let message_body = || Content::new(Some(Ref::from_schema_name("MessageBody")));
    let described = |description: &str, content: Content| -> RefOr<Response> {
        ResponseBuilder::new().description(description).content("application/json", content).build().into()
    };
    codes
        .iter()
        .filter_map(|code| {
            let error_body = || Content::new(Some(error_schema(*code)));
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
                500 => described("An internal error (`INTERNAL_SERVER_ERROR`); the body names no cause", error_body()),
                503 => described("The ledger is unavailable (`SERVICE_UNAVAILABLE`)", error_body()),
                504 => described(
                    "The ledger took the request but did not answer in time (`GATEWAY_TIMEOUT`): a write may or may not have happened (the ledger rolls back what it could not commit in time); retry with the same Idempotency-Key",
                    ContentBuilder::new()
                        .schema(Some(error_schema(504)))
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
        errors(&[400, 401, 403, 404, 500, 503, 504])
    }
}

/// Errors of the write routes without `Idempotency-Key` (PATCH).
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 413, 500, 503, 504])
    }
}

/// Errors of the POST routes, which honour `Idempotency-Key`.
pub struct IdempotentWriteErrors;

impl IntoResponses for IdempotentWriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[400, 401, 403, 404, 409, 413, 422, 500, 503, 504])
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
