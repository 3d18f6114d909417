//! The simulated broker for `SIM` accounts: no network, no credential, and the same order for
//! the same id every time.
//!
//! The rule is `tradier-sim`'s default order, so a demo reads the same order whether it goes
//! through the simulated broker or through the Tradier client pointed at `tradier-sim`: a
//! 64-bit FNV-1a hash of the order id picks the symbol (AAPL, SPY, MSFT, TSLA, AMZN, QQQ,
//! NVDA, IWM: `(hash >> 32) % 8`), the quantity (`1 + hash % 100` shares) and the price
//! (`(1000 + (hash >> 8) % 49000) / 100`, so 10.00 to 499.99); the order is a `filled` buy of
//! that quantity at that price.

use super::{Broker, BrokerError, BrokerOrder, BrokerToken, OrderRef, OrderStatus};
use rust_decimal::Decimal;
use serde_json::json;

/// The simulated broker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimBroker;

const SYMBOLS: [&str; 8] = ["AAPL", "SPY", "MSFT", "TSLA", "AMZN", "QQQ", "NVDA", "IWM"];

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl SimBroker {
    /// The order the simulated broker reports for `order_id`.
    pub fn order(order_id: &str) -> BrokerOrder {
        let hash = fnv1a(order_id.as_bytes());
        let symbol = SYMBOLS.get(usize::try_from((hash >> 32) % 8).unwrap_or(0)).copied().unwrap_or("AAPL");
        let quantity = Decimal::from(1 + hash % 100);
        let price = Decimal::new(i64::try_from(1_000 + (hash >> 8) % 49_000).unwrap_or(1_000), 2);
        BrokerOrder {
            id: order_id.to_string(),
            status: OrderStatus::Filled,
            broker_status: "filled".to_string(),
            symbol: Some(symbol.to_string()),
            side: Some("buy".to_string()),
            quantity,
            filled_quantity: quantity,
            avg_fill_price: Some(price),
            legs: Vec::new(),
            raw: json!({
                "broker": "sim",
                "id": order_id,
                "status": "filled",
                "symbol": symbol,
                "side": "buy",
                "quantity": quantity.to_string(),
                "exec_quantity": quantity.to_string(),
                "avg_fill_price": price.to_string(),
            }),
        }
    }
}

impl Broker for SimBroker {
    async fn fetch_order(&self, _token: Option<&BrokerToken>, order: OrderRef<'_>) -> Result<BrokerOrder, BrokerError> {
        Ok(SimBroker::order(order.order_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_id_gives_the_same_filled_order() {
        let order = OrderRef { account_number: "SIM-1", order_id: "1234567" };
        let first = SimBroker.fetch_order(None, order).await.unwrap();
        assert_eq!(first, SimBroker.fetch_order(None, order).await.unwrap());
        assert_eq!(first.status, OrderStatus::Filled);
        assert_eq!(first.filled_quantity, first.quantity);
        assert!((Decimal::ONE..=Decimal::from(100)).contains(&first.quantity));
        let price = first.avg_fill_price.unwrap();
        assert!((Decimal::new(1_000, 2)..=Decimal::new(49_999, 2)).contains(&price));
        assert_eq!(first.raw["broker"], "sim");
        assert_ne!(SimBroker::order("7654321"), first);
    }
}
