//! The market a run trades: its symbol, currencies and precision.

use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::price::MAX_DECIMALS;

/// Precision and currencies of one market, as the partner API's `GET /markets` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketSpec {
    /// `<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>`, e.g. `SIM_BTC_USDT_`.
    pub symbol: String,
    /// Base currency, e.g. `BTC`.
    pub base_currency: String,
    /// Quote currency (profits and fees are in it), e.g. `USDT`.
    pub quote_currency: String,
    /// Decimals of a price: the tick is `10^-priceDecimals`.
    pub price_decimals: u32,
    /// Decimals of an amount: the lot is `10^-amountDecimals`.
    pub amount_decimals: u32,
    /// Orders for less than this amount (base) are not placed.
    pub minimum_trade_amount: Decimal,
}

impl MarketSpec {
    /// A market from its symbol (currencies are read from it) and precision.
    pub fn new(
        symbol: &str,
        price_decimals: u32,
        amount_decimals: u32,
        minimum_trade_amount: Decimal,
    ) -> Result<Self, EngineError> {
        let mut parts = symbol.split('_');
        let (_exchange, base, quote) = (parts.next(), parts.next(), parts.next());
        let (Some(base), Some(quote)) = (base, quote) else {
            return Err(EngineError::Market(format!("symbol `{symbol}` is not <EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>")));
        };
        let spec = Self {
            symbol: symbol.to_owned(),
            base_currency: base.to_owned(),
            quote_currency: quote.to_owned(),
            price_decimals,
            amount_decimals,
            minimum_trade_amount,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// `SIM_BTC_USDT_`: price decimals 2, amount decimals 5, minimum 0.00001.
    pub fn sim_btc_usdt() -> Self {
        Self {
            symbol: "SIM_BTC_USDT_".into(),
            base_currency: "BTC".into(),
            quote_currency: "USDT".into(),
            price_decimals: 2,
            amount_decimals: 5,
            minimum_trade_amount: dec!(0.00001),
        }
    }

    /// `SIM_ETH_USDT_`: price decimals 2, amount decimals 4, minimum 0.0001.
    pub fn sim_eth_usdt() -> Self {
        Self {
            symbol: "SIM_ETH_USDT_".into(),
            base_currency: "ETH".into(),
            quote_currency: "USDT".into(),
            price_decimals: 2,
            amount_decimals: 4,
            minimum_trade_amount: dec!(0.0001),
        }
    }

    /// Checks the precision is one the fixed-point arithmetic supports.
    pub fn validate(&self) -> Result<(), EngineError> {
        if self.price_decimals > MAX_DECIMALS || self.amount_decimals > MAX_DECIMALS {
            return Err(EngineError::Market(format!(
                "priceDecimals and amountDecimals must be at most {MAX_DECIMALS}"
            )));
        }
        if self.minimum_trade_amount.is_sign_negative() {
            return Err(EngineError::Market("minimumTradeAmount must not be negative".into()));
        }
        if self.base_currency.is_empty() || self.quote_currency.is_empty() {
            return Err(EngineError::Market("base and quote currencies must not be empty".into()));
        }
        Ok(())
    }

    /// The minimum trade amount in lots of `10^-amountDecimals`, rounded up (an order of
    /// exactly the minimum is allowed); `None` if it does not fit.
    pub(crate) fn min_lots(&self) -> Option<i64> {
        self.minimum_trade_amount
            .checked_mul(Decimal::from(10i64.checked_pow(self.amount_decimals)?))
            .and_then(|m| i64::try_from(m.ceil()).ok())
    }

    /// The `SIM:BTC-USDT` form the partner API shows in results.
    pub fn display_name(&self) -> String {
        let exchange = self.symbol.split('_').next().unwrap_or_default();
        format!("{exchange}:{}-{}", self.base_currency, self.quote_currency)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn symbol_gives_currencies() {
        let m = MarketSpec::new("SIM_ETH_USDT_", 2, 4, dec!(0.0001)).unwrap();
        assert_eq!(m, MarketSpec::sim_eth_usdt());
        assert_eq!(m.display_name(), "SIM:ETH-USDT");
        assert!(MarketSpec::new("BTCUSDT", 2, 4, dec!(0)).is_err());
        assert!(MarketSpec::new("SIM_BTC_USDT_", 11, 4, dec!(0)).is_err());
    }
}
