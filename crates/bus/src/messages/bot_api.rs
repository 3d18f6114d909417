//! Requests from the gateway's Bot API to the ledger, and their replies. Replies are the
//! HTTP bodies of references 000 and 002 and docs/api/bot.md, so the gateway forwards them as
//! they are and an idempotent replay returns exactly what the first request returned.
//!
//! The gateway has already authenticated the bot and validated every field; the ledger checks
//! what needs the database (a trade exists and is the bot's, an account is the user's).
//!
//! Lists are paged so that every reply fits the bus ([`paging`]); a page's next-cursor field
//! appears only when there is more, so a reply that fits one page is what it always was.

pub mod paging;

use domain::{BotId, BrokerAccountId, ParticipationId, TickerId, TradeId, UserId};
use paging::{AccountCursor, StateCursor};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// The outcome counts of a bulk request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Items attempted.
    pub total: usize,
    /// Items that succeeded.
    pub succeeded: usize,
    /// Items that failed.
    pub failed: usize,
}

impl Summary {
    /// Counts the results for which `is_success` holds.
    pub fn of<T>(results: &[T], is_success: impl Fn(&T) -> bool) -> Self {
        let succeeded = results.iter().filter(|r| is_success(r)).count();
        Self { total: results.len(), succeeded, failed: results.len() - succeeded }
    }
}

/// `GET /api/bots/:slug`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetBotConfig {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// Followers start after this one (`followersCursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers_after: Option<AccountCursor>,
    /// States start after this one (`statesCursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states_after: Option<StateCursor>,
}

/// The reply of [`GetBotConfig`]: `{success, bot}`, with at most 500 followers and 500
/// states, and a cursor for each list that goes on.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BotConfigReply {
    /// Always true.
    pub success: bool,
    /// The bot's configuration.
    pub bot: BotConfig,
    /// Pass as `followersCursor` for the next followers; absent when there are no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_followers_cursor: Option<String>,
    /// Pass as `statesCursor` for the next states; absent when there are no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_states_cursor: Option<String>,
}

/// A bot's configuration as its own process may read it. Never a credential.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BotConfig {
    /// The bot's id.
    pub id: BotId,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// The broker accounts following it.
    pub followers: Vec<Follower>,
    /// Its stored per-(account, ticker) state.
    pub states: Vec<UserBotState>,
}

/// A broker account following a bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Follower {
    /// The broker account's id.
    pub id: BrokerAccountId,
    /// Its number at the broker.
    pub account_number: String,
    /// Its owner.
    pub user_id: UserId,
    /// The broker (`TRADIER`, `SIM`).
    pub broker: String,
    /// What it follows.
    pub tickers: Vec<FollowedTicker>,
}

/// A ticker a follower follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FollowedTicker {
    /// The ticker's id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub ticker_id: TickerId,
    /// Its symbol.
    pub symbol: String,
    /// `active` or `paused`.
    #[cfg_attr(feature = "openapi", schema(schema_with = follow_status_schema))]
    pub status: String,
    /// Units per signal.
    pub quantity: Decimal,
}

/// One participation to create (reference 000), validated by the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParticipationInput {
    /// The bot trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub bot_trade_id: TradeId,
    /// The participating user.
    pub user_id: UserId,
    /// The user's broker account.
    pub broker_account_id: BrokerAccountId,
    /// The broker's parent order id (non-empty).
    pub broker_order_id: String,
    /// Child order ids (bracket legs).
    pub child_order_ids: Vec<String>,
    /// Units or contracts (positive; 1 when not given).
    pub units: Decimal,
}

/// `POST /api/bots/:slug/participations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateParticipations {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// Its slug, for error texts.
    pub slug: String,
    /// The items, at most 1,000.
    pub participations: Vec<ParticipationInput>,
}

/// The reply of [`CreateParticipations`] (reference 000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipationsReply {
    /// Always true, even with partial failures.
    pub success: bool,
    /// Counts.
    pub summary: Summary,
    /// One result per item, in input order.
    pub results: Vec<ParticipationResult>,
}

/// The result of one participation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ParticipationResult {
    /// Created, or found already existing (same id).
    Success {
        /// What was recorded.
        data: ParticipationRef,
    },
    /// Refused.
    Error {
        /// Why.
        error: String,
    },
}

/// The ids of a recorded participation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParticipationRef {
    /// The participation's id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub participation_id: ParticipationId,
    /// The user.
    pub user_id: UserId,
    /// The bot trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub bot_trade_id: TradeId,
}

/// One state to upsert (reference 002), validated by the gateway.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StateInput {
    /// The user broker account.
    pub account_id: BrokerAccountId,
    /// The ticker.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub ticker_id: TickerId,
    /// The bot's state object, as the bot sent it (numbers kept exactly).
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub state: Box<RawValue>,
}

/// `POST /api/bots/:slug/state`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpsertStates {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// The items, at most 1,000.
    pub states: Vec<StateInput>,
}

/// A stored user bot state.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserBotState {
    /// The state row's id.
    pub id: Uuid,
    /// The bot.
    pub bot_id: BotId,
    /// The user broker account.
    pub user_broker_account_id: BrokerAccountId,
    /// The ticker.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub ticker_id: TickerId,
    /// The state object.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub state: Box<RawValue>,
}

/// The reply of [`UpsertStates`] (reference 002).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatesReply {
    /// Always true, even with partial failures.
    pub success: bool,
    /// Counts.
    pub summary: Summary,
    /// One result per item, in input order.
    pub results: Vec<StateResult>,
}

/// The result of one state update.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum StateResult {
    /// Upserted.
    Success {
        /// The stored state.
        data: UserBotState,
        /// The account of the item.
        #[serde(rename = "accountId")]
        account_id: BrokerAccountId,
        /// The ticker of the item.
        #[serde(rename = "tickerId")]
        #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
        ticker_id: TickerId,
    },
    /// Refused.
    Error {
        /// Why.
        error: String,
        /// The account of the item.
        #[serde(rename = "accountId")]
        account_id: BrokerAccountId,
        /// The ticker of the item.
        #[serde(rename = "tickerId")]
        #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
        ticker_id: TickerId,
        /// The item's index in the request.
        index: usize,
    },
}

/// `GET /api/bots/:slug/state?accountId=&tickerId=&limit=&cursor=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetStates {
    /// The authenticated bot.
    pub bot_id: BotId,
    /// Only this account's states.
    pub account_id: Option<BrokerAccountId>,
    /// Only this ticker's states.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub ticker_id: Option<TickerId>,
    /// Page size, 1 to 1,000.
    #[serde(default = "states_page_max")]
    pub limit: u32,
    /// States start after this one (`cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<StateCursor>,
}

fn states_page_max() -> u32 {
    paging::STATES_PAGE_MAX
}

/// The reply of [`GetStates`]: `{success, states}`, and `nextCursor` when there are more.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatesListReply {
    /// Always true.
    pub success: bool,
    /// The matching states, by account then ticker.
    pub states: Vec<UserBotState>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A participation with its broker order details (docs/api/bot.md#participations).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParticipationView {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: ParticipationId,
    /// The bot trade.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub bot_trade_id: TradeId,
    /// The user.
    pub user_id: UserId,
    /// The broker account.
    pub broker_account_id: BrokerAccountId,
    /// The broker's parent order id.
    pub broker_order_id: String,
    /// Child order ids.
    pub child_order_ids: Vec<String>,
    /// Units.
    pub units: Decimal,
    /// `pending_fetch`, `fetched` or `fetch_failed`.
    #[cfg_attr(feature = "openapi", schema(schema_with = fetch_status_schema))]
    pub fetch_status: String,
    /// The broker's order status once fetched.
    pub broker_order_status: Option<String>,
    /// Filled quantity once fetched.
    pub filled_quantity: Option<Decimal>,
    /// Average fill price once fetched.
    pub avg_fill_price: Option<Decimal>,
    /// Child orders with their statuses once fetched.
    #[schemars(with = "Option<serde_json::Value>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub child_orders: Option<Box<RawValue>>,
    /// When the order was fetched.
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the fetch was parked as a dead letter (`fetch_failed` only): one of six fixed
    /// codes with its fixed message.
    pub fetch_error: Option<crate::messages::fetch::FetchError>,
    /// When the participation was recorded.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A string enum for the OpenAPI document, where the field is a `String` checked by the
/// database (a `CHECK ... IN (...)` of the ledger's schema).
#[cfg(feature = "openapi")]
fn string_enum(values: &[&str], description: &str) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

#[cfg(feature = "openapi")]
fn follow_status_schema() -> utoipa::openapi::Object {
    string_enum(&["active", "paused"], "Whether the account follows the ticker now.")
}

#[cfg(feature = "openapi")]
fn fetch_status_schema() -> utoipa::openapi::Object {
    string_enum(&["pending_fetch", "fetched", "fetch_failed"], "Where the broker order fetch stands.")
}
