//! `signals/send` and `signals/get` for the OpenAPI document: bodies, the signal with its
//! receipts, examples and refusals.

use super::{described, errors};
use std::collections::BTreeMap;
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

/// `POST /signals/send` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendSignalBody {
    /// The signal (else `signal is required and must be an object`).
    signal: SignalBody,
}

/// A trading signal. Every refusal is 400, code 1000, its message naming the path
/// (`signal.<field>`); a field not listed here answers `Unknown field 'signal.<field>'`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignalBody {
    /// The token the partner's webhook bots listen to (their `settings.signalToken`), 1 to 128
    /// characters, not only blanks. No webhook bot of the partner with it: 404, code 1010
    /// (another partner's token too: tokens are per partner).
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    signal_token: String,
    /// Lowercase only (`BUY` answers `signal.action must be one of buy, sell, enter_long,
    /// exit_long, enter_short, exit_short`).
    action: SignalAction,
    /// How much, positive, in the currency `investmentType` names; at most 1e15 with at most 18
    /// decimal places.
    #[schema(value_type = f64, exclusive_minimum = 0, maximum = 1e15)]
    amount: String,
    /// When the partner's service emitted the signal, Unix seconds. More than 60 s ahead of
    /// the gateway's clock answers `signal.timestamp is in the future`. With `action`, it
    /// identifies the signal: a repeat of (token, timestamp, action) answers `true` and does
    /// nothing.
    #[schema(minimum = 0, maximum = 9999999999_i64)]
    timestamp: i64,
    /// A limit price (positive, like `amount` at most 1e15 with at most 18 decimal places);
    /// absent or `null`: a market order at the delivery quote.
    #[schema(value_type = Option<f64>, exclusive_minimum = 0, maximum = 1e15)]
    price: Option<String>,
    /// `base` (the default) or `quote`: `amount` in the quote currency is converted at the
    /// limit price or the delivery quote.
    investment_type: Option<InvestmentType>,
    /// Refuse the signal when it is older than this many seconds (`signal is older than maxLag
    /// (60 s)`), now and again at delivery (the receipt then says `maxLag exceeded at
    /// delivery`). Absent: no limit.
    #[schema(minimum = 1, maximum = 9999999999_i64)]
    max_lag: Option<i64>,
    /// The partner's own object, kept and shown as sent; at most 4 KiB of JSON.
    #[schema(value_type = Option<Object>)]
    metadata: Option<String>,
}

/// What a signal tells a bot to do.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalAction {
    /// Spot: buy `amount`.
    Buy,
    /// Spot: sell `amount`.
    Sell,
    /// Futures: open or add to the long position.
    EnterLong,
    /// Futures: reduce or close the long position.
    ExitLong,
    /// Futures: open or add to the short position.
    EnterShort,
    /// Futures: reduce or close the short position.
    ExitShort,
}

/// What `amount` is counted in.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvestmentType {
    /// The base currency.
    Base,
    /// The quote currency.
    Quote,
}

/// `POST /signals/get` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetSignalBody {
    /// The token (else `signalToken is required and must be a non-empty string`).
    #[schema(min_length = 1)]
    signal_token: String,
}

/// `data`: the signal and its receipts.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The signal.
    data: SignalView,
}

/// The last signal the partner sent with a token.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalView {
    /// The token.
    signal_token: String,
    /// The action.
    action: SignalAction,
    /// The limit price, `null` for a market signal.
    #[schema(value_type = Option<f64>)]
    price: Option<String>,
    /// The amount.
    #[schema(value_type = f64)]
    amount: String,
    /// The partner's timestamp, Unix seconds.
    timestamp: i64,
    /// The partner's metadata as sent (`{}` when it sent none).
    #[schema(value_type = Object)]
    metadata: String,
    /// When the platform received it, Unix seconds.
    received_at: i64,
    /// One per bot the signal went to, in bot id order.
    receipts: Vec<SignalReceipt>,
}

/// What one bot did with the signal.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalReceipt {
    /// The bot (32 hex digits for a hosted bot, as `bots/...` show it).
    bot_id: String,
    /// `hosted` (webhook strategy bots of the user API join with it).
    bot_kind: String,
    /// `pending` (until the bot's next quote), `delivered` or `skipped`.
    status: String,
    /// Why it was skipped (`bot is stopped`, `maxLag exceeded at delivery`), or why nothing
    /// was placed on delivery (the exchange's refusal, e.g. `Insufficient funds …`, or `no open
    /// position to close`); `null` otherwise.
    reason: Option<String>,
    /// The order the bot placed (as `bots/orders` shows it).
    order_id: Option<String>,
    /// That order's status now: `OPEN`, `FILLED` or `CANCELLED` (a market order has filled).
    order_status: Option<String>,
    /// When the bot acted on it or skipped it, Unix seconds.
    delivered_at: Option<i64>,
}

/// The `signals/send` example: reference 003's.
pub fn send_body_example() -> serde_json::Value {
    serde_json::json!({"signal": {"signalToken": "my-webhook-token-123", "action": "buy", "amount": 0.01,
        "timestamp": 1702345678}})
}

/// `{isSuccess: true, code: 0, message: "", data: true}`.
pub fn true_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": true})
}

/// A signal two bots received: one bought at market, the other was stopped.
pub fn signal_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": {
    "signalToken": "my-btc-signal-token", "action": "buy", "price": null, "amount": 0.05,
    "timestamp": 1702324800,
    "metadata": {"source": "TradingView", "strategy": "RSI Oversold", "confidence": 0.85},
    "receivedAt": 1702324801,
    "receipts": [
        {"botId": "0192f0c4a1b27c3e8d5f6a7b8c9d0e1f", "botKind": "hosted", "status": "delivered", "reason": null,
         "orderId": "5f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f", "orderStatus": "FILLED", "deliveredAt": 1702324802},
        {"botId": "0192f0c4a1b27c3e8d5f6a7b8c9d0e20", "botKind": "hosted", "status": "skipped",
         "reason": "bot is stopped", "orderId": null, "orderStatus": null, "deliveredAt": 1702324801}
    ]}})
}

fn signal_errors(extra: &[(&str, RefOr<Response>)]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses = errors(&[401, 413, 500]);
    for (status, response) in extra {
        responses.insert((*status).to_string(), response.clone());
    }
    responses
}

/// The refusals of `signals/send`.
pub struct SendErrors;

impl IntoResponses for SendErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = described(
            "Code 1000: invalid JSON, an unknown field (`Unknown field 'signal.x'`), a missing or malformed field \
             named by its path (`signal.action must be one of buy, sell, enter_long, exit_long, enter_short, \
             exit_short`, `signal.amount must be a positive number`, `signal.timestamp is in the future`, `signal is \
             older than maxLag (60 s)`, `signal.metadata must be at most 4 KiB (4096 bytes) of JSON`, ...), or a \
             malformed `Idempotency-Key`",
            &[1000],
        );
        let not_found = described(
            "Code 1010: none of the partner's webhook bots listens to the token (another partner's token too)",
            &[1010],
        );
        let conflict = described("Code 1003: a request with this `Idempotency-Key` is still being processed", &[1003]);
        let reused = described("Code 1011: the `Idempotency-Key` was used with another body", &[1011]);
        let unavailable = described("Code 9503: the ledger or the live-session-runner is unavailable", &[9503]);
        signal_errors(&[
            ("400", bad_request),
            ("404", not_found),
            ("409", conflict),
            ("422", reused),
            ("503", unavailable),
        ])
    }
}

/// The refusals of `signals/get`.
pub struct GetErrors;

impl IntoResponses for GetErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = described(
            "Code 1000: invalid JSON, an unknown field, or `signalToken is required and must be a non-empty string`",
            &[1000],
        );
        let not_found = described(
            "Code 1010: the partner never sent a signal with the token, `No signal sent with token 'x'`",
            &[1010],
        );
        let unavailable = described("Code 9503: the live-session-runner is unavailable", &[9503]);
        signal_errors(&[("400", bad_request), ("404", not_found), ("503", unavailable)])
    }
}
