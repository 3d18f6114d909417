//! Request and error body shapes of the Bot API for the OpenAPI document. Requests are
//! parsed field by field (see `validate`), so these types only describe them.

#![allow(dead_code)]

use utoipa::ToSchema;

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
