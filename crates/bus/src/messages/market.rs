//! Market data: the quotes the market feed publishes on core NATS, one subject per symbol.
//!
//! Quotes are plain JSON on core NATS (no envelope, no stream): a subscriber that misses one
//! simply gets the next. The symbol is the last subject token, so [`MarketSymbol`] refuses
//! anything that cannot be one token.

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The longest symbol accepted: far above any real ticker, short enough for a subject.
pub const MAX_SYMBOL_LEN: usize = 64;

/// Why a symbol cannot name a market on the bus.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("symbol {0:?} must be 1 to 64 letters, digits, '_' or '-' (one subject token: no '.', '*', '>' or whitespace)")]
pub struct InvalidSymbol(pub String);

/// A market's symbol as it travels on the bus (`SIM_BTC_USDT_`, `AAPL`): 1 to
/// [`MAX_SYMBOL_LEN`] ASCII letters, digits, `_` or `-`, so it is exactly one subject token.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MarketSymbol(String);

impl MarketSymbol {
    /// Checks that `symbol` is one subject token.
    pub fn new(symbol: impl Into<String>) -> Result<Self, InvalidSymbol> {
        let symbol = symbol.into();
        let valid = !symbol.is_empty()
            && symbol.len() <= MAX_SYMBOL_LEN
            && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid { Ok(Self(symbol)) } else { Err(InvalidSymbol(symbol)) }
    }

    /// The symbol's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MarketSymbol {
    type Error = InvalidSymbol;

    fn try_from(symbol: String) -> Result<Self, Self::Error> {
        Self::new(symbol)
    }
}

impl From<MarketSymbol> for String {
    fn from(symbol: MarketSymbol) -> Self {
        symbol.0
    }
}

impl fmt::Display for MarketSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MarketSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MarketSymbol({})", self.0)
    }
}

impl JsonSchema for MarketSymbol {
    fn schema_name() -> Cow<'static, str> {
        "MarketSymbol".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A market's symbol: one subject token (letters, digits, '_' or '-').",
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{1,64}$",
        })
    }
}

/// Why a quote was refused; the message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidQuote {
    /// A price is zero or negative.
    #[error("{field} must be a positive price, not {value}")]
    NotPositive {
        /// `bid`, `ask` or `last`.
        field: &'static str,
        /// The refused value.
        value: Decimal,
    },
    /// The bid is above the ask.
    #[error("bid {bid} must not be above ask {ask}")]
    Crossed {
        /// The bid.
        bid: Decimal,
        /// The ask.
        ask: Decimal,
    },
    /// The time is before the epoch.
    #[error("timeMs must not be negative, not {0}")]
    NegativeTime(i64),
}

/// One quote of one market, on `<prefix>.md.feed.quote.v1.<symbol>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteMsg {
    /// The market, also the last token of the subject.
    pub symbol: MarketSymbol,
    /// When the quote holds, Unix milliseconds: the publisher's wall clock unless the quote
    /// was pushed with a time of its own.
    pub time_ms: i64,
    /// Best bid (at most `ask`).
    pub bid: Decimal,
    /// Best ask.
    pub ask: Decimal,
    /// Last traded price.
    pub last: Decimal,
}

impl QuoteMsg {
    /// A quote whose prices are positive and whose bid is not above its ask.
    pub fn new(
        symbol: MarketSymbol,
        time_ms: i64,
        bid: Decimal,
        ask: Decimal,
        last: Decimal,
    ) -> Result<Self, InvalidQuote> {
        let quote = Self { symbol, time_ms, bid, ask, last };
        quote.check()?;
        Ok(quote)
    }

    /// Checks a quote that was built or decoded without [`QuoteMsg::new`].
    pub fn check(&self) -> Result<(), InvalidQuote> {
        if self.time_ms < 0 {
            return Err(InvalidQuote::NegativeTime(self.time_ms));
        }
        for (field, value) in [("bid", self.bid), ("ask", self.ask), ("last", self.last)] {
            if value <= Decimal::ZERO {
                return Err(InvalidQuote::NotPositive { field, value });
            }
        }
        if self.bid > self.ask {
            return Err(InvalidQuote::Crossed { bid: self.bid, ask: self.ask });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn symbol() -> MarketSymbol {
        MarketSymbol::new("SIM_BTC_USDT_").unwrap()
    }

    #[test]
    fn symbols_are_single_subject_tokens() {
        for good in ["SIM_BTC_USDT_", "AAPL", "brk-b", "X1"] {
            assert_eq!(MarketSymbol::new(good).unwrap().as_str(), good);
        }
        for bad in ["", "BRK.B", "A*", "A>", "A B", "A\tB", "Ä", &"X".repeat(MAX_SYMBOL_LEN + 1)] {
            assert_eq!(MarketSymbol::new(bad), Err(InvalidSymbol(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn a_quote_travels_as_camel_case_with_decimal_strings() {
        let quote = QuoteMsg::new(symbol(), 1_700_000_000_123, dec!(30015.31), dec!(30015.33), dec!(30015.32)).unwrap();
        let json = serde_json::to_value(&quote).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "symbol": "SIM_BTC_USDT_", "timeMs": 1_700_000_000_123_i64,
                "bid": "30015.31", "ask": "30015.33", "last": "30015.32"
            })
        );
        assert_eq!(serde_json::from_value::<QuoteMsg>(json).unwrap(), quote);
    }

    #[test]
    fn a_symbol_that_is_not_a_token_does_not_decode() {
        let json = serde_json::json!({"symbol": "BRK.B", "timeMs": 1, "bid": "1", "ask": "1", "last": "1"});
        let error = serde_json::from_value::<QuoteMsg>(json).unwrap_err().to_string();
        assert!(error.contains("BRK.B"), "{error}");
    }

    #[test]
    fn crossed_or_non_positive_quotes_are_refused() {
        assert_eq!(
            QuoteMsg::new(symbol(), 1, dec!(2), dec!(1), dec!(1.5)),
            Err(InvalidQuote::Crossed { bid: dec!(2), ask: dec!(1) })
        );
        assert_eq!(
            QuoteMsg::new(symbol(), 1, dec!(0), dec!(1), dec!(1)),
            Err(InvalidQuote::NotPositive { field: "bid", value: dec!(0) })
        );
        assert_eq!(
            QuoteMsg::new(symbol(), 1, dec!(1), dec!(1), dec!(-1)),
            Err(InvalidQuote::NotPositive { field: "last", value: dec!(-1) })
        );
        assert_eq!(QuoteMsg::new(symbol(), -1, dec!(1), dec!(1), dec!(1)), Err(InvalidQuote::NegativeTime(-1)));
        assert!(QuoteMsg::new(symbol(), 0, dec!(1), dec!(1), dec!(1)).is_ok(), "a locked market is a quote");
    }
}
