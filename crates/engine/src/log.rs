//! The run's log: `(unix, level, message)` lines in order, capped in memory.
//!
//! A backtest keeps its first `cap` lines; later ones are counted, and [`LogBook::finish`]
//! adds one "N more lines omitted" line. (A live run sends its lines out as events instead,
//! and the cap counts the lines not yet drained: see the `events` module.) Callers pass the
//! message as a closure, so once the book is full no message is even formatted (formatting
//! is the costliest thing a fill does).

use serde::{Deserialize, Serialize};

/// Severity of a log line, numbered as the partner API's `"<unix> ||| <level> ||| <message>"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum LogLevel {
    /// 0: information.
    Info = 0,
    /// 1: an order placed, filled or cancelled, a position opened or closed.
    Trade = 1,
    /// 2: something the user should know (an order not placed for its size, a liquidation).
    Warning = 2,
    /// 3: an error (an order refused for insufficient funds).
    Error = 3,
    /// 4: a bot's own message.
    Custom = 4,
}

impl From<LogLevel> for u8 {
    fn from(l: LogLevel) -> u8 {
        l as u8
    }
}

impl TryFrom<u8> for LogLevel {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Ok(match v {
            0 => Self::Info,
            1 => Self::Trade,
            2 => Self::Warning,
            3 => Self::Error,
            4 => Self::Custom,
            _ => return Err(format!("log level {v} is not 0-4")),
        })
    }
}

impl LogLevel {
    /// The partner API's severity name: `info`, `trade`, `warning`, `error`, `custom`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Trade => "trade",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Custom => "custom",
        }
    }
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Unix seconds of the event.
    pub time: i64,
    /// Severity.
    pub level: LogLevel,
    /// The message.
    pub message: String,
}

impl LogLine {
    /// The results form `"<unix> ||| <level> ||| <message>"`.
    pub fn to_results_string(&self) -> String {
        format!("{} ||| {} ||| {}", self.time, self.level as u8, self.message)
    }
}

/// Unix seconds of a time in ms (`floor(ms / 1000)`), the form every output shows.
#[inline]
pub(crate) fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// Log lines kept in order, at most `cap` of them. Times are kept in ms until the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LogBook {
    lines: Vec<(i64, LogLevel, String)>,
    cap: usize,
    omitted: u64,
}

impl LogBook {
    pub fn new(cap: usize) -> Self {
        Self { lines: Vec::new(), cap, omitted: 0 }
    }

    /// Most lines kept.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Adds a line at `time_ms`; `message` runs only if the line will be kept.
    pub fn push(&mut self, time_ms: i64, level: LogLevel, message: impl FnOnce() -> String) {
        if self.lines.len() < self.cap {
            self.lines.push((time_ms, level, message()));
        } else {
            self.omitted += 1;
        }
    }

    /// Whether another line would be kept.
    #[inline]
    pub fn has_room(&self) -> bool {
        self.lines.len() < self.cap
    }

    /// The lines, with a last "N more lines omitted" line (at `time_ms`) if the cap was
    /// reached.
    pub fn finish(self, time_ms: i64) -> Vec<LogLine> {
        let mut lines: Vec<LogLine> =
            self.lines.into_iter().map(|(t, level, message)| LogLine { time: secs(t), level, message }).collect();
        if self.omitted > 0 {
            let n = self.omitted;
            lines.push(LogLine {
                time: secs(time_ms),
                level: LogLevel::Warning,
                message: format!("{n} more lines omitted (log capped at {} lines)", self.cap),
            });
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn cap_keeps_first_lines_and_counts_the_rest() {
        let mut b = LogBook::new(2);
        for i in 0..5 {
            b.push(i * 1000, LogLevel::Info, || format!("line {i}"));
        }
        let lines = b.finish(9_999);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].message, "line 1");
        assert_eq!(lines[2].message, "3 more lines omitted (log capped at 2 lines)");
        assert_eq!(lines[2].to_results_string(), "9 ||| 2 ||| 3 more lines omitted (log capped at 2 lines)");
    }

    #[test]
    fn levels_serialize_as_numbers() {
        assert_eq!(u8::from(LogLevel::Custom), 4);
        assert_eq!(LogLevel::try_from(1u8), Ok(LogLevel::Trade));
        assert!(LogLevel::try_from(5u8).is_err());
        assert_eq!(LogLevel::Error.name(), "error");
    }
}
