//! How a ticker of the catalogue reads as a market of reference 003 (`GET /markets`), and what
//! the admin may add to the catalogue.

use bus::messages::market::MarketSymbol;
use bus::messages::partner::reference::{JsonDecimal, MarketView};
use chrono::{DateTime, Utc};
use domain::calendar::Calendar;
use rust_decimal::Decimal;

/// The most decimals a price or an amount may have: the engine's fixed-point limit.
pub const MAX_DECIMALS: i16 = 10;

/// The currencies and contract a symbol names. `<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>` carries
/// them (`SIM_BTC_USDT_` → BTC, USDT, no contract; the contract is all after the third `_`);
/// any other symbol (a stock such as `AAPL`) is its own base, quoted in USD. The migration
/// back-fills existing tickers the same way.
pub fn currencies(symbol: &str) -> (String, String, String) {
    let parts: Vec<&str> = symbol.splitn(4, '_').collect();
    match parts.as_slice() {
        [exchange, base, quote, contract] if !exchange.is_empty() && !base.is_empty() && !quote.is_empty() => {
            ((*base).to_string(), (*quote).to_string(), (*contract).to_string())
        }
        _ => (symbol.to_string(), "USD".to_string(), String::new()),
    }
}

/// Why a ticker cannot join the catalogue, in words an admin can act on.
pub fn check_ticker(symbol: &str, price_decimals: i16, amount_decimals: i16) -> Result<(), String> {
    // The symbol names the market's quote subject on NATS.
    MarketSymbol::new(symbol).map_err(|invalid| invalid.to_string())?;
    for (name, value) in [("price decimals", price_decimals), ("amount decimals", amount_decimals)] {
        if !(0..=MAX_DECIMALS).contains(&value) {
            return Err(format!("{name} must be between 0 and {MAX_DECIMALS}, not {value}"));
        }
    }
    Ok(())
}

/// What the catalogue holds of one listed ticker and its exchange.
#[derive(Debug, Clone)]
pub struct CatalogueEntry<'a> {
    /// The exchange's id.
    pub exchange_id: &'a str,
    /// The exchange's display name.
    pub exchange_name: &'a str,
    /// The exchange's calendar (none when unreadable: never open).
    pub calendar: Option<&'a Calendar>,
    /// The ticker's symbol.
    pub symbol: &'a str,
    /// Base currency.
    pub base_currency: &'a str,
    /// Quote currency.
    pub quote_currency: &'a str,
    /// Contract, empty for none.
    pub contract: &'a str,
    /// Decimals of prices.
    pub price_decimals: i16,
    /// Decimals of amounts.
    pub amount_decimals: i16,
    /// Smallest order amount (none set: 0).
    pub min_amount: Option<Decimal>,
    /// Smallest order value.
    pub min_volume: Decimal,
    /// Spot market.
    pub is_spot: bool,
    /// Leveraged market.
    pub is_leverage: bool,
}

/// The market object of reference 003, open or not at `now` by its exchange's calendar.
pub fn market_view(entry: &CatalogueEntry<'_>, now: DateTime<Utc>) -> MarketView {
    let pair = format!("{}/{}", entry.base_currency, entry.quote_currency);
    let name = if entry.contract.is_empty() { pair.clone() } else { format!("{pair} {}", entry.contract) };
    let exchange_symbol = if entry.contract.is_empty() {
        format!("{}{}", entry.base_currency, entry.quote_currency)
    } else {
        entry.contract.to_string()
    };
    MarketView {
        exchange_id: entry.exchange_id.to_string(),
        name,
        full_name: format!("{} {pair}", entry.exchange_name),
        symbol: entry.symbol.to_string(),
        exchange_symbol,
        base_currency: entry.base_currency.to_string(),
        quote_currency: entry.quote_currency.to_string(),
        price_decimals: entry.price_decimals,
        amount_decimals: entry.amount_decimals,
        minimum_trade_amount: JsonDecimal(entry.min_amount.unwrap_or_default()),
        minimum_trade_volume: JsonDecimal(entry.min_volume),
        amount_label: entry.base_currency.to_string(),
        // Spot and linear markets (every market the engine trades) settle profit in the quote.
        profit_label: entry.quote_currency.to_string(),
        is_spot: entry.is_spot,
        is_leverage: entry.is_leverage,
        is_open: entry.calendar.is_some_and(|calendar| calendar.is_open(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn symbols_name_their_currencies_and_contract() {
        let owned = |(a, b, c): (&str, &str, &str)| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(currencies("SIM_BTC_USDT_"), owned(("BTC", "USDT", "")));
        assert_eq!(currencies("BITMEX_AAVE_USDT_AAVEUSDT"), owned(("AAVE", "USDT", "AAVEUSDT")));
        assert_eq!(currencies("AAPL"), owned(("AAPL", "USD", "")));
        assert_eq!(currencies("X__USDT_"), owned(("X__USDT_", "USD", "")), "an empty base is no pair");
        assert_eq!(currencies("_BTC_USDT_"), owned(("_BTC_USDT_", "USD", "")), "nor an empty exchange");
        assert_eq!(currencies("X_A_B_C_D"), owned(("A", "B", "C_D")), "the contract is all after the third '_'");
    }

    #[test]
    fn tickers_must_be_a_subject_token_with_engine_precision() {
        assert_eq!(check_ticker("SIM_BTC_USDT_", 2, 5), Ok(()));
        assert_eq!(check_ticker("A", 0, 10), Ok(()));
        for bad in ["BTC.USDT", "BTC*", "BTC>", "BTC USDT", "", "BTC\tX"] {
            assert!(check_ticker(bad, 2, 2).unwrap_err().contains("subject token"), "{bad:?}");
        }
        assert_eq!(check_ticker("X", 11, 2).unwrap_err(), "price decimals must be between 0 and 10, not 11");
        assert_eq!(check_ticker("X", 2, -1).unwrap_err(), "amount decimals must be between 0 and 10, not -1");
    }

    #[test]
    fn a_market_reads_as_reference_003_shows_it() {
        let calendar = Calendar::always_open();
        let entry = CatalogueEntry {
            exchange_id: "SIM",
            exchange_name: "Simulated exchange",
            calendar: Some(&calendar),
            symbol: "SIM_BTC_USDT_",
            base_currency: "BTC",
            quote_currency: "USDT",
            contract: "",
            price_decimals: 2,
            amount_decimals: 5,
            min_amount: Some(dec!(0.00001)),
            min_volume: Decimal::ZERO,
            is_spot: true,
            is_leverage: true,
        };
        let view = serde_json::to_value(market_view(&entry, Utc::now())).unwrap();
        assert_eq!(
            view,
            serde_json::json!({"exchangeId": "SIM", "name": "BTC/USDT", "fullName": "Simulated exchange BTC/USDT",
                "symbol": "SIM_BTC_USDT_", "exchangeSymbol": "BTCUSDT", "baseCurrency": "BTC", "quoteCurrency": "USDT",
                "priceDecimals": 2, "amountDecimals": 5, "minimumTradeAmount": 0.00001, "minimumTradeVolume": 0,
                "amountLabel": "BTC", "profitLabel": "USDT", "isSpot": true, "isLeverage": true, "isOpen": true})
        );
        let contract = CatalogueEntry { contract: "AAVEUSDT", base_currency: "AAVE", ..entry };
        let view = market_view(&contract, Utc::now());
        assert_eq!((view.name.as_str(), view.exchange_symbol.as_str()), ("AAVE/USDT AAVEUSDT", "AAVEUSDT"));
    }
}
