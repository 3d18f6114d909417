//! How a live fill (`evt.live.fill_recorded.v1`) reads as a ledger trade and transaction
//! (docs/live.md#fills-become-ledger-trades): the trade type of a position, the exit type of
//! an exit fill, the Bot API's spelling of side and order type, and a closed position's net
//! P&L. Pure; the usecase writes what these decide.

use domain::trade::TradeType;
use engine::OrderRole;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::IntoDeserializer;

/// The exit type of an exit fill whose engine role the ledger does not know, or whose role is
/// an entry's (the CHECK on `transactions` wants one on every exit).
pub const OTHER_EXIT: &str = "other";

/// The trade type of a position's direction (`LONG` / `SHORT`); `None` for anything else.
pub fn trade_type(direction: &str) -> Option<TradeType> {
    match direction.to_ascii_uppercase().as_str() {
        "LONG" => Some(TradeType::Long),
        "SHORT" => Some(TradeType::Short),
        _ => None,
    }
}

/// The engine role the runner wrote (`gridSell`, `closeOut`, ...), if it is one.
pub fn role(text: &str) -> Option<OrderRole> {
    OrderRole::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).ok()
}

/// The exit type of an exit fill by its order's role: a grid level's sell and a DCA take-profit
/// take profit, a grid's stop exit stops, `maxWin` / `maxLoss` close out, and a liquidation, a
/// webhook signal and a live flatten are themselves. `None` for a role that only ever enters
/// (the engine never exits with one) or an unknown role: the caller records [`OTHER_EXIT`].
///
/// The strategy sessions' halt flatten (`risk_halt`) is not among the roles yet.
pub fn exit_type(role: OrderRole) -> Option<&'static str> {
    match role {
        OrderRole::GridSell | OrderRole::DcaTakeProfit => Some("take_profit"),
        OrderRole::GridExit => Some("stop"),
        OrderRole::CloseOut => Some("close_out"),
        OrderRole::Liquidation => Some("liquidation"),
        OrderRole::Signal => Some("signal"),
        OrderRole::Flatten => Some("flatten"),
        OrderRole::GridBuy | OrderRole::GridFill | OrderRole::DcaBase | OrderRole::DcaSafety => None,
    }
}

/// The Bot API's spelling of a side (`BUY` → `buy`) or an order type (`Limit` → `limit`).
pub fn api_word(wire: &str) -> String {
    wire.to_ascii_lowercase()
}

/// A position's net P&L: its gross profit less the fees of all its fills, once it is closed
/// (`None` while open, or if the difference does not fit a decimal).
pub fn net_pnl(closed: bool, gross_profit: Decimal, fees: Decimal) -> Option<Decimal> {
    closed.then(|| gross_profit.checked_sub(fees)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn each_exit_role_has_its_exit_type_and_entry_roles_have_none() {
        let cases = [
            ("gridSell", Some("take_profit")),
            ("dcaTakeProfit", Some("take_profit")),
            ("gridExit", Some("stop")),
            ("closeOut", Some("close_out")),
            ("liquidation", Some("liquidation")),
            ("signal", Some("signal")),
            ("flatten", Some("flatten")),
            ("gridBuy", None),
            ("gridFill", None),
            ("dcaBase", None),
            ("dcaSafety", None),
        ];
        for (text, expected) in cases {
            let role = role(text).unwrap_or_else(|| panic!("{text} is an engine role"));
            assert_eq!(exit_type(role), expected, "{text}");
        }
        assert_eq!(role("riskHalt"), None);
        assert_eq!(role("GridSell"), None, "the wire spelling is camelCase");
    }

    #[test]
    fn directions_sides_and_order_types_in_the_bot_apis_words() {
        assert_eq!(trade_type("LONG"), Some(TradeType::Long));
        assert_eq!(trade_type("SHORT"), Some(TradeType::Short));
        assert_eq!(trade_type("FLAT"), None);
        assert_eq!((api_word("BUY"), api_word("SELL")), ("buy".to_string(), "sell".to_string()));
        assert_eq!((api_word("Limit"), api_word("Market")), ("limit".to_string(), "market".to_string()));
    }

    #[test]
    fn net_pnl_is_gross_less_fees_exactly_once_closed() {
        assert_eq!(net_pnl(true, dec!(0.1137), dec!(0.0603525)), Some(dec!(0.0533475)));
        assert_eq!(net_pnl(true, dec!(-3), dec!(0.5)), Some(dec!(-3.5)));
        assert_eq!(net_pnl(false, dec!(1), dec!(0.1)), None);
        assert_eq!(net_pnl(true, Decimal::MIN, Decimal::MAX), None);
    }
}
