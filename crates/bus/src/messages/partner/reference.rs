//! The market catalogue a partner trades on: enabled exchanges and their markets (reference
//! 003's `GET /exchanges` and `GET /markets`), served by the ledger.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::str::FromStr;

/// Asks for the enabled exchanges (no parameters: every partner sees the same catalogue).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListExchanges {}

/// An exchange as reference 003 shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeView {
    /// Its id (`SIM`, `BITMEX`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether it trades spot markets.
    pub is_spot: bool,
    /// Whether it trades leveraged markets.
    pub is_leverage: bool,
}

/// Asks for the markets of the enabled exchanges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMarkets {}

/// A market as reference 003 shows it: all 16 fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketView {
    /// The exchange it trades on.
    pub exchange_id: String,
    /// `BTC/USDT`, followed by the contract when there is one (`AAVE/USDT AAVEUSDT`).
    pub name: String,
    /// `<exchange name> <BASE>/<QUOTE>`.
    pub full_name: String,
    /// `<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>`: the name of the market everywhere.
    pub symbol: String,
    /// The exchange's own symbol: the contract, else base and quote (`BTCUSDT`).
    pub exchange_symbol: String,
    /// Base currency.
    pub base_currency: String,
    /// Quote currency.
    pub quote_currency: String,
    /// Decimals of a price.
    pub price_decimals: i16,
    /// Decimals of an amount.
    pub amount_decimals: i16,
    /// The smallest order amount (base).
    pub minimum_trade_amount: JsonDecimal,
    /// The smallest order value (quote); 0 when the exchange sets none.
    pub minimum_trade_volume: JsonDecimal,
    /// What amounts are counted in: the base currency.
    pub amount_label: String,
    /// The currency profit settles in: the quote for spot and linear markets.
    pub profit_label: String,
    /// Whether it is a spot market.
    pub is_spot: bool,
    /// Whether it is a leveraged market.
    pub is_leverage: bool,
    /// Whether the exchange's calendar is open now.
    pub is_open: bool,
}

/// A decimal written as a JSON number, digit for digit (`0.00001`, never `1e-5` or a
/// string): partner objects carry numbers, and a binary float would change the digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(with = "f64")]
pub struct JsonDecimal(pub Decimal);

impl Serialize for JsonDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.0.normalize().to_string();
        RawValue::from_string(text).map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map(JsonDecimal)
            .map_err(|_| serde::de::Error::custom(format!("{text} is not a decimal number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn decimals_travel_as_json_numbers_digit_for_digit() {
        for (value, text) in [(dec!(0.00001), "0.00001"), (dec!(10.000), "10"), (dec!(0), "0"), (dec!(-2.5), "-2.5")] {
            let json = serde_json::to_string(&JsonDecimal(value)).unwrap();
            assert_eq!(json, text);
            assert_eq!(serde_json::from_str::<JsonDecimal>(&json).unwrap(), JsonDecimal(value));
        }
        assert_eq!(serde_json::from_str::<JsonDecimal>("1e-5").unwrap(), JsonDecimal(dec!(0.00001)));
        assert!(serde_json::from_str::<JsonDecimal>("\"1\"").is_err());
    }
}
