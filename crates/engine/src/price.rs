//! Fixed-point numbers of one market: prices in ticks, quantities in lots, money in
//! sub-units small enough that every fill and fee is an exact integer.
//!
//! ```text
//! Price  = ticks  = price    × 10^priceDecimals            (i64)
//! Qty    = lots   = quantity × 10^amountDecimals           (i64)
//! notional in tick·lots = ticks × lots                     (i128, scale pd+ad)
//! Money  = quote  × 10^(pd + ad + feeDecimals)             (i128)
//! ```
//!
//! With a fee rate of `r / 10^feeDecimals`, a fill's notional is `ticks·lots·10^fd` money
//! units and its fee `ticks·lots·r`: both integers, so balances never round. The hot loop
//! only compares and multiplies integers; `Decimal` appears when values leave the engine.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// A price in ticks of its market (`price × 10^priceDecimals`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Price(pub i64);

/// A quantity in lots of its market (`quantity × 10^amountDecimals`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Qty(pub i64);

/// Largest number of decimals of prices or amounts a market may have. Keeps every product of
/// ticks and lots (and the money scale) comfortably inside `i128` and `Decimal`.
pub const MAX_DECIMALS: u32 = 10;

/// Largest money scale (`pd + ad + feeDecimals`) accepted: `Decimal` holds 28 digits and
/// balances need room for their integer part.
pub(crate) const MAX_MONEY_SCALE: u32 = 20;

/// The scales of one run: converts between the integer units and `Decimal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Scales {
    /// Price decimals.
    pub pd: u32,
    /// Amount decimals.
    pub ad: u32,
    /// Decimals of the fee rate: money has `pd + ad + fd` decimals.
    pub fd: u32,
    /// `10^fd`: tick·lots → money.
    pub pow_fd: i128,
}

impl Scales {
    pub fn new(pd: u32, ad: u32, fd: u32) -> Self {
        Self { pd, ad, fd, pow_fd: 10i128.pow(fd) }
    }

    /// Decimals of money units.
    pub fn money_scale(&self) -> u32 {
        self.pd + self.ad + self.fd
    }

    pub fn price_dec(&self, p: Price) -> Decimal {
        Decimal::new(p.0, self.pd)
    }

    pub fn qty_dec(&self, q: Qty) -> Decimal {
        Decimal::new(q.0, self.ad)
    }

    pub fn money_dec(&self, m: i128) -> Decimal {
        dec_from_i128(m, self.money_scale())
    }

    /// A value in tick·lots (scale `pd + ad`) as a decimal.
    pub fn ticklots_dec(&self, v: i128) -> Decimal {
        dec_from_i128(v, self.pd + self.ad)
    }

    /// tick·lots → money units.
    pub fn ticklots_money(&self, v: i128) -> i128 {
        v.saturating_mul(self.pow_fd)
    }

    /// Rounds a price to the tick, half away from zero (the rule for resting orders).
    pub fn round_price(&self, d: Decimal) -> Option<Price> {
        to_units(d.round_dp_with_strategy(self.pd, RoundingStrategy::MidpointAwayFromZero), self.pd).map(Price)
    }

    /// Floors a quantity to the amount step.
    pub fn floor_qty(&self, d: Decimal) -> Option<Qty> {
        to_units(d.round_dp_with_strategy(self.ad, RoundingStrategy::ToNegativeInfinity), self.ad).map(Qty)
    }

    /// Converts a quote amount to money units, flooring anything finer than the money scale
    /// (a starting balance with more decimals than money has cannot be held exactly).
    pub fn money_floor(&self, d: Decimal) -> Option<i128> {
        let scale = self.money_scale();
        let mut r = d.round_dp_with_strategy(scale, RoundingStrategy::ToNegativeInfinity);
        r.rescale(scale);
        (r.scale() == scale).then(|| r.mantissa())
    }
}

/// `d` (already at most `scale` decimals) as an integer count of `10^-scale` units.
fn to_units(d: Decimal, scale: u32) -> Option<i64> {
    let mut r = d;
    r.rescale(scale);
    if r.scale() != scale {
        return None;
    }
    i64::try_from(r.mantissa()).ok()
}

/// `v × 10^-scale` as a decimal. Values beyond `Decimal`'s 96-bit mantissa (more than ~7.9e28
/// units, never reached by realistic balances) lose their lowest digits instead of failing.
pub(crate) fn dec_from_i128(v: i128, scale: u32) -> Decimal {
    let (mut v, mut scale) = (v, scale);
    loop {
        if let Ok(d) = Decimal::try_from_i128_with_scale(v, scale) {
            return d.normalize();
        }
        if scale == 0 {
            return if v < 0 { Decimal::MIN } else { Decimal::MAX };
        }
        v /= 10;
        scale -= 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn prices_round_half_away_from_zero() {
        let s = Scales::new(2, 5, 3);
        assert_eq!(s.round_price(dec!(100.005)), Some(Price(10001)));
        assert_eq!(s.round_price(dec!(100.0049)), Some(Price(10000)));
        assert_eq!(s.round_price(dec!(-1.005)), Some(Price(-101)));
        assert_eq!(s.round_price(dec!(7)), Some(Price(700)));
    }

    #[test]
    fn quantities_floor_to_the_step() {
        let s = Scales::new(2, 5, 3);
        assert_eq!(s.floor_qty(dec!(0.123459)), Some(Qty(12345)));
        assert_eq!(s.floor_qty(dec!(0.000009)), Some(Qty(0)));
        assert_eq!(s.floor_qty(dec!(2)), Some(Qty(200000)));
    }

    #[test]
    fn money_round_trips() {
        let s = Scales::new(2, 5, 3);
        let m = s.money_floor(dec!(10000)).unwrap();
        assert_eq!(m, 10000 * 10i128.pow(10));
        assert_eq!(s.money_dec(m), dec!(10000));
        assert_eq!(s.money_dec(-123), dec!(-0.0000000123));
        // 20,000.00 × 0.00005 = 1.
        assert_eq!(s.ticklots_dec(2_000_000 * 5), dec!(1));
    }

    #[test]
    fn huge_values_degrade_instead_of_failing() {
        let d = dec_from_i128(i128::MAX, 10);
        assert!(d > dec!(1e18));
    }
}
