//! Fees: a rate per fill on notional, charged in the quote currency, kept exact.
//!
//! The rate `r / 10^fd` is split into its integer mantissa `r` and its decimals `fd`; money
//! carries `fd` more decimals than tick·lots, so `fee = ticks × lots × r` money units exactly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// Largest number of decimals a fee rate may have (0.000001 % granularity).
pub const MAX_FEE_DECIMALS: u32 = 8;

/// A fee rate as an exact integer fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FeeRate {
    /// The rate as a decimal (e.g. 0.001), for formulas that need it (take-profit prices).
    pub rate: Decimal,
    /// Mantissa: `rate = mantissa / 10^decimals`.
    pub mantissa: i128,
    /// Decimals of the rate.
    pub decimals: u32,
}

impl FeeRate {
    pub fn new(rate: Decimal) -> Result<Self, EngineError> {
        if rate.is_sign_negative() || rate >= Decimal::ONE {
            return Err(EngineError::Config(format!("fee rate {rate} must be in [0, 1)")));
        }
        let r = rate.normalize();
        if r.scale() > MAX_FEE_DECIMALS {
            return Err(EngineError::Config(format!("fee rate {rate} has more than {MAX_FEE_DECIMALS} decimals")));
        }
        Ok(Self { rate: r, mantissa: r.mantissa(), decimals: r.scale() })
    }

    /// The fee of a fill of `ticklots` notional (tick·lots), in money units.
    #[inline]
    pub fn fee(&self, ticklots: i128) -> i128 {
        ticklots * self.mantissa
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::price::Scales;
    use rust_decimal::dec;

    #[test]
    fn fee_is_exact_in_money_units() {
        let f = FeeRate::new(dec!(0.001)).unwrap();
        assert_eq!((f.mantissa, f.decimals), (1, 3));
        let s = Scales::new(2, 5, f.decimals);
        // 0.01234 BTC at 26,543.21: notional 327.5432114 USDT, fee 0.3275432114 USDT.
        let ticklots = 2_654_321i128 * 1_234;
        assert_eq!(s.money_dec(s.ticklots_money(ticklots)), dec!(327.5432114));
        assert_eq!(s.money_dec(f.fee(ticklots)), dec!(0.3275432114));
    }

    #[test]
    fn odd_rates_stay_exact() {
        let f = FeeRate::new(dec!(0.00075)).unwrap();
        let s = Scales::new(2, 5, f.decimals);
        assert_eq!(s.money_dec(f.fee(100 * 100_000)), dec!(0.00075));
        assert!(FeeRate::new(dec!(1)).is_err());
        assert!(FeeRate::new(dec!(-0.1)).is_err());
        assert!(FeeRate::new(dec!(0.000000001)).is_err());
    }
}
