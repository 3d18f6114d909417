//! `log`: the format and filter of the process's log output.

use super::SettingsError;
use serde::{Deserialize, Serialize};

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event, for people.
    Compact,
    /// One JSON object per event, for log collectors.
    Json,
}

/// Logging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `compact` or `json`.
    pub format: LogFormat,
    /// A tracing filter (`info`, `trade_ledger=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Compact, level: "info".to_string() }
    }
}

impl LogSettings {
    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        tracing_subscriber::EnvFilter::try_new(&self.level)
            .map(|_| ())
            .map_err(|error| SettingsError::invalid("log.level", error.to_string()))
    }
}
