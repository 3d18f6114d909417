//! Timestamps in request bodies: RFC 3339, and one without an offset is UTC
//! (docs/api/common.md#timestamps-and-numbers).

use bus::messages::bot_api::paging::YEARS;
use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

/// Parses `2024-01-15T10:30:00Z`, `2024-01-15T10:30:00.123+02:00` or, as UTC,
/// `2024-01-15T10:30:00.123456` (what Python's `isoformat()` prints).
///
/// The time must fall in the years 1000 to 9999 (in UTC): what prints as four-digit RFC 3339
/// and so reads back as it was written; anything else is refused like a malformed time.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let parsed = match DateTime::parse_from_rfc3339(text) {
        Ok(with_offset) => Some(with_offset.with_timezone(&Utc)),
        Err(_) => ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .map(|naive| naive.and_utc()),
    };
    parsed.filter(|time| YEARS.contains(&time.year()))
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

    #[test]
    fn only_four_digit_years_in_utc() {
        assert!(parse_timestamp("1000-01-01T00:00:00Z").is_some());
        assert!(parse_timestamp("9999-12-31T23:59:59Z").is_some());
        assert_eq!(parse_timestamp("0999-12-31T23:59:59Z"), None);
        assert_eq!(parse_timestamp("0001-01-01T00:00:00"), None);
        assert_eq!(parse_timestamp("9999-12-31T23:00:00-05:00"), None, "year 10000 in UTC");
        assert_eq!(parse_timestamp("1000-01-01T00:30:00+01:00"), None, "year 999 in UTC");
        assert_eq!(parse_timestamp("+10000-01-01T00:00:00"), None);
    }
}
