//! Payload types of every subject. Each derives `JsonSchema`; `proto/schemas/` holds the
//! generated schemas. Field names are camelCase on the wire, like the HTTP APIs.

use domain::{BacktestId, BotId, BrokerAccountId, ParticipationId, ServiceName, TradeId, UserId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Asks a service whether it can serve: it replies only while its own database answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PingRequest {}

/// A service's answer to [`PingRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PingReply {
    /// Which service answered.
    pub service: ServiceName,
    /// Which replica answered (stable for the life of the process).
    pub instance: String,
    /// The service's build version.
    pub version: String,
}

/// A participation was recorded by the ledger; the fetcher must fetch its broker order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipationCreated {
    /// The participation's id in the ledger.
    pub participation_id: ParticipationId,
    /// The bot whose trade the user joined.
    pub bot_id: BotId,
    /// The bot trade the participation belongs to.
    pub bot_trade_id: TradeId,
    /// The participating user.
    pub user_id: UserId,
    /// The user's broker account holding the order.
    pub broker_account_id: BrokerAccountId,
    /// The broker of that account (`tradier`, `SIM`, ...): picks the fetcher's client.
    pub broker: String,
    /// The account's number at the broker (not a secret; the fetcher keeps the credentials).
    pub broker_account_number: String,
    /// The broker's id of the parent order.
    pub broker_order_id: String,
    /// The broker's ids of the child orders (bracket legs) to fetch too.
    pub child_order_ids: Vec<String>,
    /// Units or contracts the user holds in the order.
    pub units: rust_decimal::Decimal,
}

/// A backtest row was created and waits for a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestQueued {
    /// The backtest's id in the executor's database.
    pub backtest_id: BacktestId,
}

pub mod backtest;
pub mod bot_api;
pub mod credentials;
pub mod fetch;
pub mod hosted;
pub mod idempotency;
pub mod ledger_auth;
pub mod live;
pub mod market;
pub mod partner;
pub mod signals;
pub mod trades;
