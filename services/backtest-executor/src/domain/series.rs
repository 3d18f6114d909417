//! Candles in columns of fixed-point integers: how an import holds them, how a chunk stores
//! them (`store::chunk`), and how a run turns them into the engine's candles. No I/O.
//!
//! A price column holds mantissas at one scale (`value = mantissa / 10^scale`), so every value
//! stays exactly as imported; the four prices of a series share a scale, the volume has its
//! own. Turning a price into the engine's ticks rounds half away from zero, as the engine
//! rounds a decimal price.

use engine::Candle;
use rust_decimal::Decimal;
use std::fmt;
use std::ops::Range;

/// The largest scale a column may have: 18 digits always fit an `i64` mantissa.
pub const MAX_SCALE: u32 = 18;

/// A decimal as an integer mantissa and a scale: `mantissa / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed {
    /// The digits.
    pub mantissa: i64,
    /// Digits after the point.
    pub scale: u32,
}

impl Fixed {
    /// Parses a plain decimal (`-12.345`, `7`, `+0.5`): at most 18 digits, no exponent.
    pub fn parse(text: &str) -> Option<Fixed> {
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        let negative = text.starts_with('-');
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
            Some(_) => return None,
            None => (digits, ""),
        };
        if whole.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let significant = whole.trim_start_matches('0').len() + fraction.len();
        let scale = u32::try_from(fraction.len()).ok().filter(|scale| *scale <= MAX_SCALE)?;
        if significant > 18 {
            return None;
        }
        let mut mantissa: i64 = 0;
        for byte in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa * 10 + i64::from(byte - b'0');
        }
        Some(Fixed { mantissa: if negative { -mantissa } else { mantissa }, scale })
    }

    /// The same value at a scale at least as large as its own (`None` on overflow).
    pub fn at_scale(self, scale: u32) -> Option<i64> {
        let factor = 10i64.checked_pow(scale.checked_sub(self.scale)?)?;
        self.mantissa.checked_mul(factor)
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

/// A value does not fit its column at the column's scale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the value has too many digits for its column (at most 18 in all)")]
pub struct Overflow;

/// Candles in time order, one column per field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    /// Open times, unix seconds, strictly increasing.
    pub open_time: Vec<i64>,
    /// Opens at `price_scale`.
    pub open: Vec<i64>,
    /// Highs at `price_scale`.
    pub high: Vec<i64>,
    /// Lows at `price_scale`.
    pub low: Vec<i64>,
    /// Closes at `price_scale`.
    pub close: Vec<i64>,
    /// Volumes at `volume_scale`.
    pub volume: Vec<i64>,
    /// The scale of the four price columns.
    pub price_scale: u32,
    /// The scale of the volume column.
    pub volume_scale: u32,
}

/// Multiplies every mantissa of `columns` by `10^by`.
fn raise(columns: &mut [&mut Vec<i64>], by: u32) -> Result<(), Overflow> {
    if by == 0 {
        return Ok(());
    }
    let factor = 10i64.checked_pow(by).ok_or(Overflow)?;
    // Checked first, so a refused raise leaves every column as it was.
    let fits = columns.iter().all(|column| column.iter().all(|value| value.checked_mul(factor).is_some()));
    if !fits {
        return Err(Overflow);
    }
    for column in columns {
        column.iter_mut().for_each(|value| *value *= factor);
    }
    Ok(())
}

/// The smallest scale at which every mantissa of `columns` (at `scale`) stays whole, and the
/// divisor that takes them there.
fn least_scale(columns: &[&Vec<i64>], scale: u32) -> (u32, i64) {
    let mut least = scale;
    let mut divisor = 1i64;
    while least > 0 {
        let Some(next) = divisor.checked_mul(10) else { break };
        if !columns.iter().all(|column| column.iter().all(|value| value % next == 0)) {
            break;
        }
        divisor = next;
        least -= 1;
    }
    (least, divisor)
}

/// How a price column's mantissas become ticks: worked out once per column, applied per value.
#[derive(Clone, Copy, Debug)]
enum Rescale {
    /// The column's scale is the tick's.
    Same,
    /// Fewer decimals than the tick: multiply.
    Up(i64),
    /// More decimals: divide, rounding half away from zero.
    Down(i64),
}

impl Rescale {
    fn new(scale: u32, decimals: u32) -> Option<Self> {
        Some(match scale.cmp(&decimals) {
            std::cmp::Ordering::Equal => Rescale::Same,
            std::cmp::Ordering::Less => Rescale::Up(10i64.checked_pow(decimals - scale)?),
            std::cmp::Ordering::Greater => Rescale::Down(10i64.checked_pow(scale - decimals)?),
        })
    }

    #[inline]
    fn apply(self, value: i64) -> Option<i64> {
        match self {
            Rescale::Same => Some(value),
            Rescale::Up(factor) => value.checked_mul(factor),
            Rescale::Down(divisor) => {
                let (quotient, remainder) = (value / divisor, value % divisor);
                let away = remainder.unsigned_abs() * 2 >= divisor.unsigned_abs();
                Some(if away { quotient + value.signum() } else { quotient })
            }
        }
    }
}

/// `value` (at `scale`) in ticks of `decimals`, rounded half away from zero.
pub fn ticks(value: i64, scale: u32, decimals: u32) -> Option<i64> {
    Rescale::new(scale, decimals)?.apply(value)
}

/// A stored candle the engine refuses: its open time and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCandle {
    /// The candle's open time.
    pub open_time: i64,
    /// Why.
    pub reason: String,
}

impl Series {
    /// An empty series with room for `capacity` candles.
    pub fn with_capacity(capacity: usize, price_scale: u32, volume_scale: u32) -> Self {
        let column = || Vec::with_capacity(capacity);
        Self {
            open_time: column(),
            open: column(),
            high: column(),
            low: column(),
            close: column(),
            volume: column(),
            price_scale,
            volume_scale,
        }
    }

    /// How many candles.
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    /// Raises the column scales to at least these (never lowers them).
    pub fn raise_scales(&mut self, price_scale: u32, volume_scale: u32) -> Result<(), Overflow> {
        if price_scale > self.price_scale {
            let by = price_scale - self.price_scale;
            raise(&mut [&mut self.open, &mut self.high, &mut self.low, &mut self.close], by)?;
            self.price_scale = price_scale;
        }
        if volume_scale > self.volume_scale {
            raise(&mut [&mut self.volume], volume_scale - self.volume_scale)?;
            self.volume_scale = volume_scale;
        }
        Ok(())
    }

    /// Appends a candle after the last one (the caller keeps the time order), raising the
    /// column scales when the values need more digits.
    pub fn push(
        &mut self,
        open_time: i64,
        [open, high, low, close]: [Fixed; 4],
        volume: Fixed,
    ) -> Result<(), Overflow> {
        let price_scale = [open, high, low, close].iter().map(|price| price.scale).max().unwrap_or(0);
        self.raise_scales(price_scale, volume.scale)?;
        let at = |value: Fixed, scale| value.at_scale(scale).ok_or(Overflow);
        let prices = [at(open, self.price_scale)?, at(high, self.price_scale)?, at(low, self.price_scale)?];
        let close = at(close, self.price_scale)?;
        let volume = at(volume, self.volume_scale)?;
        self.open_time.push(open_time);
        self.open.push(prices[0]);
        self.high.push(prices[1]);
        self.low.push(prices[2]);
        self.close.push(close);
        self.volume.push(volume);
        Ok(())
    }

    /// Appends `other[range]` (times after this series' last), at the larger of both scales.
    pub fn extend_from(&mut self, other: &Series, range: Range<usize>) -> Result<(), Overflow> {
        self.raise_scales(other.price_scale, other.volume_scale)?;
        let factor = |to: u32, from: u32| 10i64.checked_pow(to - from).ok_or(Overflow);
        let price_factor = factor(self.price_scale, other.price_scale)?;
        let volume_factor = factor(self.volume_scale, other.volume_scale)?;
        let scaled = |column: &[i64], factor: i64| -> Result<Vec<i64>, Overflow> {
            column[range.clone()].iter().map(|value| value.checked_mul(factor).ok_or(Overflow)).collect()
        };
        // Every column scaled before any grows, so a refusal leaves the columns as they were.
        let open = scaled(&other.open, price_factor)?;
        let high = scaled(&other.high, price_factor)?;
        let low = scaled(&other.low, price_factor)?;
        let close = scaled(&other.close, price_factor)?;
        let volume = scaled(&other.volume, volume_factor)?;
        self.open.extend(open);
        self.high.extend(high);
        self.low.extend(low);
        self.close.extend(close);
        self.volume.extend(volume);
        self.open_time.extend_from_slice(&other.open_time[range]);
        Ok(())
    }

    /// Lowers each scale to the least that keeps every value whole, so the same candles
    /// always have the same columns (a chunk's encoding depends on its candles only).
    pub fn canonicalize(&mut self) {
        let (price_scale, divisor) = least_scale(&[&self.open, &self.high, &self.low, &self.close], self.price_scale);
        for column in [&mut self.open, &mut self.high, &mut self.low, &mut self.close] {
            column.iter_mut().for_each(|value| *value /= divisor);
        }
        self.price_scale = price_scale;
        let (volume_scale, divisor) = least_scale(&[&self.volume], self.volume_scale);
        self.volume.iter_mut().for_each(|value| *value /= divisor);
        self.volume_scale = volume_scale;
    }

    /// The candles opening in `[start, end)`, as an index range (binary search).
    pub fn range(&self, start: i64, end: i64) -> Range<usize> {
        let first = self.open_time.partition_point(|time| *time < start);
        let last = self.open_time.partition_point(|time| *time < end);
        first..last.max(first)
    }

    /// Whether candle `index` has the same values as `other`'s candle `at` (scales aside).
    pub fn same_candle(&self, index: usize, other: &Series, at: usize) -> bool {
        let same = |a: i64, a_scale: u32, b: i64, b_scale: u32| {
            let scale = a_scale.max(b_scale);
            i128::from(a) * 10i128.pow(scale - a_scale) == i128::from(b) * 10i128.pow(scale - b_scale)
        };
        let (ps, ops) = (self.price_scale, other.price_scale);
        self.open_time[index] == other.open_time[at]
            && same(self.open[index], ps, other.open[at], ops)
            && same(self.high[index], ps, other.high[at], ops)
            && same(self.low[index], ps, other.low[at], ops)
            && same(self.close[index], ps, other.close[at], ops)
            && same(self.volume[index], self.volume_scale, other.volume[at], other.volume_scale)
    }

    /// Candle `index`'s volume.
    pub fn volume_at(&self, index: usize) -> Fixed {
        Fixed { mantissa: self.volume[index], scale: self.volume_scale }
    }

    /// Appends the candles `range` for the engine to `out`, prices in ticks of `price_decimals`.
    pub fn append_candles(
        &self,
        range: Range<usize>,
        price_decimals: u32,
        out: &mut Vec<Candle>,
    ) -> Result<(), BadCandle> {
        let rescale = Rescale::new(self.price_scale, price_decimals);
        out.reserve(range.len());
        for index in range {
            let open_time = self.open_time[index];
            let bad = |reason: String| BadCandle { open_time, reason };
            let tick = |value: i64| {
                rescale.and_then(|rescale| rescale.apply(value)).ok_or_else(|| bad("a price is out of range".into()))
            };
            let prices =
                [tick(self.open[index])?, tick(self.high[index])?, tick(self.low[index])?, tick(self.close[index])?];
            let volume = Decimal::new(self.volume[index], self.volume_scale);
            out.push(Candle::from_ticks(open_time, prices, volume).map_err(|error| bad(error.to_string()))?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use engine::MarketSpec;
    use std::str::FromStr;

    fn fixed(text: &str) -> Fixed {
        Fixed::parse(text).unwrap()
    }

    #[test]
    fn fixed_point_parses_exactly_and_prints_as_written() {
        for text in ["21.93033", "30020", "-0.05", "0", "0.000000000000000001", "999999999999999999"] {
            assert_eq!(fixed(text).to_string(), text);
        }
        assert_eq!(fixed("+1.50"), Fixed { mantissa: 150, scale: 2 });
        assert_eq!(fixed("007.5"), Fixed { mantissa: 75, scale: 1 });
        for bad in ["", "-", ".5", "5.", "1e5", "1.2.3", "12a", "1 2", "9999999999999999999", "0.0000000000000000001"] {
            assert_eq!(Fixed::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ticks_round_half_away_from_zero_as_the_engine_does() {
        let market = MarketSpec::sim_btc_usdt();
        for text in ["100.004", "100.005", "99.995", "100", "0.001", "0.005", "30015.325", "30015.3249999"] {
            let value = fixed(text);
            let decimal = Decimal::from_str(text).unwrap();
            let engine = Candle::from_decimals(&market, 0, [decimal; 4], Decimal::ONE).ok().map(|c| c.open.0);
            let ours = ticks(value.mantissa, value.scale, market.price_decimals).filter(|ticks| *ticks > 0);
            assert_eq!(ours, engine, "{text}");
        }
        assert_eq!(ticks(-15, 1, 0), Some(-2));
        assert_eq!(ticks(i64::MAX, 0, 2), None);
    }

    #[test]
    fn a_series_keeps_every_value_exact_across_scales() {
        let mut series = Series::default();
        series.push(60, [fixed("30000"), fixed("30001"), fixed("29999"), fixed("30000")], fixed("2")).unwrap();
        series.push(120, [fixed("30000.5"), fixed("30001.25"), fixed("29999"), fixed("30000")], fixed("1.5")).unwrap();
        assert_eq!((series.price_scale, series.volume_scale), (2, 1));
        assert_eq!(series.open, [3_000_000, 3_000_050]);
        assert_eq!(series.volume_at(0).to_string(), "2.0");
        let mut other = series.clone();
        other.canonicalize();
        assert_eq!(other, series, "already the least scales");
        let mut raised = series.clone();
        raised.raise_scales(6, 4).unwrap();
        assert!(raised.same_candle(1, &series, 1) && !raised.same_candle(0, &series, 1));
        raised.canonicalize();
        assert_eq!(raised, series);
        assert_eq!(series.range(60, 120), 0..1);
        assert_eq!(series.range(61, 1_000), 1..2);
        assert_eq!(series.range(500, 100), 2..2);
        let mut candles = Vec::new();
        series.append_candles(1..2, 2, &mut candles).unwrap();
        let candle = &candles[0];
        assert_eq!((candle.open.0, candle.high.0, candle.volume.to_string()), (3_000_050, 3_000_125, "1.5".into()));
        let mut huge = series.clone();
        assert_eq!(huge.raise_scales(18, 0), Err(Overflow));
    }
}
