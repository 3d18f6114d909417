//! The service's settings: the backend sections of `platform::settings`.

use platform::BackendSettings;

/// Compiled defaults: HTTP on 8084, database `live` on the local Postgres.
pub fn defaults() -> BackendSettings {
    BackendSettings::local(8084, "live")
}

#[cfg(test)]
mod growth_tests {
    use super::*;
    use platform::settings::Sources;

    /// The service's own config files with `env` on top.
    fn sources(env: &[(&str, &str)]) -> Sources {
        Sources {
            config_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/config").into(),
            environment: "local".into(),
            env: env.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
        }
    }

    #[test]
    fn streams_forget_events_before_the_inbox_does() {
        let settings = platform::settings::load(&defaults(), &sources(&[])).unwrap();
        assert!(settings.nats.jetstream.max_age_secs < settings.database.retention.keep_secs);
        let shorter_retention = [("APP_DATABASE__RETENTION__KEEP_SECS", "86400")];
        let error = platform::settings::load(&defaults(), &sources(&shorter_retention)).unwrap_err().to_string();
        assert!(error.contains("`nats.jetstream.max_age_secs`"), "{error}");
    }
}
