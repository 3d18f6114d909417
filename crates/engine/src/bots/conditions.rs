//! Start and stop conditions: Instant / Manual, Price above or below a value, RSI(14) above
//! or below a value, evaluated at each candle close (live: each quote, the RSI being fed the
//! closes of bars of the bot's interval).
//!
//! "Above" means at or above, "below" at or below. A price value is compared exactly: the
//! close in ticks against the value's ceiling (above) or floor (below) in ticks. RSI is
//! Wilder's: the first average gain / loss is the mean of the first 14 changes, then
//! `avg = (avg·13 + x) / 14`; `RSI = 100 − 100 / (1 + gain/loss)`, 100 when there was no
//! loss (50 when there was no change at all). It needs 15 closes; until then an RSI
//! condition is not met. The RSI is computed in `Decimal` (it is only updated when a
//! condition uses it), so it is identical on every platform.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::price::{Price, Scales};
use crate::settings::{StartCondition, StopCondition, Threshold};

/// RSI period.
pub const RSI_PERIOD: u32 = 14;

/// Wilder's RSI over closes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Rsi {
    prev: Option<i64>,
    changes: u32,
    gain: Decimal,
    loss: Decimal,
    value: Option<Decimal>,
}

impl Rsi {
    pub fn update(&mut self, close: Price) {
        let Some(prev) = self.prev.replace(close.0) else { return };
        let d = Decimal::from(close.0 - prev);
        let (g, l) = if d.is_sign_positive() { (d, Decimal::ZERO) } else { (Decimal::ZERO, -d) };
        let n = Decimal::from(RSI_PERIOD);
        self.changes += 1;
        if self.changes <= RSI_PERIOD {
            self.gain += g;
            self.loss += l;
            if self.changes < RSI_PERIOD {
                return;
            }
            self.gain /= n;
            self.loss /= n;
        } else {
            let keep = n - Decimal::ONE;
            self.gain = (self.gain * keep + g) / n;
            self.loss = (self.loss * keep + l) / n;
        }
        self.value = Some(if self.loss.is_zero() {
            if self.gain.is_zero() { Decimal::from(50) } else { Decimal::ONE_HUNDRED }
        } else {
            Decimal::ONE_HUNDRED - Decimal::ONE_HUNDRED / (Decimal::ONE + self.gain / self.loss)
        });
    }

    pub fn value(&self) -> Option<Decimal> {
        self.value
    }
}

/// One Price or RSI threshold test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Test {
    Never,
    Always,
    /// Close ≥ ticks.
    PriceAtLeast(i64),
    /// Close ≤ ticks.
    PriceAtMost(i64),
    RsiAtLeast(Decimal),
    RsiAtMost(Decimal),
}

impl Test {
    fn price(value: Decimal, t: Threshold, s: &Scales) -> Self {
        let ticks = value.checked_mul(Decimal::from(10i64.pow(s.pd))).unwrap_or(Decimal::MAX);
        let clamp = |d: Decimal| i64::try_from(d).unwrap_or(if d.is_sign_negative() { i64::MIN } else { i64::MAX });
        match t {
            Threshold::Above => Self::PriceAtLeast(clamp(ticks.ceil())),
            Threshold::Below => Self::PriceAtMost(clamp(ticks.floor())),
        }
    }

    fn rsi(value: Decimal, t: Threshold) -> Self {
        match t {
            Threshold::Above => Self::RsiAtLeast(value),
            Threshold::Below => Self::RsiAtMost(value),
        }
    }

    fn met(&self, close: Price, rsi: Option<Decimal>) -> bool {
        match *self {
            Self::Never => false,
            Self::Always => true,
            Self::PriceAtLeast(t) => close.0 >= t,
            Self::PriceAtMost(t) => close.0 <= t,
            Self::RsiAtLeast(v) => rsi.is_some_and(|r| r >= v),
            Self::RsiAtMost(v) => rsi.is_some_and(|r| r <= v),
        }
    }
}

/// A bot's start and stop conditions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Conditions {
    start: Test,
    stop: Test,
    rsi: Option<Rsi>,
}

/// The settings of one start and one stop condition.
pub(crate) struct ConditionSettings {
    pub start: (StartCondition, Threshold, Decimal),
    pub stop: (StopCondition, Threshold, Decimal),
}

impl Conditions {
    pub fn new(c: &ConditionSettings, s: &Scales) -> Self {
        let (sc, st, sv) = c.start;
        let start = match sc {
            StartCondition::Instant => Test::Always,
            StartCondition::Price => Test::price(sv, st, s),
            StartCondition::Rsi => Test::rsi(sv, st),
        };
        let (pc, pt, pv) = c.stop;
        let stop = match pc {
            StopCondition::Manual => Test::Never,
            StopCondition::Price => Test::price(pv, pt, s),
            StopCondition::Rsi => Test::rsi(pv, pt),
        };
        let uses_rsi = matches!(start, Test::RsiAtLeast(_) | Test::RsiAtMost(_))
            || matches!(stop, Test::RsiAtLeast(_) | Test::RsiAtMost(_));
        Self { start, stop, rsi: uses_rsi.then(Rsi::default) }
    }

    /// Feeds a close (call once per close, before testing).
    #[inline]
    pub fn update(&mut self, close: Price) {
        if let Some(r) = &mut self.rsi {
            r.update(close);
        }
    }

    /// Keeps an RSI whatever the conditions (live runs), so an edit to an RSI condition
    /// finds a value at once.
    pub fn track_rsi(&mut self) {
        self.rsi.get_or_insert_with(Rsi::default);
    }

    /// Conditions from new settings, keeping this one's RSI state.
    pub fn rebuilt(self, c: &ConditionSettings, s: &Scales) -> Self {
        let mut next = Self::new(c, s);
        if let Some(rsi) = self.rsi {
            next.rsi = Some(rsi);
        }
        next
    }

    pub fn start_met(&self, close: Price) -> bool {
        self.start.met(close, self.rsi.as_ref().and_then(Rsi::value))
    }

    #[inline]
    pub fn stop_met(&self, close: Price) -> bool {
        self.stop != Test::Never && self.stop.met(close, self.rsi.as_ref().and_then(Rsi::value))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use rust_decimal::dec;

    fn rsi_of(closes: &[i64]) -> Option<Decimal> {
        let mut r = Rsi::default();
        for &c in closes {
            r.update(Price(c));
        }
        r.value()
    }

    #[test]
    fn rsi_needs_fifteen_closes() {
        assert_eq!(rsi_of(&[1; 14]), None);
        assert_eq!(rsi_of(&[1; 15]), Some(dec!(50)));
        let up: Vec<i64> = (1..=15).collect();
        assert_eq!(rsi_of(&up), Some(dec!(100)));
    }

    #[test]
    fn rsi_hand_worked() {
        // 14 changes: seven +2 and seven −1 → avg gain 1, avg loss 0.5 → RS 2 → RSI 66.67.
        let mut closes = vec![100];
        for i in 0..14 {
            let last = *closes.last().unwrap();
            closes.push(if i % 2 == 0 { last + 2 } else { last - 1 });
        }
        let v = rsi_of(&closes).unwrap();
        assert_eq!(v.round_dp(4), dec!(66.6667));
        // One more change of −3: gain (1·13 + 0)/14 = 13/14, loss (0.5·13 + 3)/14 = 9.5/14,
        // RS = 13/9.5 → RSI = 100 − 100/(1 + 1.368421) = 57.7778.
        closes.push(closes.last().unwrap() - 3);
        assert_eq!(rsi_of(&closes).unwrap().round_dp(4), dec!(57.7778));
    }

    #[test]
    fn price_thresholds_are_inclusive_and_exact() {
        let s = Scales::new(2, 5, 3);
        let c = ConditionSettings {
            start: (StartCondition::Price, Threshold::Below, dec!(100.005)),
            stop: (StopCondition::Price, Threshold::Above, dec!(200.001)),
        };
        let k = Conditions::new(&c, &s);
        assert!(k.start_met(Price(10000)));
        assert!(!k.start_met(Price(10001)), "100.01 is above 100.005");
        assert!(k.stop_met(Price(20001)));
        assert!(!k.stop_met(Price(20000)));
    }

    #[test]
    fn instant_and_manual() {
        let s = Scales::new(2, 5, 3);
        let c = ConditionSettings {
            start: (StartCondition::Instant, Threshold::Above, dec!(0)),
            stop: (StopCondition::Manual, Threshold::Above, dec!(0)),
        };
        let k = Conditions::new(&c, &s);
        assert!(k.start_met(Price(1)));
        assert!(!k.stop_met(Price(i64::MAX)));
    }

    #[test]
    fn rsi_conditions_wait_for_a_value() {
        let s = Scales::new(2, 5, 3);
        let c = ConditionSettings {
            start: (StartCondition::Rsi, Threshold::Below, dec!(30)),
            stop: (StopCondition::Rsi, Threshold::Above, dec!(70)),
        };
        let mut k = Conditions::new(&c, &s);
        for p in (1..=14).rev() {
            k.update(Price(p * 10));
            assert!(!k.start_met(Price(p)));
        }
        k.update(Price(5));
        assert!(k.start_met(Price(5)), "15 falling closes: RSI 0");
        assert!(!k.stop_met(Price(5)));
    }
}
