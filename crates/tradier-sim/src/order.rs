//! The orders the simulator answers with: a deterministic default for any id, or a held state.
//!
//! The default order has exactly the fields of Tradier's documented equity example (order
//! 228175): `id, type, symbol, side, quantity, status, duration, price, avg_fill_price,
//! exec_quantity, last_fill_price, last_fill_quantity, remaining_quantity, create_date,
//! transaction_date, class`. Everything in it is derived from a 64-bit FNV-1a hash of the
//! order id, so the same id gives the same order on every run and every machine.

use crate::fixtures::Fixture;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Tradier's order status values (the order-endpoint list plus the ones its account stream and
/// OpenAPI name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimStatus {
    /// `open`: working at the market.
    Open,
    /// `partially_filled`.
    PartiallyFilled,
    /// `filled`.
    Filled,
    /// `expired`.
    Expired,
    /// `canceled` (Tradier's spelling).
    Canceled,
    /// `pending`: accepted, not yet working.
    Pending,
    /// `rejected`.
    Rejected,
    /// `error`.
    Error,
    /// `calculated`.
    Calculated,
    /// `accepted_for_bidding`.
    AcceptedForBidding,
    /// `held`.
    Held,
    /// `pending_cancel`.
    PendingCancel,
    /// `submitted`.
    Submitted,
}

impl SimStatus {
    /// The value Tradier prints.
    pub fn as_str(self) -> &'static str {
        match self {
            SimStatus::Open => "open",
            SimStatus::PartiallyFilled => "partially_filled",
            SimStatus::Filled => "filled",
            SimStatus::Expired => "expired",
            SimStatus::Canceled => "canceled",
            SimStatus::Pending => "pending",
            SimStatus::Rejected => "rejected",
            SimStatus::Error => "error",
            SimStatus::Calculated => "calculated",
            SimStatus::AcceptedForBidding => "accepted_for_bidding",
            SimStatus::Held => "held",
            SimStatus::PendingCancel => "pending_cancel",
            SimStatus::Submitted => "submitted",
        }
    }

    /// Still working: nothing is filled and the whole quantity remains.
    fn is_working(self) -> bool {
        matches!(
            self,
            SimStatus::Open
                | SimStatus::Pending
                | SimStatus::Calculated
                | SimStatus::AcceptedForBidding
                | SimStatus::Held
                | SimStatus::PendingCancel
                | SimStatus::Submitted
        )
    }
}

/// What the simulator answers for one (account, order) instead of the default.
///
/// On the wire (`PUT /_sim/accounts/{account}/orders/{id}`) it is tagged by `kind`:
/// `{"kind":"status","status":"partially_filled"}`,
/// `{"kind":"fixture","fixture":"multileg"}`, `{"kind":"raw","body":"{\"order\": ...}"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum HeldOrder {
    /// The default order for this id in another status. Fill quantities follow the status
    /// (filled: all; partially_filled: half, at least one; working states: none and all
    /// remaining; canceled / expired / rejected / error: none and none remaining) unless given.
    Status {
        /// The status to report.
        status: SimStatus,
        /// Order quantity; default derived from the id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantity: Option<Decimal>,
        /// Filled quantity; default follows the status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exec_quantity: Option<Decimal>,
        /// Average fill price; default the order's price when anything is filled, else zero.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avg_fill_price: Option<Decimal>,
    },
    /// One of Tradier's documented examples, served verbatim whatever id was asked for.
    Fixture {
        /// Which example.
        fixture: Fixture,
    },
    /// Any body, served as is with `200` and `application/json` (e.g. a `leg` given as a single
    /// object, or an `errors` payload).
    Raw {
        /// The exact response body.
        body: String,
    },
}

impl HeldOrder {
    /// Shorthand for [`HeldOrder::Status`] with everything else derived.
    pub fn status(status: SimStatus) -> Self {
        HeldOrder::Status { status, quantity: None, exec_quantity: None, avg_fill_price: None }
    }
}

const SYMBOLS: [&str; 8] = ["AAPL", "SPY", "MSFT", "TSLA", "AMZN", "QQQ", "NVDA", "IWM"];

/// The fields of the default order that come from the id.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Derived {
    pub(crate) symbol: &'static str,
    pub(crate) quantity: Decimal,
    pub(crate) price: Decimal,
    /// Seconds after 14:30:00 on 2024-01-02 at which the order was created (< 1800).
    pub(crate) created_after_s: u64,
}

/// FNV-1a, 64 bit: tiny, stable across Rust versions and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Quantity 1..=100 shares, price 10.00..=499.99, one of eight symbols.
pub(crate) fn derive(order_id: &str) -> Derived {
    let hash = fnv1a(order_id.as_bytes());
    let symbol_index = usize::try_from((hash >> 32) % SYMBOLS.len() as u64).unwrap_or(0);
    Derived {
        symbol: SYMBOLS.get(symbol_index).copied().unwrap_or("AAPL"),
        quantity: Decimal::from(1 + hash % 100),
        price: Decimal::new(i64::try_from(1_000 + (hash >> 8) % 49_000).unwrap_or(1_000), 2),
        created_after_s: (hash >> 40) % 1_800,
    }
}

/// The response body for an order: the held state if any, else the default `filled` order.
pub(crate) fn response_body(order_id: &str, held: Option<&HeldOrder>) -> String {
    match held {
        None => default_body(order_id, SimStatus::Filled, None, None, None),
        Some(HeldOrder::Status { status, quantity, exec_quantity, avg_fill_price }) => {
            default_body(order_id, *status, *quantity, *exec_quantity, *avg_fill_price)
        }
        Some(HeldOrder::Fixture { fixture }) => fixture.response_body(),
        Some(HeldOrder::Raw { body }) => body.clone(),
    }
}

fn default_body(
    order_id: &str,
    status: SimStatus,
    quantity: Option<Decimal>,
    exec_quantity: Option<Decimal>,
    avg_fill_price: Option<Decimal>,
) -> String {
    let derived = derive(order_id);
    let mut quantity = quantity.unwrap_or(derived.quantity);
    if status == SimStatus::PartiallyFilled && quantity < Decimal::TWO && exec_quantity.is_none() {
        // One share cannot be partly filled; the derived default becomes two.
        quantity = Decimal::TWO;
    }
    let exec = exec_quantity.unwrap_or_else(|| match status {
        SimStatus::Filled => quantity,
        SimStatus::PartiallyFilled => (quantity / Decimal::TWO).floor().max(Decimal::ONE),
        _ => Decimal::ZERO,
    });
    let remaining = if status == SimStatus::PartiallyFilled || status.is_working() {
        (quantity - exec).max(Decimal::ZERO)
    } else {
        Decimal::ZERO
    };
    let filled = exec > Decimal::ZERO;
    let avg = avg_fill_price.unwrap_or(if filled { derived.price } else { Decimal::ZERO });
    let (last_price, last_quantity) = if filled { (avg, exec) } else { (Decimal::ZERO, Decimal::ZERO) };
    let create_date = timestamp(derived.created_after_s);
    let transaction_date = timestamp((derived.created_after_s + 1).min(1_799));
    format!(
        r#"{{
  "order": {{
    "id": {id},
    "type": "limit",
    "symbol": "{symbol}",
    "side": "buy",
    "quantity": {quantity},
    "status": "{status}",
    "duration": "day",
    "price": {price},
    "avg_fill_price": {avg},
    "exec_quantity": {exec},
    "last_fill_price": {last_price},
    "last_fill_quantity": {last_quantity},
    "remaining_quantity": {remaining},
    "create_date": "{create_date}",
    "transaction_date": "{transaction_date}",
    "class": "equity"
  }}
}}"#,
        id = id_json(order_id),
        symbol = derived.symbol,
        quantity = quantity_text(quantity),
        status = status.as_str(),
        price = price_text(derived.price),
        avg = price_text(avg),
        exec = quantity_text(exec),
        last_price = price_text(last_price),
        last_quantity = quantity_text(last_quantity),
        remaining = quantity_text(remaining),
    )
}

/// Tradier's ids are integers; an id that is not one is echoed as a JSON string so that any id
/// works in a demo.
fn id_json(order_id: &str) -> String {
    let numeric = !order_id.is_empty() && order_id.len() <= 18 && order_id.bytes().all(|b| b.is_ascii_digit());
    if numeric && (order_id == "0" || !order_id.starts_with('0')) {
        order_id.to_string()
    } else {
        serde_json::Value::String(order_id.to_string()).to_string()
    }
}

/// Quantities as Tradier prints them: eight decimals (`50.00000000`).
fn quantity_text(value: Decimal) -> String {
    format!("{value:.8}")
}

/// Prices with at least two decimals and never rounded (`187.93`, `0.125`); zero as Tradier
/// prints an unfilled price (`0.00000000`).
fn price_text(value: Decimal) -> String {
    if value.is_zero() {
        return "0.00000000".to_string();
    }
    let decimals = usize::try_from(value.normalize().scale().max(2)).unwrap_or(2);
    format!("{value:.decimals$}")
}

fn timestamp(after_s: u64) -> String {
    let minutes = 30 + after_s / 60;
    let seconds = after_s % 60;
    format!("2024-01-02T14:{minutes:02}:{seconds:02}.000Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use serde_json::Value;

    fn order(body: &str) -> Value {
        let value: Value = serde_json::from_str(body).unwrap();
        value["order"].clone()
    }

    #[test]
    fn the_default_order_is_stable_and_filled() {
        let first = response_body("1234567", None);
        assert_eq!(first, response_body("1234567", None));
        let order = order(&first);
        assert_eq!(order["id"], 1234567);
        assert_eq!(order["status"], "filled");
        assert_eq!(order["exec_quantity"], order["quantity"]);
        assert_eq!(order["remaining_quantity"].as_f64(), Some(0.0));
        let mut keys: Vec<String> = order.as_object().unwrap().keys().cloned().collect();
        let documented: Value = serde_json::from_str(fixtures::EQUITY_ORDER).unwrap();
        let mut documented: Vec<String> = documented.as_object().unwrap().keys().cloned().collect();
        keys.sort_unstable();
        documented.sort_unstable();
        assert_eq!(keys, documented, "same fields as Tradier's equity example");
    }

    #[test]
    fn the_derivation_does_not_change_between_releases() {
        // Pinned so that demo data and other services' tests can rely on it.
        let derived = derive("1234567");
        assert_eq!(derived, derive("1234567"));
        assert!((Decimal::ONE..=Decimal::from(100)).contains(&derived.quantity));
        assert!((Decimal::new(1_000, 2)..=Decimal::new(49_999, 2)).contains(&derived.price));
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn non_numeric_ids_are_strings() {
        assert_eq!(order(&response_body("ord-7", None))["id"], "ord-7");
        assert_eq!(order(&response_body("007", None))["id"], "007");
    }

    #[test]
    fn held_statuses_have_consistent_fills() {
        let partial = order(&response_body(
            "42",
            Some(&HeldOrder::Status {
                status: SimStatus::PartiallyFilled,
                quantity: Some(Decimal::from(10)),
                exec_quantity: None,
                avg_fill_price: Some(Decimal::new(1234, 2)),
            }),
        ));
        assert_eq!(partial["status"], "partially_filled");
        assert_eq!(partial["exec_quantity"].as_f64(), Some(5.0));
        assert_eq!(partial["remaining_quantity"].as_f64(), Some(5.0));
        assert_eq!(partial["avg_fill_price"].as_f64(), Some(12.34));

        let open = order(&response_body("42", Some(&HeldOrder::status(SimStatus::Open))));
        assert_eq!(open["exec_quantity"].as_f64(), Some(0.0));
        assert_eq!(open["remaining_quantity"], open["quantity"]);
        assert_eq!(open["avg_fill_price"].as_f64(), Some(0.0));

        let canceled = order(&response_body("42", Some(&HeldOrder::status(SimStatus::Canceled))));
        assert_eq!(canceled["remaining_quantity"].as_f64(), Some(0.0));
    }

    #[test]
    fn held_orders_deserialize_from_the_control_api_shape() {
        let held: HeldOrder =
            serde_json::from_str(r#"{"kind":"status","status":"partially_filled","execQuantity":"3"}"#).unwrap();
        assert_eq!(
            held,
            HeldOrder::Status {
                status: SimStatus::PartiallyFilled,
                quantity: None,
                exec_quantity: Some(Decimal::from(3)),
                avg_fill_price: None
            }
        );
        let held: HeldOrder = serde_json::from_str(r#"{"kind":"fixture","fixture":"multileg"}"#).unwrap();
        assert_eq!(held, HeldOrder::Fixture { fixture: Fixture::Multileg });
    }
}
