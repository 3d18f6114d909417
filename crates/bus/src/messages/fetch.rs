//! The order-fetch path: what the fetcher reports back to the ledger about a participation's
//! broker orders. Each outcome carries the fetch job's `revision`, which grows with every
//! outcome of the same job, so a consumer applies an outcome only when it is newer than the
//! one it holds (a dead letter retried by an admin later reports success).

use chrono::{DateTime, Utc};
use domain::ParticipationId;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A broker order's state in the platform's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BrokerOrderStatus {
    /// Working at the broker (including accepted-but-pending states).
    Open,
    /// Part of the quantity has executed.
    PartiallyFilled,
    /// Fully executed.
    Filled,
    /// Cancelled before it filled completely.
    Cancelled,
    /// Refused by the broker.
    Rejected,
    /// Its time in force ran out.
    Expired,
}

impl BrokerOrderStatus {
    /// The stored spelling (the ledger's CHECK constraint lists the same words).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::PartiallyFilled => "partially_filled",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
}

/// One order as fetched from the broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FetchedOrder {
    /// The broker's order id.
    pub order_id: String,
    /// Its state.
    pub status: BrokerOrderStatus,
    /// The broker's own status word (e.g. Tradier's `pending`), kept for support.
    pub broker_status: String,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Executed quantity.
    pub filled_quantity: Decimal,
    /// Average execution price, once anything executed.
    pub avg_fill_price: Option<Decimal>,
}

/// `order fetched`: the participation's parent order and every child order were read from
/// the broker and stored in the fetcher's snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderFetched {
    /// The participation in the ledger.
    pub participation_id: ParticipationId,
    /// The fetch job's outcome counter.
    pub revision: i32,
    /// When the broker answered.
    pub fetched_at: DateTime<Utc>,
    /// The parent order.
    pub order: FetchedOrder,
    /// The child orders, in the order the participation listed their ids.
    pub children: Vec<FetchedOrder>,
}

/// Why a participation's broker order could not be fetched, as clients see it. The fetcher
/// maps every failure to one of these; the detail (broker answers, error texts) stays in its
/// own records (`outbox-broker-fetcher admin dead-letters`), never crosses to the ledger and
/// never reaches a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FetchErrorCode {
    /// No broker credentials are stored for the account.
    NoCredentials,
    /// The broker refused the stored credentials (or the request as such).
    BrokerRefused,
    /// The broker does not show the order (unknown id, or not visible after retries).
    OrderNotFound,
    /// The broker kept failing (server errors, rate limits) until the job gave up.
    BrokerUnavailable,
    /// The broker answered something that could not be read or stored.
    UnstorableAnswer,
    /// The fetch did not complete within its time budget.
    FetchTimedOut,
}

impl FetchErrorCode {
    /// Every code, in documentation order.
    pub const ALL: [FetchErrorCode; 6] = [
        Self::NoCredentials,
        Self::BrokerRefused,
        Self::OrderNotFound,
        Self::BrokerUnavailable,
        Self::UnstorableAnswer,
        Self::FetchTimedOut,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCredentials => "no_credentials",
            Self::BrokerRefused => "broker_refused",
            Self::OrderNotFound => "order_not_found",
            Self::BrokerUnavailable => "broker_unavailable",
            Self::UnstorableAnswer => "unstorable_answer",
            Self::FetchTimedOut => "fetch_timed_out",
        }
    }

    /// The code for its stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }

    /// The fixed message clients see with the code.
    pub fn message(self) -> &'static str {
        match self {
            Self::NoCredentials => "No broker credentials are stored for this broker account",
            Self::BrokerRefused => "The broker refused the stored credentials for this account",
            Self::OrderNotFound => "The broker does not show this order",
            Self::BrokerUnavailable => "The broker could not be reached; the fetch was given up",
            Self::UnstorableAnswer => "The broker's answer for this order could not be read",
            Self::FetchTimedOut => "The order could not be fetched in time",
        }
    }
}

/// A participation's fetch error as clients see it: `{code, message}`, the message fixed per
/// code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FetchError {
    /// What went wrong.
    pub code: FetchErrorCode,
    /// The code's fixed message.
    #[cfg_attr(feature = "openapi", schema(example = "No broker credentials are stored for this broker account"))]
    pub message: String,
}

impl From<FetchErrorCode> for FetchError {
    fn from(code: FetchErrorCode) -> Self {
        Self { code, message: code.message().to_string() }
    }
}

/// `order fetch failed`: the job was parked as a dead letter; an admin retry may still
/// succeed later (with a higher revision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderFetchFailed {
    /// The participation in the ledger.
    pub participation_id: ParticipationId,
    /// The fetch job's outcome counter.
    pub revision: i32,
    /// When it was parked.
    pub failed_at: DateTime<Utc>,
    /// Why, as one of the fixed codes (the detail stays in the fetcher).
    pub code: FetchErrorCode,
    /// Broker calls made for it.
    pub attempts: i32,
}
