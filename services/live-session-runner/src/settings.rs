//! The service's settings: the backend sections of `platform::settings`.

use platform::BackendSettings;

/// Compiled defaults: HTTP on 8084, database `live` on the local Postgres.
pub fn defaults() -> BackendSettings {
    BackendSettings::local(8084, "live")
}
