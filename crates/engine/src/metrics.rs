//! The results' formulas, as pure functions of exact inputs (each tested by hand below).
//!
//! | field | formula |
//! |---|---|
//! | `grossProfit` | Σ over positions of the profit of their exits before fees: `(exit − cost basis) × qty` (short: the opposite) |
//! | `feeCosts` | Σ of every fee paid in the run (entries of positions still open included) |
//! | `realizedProfit` | `grossProfit − feeCosts` (the reference's identity: 258.01 − 12.34 = 245.67) |
//! | `roi` | `realizedProfit / startingEquity × 100` |
//! | `priceChange` | `(last close − first open) / first open × 100` |
//! | `profitFactor` | Σ profits of winning closed positions / \|Σ profits of losing ones\|; `null` without losses |
//! | `sharpeRatio` | `mean(r) / sd(r) × √A` over daily returns `r` (sample sd, n − 1); `null` with < 2 days or sd 0 |
//! | `sortinoRatio` | `mean(r) / dd(r) × √A`, `dd = √(Σ min(r, 0)² / n)`; `null` with < 2 days or no down day |
//! | `maxDrawdown` | −(largest peak-to-trough fall of equity sampled at each close), quote |
//! | `maxDrawdownPercent` | −(largest fall / its peak × 100) |
//! | `winPercentage` | winning / closed positions, a fraction 0..1 (the reference shows 53/78 as 0.68) |
//! | `biggestWin` / `biggestLoss` | the largest / smallest closed position profit (0 if none won / lost) |
//! | `highestProfit` / `lowestProfit` | max / min of `equity − startingEquity` over the closes and the start (0) |
//! | `averageOpenTime` | mean of `fill time − placement time` over filled orders, seconds |
//! | `averageProfit` | mean profit (net of fees) of closed positions |
//! | `averageMargin` | mean margin of closed positions: Σ entry notional / leverage |
//!
//! A daily return is `E_d / E_{d−1} − 1`, `E_d` the equity at the last close of UTC day `d`,
//! `E_{−1}` the starting equity. `A` is 365 for markets that trade every day (SIM, crypto),
//! 252 otherwise: a parameter of the run. Sharpe and Sortino are the only figures computed
//! with `f64`: the mean and deviation are exact decimals, the square root and the ratio are
//! `f64`, rounded to 6 decimals. Every other figure is an exact decimal.

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

/// `realized / start × 100`; 0 when the start is not positive.
pub fn roi(realized: Decimal, start: Decimal) -> Decimal {
    pct(realized, start)
}

/// `(last − first) / first × 100`.
pub fn price_change(first: Decimal, last: Decimal) -> Decimal {
    pct(last - first, first)
}

fn pct(a: Decimal, b: Decimal) -> Decimal {
    if b <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    a.checked_div(b).and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED)).unwrap_or_default().normalize()
}

/// Σ wins / |Σ losses| over closed positions' profits; `None` without losses.
pub fn profit_factor(profits: &[Decimal]) -> Option<Decimal> {
    let wins: Decimal = profits.iter().filter(|p| p.is_sign_positive() && !p.is_zero()).sum();
    let losses: Decimal = profits.iter().filter(|p| p.is_sign_negative() && !p.is_zero()).sum();
    if losses.is_zero() {
        return None;
    }
    wins.checked_div(-losses).map(|d| d.normalize())
}

/// Daily returns from the starting equity and each day's last equity.
pub fn daily_returns(start: Decimal, daily: &[Decimal]) -> Vec<Decimal> {
    let mut prev = start;
    let mut out = Vec::with_capacity(daily.len());
    for &e in daily {
        if prev > Decimal::ZERO
            && let Some(r) = e.checked_div(prev)
        {
            out.push(r - Decimal::ONE);
        }
        prev = e;
    }
    out
}

fn mean(r: &[Decimal]) -> Option<Decimal> {
    let sum: Decimal = r.iter().copied().sum();
    sum.checked_div(Decimal::from(r.len()))
}

fn ratio_f64(mean: Decimal, deviation_squared: Decimal, days_per_year: u32) -> Option<Decimal> {
    let sd = deviation_squared.to_f64()?.sqrt();
    if sd == 0.0 || !sd.is_finite() {
        return None;
    }
    let v = mean.to_f64()? / sd * f64::from(days_per_year).sqrt();
    Decimal::from_f64(v).map(|d| d.round_dp(6).normalize())
}

/// Annualised Sharpe ratio of daily returns (sample standard deviation).
pub fn sharpe(r: &[Decimal], days_per_year: u32) -> Option<Decimal> {
    if r.len() < 2 {
        return None;
    }
    let m = mean(r)?;
    let ss: Decimal = r.iter().map(|x| (*x - m) * (*x - m)).sum();
    let var = ss.checked_div(Decimal::from(r.len() - 1))?;
    ratio_f64(m, var, days_per_year)
}

/// Annualised Sortino ratio of daily returns (downside deviation against 0 over all days).
pub fn sortino(r: &[Decimal], days_per_year: u32) -> Option<Decimal> {
    if r.len() < 2 {
        return None;
    }
    let m = mean(r)?;
    let down: Decimal = r.iter().filter(|x| x.is_sign_negative()).map(|x| *x * *x).sum();
    let dd2 = down.checked_div(Decimal::from(r.len()))?;
    ratio_f64(m, dd2, days_per_year)
}

/// `part / whole` as a fraction; 0 when `whole` is 0.
pub fn fraction(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        return Decimal::ZERO;
    }
    (Decimal::from(part) / Decimal::from(whole)).normalize()
}

/// Mean of decimals; 0 for none.
pub fn average(v: &[Decimal]) -> Decimal {
    mean(v).unwrap_or_default().normalize()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn roi_and_price_change() {
        // The reference's example: 245.67 on 1,000 → 24.567 %.
        assert_eq!(roi(dec!(245.67), dec!(1000)), dec!(24.567));
        assert_eq!(roi(dec!(5), dec!(0)), dec!(0));
        // 30,000 → 27,450: −8.5 %.
        assert_eq!(price_change(dec!(30000), dec!(27450)), dec!(-8.5));
    }

    #[test]
    fn profit_factor_is_wins_over_losses() {
        // Wins 10 + 5, losses −4 − 2: 15 / 6 = 2.5.
        assert_eq!(profit_factor(&[dec!(10), dec!(-4), dec!(5), dec!(-2), dec!(0)]), Some(dec!(2.5)));
        assert_eq!(profit_factor(&[dec!(1)]), None);
        assert_eq!(profit_factor(&[dec!(-1)]), Some(dec!(0)));
    }

    #[test]
    fn daily_returns_chain_from_the_start() {
        let r = daily_returns(dec!(100), &[dec!(110), dec!(99), dec!(99)]);
        assert_eq!(r, vec![dec!(0.1), dec!(-0.1), dec!(0)]);
    }

    #[test]
    fn sharpe_hand_worked() {
        // r = 0.01, −0.01, 0.02, 0.00: mean 0.005; deviations 0.005, −0.015, 0.015, −0.005;
        // squares sum 0.000025 + 0.000225 + 0.000225 + 0.000025 = 0.0005; /3 = 0.000166667;
        // sd = 0.0129099; mean/sd = 0.3872983; × √365 (19.1049732) = 7.399324.
        let r = [dec!(0.01), dec!(-0.01), dec!(0.02), dec!(0)];
        assert_eq!(sharpe(&r, 365), Some(dec!(7.399324)));
        // × √252 (15.8745079) = 6.148170.
        assert_eq!(sharpe(&r, 252), Some(dec!(6.14817)));
        assert_eq!(sharpe(&[dec!(0.01)], 365), None);
        assert_eq!(sharpe(&[dec!(0.01), dec!(0.01)], 365), None, "no deviation");
    }

    #[test]
    fn sortino_hand_worked() {
        // Same returns: downside squares 0.0001 (only −0.01); / 4 = 0.000025; dd = 0.005;
        // mean/dd = 1; × √365 = 19.104973.
        let r = [dec!(0.01), dec!(-0.01), dec!(0.02), dec!(0)];
        assert_eq!(sortino(&r, 365), Some(dec!(19.104973)));
        assert_eq!(sortino(&[dec!(0.01), dec!(0.02)], 365), None, "no down day");
    }

    #[test]
    fn fractions_and_averages() {
        assert_eq!(fraction(53, 78).round_dp(2), dec!(0.68));
        assert_eq!(fraction(1, 0), dec!(0));
        assert_eq!(average(&[dec!(1), dec!(2), dec!(6)]), dec!(3));
        assert_eq!(average(&[]), dec!(0));
    }
}
