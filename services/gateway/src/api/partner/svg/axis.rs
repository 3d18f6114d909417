//! Axis scales of `equity.svg`: round tick values for money and dates for time, and the maps
//! from data to panel coordinates.

use chrono::DateTime;

/// A linear map of `[low, high]` onto `[from, to]` (pixels), clamped to the panel so a
/// rounding error can never draw outside it.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Data value drawn at `from`.
    pub low: f64,
    /// Data value drawn at `to`.
    pub high: f64,
    /// Pixel of `low`.
    pub from: f64,
    /// Pixel of `high`.
    pub to: f64,
}

impl Scale {
    /// The pixel of `value`.
    pub fn at(&self, value: f64) -> f64 {
        let span = self.high - self.low;
        let share = if span > 0.0 { (value - self.low) / span } else { 0.5 };
        self.from + share.clamp(0.0, 1.0) * (self.to - self.from)
    }
}

/// A round step (1, 2, 2.5 or 5 × 10ⁿ) that cuts `span` into about `count` parts.
pub fn nice_step(span: f64, count: f64) -> f64 {
    let raw = (span / count).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|step| *step >= raw);
    step.unwrap_or(10.0 * magnitude)
}

/// Bounds on round steps around `[min, max]` and the ticks between them; a flat series gets a
/// small band around its value so it is drawn mid-panel.
pub fn money_ticks(min: f64, max: f64, count: f64) -> (f64, f64, Vec<f64>) {
    let (min, max) = if max > min {
        (min, max)
    } else {
        let pad = (min.abs() * 0.01).max(1.0);
        (min - pad, max + pad)
    };
    let step = nice_step(max - min, count);
    let low = (min / step).floor() * step;
    let high = (max / step).ceil() * step;
    let ticks = (0..=((high - low) / step).round() as i64).map(|n| low + n as f64 * step).collect();
    (low, high, ticks)
}

/// Digits after the point that write every multiple of `step` exactly (2.5 needs one).
pub fn decimals_for(step: f64) -> usize {
    (0..8)
        .find(|digits| {
            let scaled = step * 10f64.powi(*digits as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(8)
}

/// `value` with `decimals` digits and thousands separators, `−` for minus.
pub fn money(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "\u{2212}" } else { "" };
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Time ticks on round UTC boundaries (at most about `count` of them) and their labels.
pub fn time_ticks(start: i64, end: i64, count: i64) -> Vec<(i64, String)> {
    const STEPS: [i64; 16] = [
        MINUTE,
        5 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        91 * DAY,
        182 * DAY,
        365 * DAY,
    ];
    let (span, count) = ((end - start).max(1), count.max(1));
    let step = STEPS.into_iter().find(|step| span / step <= count).unwrap_or((span + count - 1) / count);
    let format = if step >= DAY { "%Y-%m-%d" } else { "%m-%d %H:%M" };
    let first = start.div_euclid(step) * step + if start.rem_euclid(step) == 0 { 0 } else { step };
    (0..)
        .map(|n| first + n * step)
        .take_while(|tick| *tick <= end)
        .filter_map(|tick| DateTime::from_timestamp(tick, 0).map(|time| (tick, time.format(format).to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        assert_eq!(nice_step(594.0, 4.0), 200.0);
        assert_eq!(nice_step(0.9, 4.0), 0.25);
        let (low, high, ticks) = money_ticks(9_406.3, 10_480.0, 5.0);
        assert_eq!((low, high), (9_250.0, 10_500.0), "steps of 250");
        assert!(ticks.first() == Some(&low) && ticks.last() == Some(&high), "{ticks:?}");
        let (low, high, _) = money_ticks(10_000.0, 10_000.0, 5.0);
        assert!(low < 10_000.0 && high > 10_000.0);
    }

    #[test]
    fn money_has_separators_and_a_real_minus() {
        assert_eq!(money(-1_234_567.891, 2), "\u{2212}1,234,567.89");
        assert_eq!(money(950.0, 0), "950");
        assert_eq!(money(-0.0001, 2), "0.00");
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(2.5), 1);
        assert_eq!(decimals_for(200.0), 0);
    }

    #[test]
    fn time_ticks_fall_on_round_utc_boundaries() {
        // 2023-07-18 10:51 to 2023-08-19 09:32: weekly ticks at midnight.
        let ticks = time_ticks(1_689_677_460, 1_692_437_520, 6);
        assert!(ticks.len() >= 3 && ticks.len() <= 6, "{ticks:?}");
        assert!(ticks.iter().all(|(tick, _)| tick % DAY == 0));
        let hours = time_ticks(0, 5 * HOUR, 6);
        assert_eq!(hours.first().map(|(_, label)| label.as_str()), Some("01-01 00:00"));
    }
}
