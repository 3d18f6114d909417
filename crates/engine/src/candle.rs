//! Market events the engine is fed: candles (backtest) and quotes (live).
//!
//! Prices are converted to ticks of the market once, when the event is built, so the hot
//! loop compares integers. A candle price with more decimals than the market's is rounded to
//! the tick half away from zero, the same rule as resting order prices.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::market::MarketSpec;
use crate::price::{Price, Scales};

/// Why a candle or quote was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandleError {
    /// A price does not fit the market's ticks (too large) or is not positive.
    #[error("price {0} is not a positive price of this market")]
    BadPrice(Decimal),
    /// `low ≤ open, close ≤ high` does not hold.
    #[error("candle at {0}: low must be ≤ open and close, which must be ≤ high")]
    Inconsistent(i64),
    /// `bid ≤ ask` does not hold (the quote's time, ms).
    #[error("quote at {0} ms: bid must be ≤ ask")]
    Crossed(i64),
}

/// One OHLCV candle, prices in ticks of the market it was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candle {
    /// Open time, unix seconds.
    pub open_time: i64,
    /// Open price.
    pub open: Price,
    /// High price.
    pub high: Price,
    /// Low price.
    pub low: Price,
    /// Close price.
    pub close: Price,
    /// Volume in the base currency (informational: the fill model ignores it).
    pub volume: Decimal,
}

impl Candle {
    /// A candle from decimal prices, rounded to the market's tick (half away from zero).
    pub fn from_decimals(
        market: &MarketSpec,
        open_time: i64,
        [open, high, low, close]: [Decimal; 4],
        volume: Decimal,
    ) -> Result<Self, CandleError> {
        let s = Scales::new(market.price_decimals, market.amount_decimals, 0);
        let tick = |d: Decimal| s.round_price(d).filter(|p| p.0 > 0).ok_or(CandleError::BadPrice(d));
        Self::from_ticks(open_time, [tick(open)?.0, tick(high)?.0, tick(low)?.0, tick(close)?.0], volume)
    }

    /// A candle from prices already in ticks.
    pub fn from_ticks(
        open_time: i64,
        [open, high, low, close]: [i64; 4],
        volume: Decimal,
    ) -> Result<Self, CandleError> {
        if low <= 0 {
            return Err(CandleError::BadPrice(Decimal::from(low)));
        }
        if low > open.min(close) || high < open.max(close) {
            return Err(CandleError::Inconsistent(open_time));
        }
        Ok(Self { open_time, open: Price(open), high: Price(high), low: Price(low), close: Price(close), volume })
    }
}

/// A top-of-book quote (live), prices in ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Time of the quote, unix ms (quotes in one ms are all processed, in arrival order).
    pub time_ms: i64,
    /// Best bid.
    pub bid: Price,
    /// Best ask.
    pub ask: Price,
    /// Last trade price (used for marking equity and bot decisions).
    pub last: Price,
}

impl Quote {
    /// A quote at `time_ms` from decimal prices, rounded to the market's tick.
    pub fn from_decimals(
        market: &MarketSpec,
        time_ms: i64,
        bid: Decimal,
        ask: Decimal,
        last: Decimal,
    ) -> Result<Self, CandleError> {
        let s = Scales::new(market.price_decimals, market.amount_decimals, 0);
        let tick = |d: Decimal| s.round_price(d).filter(|p| p.0 > 0).ok_or(CandleError::BadPrice(d));
        Self::from_ticks(time_ms, tick(bid)?.0, tick(ask)?.0, tick(last)?.0)
    }

    /// A quote at `time_ms` from prices already in ticks.
    pub fn from_ticks(time_ms: i64, bid: i64, ask: i64, last: i64) -> Result<Self, CandleError> {
        if bid <= 0 || last <= 0 {
            return Err(CandleError::BadPrice(Decimal::from(bid.min(last))));
        }
        if bid > ask {
            return Err(CandleError::Crossed(time_ms));
        }
        Ok(Self { time_ms, bid: Price(bid), ask: Price(ask), last: Price(last) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn candle_prices_round_to_ticks() {
        let m = MarketSpec::sim_btc_usdt();
        let c =
            Candle::from_decimals(&m, 60, [dec!(100.004), dec!(100.005), dec!(99.995), dec!(100)], dec!(1)).unwrap();
        assert_eq!((c.open, c.high, c.low, c.close), (Price(10000), Price(10001), Price(10000), Price(10000)));
    }

    #[test]
    fn inconsistent_candles_are_rejected() {
        assert_eq!(Candle::from_ticks(1, [10, 9, 8, 9], dec!(0)), Err(CandleError::Inconsistent(1)));
        assert!(Candle::from_ticks(1, [10, 12, 0, 9], dec!(0)).is_err());
        assert!(Quote::from_ticks(1, 11, 10, 10).is_err());
    }
}
