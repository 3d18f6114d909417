//! Mark-to-market equity sampled at every candle close, in bounded memory.
//!
//! Three things are kept, none of which grows with the number of candles:
//! - exact running statistics: peak, max drawdown in quote and in % of the peak, highest and
//!   lowest profit (`equity − starting equity`, the start counting as a sample of 0);
//! - the equity at the last close of each UTC day, O(days), for daily returns (a close at
//!   exactly 00:00 ends the day before: it is the last minute's candle closing); times are ms;
//! - a curve of at most `cap` points: one sample every `stride` closes; when the curve is full
//!   every other point is dropped and `stride` doubles, so it always spans the whole run evenly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::price::dec_from_i128;

/// A day in ms: sample times are ms.
const DAY: i64 = 86_400_000;

/// One point of the equity curve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EquityPoint {
    /// Close time, unix seconds.
    pub time: i64,
    /// Mark-to-market equity, quote.
    pub equity: Decimal,
    /// Drawdown from the running peak, quote (≥ 0).
    pub drawdown: Decimal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RawPoint {
    time: i64,
    equity: i128,
    drawdown: i128,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EquityTracker {
    scale: u32,
    pub start: i128,
    pub last: i128,
    peak: i128,
    pub max_dd: i128,
    /// (drawdown, peak) of the deepest drawdown relative to its peak.
    max_dd_rel: (i128, i128),
    pub max_profit: i128,
    pub min_profit: i128,
    /// Last ms that belongs to the current day.
    day_end: i64,
    day_last: Option<i128>,
    daily: Vec<i128>,
    curve: Vec<RawPoint>,
    cap: usize,
    stride: u64,
    countdown: u64,
    last_time: i64,
    last_dd: i128,
}

/// Exact statistics of the series, in money units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EquityStats {
    pub start: i128,
    pub last: i128,
    pub max_drawdown: i128,
    /// Deepest drawdown / its peak × 100.
    pub max_drawdown_pct: Decimal,
    pub max_profit: i128,
    pub min_profit: i128,
    /// Equity at the last close of each day, in order.
    pub daily: Vec<i128>,
}

impl EquityTracker {
    /// `scale`: decimals of the money units; `cap`: most curve points kept (at least 2).
    pub fn new(scale: u32, cap: usize, start: i128) -> Self {
        Self {
            scale,
            start,
            last: start,
            peak: start,
            max_dd: 0,
            max_dd_rel: (0, 1),
            max_profit: 0,
            min_profit: 0,
            day_end: i64::MIN,
            day_last: None,
            daily: Vec::new(),
            curve: Vec::new(),
            cap: cap.max(2),
            stride: 1,
            countdown: 1,
            last_time: 0,
            last_dd: 0,
        }
    }

    /// Records the equity at a close at `time` (ms).
    #[inline]
    pub fn sample(&mut self, time: i64, e: i128) {
        self.last = e;
        self.last_time = time;
        let dd = if e >= self.peak {
            self.peak = e;
            0
        } else {
            let dd = self.peak - e;
            if dd > self.max_dd {
                self.max_dd = dd;
            }
            if self.peak > 0 {
                self.widen_relative(dd);
            }
            dd
        };
        self.last_dd = dd;
        let profit = e - self.start;
        self.max_profit = self.max_profit.max(profit);
        self.min_profit = self.min_profit.min(profit);
        if time > self.day_end {
            if let Some(last) = self.day_last {
                self.daily.push(last);
            }
            self.day_end = ((time - 1).div_euclid(DAY) + 1) * DAY;
        }
        self.day_last = Some(e);
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = self.stride;
            self.curve.push(RawPoint { time, equity: e, drawdown: dd });
            if self.curve.len() >= self.cap {
                let mut i = 0;
                self.curve.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
                self.countdown = self.stride;
            }
        }
    }

    fn widen_relative(&mut self, dd: i128) {
        let (bd, bp) = self.max_dd_rel;
        let deeper = match (dd.checked_mul(bp), bd.checked_mul(self.peak)) {
            (Some(a), Some(b)) => a > b,
            _ => ratio(dd, self.peak) > ratio(bd, bp),
        };
        if deeper {
            self.max_dd_rel = (dd, self.peak);
        }
    }

    pub fn stats(&self) -> EquityStats {
        let mut daily = self.daily.clone();
        if let Some(last) = self.day_last {
            daily.push(last);
        }
        let (dd, peak) = self.max_dd_rel;
        EquityStats {
            start: self.start,
            last: self.last,
            max_drawdown: self.max_dd,
            max_drawdown_pct: ratio(dd, peak) * Decimal::ONE_HUNDRED,
            max_profit: self.max_profit,
            min_profit: self.min_profit,
            daily,
        }
    }

    /// The curve, ending with the last sample.
    pub fn curve(&self) -> Vec<EquityPoint> {
        let mut pts = self.curve.clone();
        if self.curve.last().is_none_or(|p| p.time != self.last_time) && self.day_last.is_some() {
            pts.push(RawPoint { time: self.last_time, equity: self.last, drawdown: self.last_dd });
        }
        pts.into_iter()
            .map(|p| EquityPoint {
                time: crate::log::secs(p.time),
                equity: dec_from_i128(p.equity, self.scale),
                drawdown: dec_from_i128(p.drawdown, self.scale),
            })
            .collect()
    }
}

/// `a / b` as a decimal (`0` when `b` is 0).
fn ratio(a: i128, b: i128) -> Decimal {
    dec_from_i128(a, 0).checked_div(dec_from_i128(b, 0)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn drawdown_and_profit_extremes() {
        // Start 100; closes 110, 99, 120, 90, 95.
        let mut t = EquityTracker::new(0, 100, 100);
        for (i, e) in [110, 99, 120, 90, 95].into_iter().enumerate() {
            t.sample(60 * (i as i64 + 1), e);
        }
        let s = t.stats();
        // Peak 120 → 90: drawdown 30 = 25 % of the peak (110 → 99 was 10 %).
        assert_eq!(s.max_drawdown, 30);
        assert_eq!(s.max_drawdown_pct, dec!(25));
        assert_eq!((s.max_profit, s.min_profit), (20, -10));
        assert_eq!(s.daily, vec![95]);
    }

    #[test]
    fn relative_drawdown_can_come_from_a_smaller_peak() {
        // 100 → 50 (50 %), then 1000 → 600 (40 %, but 400 quote).
        let mut t = EquityTracker::new(0, 100, 100);
        for (i, e) in [50, 1000, 600].into_iter().enumerate() {
            t.sample(i as i64, e);
        }
        let s = t.stats();
        assert_eq!(s.max_drawdown, 400);
        assert_eq!(s.max_drawdown_pct, dec!(50));
    }

    #[test]
    fn daily_closes_split_at_midnight() {
        let mut t = EquityTracker::new(0, 100, 100);
        t.sample(DAY - 60_000, 101);
        t.sample(DAY, 102); // the 23:59 candle closing at 00:00 ends day 0
        t.sample(DAY + 1, 103); // a quote 1 ms after midnight starts day 1
        t.sample(2 * DAY + 600_000, 104);
        assert_eq!(t.stats().daily, vec![102, 103, 104]);
    }

    #[test]
    fn curve_stays_bounded_and_spans_the_run() {
        let mut t = EquityTracker::new(0, 10, 0);
        for i in 1..=1000 {
            t.sample(i * 1000, i128::from(i));
        }
        let c = t.curve();
        assert!(c.len() <= 11, "{}", c.len());
        assert_eq!(c.first().unwrap().time, 1);
        assert_eq!(c.last().unwrap().time, 1000);
        assert!(c.windows(2).all(|w| w[0].time < w[1].time));
    }
}
