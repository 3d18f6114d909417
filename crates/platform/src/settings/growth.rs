//! The settings that bound growth: how long finished rows stay in a service's database
//! (`database.retention`), and the limits of the JetStream streams it creates
//! (`nats.jetstream`).

use super::{SettingsError, positive};
use bus::jetstream::StreamLimits;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The largest number of rows one pruning statement deletes: each batch is a short
/// transaction, so it never holds many row locks or a long snapshot.
pub const MAX_PRUNE_BATCH: u32 = 1_000;

/// How long finished rows are kept: published outbox rows, processed messages (the inbox) and
/// a service's own finished jobs. One replica at a time deletes what is older, in batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Age after which a finished row is deleted. The streams' `max_age` stays below it, so a
    /// consumer never forgets an event the stream could still deliver.
    pub keep_secs: u64,
    /// How often the pruner runs.
    pub interval_secs: u64,
    /// Rows deleted per statement, at most [`MAX_PRUNE_BATCH`].
    pub batch_size: u32,
}

impl Default for RetentionSettings {
    /// Seven days, pruned every ten minutes, 1,000 rows a statement.
    fn default() -> Self {
        Self { keep_secs: 7 * 24 * 3600, interval_secs: 600, batch_size: MAX_PRUNE_BATCH }
    }
}

impl RetentionSettings {
    /// [`Self::keep_secs`] as a duration.
    pub fn keep(&self) -> Duration {
        Duration::from_secs(self.keep_secs)
    }

    /// [`Self::interval_secs`] as a duration.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }

    /// Checks the section's values (`prefix` is its dotted key, e.g. `database.retention`).
    pub fn validate(&self, prefix: &str) -> Result<(), SettingsError> {
        positive(&format!("{prefix}.keep_secs"), self.keep_secs)?;
        positive(&format!("{prefix}.interval_secs"), self.interval_secs)?;
        if self.batch_size == 0 || self.batch_size > MAX_PRUNE_BATCH {
            return Err(SettingsError::invalid(
                &format!("{prefix}.batch_size"),
                format!("must be between 1 and {MAX_PRUNE_BATCH}"),
            ));
        }
        Ok(())
    }
}

/// The limits of the JetStream streams a service creates (see `bus::jetstream`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JetStreamSettings {
    /// How long an event stays in a stream; below `database.retention.keep_secs`.
    pub max_age_secs: u64,
    /// A stream's size bound in bytes (the oldest events are dropped first). The server
    /// reserves it against its storage when the stream is created.
    pub max_bytes: i64,
    /// Copies of each stream: 1 on a single server (which refuses more), 3 on a cluster.
    pub num_replicas: usize,
    /// How long the server drops a re-published `Nats-Msg-Id`; at most `max_age_secs`.
    pub duplicate_window_secs: u64,
}

impl Default for JetStreamSettings {
    fn default() -> Self {
        let limits = StreamLimits::default();
        Self {
            max_age_secs: limits.max_age.as_secs(),
            max_bytes: limits.max_bytes,
            num_replicas: limits.num_replicas,
            duplicate_window_secs: limits.duplicate_window.as_secs(),
        }
    }
}

/// NATS keeps at most this many copies of a stream.
const MAX_REPLICAS: usize = 5;

impl JetStreamSettings {
    /// The stream limits these settings define.
    pub fn limits(&self) -> StreamLimits {
        StreamLimits {
            max_age: Duration::from_secs(self.max_age_secs),
            max_bytes: self.max_bytes,
            num_replicas: self.num_replicas,
            duplicate_window: Duration::from_secs(self.duplicate_window_secs),
        }
    }

    /// Checks the section's values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        positive("nats.jetstream.max_age_secs", self.max_age_secs)?;
        if self.max_bytes <= 0 {
            return Err(SettingsError::invalid("nats.jetstream.max_bytes", "must be greater than 0"));
        }
        if !(1..=MAX_REPLICAS).contains(&self.num_replicas) {
            return Err(SettingsError::invalid(
                "nats.jetstream.num_replicas",
                format!("must be between 1 and {MAX_REPLICAS}"),
            ));
        }
        positive("nats.jetstream.duplicate_window_secs", self.duplicate_window_secs)?;
        if self.duplicate_window_secs > self.max_age_secs {
            return Err(SettingsError::invalid(
                "nats.jetstream.duplicate_window_secs",
                "must not exceed nats.jetstream.max_age_secs (NATS refuses such a stream)",
            ));
        }
        Ok(())
    }
}

/// Refuses streams that keep an event longer than the consumers remember having applied it:
/// a redelivery after the processed-message row was pruned would be applied a second time.
pub fn check_stream_age_below_retention(
    jetstream: &JetStreamSettings,
    retention: &RetentionSettings,
) -> Result<(), SettingsError> {
    if jetstream.max_age_secs >= retention.keep_secs {
        return Err(SettingsError::invalid(
            "nats.jetstream.max_age_secs",
            format!(
                "{} must stay below database.retention.keep_secs ({}): an event still in the stream after \
                 its processed-message row was pruned would be applied twice",
                jetstream.max_age_secs, retention.keep_secs
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{BackendSettings, Settings, Sources, load};
    use super::*;

    fn load_backend(env: &[(&str, &str)]) -> Result<BackendSettings, SettingsError> {
        let sources = Sources {
            config_dir: "/nonexistent".into(),
            environment: "local".into(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        load(&BackendSettings::local(8081, "ledger"), &sources)
    }

    #[test]
    fn by_default_streams_forget_events_before_consumers_do() {
        let settings = BackendSettings::local(8081, "ledger");
        settings.validate().unwrap();
        let (jetstream, retention) = (&settings.nats.jetstream, &settings.database.retention);
        assert_eq!(retention.keep(), Duration::from_secs(7 * 24 * 3600));
        assert_eq!(retention.batch_size, 1_000);
        assert_eq!(jetstream.limits(), StreamLimits::default());
        assert_eq!(jetstream.num_replicas, 1);
        assert!(jetstream.max_age_secs < retention.keep_secs);
    }

    #[test]
    fn a_stream_that_outlives_the_retention_is_refused_naming_the_key() {
        for env in [[("APP_NATS__JETSTREAM__MAX_AGE_SECS", "604800")], [("APP_DATABASE__RETENTION__KEEP_SECS", "3600")]]
        {
            let error = load_backend(&env).unwrap_err().to_string();
            assert!(
                error.contains("`nats.jetstream.max_age_secs`") && error.contains("APP_NATS__JETSTREAM__MAX_AGE_SECS"),
                "{error}"
            );
            assert!(error.contains("database.retention.keep_secs"), "{error}");
        }
        let shorter = load_backend(&[("APP_NATS__JETSTREAM__MAX_AGE_SECS", "3600")]).unwrap();
        assert_eq!(shorter.nats.jetstream.limits().max_age, Duration::from_secs(3600));
    }

    #[test]
    fn replicas_come_from_the_environment_within_what_nats_allows() {
        let three = load_backend(&[("APP_NATS__JETSTREAM__NUM_REPLICAS", "3")]).unwrap();
        assert_eq!(three.nats.jetstream.limits().num_replicas, 3);
        let cases = [
            ("APP_NATS__JETSTREAM__NUM_REPLICAS", "0", "nats.jetstream.num_replicas"),
            ("APP_NATS__JETSTREAM__NUM_REPLICAS", "6", "nats.jetstream.num_replicas"),
            ("APP_NATS__JETSTREAM__MAX_BYTES", "0", "nats.jetstream.max_bytes"),
            ("APP_NATS__JETSTREAM__DUPLICATE_WINDOW_SECS", "300000", "nats.jetstream.duplicate_window_secs"),
            ("APP_DATABASE__RETENTION__BATCH_SIZE", "1001", "database.retention.batch_size"),
            ("APP_DATABASE__RETENTION__BATCH_SIZE", "0", "database.retention.batch_size"),
            ("APP_DATABASE__RETENTION__INTERVAL_SECS", "0", "database.retention.interval_secs"),
        ];
        for (variable, value, key) in cases {
            let error = load_backend(&[(variable, value)]).unwrap_err().to_string();
            assert!(error.contains(&format!("`{key}`")), "{variable}={value}: {error}");
        }
    }
}

#[cfg(test)]
mod deployment_tests {
    use super::super::{BackendSettings, Sources, load};
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    const BACKENDS: [&str; 4] = ["trade-ledger", "outbox-broker-fetcher", "backtest-executor", "live-session-runner"];

    fn deploy() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s")
    }

    /// The shared sections' `APP_` variables of an env file (`KEY=VALUE` lines).
    fn shared_settings(file: &Path, into: &mut HashMap<String, String>) {
        let text = std::fs::read_to_string(file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        for line in text.lines().map(str::trim).filter(|line| !line.starts_with('#')) {
            if let Some((key, value)) = line.split_once('=')
                && ["APP_HTTP__", "APP_NATS__", "APP_DATABASE__", "APP_LOG__"].iter().any(|p| key.starts_with(p))
            {
                into.insert(key.to_string(), value.to_string());
            }
        }
    }

    #[test]
    fn the_prod_overlay_keeps_three_copies_of_every_stream_within_the_retention() {
        for service in BACKENDS {
            let mut env = HashMap::new();
            shared_settings(&deploy().join("base").join(service).join("config.env"), &mut env);
            shared_settings(&deploy().join("overlays/prod").join(service).join("config.env"), &mut env);
            let sources = Sources { config_dir: "/nonexistent".into(), environment: "production".into(), env };
            let settings = load(&BackendSettings::local(8081, "ledger"), &sources)
                .unwrap_or_else(|error| panic!("{service}: {error}"));
            assert_eq!(settings.nats.jetstream.num_replicas, 3, "{service}");
            assert!(settings.nats.jetstream.max_age_secs < settings.database.retention.keep_secs, "{service}");
        }
    }
}
