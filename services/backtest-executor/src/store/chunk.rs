//! The body of a candle chunk: one period of one market and timeframe, its columns encoded
//! one after the other. Pure code (no diesel): the rows are in [`super::candles`].
//!
//! ```text
//!  period  = [period_start, period_start + timeframe × 10,000): one row of `candle_chunks`
//!  format 1 (written by imports), every number an LEB128 varint, signed ones zigzagged:
//!    open_time  first − period_start, then the step from the previous candle
//!    open       first, then the change from the previous open
//!    close      − this candle's open
//!    high       − max(open, close)
//!    low        − min(open, close)
//!    volume     as is
//!  format 0 (written only by the migration that moved the per-candle rows): the six columns
//!    as big-endian int8 arrays, 48 bytes a candle
//! ```
//!
//! Neighbouring candles differ by little, so a 1-minute candle takes about 11 bytes instead
//! of 48, and decoding is a pass of additions. Every sum wraps, so any `i64` round-trips.

use crate::domain::series::Series;

/// Candle slots in one chunk's period: 10,000 × the timeframe (about a week of 1-minute
/// candles, a year of hours).
pub const SLOTS: i64 = 10_000;

/// The chunk formats.
pub const FORMAT_RAW: i16 = 0;
/// Delta-encoded varints (see the module's table).
pub const FORMAT_DELTA: i16 = 1;

/// The length of a chunk's period, in seconds.
pub fn period_secs(timeframe_secs: i32) -> i64 {
    i64::from(timeframe_secs.max(1)) * SLOTS
}

/// The start of the period holding `open_time`.
pub fn period_start(open_time: i64, timeframe_secs: i32) -> i64 {
    open_time - open_time.rem_euclid(period_secs(timeframe_secs))
}

/// A chunk body does not decode: the row is corrupt or of an unknown format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The format number is not one this build reads.
    #[error("unknown candle chunk format {0}")]
    Format(i16),
    /// A scale outside 0–18, or a negative count.
    #[error("candle chunk header out of range")]
    Header,
    /// The body ends before its last number.
    #[error("candle chunk body is truncated")]
    Truncated,
    /// Bytes after the last number, or a number longer than 64 bits.
    #[error("candle chunk body is malformed")]
    Malformed,
}

/// What the row says about its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The period's first slot.
    pub period_start: i64,
    /// Candles in the body.
    pub candles: i32,
    /// [`FORMAT_RAW`] or [`FORMAT_DELTA`].
    pub format: i16,
    /// Scale of the price columns.
    pub price_scale: i16,
    /// Scale of the volume column.
    pub volume_scale: i16,
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Encodes `series` (one period's candles, in time order) in [`FORMAT_DELTA`].
pub fn encode(series: &Series, period_start: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(series.len() * 12);
    let mut previous = period_start;
    for time in &series.open_time {
        // The first candle counts from the period's start, the others from their predecessor.
        put(&mut out, time.wrapping_sub(previous) as u64);
        previous = *time;
    }
    let mut previous = 0i64;
    for open in &series.open {
        put(&mut out, zigzag(open.wrapping_sub(previous)));
        previous = *open;
    }
    for (close, open) in series.close.iter().zip(&series.open) {
        put(&mut out, zigzag(close.wrapping_sub(*open)));
    }
    for ((high, open), close) in series.high.iter().zip(&series.open).zip(&series.close) {
        put(&mut out, zigzag(high.wrapping_sub(*open.max(close))));
    }
    for ((low, open), close) in series.low.iter().zip(&series.open).zip(&series.close) {
        put(&mut out, zigzag(low.wrapping_sub(*open.min(close))));
    }
    for volume in &series.volume {
        put(&mut out, zigzag(*volume));
    }
    out
}

/// Reads varints off a body.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    #[inline]
    fn next(&mut self) -> Result<u64, CodecError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = *self.bytes.get(self.at).ok_or(CodecError::Truncated)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(CodecError::Malformed);
            }
        }
    }

    fn column(&mut self, count: usize, mut value: impl FnMut(usize, u64) -> i64) -> Result<Vec<i64>, CodecError> {
        let mut column = Vec::with_capacity(count);
        for index in 0..count {
            column.push(value(index, self.next()?));
        }
        Ok(column)
    }

    fn times(&mut self, header: &Header, count: usize) -> Result<Vec<i64>, CodecError> {
        let mut previous = header.period_start;
        self.column(count, |_, step| {
            previous = previous.wrapping_add(step as i64);
            previous
        })
    }
}

fn checked(header: &Header) -> Result<(usize, u32, u32), CodecError> {
    let count = usize::try_from(header.candles).map_err(|_| CodecError::Header)?;
    let scale = |scale: i16| u32::try_from(scale).ok().filter(|scale| *scale <= crate::domain::series::MAX_SCALE);
    match (scale(header.price_scale), scale(header.volume_scale)) {
        (Some(price), Some(volume)) => Ok((count, price, volume)),
        _ => Err(CodecError::Header),
    }
}

/// Decodes a chunk body into its candles.
pub fn decode(header: &Header, body: &[u8]) -> Result<Series, CodecError> {
    let (count, price_scale, volume_scale) = checked(header)?;
    match header.format {
        FORMAT_DELTA => {
            let mut cursor = Cursor { bytes: body, at: 0 };
            let open_time = cursor.times(header, count)?;
            let mut previous = 0i64;
            let open = cursor.column(count, |_, delta| {
                previous = previous.wrapping_add(unzigzag(delta));
                previous
            })?;
            let close = cursor.column(count, |index, delta| open[index].wrapping_add(unzigzag(delta)))?;
            let high =
                cursor.column(count, |index, delta| open[index].max(close[index]).wrapping_add(unzigzag(delta)))?;
            let low =
                cursor.column(count, |index, delta| open[index].min(close[index]).wrapping_add(unzigzag(delta)))?;
            let volume = cursor.column(count, |_, value| unzigzag(value))?;
            if cursor.at != body.len() {
                return Err(CodecError::Malformed);
            }
            Ok(Series { open_time, open, high, low, close, volume, price_scale, volume_scale })
        }
        FORMAT_RAW => {
            if body.len() != count * 48 {
                return Err(if body.len() < count * 48 { CodecError::Truncated } else { CodecError::Malformed });
            }
            let column = |number: usize| -> Vec<i64> {
                body[number * count * 8..(number + 1) * count * 8]
                    .chunks_exact(8)
                    .map(|bytes| {
                        i64::from_be_bytes([
                            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                        ])
                    })
                    .collect()
            };
            Ok(Series {
                open_time: column(0),
                open: column(1),
                high: column(2),
                low: column(3),
                close: column(4),
                volume: column(5),
                price_scale,
                volume_scale,
            })
        }
        other => Err(CodecError::Format(other)),
    }
}

/// Decodes only the open times (the first column): enough to tell which candles a range
/// holds.
pub fn decode_times(header: &Header, body: &[u8]) -> Result<Vec<i64>, CodecError> {
    let (count, _, _) = checked(header)?;
    match header.format {
        FORMAT_DELTA => Cursor { bytes: body, at: 0 }.times(header, count),
        FORMAT_RAW => Ok(decode(header, body)?.open_time),
        other => Err(CodecError::Format(other)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn header(series: &Series, period_start: i64, format: i16) -> Header {
        Header {
            period_start,
            candles: i32::try_from(series.len()).unwrap(),
            format,
            price_scale: i16::try_from(series.price_scale).unwrap(),
            volume_scale: i16::try_from(series.volume_scale).unwrap(),
        }
    }

    fn raw(series: &Series) -> Vec<u8> {
        let columns = [&series.open_time, &series.open, &series.high, &series.low, &series.close, &series.volume];
        columns.iter().flat_map(|column| column.iter().flat_map(|value| value.to_be_bytes())).collect()
    }

    fn series_of(times: Vec<i64>, values: &[[i64; 5]]) -> Series {
        let column = |field: usize| values.iter().map(|candle| candle[field]).collect();
        Series {
            open_time: times,
            open: column(0),
            high: column(1),
            low: column(2),
            close: column(3),
            volume: column(4),
            price_scale: 2,
            volume_scale: 5,
        }
    }

    #[test]
    fn periods_are_aligned_slots_of_the_timeframe() {
        assert_eq!(period_secs(60), 600_000);
        assert_eq!(period_start(1_689_677_460, 60), 1_689_600_000);
        assert_eq!(period_start(1_689_600_000, 60), 1_689_600_000);
        assert_eq!(period_start(-1, 60), -600_000);
    }

    #[test]
    fn a_minute_candle_takes_a_few_bytes() {
        let times: Vec<i64> = (0..1_000).map(|i| 1_689_600_000 + 60 * i).collect();
        let values: Vec<[i64; 5]> =
            (0..1_000).map(|i| [3_001_532 + i, 3_002_000 + i, 3_001_500 + i, 3_001_689 + i, 2_193_033]).collect();
        let series = series_of(times, &values);
        let body = encode(&series, 1_689_600_000);
        assert!(body.len() < 1_000 * 12, "{} bytes", body.len());
        assert_eq!(decode(&header(&series, 1_689_600_000, FORMAT_DELTA), &body).unwrap(), series);
    }

    #[test]
    fn corrupt_bodies_are_errors_not_panics() {
        let series = series_of(vec![60, 120], &[[1, 2, 1, 2, 3], [2, 3, 1, 1, 4]]);
        let body = encode(&series, 0);
        let head = header(&series, 0, FORMAT_DELTA);
        assert_eq!(decode(&head, &body[..body.len() - 1]), Err(CodecError::Truncated));
        assert_eq!(decode(&head, &[body.as_slice(), &[0]].concat()), Err(CodecError::Malformed));
        assert_eq!(decode(&head, &[0xff; 11]), Err(CodecError::Malformed));
        assert_eq!(decode(&Header { format: 7, ..head }, &body), Err(CodecError::Format(7)));
        assert_eq!(decode(&Header { price_scale: 19, ..head }, &body), Err(CodecError::Header));
        assert_eq!(decode(&Header { format: FORMAT_RAW, ..head }, &body), Err(CodecError::Truncated));
    }

    proptest! {
        #[test]
        fn both_formats_round_trip_any_candles(
            start in -1_000_000_000i64..4_000_000_000,
            steps in prop::collection::vec(1i64..100_000, 0..200),
            values in prop::collection::vec(prop::array::uniform5(any::<i64>()), 200),
        ) {
            let mut time = start;
            let times: Vec<i64> = steps.iter().map(|step| { time += step; time }).collect();
            let series = series_of(times.clone(), &values[..times.len()]);
            let period = times.first().map_or(0, |first| period_start(*first, 60));
            let delta = header(&series, period, FORMAT_DELTA);
            prop_assert_eq!(&decode(&delta, &encode(&series, period)).unwrap(), &series);
            prop_assert_eq!(&decode_times(&delta, &encode(&series, period)).unwrap(), &times);
            prop_assert_eq!(&decode(&header(&series, period, FORMAT_RAW), &raw(&series)).unwrap(), &series);
        }
    }
}
