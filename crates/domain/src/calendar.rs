//! Exchange calendars: when a market trades.
//!
//! The ledger's `isOpen` on markets and the runner's regular-trading-hours check and day end ask
//! the same question of the same stored calendar, so one pure function answers both:
//! [`Calendar::session_window`]. Two copies of the rule would disagree on a DST Sunday.
//!
//! A calendar is stored as JSON, `{"kind":"always_open"}` or
//! `{"kind":"weekly","tz":"America/New_York","open":"09:30","close":"16:00","days":[1,2,3,4,5]}`
//! (ISO weekdays, 1 = Monday … 7 = Sunday). No holidays yet, and no session crosses midnight.

use chrono::{
    DateTime, Datelike, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike,
    Utc, Weekday,
};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// ISO weekday `n` is `WEEK[n - 1]`.
const WEEK: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

/// When a market trades. On the wire it is the JSON shape in the module doc (open and close as
/// `HH:MM`, the zone by its IANA name), and only valid calendars deserialize; one built by hand
/// can break the rules, which [`Calendar::validate`] checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "CalendarJson", into = "CalendarJson")]
pub enum Calendar {
    /// Always trading: one session per UTC day, midnight to midnight.
    AlwaysOpen,
    /// One session on each listed weekday, from `open` to `close` on the local clock of `tz`.
    Weekly {
        /// The exchange's time zone.
        tz: Tz,
        /// Local opening time, in whole minutes.
        open: NaiveTime,
        /// Local closing time, in whole minutes, after `open`.
        close: NaiveTime,
        /// The trading weekdays, each once.
        days: Vec<Weekday>,
    },
}

/// The session that contains an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionWindow {
    /// The date the session belongs to: the exchange's local date (UTC for `always_open`).
    pub trading_date: NaiveDate,
    /// When the session opened.
    pub opens_at: DateTime<Utc>,
    /// When the session closes; the session is `[opens_at, closes_at)`.
    pub closes_at: DateTime<Utc>,
}

/// Why a calendar was refused. Each message names the field, since an admin command prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not a calendar object at all: bad JSON, an unknown kind, a missing or unknown field.
    #[error("calendar: {0}")]
    Malformed(String),
    /// A zone name that the IANA database (as chrono-tz ships it) does not have.
    #[error("calendar.tz: unknown time zone '{0}'")]
    UnknownTimeZone(String),
    /// `open` or `close` (the field named) is not a time `HH:MM` from 00:00 to 23:59.
    #[error("calendar.{0}: must be HH:MM")]
    Time(&'static str),
    /// `close` is not after `open`.
    #[error("calendar.close: must be after calendar.open (sessions do not cross midnight)")]
    CloseNotAfterOpen,
    /// `days` is empty, or has a number outside 1..=7 or one twice.
    #[error("calendar.days: must list weekdays 1 (Monday) to 7 (Sunday), each once")]
    Days,
}

impl Calendar {
    /// The calendar of a market that never closes.
    pub fn always_open() -> Self {
        Self::AlwaysOpen
    }

    /// Reads and validates a calendar from its stored JSON text.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let json: CalendarJson =
            serde_json::from_str(text).map_err(|error| CalendarError::Malformed(error.to_string()))?;
        Self::try_from(json)
    }

    /// Checks what the field types alone do not: whole-minute times, `open` before `close`, and
    /// each weekday at most once in a non-empty `days`.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let Self::Weekly { open, close, days, .. } = self else { return Ok(()) };
        let whole_minute = |time: &NaiveTime| time.second() == 0 && time.nanosecond() == 0;
        if !whole_minute(open) {
            return Err(CalendarError::Time("open"));
        }
        if !whole_minute(close) {
            return Err(CalendarError::Time("close"));
        }
        if open >= close {
            return Err(CalendarError::CloseNotAfterOpen);
        }
        let mut seen = [false; 7];
        for day in days {
            let index = day.num_days_from_monday() as usize;
            if std::mem::replace(&mut seen[index], true) {
                return Err(CalendarError::Days);
            }
        }
        if days.is_empty() {
            return Err(CalendarError::Days);
        }
        Ok(())
    }

    /// The session that contains `now`, or `None` when the market is closed then.
    ///
    /// `always_open`: the UTC day of `now`, from its 00:00 UTC to the next (a session that
    /// starts at 23:59:30 lasts 30 s). `weekly`: open when the local weekday of `now` is listed
    /// and its local time is in `[open, close)`; the trading date is the local date, and the
    /// window is that date's `open` and `close` on the local clock, as instants.
    ///
    /// DST: an `open` or `close` that the clock skips (spring forward) means the first instant
    /// after the gap; one that the clock shows twice (fall back) means the earlier instant. So a
    /// session that closes inside a repeated hour closes the first time the clock gets there, and
    /// the second pass through that hour is closed; likewise the second pass before an `open`
    /// inside a repeated hour is closed. The returned window always contains `now`.
    pub fn session_window(&self, now: DateTime<Utc>) -> Option<SessionWindow> {
        match self {
            Self::AlwaysOpen => {
                let trading_date = now.date_naive();
                let opens_at = trading_date.and_time(NaiveTime::MIN).and_utc();
                // The last representable day has no next midnight: it runs to the end of time.
                let closes_at = trading_date
                    .succ_opt()
                    .map_or(DateTime::<Utc>::MAX_UTC, |next| next.and_time(NaiveTime::MIN).and_utc());
                Some(SessionWindow { trading_date, opens_at, closes_at })
            }
            Self::Weekly { tz, open, close, days } => {
                let local = now.with_timezone(tz);
                if !days.contains(&local.weekday()) || !(*open..*close).contains(&local.time()) {
                    return None;
                }
                let trading_date = local.date_naive();
                let opens_at = instant(*tz, trading_date.and_time(*open))?;
                let closes_at = instant(*tz, trading_date.and_time(*close))?;
                // Only false in a repeated hour: the clock reads before `close` again after the
                // session has closed at the first pass.
                (opens_at <= now && now < closes_at).then_some(SessionWindow { trading_date, opens_at, closes_at })
            }
        }
    }

    /// Whether the market is open at `now`: [`Calendar::session_window`] has a session.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.session_window(now).is_some()
    }
}

/// The instant that the local clock of `tz` shows as `local`: the earlier one when the clock
/// shows it twice, the first instant after the gap when the clock skips it. `None` only at the
/// ends of representable time.
fn instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(at) => Some(at.with_timezone(&Utc)),
        MappedLocalTime::Ambiguous(one, other) => Some(one.min(other).with_timezone(&Utc)),
        MappedLocalTime::None => first_after_gap(tz, local),
    }
}

/// The first instant after the gap that hides `local`: the transition itself.
fn first_after_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // The offsets a day either side: every offset is under a day, so these two instants are
    // before and after the clock change (assuming no other change within a day of it).
    let offset_at =
        |at: NaiveDateTime| TimeDelta::seconds(tz.offset_from_utc_datetime(&at).fix().local_minus_utc().into());
    let before = offset_at(local.checked_sub_signed(TimeDelta::days(1))?);
    let after = offset_at(local.checked_add_signed(TimeDelta::days(1))?);
    // Read with the offset after the jump, `local` names an instant before the transition (the
    // clock there shows less than `local`); read with the offset before it, one at or after.
    let mut earlier = local.checked_sub_signed(after)?.and_utc().timestamp();
    let mut later = local.checked_sub_signed(before)?.and_utc().timestamp();
    // Transitions fall on whole seconds: bisect for the first one whose clock has reached `local`.
    let at = |seconds: i64| DateTime::<Utc>::from_timestamp(seconds, 0);
    while later - earlier > 1 {
        let middle = earlier + (later - earlier) / 2;
        if at(middle)?.with_timezone(&tz).naive_local() >= local {
            later = middle;
        } else {
            earlier = middle;
        }
    }
    at(later)
}

/// The stored JSON shape. Fields stay text and numbers here so that `parse` can name the field
/// that is wrong; [`Calendar`] holds the checked values.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Calendar")]
enum CalendarJson {
    /// Always trading: one session per UTC day, midnight to midnight.
    AlwaysOpen {},
    /// One session on each listed weekday, from `open` to `close` on the local clock of `tz`.
    Weekly {
        /// IANA time zone name, e.g. `America/New_York`.
        tz: String,
        /// Local opening time, `HH:MM`.
        #[schemars(pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
        open: String,
        /// Local closing time, `HH:MM`, after `open`: sessions do not cross midnight.
        #[schemars(pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
        close: String,
        /// ISO weekdays, 1 (Monday) to 7 (Sunday), each once.
        #[schemars(length(min = 1, max = 7), inner(range(min = 1, max = 7)), extend("uniqueItems" = true))]
        days: Vec<i64>,
    },
}

impl TryFrom<CalendarJson> for Calendar {
    type Error = CalendarError;

    fn try_from(json: CalendarJson) -> Result<Self, CalendarError> {
        let calendar = match json {
            CalendarJson::AlwaysOpen {} => Self::AlwaysOpen,
            CalendarJson::Weekly { tz, open, close, days } => Self::Weekly {
                tz: tz.parse().map_err(|_| CalendarError::UnknownTimeZone(tz))?,
                open: hours_minutes(&open).ok_or(CalendarError::Time("open"))?,
                close: hours_minutes(&close).ok_or(CalendarError::Time("close"))?,
                days: days.into_iter().map(iso_weekday).collect::<Option<_>>().ok_or(CalendarError::Days)?,
            },
        };
        calendar.validate()?;
        Ok(calendar)
    }
}

impl From<Calendar> for CalendarJson {
    fn from(calendar: Calendar) -> Self {
        match calendar {
            Calendar::AlwaysOpen => Self::AlwaysOpen {},
            Calendar::Weekly { tz, open, close, days } => Self::Weekly {
                tz: tz.name().to_string(),
                open: open.format("%H:%M").to_string(),
                close: close.format("%H:%M").to_string(),
                days: days.iter().map(|day| i64::from(day.number_from_monday())).collect(),
            },
        }
    }
}

/// `HH:MM`, exactly five characters, 00:00 to 23:59.
fn hours_minutes(text: &str) -> Option<NaiveTime> {
    let digit = |byte: u8| byte.is_ascii_digit().then(|| u32::from(byte - b'0'));
    let &[h1, h0, b':', m1, m0] = text.as_bytes() else { return None };
    NaiveTime::from_hms_opt(digit(h1)? * 10 + digit(h0)?, digit(m1)? * 10 + digit(m0)?, 0)
}

/// ISO weekday number `n` (1 = Monday … 7 = Sunday).
fn iso_weekday(n: i64) -> Option<Weekday> {
    let index = usize::try_from(n.checked_sub(1)?).ok()?;
    WEEK.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn weekly(tz: &str, open: &str, close: &str, days: &[i64]) -> Calendar {
        let json = serde_json::json!({ "kind": "weekly", "tz": tz, "open": open, "close": close, "days": days });
        Calendar::parse(&json.to_string()).unwrap()
    }

    fn new_york() -> Calendar {
        weekly("America/New_York", "09:30", "16:00", &[1, 2, 3, 4, 5])
    }

    fn window(trading_date: &str, opens_at: &str, closes_at: &str) -> Option<SessionWindow> {
        Some(SessionWindow { trading_date: date(trading_date), opens_at: utc(opens_at), closes_at: utc(closes_at) })
    }

    #[test]
    fn always_open_runs_midnight_to_midnight_utc() {
        let calendar = Calendar::always_open();
        let now = utc("2025-03-10T23:59:30Z");
        let session = calendar.session_window(now).unwrap();
        assert_eq!(Some(session), window("2025-03-10", "2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z"));
        assert_eq!(session.closes_at - now, TimeDelta::seconds(30));
        let next = calendar.session_window(session.closes_at).unwrap();
        assert_eq!(next.trading_date, date("2025-03-11"));
        assert!(calendar.is_open(utc("2025-03-11T00:00:00Z")));
    }

    #[test]
    fn new_york_in_winter_is_open_0930_to_1600_est() {
        let calendar = new_york();
        // Monday 13 January 2025: EST, UTC-5.
        let session = window("2025-01-13", "2025-01-13T14:30:00Z", "2025-01-13T21:00:00Z");
        assert_eq!(calendar.session_window(utc("2025-01-13T14:30:00Z")), session);
        assert_eq!(calendar.session_window(utc("2025-01-13T20:59:59Z")), session);
        assert_eq!(calendar.session_window(utc("2025-01-13T14:29:59Z")), None);
        assert_eq!(calendar.session_window(utc("2025-01-13T21:00:00Z")), None);
        assert!(calendar.is_open(utc("2025-01-13T20:59:59.999Z")));
        assert!(!calendar.is_open(utc("2025-01-13T21:00:00Z")));
    }

    #[test]
    fn new_york_in_summer_is_open_0930_to_1600_edt() {
        let calendar = new_york();
        // Monday 14 July 2025: EDT, UTC-4.
        let session = window("2025-07-14", "2025-07-14T13:30:00Z", "2025-07-14T20:00:00Z");
        assert_eq!(calendar.session_window(utc("2025-07-14T13:30:00Z")), session);
        assert_eq!(calendar.session_window(utc("2025-07-14T13:29:59Z")), None);
        assert_eq!(calendar.session_window(utc("2025-07-14T20:00:00Z")), None);
    }

    #[test]
    fn new_york_is_closed_at_the_weekend() {
        let calendar = new_york();
        assert!(!calendar.is_open(utc("2025-01-18T15:00:00Z")), "Saturday 10:00 EST");
        assert!(!calendar.is_open(utc("2025-01-19T15:00:00Z")), "Sunday 10:00 EST");
        assert!(calendar.is_open(utc("2025-01-17T20:59:00Z")), "Friday 15:59 EST");
    }

    #[test]
    fn the_weekday_is_the_local_one() {
        // Sunday 23:00 UTC is Monday 08:00 in Tokyo (UTC+9, no DST).
        let tokyo = weekly("Asia/Tokyo", "08:00", "15:30", &[1, 2, 3, 4, 5]);
        let sunday_utc = utc("2025-01-12T23:00:00Z");
        assert_eq!(sunday_utc.weekday(), Weekday::Sun);
        assert_eq!(
            tokyo.session_window(sunday_utc),
            window("2025-01-13", "2025-01-12T23:00:00Z", "2025-01-13T06:30:00Z")
        );
        assert!(!tokyo.is_open(utc("2025-01-12T22:59:59Z")), "Monday 07:59:59 in Tokyo");
        // Saturday 00:30 UTC is Friday 19:30 in New York (EST).
        let new_york_extended = weekly("America/New_York", "04:00", "20:00", &[1, 2, 3, 4, 5]);
        let saturday_utc = utc("2025-01-18T00:30:00Z");
        assert_eq!(saturday_utc.weekday(), Weekday::Sat);
        assert_eq!(
            new_york_extended.session_window(saturday_utc),
            window("2025-01-17", "2025-01-17T09:00:00Z", "2025-01-18T01:00:00Z")
        );
    }

    #[test]
    fn dst_gap_open_means_the_first_instant_after_it() {
        // Sunday 9 March 2025, New York: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
        let calendar = weekly("America/New_York", "02:30", "04:00", &[7]);
        let session = window("2025-03-09", "2025-03-09T07:00:00Z", "2025-03-09T08:00:00Z");
        assert_eq!(calendar.session_window(utc("2025-03-09T07:00:00Z")), session);
        assert_eq!(calendar.session_window(utc("2025-03-09T06:59:59Z")), None, "01:59:59 EST");
    }

    #[test]
    fn dst_gap_close_means_the_first_instant_after_it() {
        let calendar = weekly("America/New_York", "01:00", "02:30", &[7]);
        let session = window("2025-03-09", "2025-03-09T06:00:00Z", "2025-03-09T07:00:00Z");
        assert_eq!(calendar.session_window(utc("2025-03-09T06:59:59Z")), session);
        assert_eq!(calendar.session_window(utc("2025-03-09T07:00:00Z")), None, "03:00 EDT");
    }

    #[test]
    fn dst_overlap_open_means_the_earlier_instant() {
        // Sunday 2 November 2025, New York: 02:00 EDT falls back to 01:00 EST at 06:00 UTC, so
        // 01:30 is 05:30 UTC (EDT) and again 06:30 UTC (EST).
        let calendar = weekly("America/New_York", "01:30", "03:00", &[7]);
        let session = window("2025-11-02", "2025-11-02T05:30:00Z", "2025-11-02T08:00:00Z");
        assert_eq!(calendar.session_window(utc("2025-11-02T05:30:00Z")), session);
        assert_eq!(calendar.session_window(utc("2025-11-02T05:29:59Z")), None);
        // The second pass before 01:30 reads before `open`: closed until the clock is there again.
        assert_eq!(calendar.session_window(utc("2025-11-02T06:15:00Z")), None, "01:15 EST");
        assert_eq!(calendar.session_window(utc("2025-11-02T06:30:00Z")), session, "01:30 EST");
    }

    #[test]
    fn dst_overlap_close_means_the_earlier_instant() {
        let calendar = weekly("America/New_York", "00:00", "01:30", &[7]);
        let session = window("2025-11-02", "2025-11-02T04:00:00Z", "2025-11-02T05:30:00Z");
        assert_eq!(calendar.session_window(utc("2025-11-02T05:29:59Z")), session);
        assert_eq!(calendar.session_window(utc("2025-11-02T05:30:00Z")), None);
        // 01:15 EST reads before `close`, but the session closed at 01:30 EDT.
        assert_eq!(calendar.session_window(utc("2025-11-02T06:15:00Z")), None);
    }

    #[test]
    fn parse_names_the_field_that_is_wrong() {
        let weekly = |tz: &str, open: &str, close: &str, days: &str| {
            let text = format!(r#"{{"kind":"weekly","tz":"{tz}","open":"{open}","close":"{close}","days":{days}}}"#);
            Calendar::parse(&text).unwrap_err().to_string()
        };
        let ny = "America/New_York";
        assert_eq!(weekly("Mars/Base", "09:30", "16:00", "[1]"), "calendar.tz: unknown time zone 'Mars/Base'");
        assert_eq!(
            weekly("america/new_york", "09:30", "16:00", "[1]"),
            "calendar.tz: unknown time zone 'america/new_york'"
        );
        for bad in ["9:30", "24:00", "09:60", "09:30:00", "0930", "ab:cd", "", " 9:30", "+9:30", "09-30"] {
            assert_eq!(weekly(ny, bad, "16:00", "[1]"), "calendar.open: must be HH:MM", "{bad:?}");
            assert_eq!(weekly(ny, "00:00", bad, "[1]"), "calendar.close: must be HH:MM", "{bad:?}");
        }
        let order = "calendar.close: must be after calendar.open (sessions do not cross midnight)";
        assert_eq!(weekly(ny, "16:00", "09:30", "[1]"), order);
        assert_eq!(weekly(ny, "09:30", "09:30", "[1]"), order);
        assert_eq!(weekly(ny, "22:00", "02:00", "[1]"), order);
        for bad in ["[]", "[0]", "[8]", "[-1]", "[1,2,1]", "[1,2,3,4,5,6,7,7]"] {
            let days = "calendar.days: must list weekdays 1 (Monday) to 7 (Sunday), each once";
            assert_eq!(weekly(ny, "09:30", "16:00", bad), days, "{bad}");
        }
        let valid = r#"{"kind":"weekly","tz":"UTC","open":"00:00","close":"23:59","days":[7,1,3]}"#;
        assert!(Calendar::parse(valid).is_ok());
    }

    #[test]
    fn parse_refuses_what_is_not_a_calendar() {
        for bad in [
            "",
            "not json",
            "{}",
            r#"{"kind":"sometimes"}"#,
            r#"{"kind":"always_open","tz":"UTC"}"#,
            r#"{"kind":"weekly","tz":"UTC","open":"09:30","close":"16:00","days":[1],"holidays":[]}"#,
            r#"{"kind":"weekly","tz":"UTC","open":"09:30","days":[1]}"#,
            r#"{"kind":"weekly","tz":"UTC","open":"09:30","close":"16:00","days":[1.5]}"#,
        ] {
            let error = Calendar::parse(bad).unwrap_err();
            assert!(matches!(error, CalendarError::Malformed(_)), "{bad}: {error}");
            assert!(error.to_string().starts_with("calendar: "), "{error}");
        }
        let unknown = r#"{"kind":"weekly","tz":"UTC","open":"09:30","close":"16:00","days":[1],"holidays":[]}"#;
        assert!(Calendar::parse(unknown).unwrap_err().to_string().contains("unknown field `holidays`"));
    }

    #[test]
    fn validate_checks_what_the_types_allow() {
        let at = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
        let calendar =
            |open, close, days: &[Weekday]| Calendar::Weekly { tz: Tz::UTC, open, close, days: days.to_vec() };
        assert_eq!(calendar(at(9, 30, 0), at(16, 0, 0), &[Weekday::Mon]).validate(), Ok(()));
        assert_eq!(calendar(at(9, 30, 1), at(16, 0, 0), &[Weekday::Mon]).validate(), Err(CalendarError::Time("open")));
        assert_eq!(calendar(at(9, 30, 0), at(16, 0, 1), &[Weekday::Mon]).validate(), Err(CalendarError::Time("close")));
        assert_eq!(
            calendar(at(16, 0, 0), at(9, 30, 0), &[Weekday::Mon]).validate(),
            Err(CalendarError::CloseNotAfterOpen)
        );
        assert_eq!(calendar(at(9, 30, 0), at(16, 0, 0), &[]).validate(), Err(CalendarError::Days));
        assert_eq!(
            calendar(at(9, 30, 0), at(16, 0, 0), &[Weekday::Sun, Weekday::Sun]).validate(),
            Err(CalendarError::Days)
        );
        assert_eq!(Calendar::always_open().validate(), Ok(()));
    }

    #[test]
    fn json_round_trips_in_the_stored_shape() {
        let texts = [
            r#"{"kind":"always_open"}"#,
            r#"{"kind":"weekly","tz":"America/New_York","open":"09:30","close":"16:00","days":[1,2,3,4,5]}"#,
            r#"{"kind":"weekly","tz":"Asia/Tokyo","open":"00:00","close":"23:59","days":[7,1]}"#,
        ];
        for text in texts {
            let calendar = Calendar::parse(text).unwrap();
            assert_eq!(serde_json::to_string(&calendar).unwrap(), text);
            assert_eq!(serde_json::from_str::<Calendar>(text).unwrap(), calendar);
        }
        assert_eq!(Calendar::parse(texts[0]).unwrap(), Calendar::always_open());
        assert_eq!(
            Calendar::parse(texts[1]).unwrap(),
            Calendar::Weekly {
                tz: Tz::America__New_York,
                open: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
                close: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
                days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
            }
        );
    }

    #[test]
    fn serde_refuses_invalid_calendars_with_the_same_message() {
        let error = serde_json::from_str::<Calendar>(
            r#"{"kind":"weekly","tz":"Mars/Base","open":"09:30","close":"16:00","days":[1]}"#,
        )
        .unwrap_err();
        assert!(error.to_string().starts_with("calendar.tz: unknown time zone 'Mars/Base'"), "{error}");
        let error = serde_json::from_str::<Calendar>(r#"{"kind":"always_open","extra":1}"#).unwrap_err();
        assert!(error.to_string().contains("unknown field `extra`"), "{error}");
    }

    #[test]
    fn the_schema_is_the_stored_shape() {
        let schema = serde_json::to_value(schemars::schema_for!(Calendar)).unwrap().to_string();
        for word in ["always_open", "weekly", "\"tz\"", "\"open\"", "\"close\"", "\"days\"", "uniqueItems"] {
            assert!(schema.contains(word), "{word} in {schema}");
        }
    }

    /// Instants over two centuries.
    fn instant_strategy() -> impl Strategy<Value = DateTime<Utc>> {
        let range = utc("1900-01-01T00:00:00Z").timestamp()..utc("2100-01-01T00:00:00Z").timestamp();
        (range, 0..1_000_000_000u32).prop_map(|(seconds, nanos)| DateTime::from_timestamp(seconds, nanos).unwrap())
    }

    fn minutes(minutes: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap()
    }

    /// Any zone, any session.
    fn weekly_strategy() -> impl Strategy<Value = Calendar> {
        (
            prop::sample::select(chrono_tz::TZ_VARIANTS.to_vec()),
            (0..24 * 60 - 1u32).prop_flat_map(|open| (Just(open), open + 1..24 * 60)),
            prop::sample::subsequence(WEEK.to_vec(), 1..=7).prop_shuffle(),
        )
            .prop_map(|(tz, (open, close), days)| Calendar::Weekly {
                tz,
                open: minutes(open),
                close: minutes(close),
                days,
            })
    }

    /// The 2025 clock changes of zones that jump at 02:00, at midnight (Havana, Santiago) or by
    /// 30 minutes (Lord Howe), found to the hour.
    fn clock_changes_2025() -> Vec<(Tz, DateTime<Utc>)> {
        let zones = [
            Tz::America__New_York,
            Tz::Europe__London,
            Tz::America__Havana,
            Tz::America__Santiago,
            Tz::Australia__Lord_Howe,
        ];
        let hours = (0..365 * 24).map(|hour| utc("2025-01-01T00:00:00Z") + TimeDelta::hours(hour));
        let offset = |tz: Tz, at: DateTime<Utc>| at.with_timezone(&tz).offset().fix();
        let changes: Vec<_> = zones
            .into_iter()
            .flat_map(|tz| {
                hours
                    .clone()
                    .filter(move |at| offset(tz, *at) != offset(tz, *at - TimeDelta::hours(1)))
                    .map(move |at| (tz, at))
            })
            .collect();
        assert_eq!(changes.len(), 2 * zones.len(), "{changes:?}");
        changes
    }

    /// A session in the small hours of a zone whose clock jumps, and an instant within six hours
    /// of the jump.
    fn clock_change_strategy() -> impl Strategy<Value = (Calendar, DateTime<Utc>)> {
        (
            prop::sample::select(clock_changes_2025()),
            -6 * 3600..6 * 3600i64,
            (0..4 * 60u32).prop_flat_map(|open| (Just(open), open + 1..5 * 60)),
            prop::sample::subsequence(WEEK.to_vec(), 1..=7),
        )
            .prop_map(|((tz, change), seconds, (open, close), days)| {
                (
                    Calendar::Weekly { tz, open: minutes(open), close: minutes(close), days },
                    change + TimeDelta::seconds(seconds),
                )
            })
    }

    fn check_session(calendar: &Calendar, now: DateTime<Utc>) -> Result<(), TestCaseError> {
        prop_assert_eq!(calendar.validate(), Ok(()));
        let session = calendar.session_window(now);
        prop_assert_eq!(calendar.is_open(now), session.is_some());
        if let (Some(session), Calendar::Weekly { tz, days, .. }) = (session, calendar) {
            prop_assert!(session.opens_at <= now && now < session.closes_at, "{session:?} at {now}");
            prop_assert_eq!(session.trading_date, now.with_timezone(tz).date_naive());
            prop_assert!(days.contains(&session.trading_date.weekday()));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn a_weekly_session_contains_now(calendar in weekly_strategy(), now in instant_strategy()) {
            check_session(&calendar, now)?;
        }

        #[test]
        fn a_session_across_a_clock_change_contains_now((calendar, now) in clock_change_strategy()) {
            check_session(&calendar, now)?;
        }

        #[test]
        fn an_always_open_session_ends_within_a_day(now in instant_strategy()) {
            let session = Calendar::always_open().session_window(now).unwrap();
            prop_assert!(session.opens_at <= now);
            let left = session.closes_at - now;
            prop_assert!(TimeDelta::zero() < left && left <= TimeDelta::days(1), "{left}");
            prop_assert_eq!(session.trading_date, now.date_naive());
        }

        #[test]
        fn a_weekly_calendar_round_trips_through_json(calendar in weekly_strategy()) {
            let text = serde_json::to_string(&calendar).unwrap();
            prop_assert_eq!(Calendar::parse(&text), Ok(calendar));
        }
    }
}
