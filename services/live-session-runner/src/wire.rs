//! How the engine's enums are spelled on the wire.

/// An engine enum as its JSON spells it (`LONG`, `BUY`, `Limit`, `OPEN`, `gridSell`): the
/// spelling the partner API and the ledger's events use.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{Direction, OrderRole, OrderStatus, OrderType, Side};

    #[test]
    fn engine_enums_keep_their_json_spelling() {
        assert_eq!(wire_name(&Side::Buy), "BUY");
        assert_eq!(wire_name(&OrderType::Limit), "Limit");
        assert_eq!(wire_name(&OrderStatus::Cancelled), "CANCELLED");
        assert_eq!(wire_name(&Direction::Short), "SHORT");
        assert_eq!(wire_name(&OrderRole::DcaTakeProfit), "dcaTakeProfit");
    }
}
