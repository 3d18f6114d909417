//! The broker-neutral order the fetcher stores and publishes.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An order's status, reduced to what the platform acts on: the bus's [`BrokerOrderStatus`]
/// (`bus::messages::fetch`), the words the ledger stores.
///
/// Tradier's values map as follows (anything else, including values Tradier may add later,
/// is treated as [`OrderStatus::Open`]: not final, so a later fetch can still see the outcome):
///
/// | Tradier | here |
/// |---|---|
/// | `open`, `pending`, `submitted`, `calculated`, `accepted_for_bidding`, `held`, `pending_cancel`, `pending_replace` | `Open` |
/// | `partially_filled` | `PartiallyFilled` |
/// | `filled` | `Filled` |
/// | `canceled` (and `cancelled`) | `Cancelled` |
/// | `rejected`, `error` | `Rejected` |
/// | `expired` | `Expired` |
///
/// A `canceled` or `expired` order can still have fills: look at
/// [`BrokerOrder::filled_quantity`].
pub use bus::messages::fetch::BrokerOrderStatus as OrderStatus;

/// Tradier's status value mapped as in the table of [`OrderStatus`] (case and surrounding
/// space ignored).
pub fn status_from_tradier(value: &str) -> OrderStatus {
    match value.trim().to_ascii_lowercase().as_str() {
        "partially_filled" => OrderStatus::PartiallyFilled,
        "filled" => OrderStatus::Filled,
        "canceled" | "cancelled" => OrderStatus::Cancelled,
        "rejected" | "error" => OrderStatus::Rejected,
        "expired" => OrderStatus::Expired,
        _ => OrderStatus::Open,
    }
}

/// One order as fetched from a broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrokerOrder {
    /// The broker's order id (Tradier's integer ids as text).
    pub id: String,
    /// Normalised status.
    pub status: OrderStatus,
    /// The broker's own status value, unchanged (`canceled`, `pending`, ...).
    pub broker_status: String,
    /// Security symbol (the underlying, for option and multi-leg orders).
    pub symbol: Option<String>,
    /// Side as the broker names it (`buy`, `sell_short`, `buy_to_open`, ...).
    pub side: Option<String>,
    /// Ordered quantity (shares or contracts), exact.
    pub quantity: Decimal,
    /// Filled quantity, exact (zero when the broker reports none).
    pub filled_quantity: Decimal,
    /// Average fill price, exact; `None` while nothing is filled (Tradier reports `0` then).
    pub avg_fill_price: Option<Decimal>,
    /// The legs of a multi-leg, combo or bracket order, in the broker's order; empty otherwise.
    pub legs: Vec<BrokerOrder>,
    /// The broker's order object as received, for the snapshot. Numbers in it are JSON numbers
    /// (binary floating point once parsed); the typed fields above are the exact values.
    pub raw: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tradier_statuses_map_as_documented() {
        let table = [
            ("open", OrderStatus::Open),
            ("pending", OrderStatus::Open),
            ("submitted", OrderStatus::Open),
            ("calculated", OrderStatus::Open),
            ("accepted_for_bidding", OrderStatus::Open),
            ("held", OrderStatus::Open),
            ("pending_cancel", OrderStatus::Open),
            ("partially_filled", OrderStatus::PartiallyFilled),
            ("filled", OrderStatus::Filled),
            ("canceled", OrderStatus::Cancelled),
            ("Cancelled", OrderStatus::Cancelled),
            ("rejected", OrderStatus::Rejected),
            ("error", OrderStatus::Rejected),
            ("expired", OrderStatus::Expired),
            ("something_new", OrderStatus::Open),
        ];
        for (tradier, expected) in table {
            assert_eq!(status_from_tradier(tradier), expected, "{tradier}");
        }
        assert_eq!(OrderStatus::Cancelled.as_str(), "cancelled");
        assert_eq!(serde_json::to_string(&OrderStatus::PartiallyFilled).unwrap(), "\"partially_filled\"");
    }
}
