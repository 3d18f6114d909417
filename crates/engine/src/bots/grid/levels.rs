//! A grid's level prices: arithmetic (equal differences) or geometric (equal ratios, the
//! ratio found by Newton's method in `Decimal`, deterministic everywhere), rounded to the
//! tick and strictly increasing.

use rust_decimal::Decimal;

use crate::error::{EngineError, ValidationError};
use crate::price::{Price, Scales};
use crate::settings::{GridMode, GridSettings};

/// Level prices `p_0..=p_n` in ticks, strictly increasing.
pub(crate) fn levels(g: &GridSettings, s: &Scales) -> Result<Vec<Price>, EngineError> {
    let n = g.grid_count;
    let (lo, hi) = (g.lower_limit, g.upper_limit);
    let bad = |why: &str| EngineError::Settings(ValidationError::new("gridCount", why));
    let mut out = Vec::with_capacity(n as usize + 1);
    match g.grid_mode {
        GridMode::Arithmetic => {
            let step = (hi - lo) / Decimal::from(n);
            for i in 0..n {
                out.push(lo + step * Decimal::from(i));
            }
        }
        GridMode::Geometric => {
            let r = nth_root(hi / lo, n).ok_or_else(|| bad("geometric levels cannot be computed"))?;
            let mut p = lo;
            for _ in 0..n {
                out.push(p);
                p = p.checked_mul(r).ok_or_else(|| bad("geometric levels cannot be computed"))?;
            }
        }
    }
    out.push(hi);
    let ticks: Option<Vec<Price>> = out.into_iter().map(|p| s.round_price(p)).collect();
    let ticks = ticks.ok_or_else(|| bad("level prices do not fit the market"))?;
    if ticks.windows(2).any(|w| w[0] >= w[1]) || ticks[0].0 <= 0 {
        return Err(bad("levels are closer than one price tick: lower gridCount or widen the range"));
    }
    Ok(ticks)
}

/// `x^(1/n)` for `x > 1` by Newton's method in `Decimal` (deterministic everywhere).
pub(crate) fn nth_root(x: Decimal, n: u32) -> Option<Decimal> {
    if n == 1 {
        return Some(x);
    }
    let nd = Decimal::from(n);
    let mut y = Decimal::ONE + (x - Decimal::ONE) / nd;
    for _ in 0..200 {
        let pow = powi(y, n - 1)?;
        let next = (y * (nd - Decimal::ONE) + x.checked_div(pow)?) / nd;
        if (next - y).abs() < Decimal::new(1, 26) {
            return Some(next);
        }
        y = next;
    }
    Some(y)
}

fn powi(mut b: Decimal, mut e: u32) -> Option<Decimal> {
    let mut r = Decimal::ONE;
    while e > 0 {
        if e & 1 == 1 {
            r = r.checked_mul(b)?;
        }
        e >>= 1;
        if e > 0 {
            b = b.checked_mul(b)?;
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use rust_decimal::dec;

    use super::super::tests::settings;
    use super::*;

    #[test]
    fn arithmetic_levels() {
        let s = Scales::new(2, 5, 3);
        let p = levels(&settings(dec!(25000), dec!(31000), 30, GridMode::Arithmetic), &s).unwrap();
        assert_eq!(p.len(), 31);
        assert_eq!(
            (p[0], p[1], p[29], p[30]),
            (Price(2_500_000), Price(2_520_000), Price(3_080_000), Price(3_100_000))
        );
        // 100 to 101 in 3 grids: 100.3333.. → 100.33, 100.6666.. → 100.67 (half away from zero).
        let p = levels(&settings(dec!(100), dec!(101), 3, GridMode::Arithmetic), &s).unwrap();
        assert_eq!(p, vec![Price(10000), Price(10033), Price(10067), Price(10100)]);
    }

    #[test]
    fn geometric_levels_have_equal_ratios() {
        let s = Scales::new(2, 5, 3);
        // 100 → 400 in 2 grids: ratio 2: 100, 200, 400.
        let p = levels(&settings(dec!(100), dec!(400), 2, GridMode::Geometric), &s).unwrap();
        assert_eq!(p, vec![Price(10000), Price(20000), Price(40000)]);
        // 1000 → 1331 in 3 grids: ratio 1.1: 1000, 1100, 1210, 1331.
        let p = levels(&settings(dec!(1000), dec!(1331), 3, GridMode::Geometric), &s).unwrap();
        assert_eq!(p, vec![Price(100_000), Price(110_000), Price(121_000), Price(133_100)]);
    }

    #[test]
    fn levels_closer_than_a_tick_are_refused() {
        let s = Scales::new(2, 5, 3);
        let e = levels(&settings(dec!(100), dec!(100.05), 10, GridMode::Arithmetic), &s).unwrap_err();
        assert!(matches!(e, EngineError::Settings(v) if v.field == "gridCount"));
    }

    #[test]
    fn nth_root_is_accurate() {
        let r = nth_root(dec!(1.24), 30).unwrap();
        let back = powi(r, 30).unwrap();
        assert!((back - dec!(1.24)).abs() < dec!(1e-20));
    }
}
