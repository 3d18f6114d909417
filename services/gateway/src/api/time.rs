//! Timestamps in request bodies: RFC 3339, and one without an offset is UTC (CONTRACTS §0).

use chrono::{DateTime, NaiveDateTime, Utc};

/// Parses `2024-01-15T10:30:00Z`, `2024-01-15T10:30:00.123+02:00` or, as UTC,
/// `2024-01-15T10:30:00.123456` (what Python's `isoformat()` prints).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_offsets() {
        let utc = parse_timestamp("2024-01-15T10:30:00.000Z").unwrap();
        assert_eq!(parse_timestamp("2024-01-15T12:30:00+02:00"), Some(utc));
        assert_eq!(parse_timestamp("2024-01-15T10:30:00"), Some(utc));
        assert_eq!(parse_timestamp("2024-01-15T10:30:00.000000"), Some(utc));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-13-01T00:00:00Z"), None);
    }
}
