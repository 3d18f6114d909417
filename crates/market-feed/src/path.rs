//! The price path of one market: its candle file read as written, walked the backtest's way.
//!
//! Pure code, no I/O beyond reading the text it is given.
//!
//! ```text
//! file:    c0 c1 ... cN-1                      (timestamp_ms,open,high,low,close,volume)
//! laps:    c0 c1 ... cN-1 | r(cN-1) ... r(c0) | c0 c1 ...     r(c) = c with open and close swapped
//! quotes:  each candle walked open → high → low → close: four points
//! ```
//!
//! The reversed lap starts where the forward lap ended (`r(cN-1).open` = `cN-1.close`) and
//! ends where the next forward lap starts, so the price never jumps at a seam (the same
//! ping-pong the backtest benchmark uses to lengthen a series).

use rust_decimal::Decimal;

/// Points walked per candle: open, high, low, close.
pub const POINTS_PER_CANDLE: u64 = 4;

/// The header every candle file starts with.
const HEADER: &str = "timestamp_ms,open,high,low,close,volume";

/// Why a candle file cannot be replayed; the message names the line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    /// The first line is not the expected header.
    #[error("the first line must be the header {HEADER}")]
    Header,
    /// A line is not six comma-separated fields.
    #[error("line {line}: expected 6 fields")]
    Fields {
        /// 1-based line number.
        line: usize,
    },
    /// A price is not an exact decimal.
    #[error("line {line}: {field} is not a decimal")]
    NotDecimal {
        /// 1-based line number.
        line: usize,
        /// `open`, `high`, `low` or `close`.
        field: &'static str,
    },
    /// A price is zero or negative: no positive quote could be made of it.
    #[error("line {line}: {field} must be positive")]
    NotPositive {
        /// 1-based line number.
        line: usize,
        /// `open`, `high`, `low` or `close`.
        field: &'static str,
    },
    /// The file holds no candle.
    #[error("the file has no candles")]
    Empty,
}

/// One candle's prices (the time and volume are not needed: quotes carry the wall clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candle {
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
}

/// A market's candles and its tick size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricePath {
    candles: Vec<Candle>,
    tick: Decimal,
}

impl PricePath {
    /// Reads a candle file's text (`timestamp_ms,open,high,low,close,volume`, prices as
    /// written). The tick size is one unit of the finest price decimal in the file (`0.01`
    /// when some price has two decimals): the files carry exchange prices, which sit on the
    /// exchange's tick grid, so the finest written digit is the best estimate of it.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim() == HEADER => {}
            _ => return Err(PathError::Header),
        }
        let mut candles = Vec::new();
        let mut scale = 0;
        for (index, text) in lines {
            let line = index + 1;
            if text.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = text.trim().split(',').collect();
            let [_time, open, high, low, close, _volume] = fields[..] else {
                return Err(PathError::Fields { line });
            };
            let mut price = |field: &'static str, text: &str| {
                let value = Decimal::from_str_exact(text).map_err(|_| PathError::NotDecimal { line, field })?;
                if value <= Decimal::ZERO {
                    return Err(PathError::NotPositive { line, field });
                }
                scale = scale.max(value.scale());
                Ok(value)
            };
            candles.push(Candle {
                open: price("open", open)?,
                high: price("high", high)?,
                low: price("low", low)?,
                close: price("close", close)?,
            });
        }
        if candles.is_empty() {
            return Err(PathError::Empty);
        }
        Ok(Self { candles, tick: Decimal::new(1, scale) })
    }

    /// The tick size.
    pub fn tick(&self) -> Decimal {
        self.tick
    }

    /// How many candles the file holds.
    pub fn candles(&self) -> usize {
        self.candles.len()
    }

    /// The price at `step`, counting every walked point from the first candle's open: step
    /// `4k + i` is point `i` (open, high, low, close) of the `k`-th candle of the ping-pong.
    pub fn price(&self, step: u64) -> Decimal {
        let period = self.candles.len() as u64;
        let index = step / POINTS_PER_CANDLE;
        let (lap, offset) = (index / period, index % period);
        // `offset` < the number of candles, which is a usize.
        let offset = usize::try_from(offset).unwrap_or_default();
        let candle = if lap.is_multiple_of(2) {
            self.candles[offset]
        } else {
            let candle = self.candles[self.candles.len() - 1 - offset];
            Candle { open: candle.close, close: candle.open, ..candle }
        };
        match step % POINTS_PER_CANDLE {
            0 => candle.open,
            1 => candle.high,
            2 => candle.low,
            _ => candle.close,
        }
    }

    /// Bid and ask around `price`: `half_spread_ticks` ticks below and above. A bid that
    /// would not be positive (a price within a few ticks of zero) is the price itself.
    pub fn bid_ask(&self, price: Decimal, half_spread_ticks: u32) -> (Decimal, Decimal) {
        let half_spread = self.tick * Decimal::from(half_spread_ticks);
        let bid = price - half_spread;
        (if bid > Decimal::ZERO { bid } else { price }, price + half_spread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    const TWO: &str = "timestamp_ms,open,high,low,close,volume\n0,1,3,0.5,2,10\n60000,2,4.25,1.5,3,20\n";

    fn walk(path: &PricePath, steps: u64) -> Vec<Decimal> {
        (0..steps).map(|step| path.price(step)).collect()
    }

    #[test]
    fn each_candle_is_walked_open_high_low_close_then_ping_pong() {
        let path = PricePath::parse(TWO).unwrap();
        assert_eq!(path.candles(), 2);
        assert_eq!(
            walk(&path, 20),
            [
                // forward
                dec!(1),
                dec!(3),
                dec!(0.5),
                dec!(2),
                dec!(2),
                dec!(4.25),
                dec!(1.5),
                dec!(3),
                // reversed, open and close swapped: starts where the forward lap ended
                dec!(3),
                dec!(4.25),
                dec!(1.5),
                dec!(2),
                dec!(2),
                dec!(3),
                dec!(0.5),
                dec!(1),
                // forward again from where the reversed lap ended
                dec!(1),
                dec!(3),
                dec!(0.5),
                dec!(2),
            ]
        );
    }

    #[test]
    fn the_tick_is_the_finest_written_decimal() {
        assert_eq!(PricePath::parse(TWO).unwrap().tick(), dec!(0.01));
        let whole = "timestamp_ms,open,high,low,close,volume\n0,30020,30021,30019,30020,1.12345\n";
        assert_eq!(PricePath::parse(whole).unwrap().tick(), dec!(1), "the volume does not count");
    }

    #[test]
    fn bid_and_ask_sit_around_the_price() {
        let path = PricePath::parse(TWO).unwrap();
        assert_eq!(path.bid_ask(dec!(30015.32), 1), (dec!(30015.31), dec!(30015.33)));
        assert_eq!(path.bid_ask(dec!(2), 0), (dec!(2), dec!(2)));
        assert_eq!(path.bid_ask(dec!(0.01), 1), (dec!(0.01), dec!(0.02)), "the bid stays positive");
    }

    #[test]
    fn a_bad_file_names_the_line() {
        let cases = [
            ("open,high\n", PathError::Header),
            ("timestamp_ms,open,high,low,close,volume\n", PathError::Empty),
            ("timestamp_ms,open,high,low,close,volume\n0,1,2,3\n", PathError::Fields { line: 2 }),
            (
                "timestamp_ms,open,high,low,close,volume\n0,1,2,1,1,1\n0,1,x,1,1,1\n",
                PathError::NotDecimal { line: 3, field: "high" },
            ),
            (
                "timestamp_ms,open,high,low,close,volume\n0,1,2,0,1,1\n",
                PathError::NotPositive { line: 2, field: "low" },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(PricePath::parse(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn the_walk_keeps_going_far_past_the_file() {
        let path = PricePath::parse(TWO).unwrap();
        let far = u64::MAX - 3;
        assert!([dec!(1), dec!(2), dec!(3)].contains(&path.price(far)));
    }
}
