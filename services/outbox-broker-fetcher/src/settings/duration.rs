//! A span of time written the way people write it in a settings file: `24h`, `90m`, `30s`,
//! `500ms`, `7d` (a whole number and a unit).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A duration read from and written as `<number><unit>`, unit one of `ms`, `s`, `m`, `h`, `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span(pub Duration);

impl Span {
    /// `hours` hours.
    pub const fn hours(hours: u64) -> Self {
        Self(Duration::from_secs(hours * 3600))
    }
}

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 24h, 30m or 90s"))?;
        let millis = match unit {
            "ms" => Some(number),
            "s" => number.checked_mul(1_000),
            "m" => number.checked_mul(60_000),
            "h" => number.checked_mul(3_600_000),
            "d" => number.checked_mul(86_400_000),
            _ => return Err(format!("{text:?} has no unit: write ms, s, m, h or d after the number")),
        };
        millis.map(|millis| Self(Duration::from_millis(millis))).ok_or_else(|| format!("{text:?} is too long"))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
        match units.iter().find(|(size, _)| millis > 0 && millis.is_multiple_of(*size)) {
            Some((size, unit)) => write!(f, "{}{unit}", millis / size),
            None => write!(f, "{millis}ms"),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_and_write_with_their_unit() {
        for (text, duration) in [
            ("24h", Duration::from_secs(86_400)),
            ("90m", Duration::from_secs(5_400)),
            ("2s", Duration::from_secs(2)),
            ("250ms", Duration::from_millis(250)),
            ("7d", Duration::from_secs(7 * 86_400)),
        ] {
            let span: Span = text.parse().unwrap();
            assert_eq!(span.0, duration, "{text}");
        }
        assert_eq!(Span::hours(24).to_string(), "1d");
        assert_eq!(Span(Duration::from_secs(90)).to_string(), "90s");
        assert_eq!(Span(Duration::from_millis(1500)).to_string(), "1500ms");
        for bad in ["", "24", "h", "1.5h", "-1h", "3 weeks", "99999999999999999999d"] {
            assert!(bad.parse::<Span>().is_err(), "{bad:?}");
        }
    }
}
