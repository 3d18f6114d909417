//! The order-fetch path: what the fetcher reports back to the ledger about a participation's
//! broker orders. Each outcome carries the fetch job's `revision`, which grows with every
//! outcome of the same job, so a consumer applies an outcome only when it is newer than the
//! one it holds (a dead letter retried by an admin later reports success).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    pub participation_id: Uuid,
    /// The fetch job's outcome counter.
    pub revision: i32,
    /// When the broker answered.
    pub fetched_at: DateTime<Utc>,
    /// The parent order.
    pub order: FetchedOrder,
    /// The child orders, in the order the participation listed their ids.
    pub children: Vec<FetchedOrder>,
}

/// `order fetch failed`: the job was parked as a dead letter; an admin retry may still
/// succeed later (with a higher revision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderFetchFailed {
    /// The participation in the ledger.
    pub participation_id: Uuid,
    /// The fetch job's outcome counter.
    pub revision: i32,
    /// When it was parked.
    pub failed_at: DateTime<Utc>,
    /// Why (the last error, never a credential).
    pub reason: String,
    /// Broker calls made for it.
    pub attempts: i32,
}
