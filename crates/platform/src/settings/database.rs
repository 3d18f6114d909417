//! `database`: the service's own Postgres, its pool and timeouts, and how long finished rows
//! stay.

use super::{RetentionSettings, SettingsError, positive};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The service's own Postgres database.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Pool size.
    pub max_connections: usize,
    /// How long a caller waits for a free connection before failing.
    pub acquire_timeout_ms: u64,
    /// How long opening a new connection may take.
    pub connect_timeout_ms: u64,
    /// Postgres `statement_timeout` set on every connection: no query holds locks forever.
    ///
    /// With the two timeouts above it must stay below the gateway's
    /// `gateway.backend_timeout_ms` (see [`DatabaseSettings::max_step_ms`]), so that a
    /// request stuck on the database fails in the service, which answers, before the gateway
    /// gives up on it.
    pub statement_timeout_ms: u64,
    /// How long finished rows stay (outbox, inbox, finished jobs).
    #[serde(default)]
    pub retention: RetentionSettings,
}

impl DatabaseSettings {
    /// Local defaults for database `name`.
    pub fn local(name: &str) -> Self {
        Self {
            url: format!("postgres://tb:tb@127.0.0.1:5432/{name}"),
            max_connections: 16,
            // 1 + 1 + 2.5 s: below the gateway's 5 s backend timeout (see `max_step_ms`).
            acquire_timeout_ms: 1_000,
            connect_timeout_ms: 1_000,
            statement_timeout_ms: 2_500,
            retention: RetentionSettings::default(),
        }
    }

    /// The longest one database step of a request can take before it fails: waiting for a
    /// pooled connection, opening it, and one statement. Every service keeps it below the
    /// gateway's `gateway.backend_timeout_ms`; a request of several steps is bounded by its
    /// deadline instead (a write whose deadline passed rolls back; see `bus::deadline`).
    pub fn max_step_ms(&self) -> u64 {
        self.acquire_timeout_ms.saturating_add(self.connect_timeout_ms).saturating_add(self.statement_timeout_ms)
    }

    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(SettingsError::invalid("database.url", "must start with postgres://"));
        }
        if self.max_connections == 0 {
            return Err(SettingsError::invalid("database.max_connections", "must be at least 1"));
        }
        positive("database.acquire_timeout_ms", self.acquire_timeout_ms)?;
        positive("database.connect_timeout_ms", self.connect_timeout_ms)?;
        positive("database.statement_timeout_ms", self.statement_timeout_ms)?;
        self.retention.validate("database.retention")
    }
}

/// The URL without its password, for logs.
pub fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => match url[scheme_end + 3..at].split_once(':') {
            Some((user, _password)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
            // A bare token (`nats://<token>@host`) is all secret.
            None => format!("{}***{}", &url[..scheme_end + 3], &url[at..]),
        },
        _ => url.to_string(),
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("retention", &self.retention)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_debug_output() {
        let settings = DatabaseSettings::local("ledger");
        let debug = format!("{settings:?}");
        assert!(debug.contains("tb:***@127.0.0.1"), "{debug}");
        assert!(!debug.contains("tb:tb@"), "{debug}");
    }
}
