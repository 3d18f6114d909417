//! The service's settings: the backend sections of `platform::settings`.

use platform::BackendSettings;

/// Compiled defaults: HTTP on 8084, database `live` on the local Postgres.
pub fn defaults() -> BackendSettings {
    BackendSettings::local(8084, "live")
}

#[cfg(test)]
mod growth_tests {
    use super::*;

    #[test]
    fn streams_forget_events_before_the_inbox_does() {
        test_support::conformance::streams_forget_events_before_the_inbox_does(
            &defaults(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
            |settings| (settings.nats.jetstream.max_age_secs, settings.database.retention.keep_secs),
        );
    }
}
