//! Logging through tracing-subscriber: compact lines for people, JSON for log collectors.

use crate::settings::{LogFormat, LogSettings};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The NATS client writes each message's whole payload at TRACE, and some payloads carry
/// secrets (a partner user's exchange keys on their way to the fetcher): it never logs below
/// DEBUG, whatever the filter asks.
const NATS_CLIENT_CEILING: &str = "async_nats=debug";

/// The filter for `level` (a tracing filter such as `info` or `trade_ledger=debug,info`), with
/// the NATS client capped at DEBUG.
pub fn filter(level: &str) -> EnvFilter {
    let filter = EnvFilter::new(level);
    // A constant that parses (the test below shows the cap holds).
    match NATS_CLIENT_CEILING.parse() {
        Ok(ceiling) => filter.add_directive(ceiling),
        Err(_) => filter,
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `log.level`. A second call
/// (tests start several services in one process) keeps the first subscriber.
pub fn init(settings: &LogSettings) {
    let level = std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or_else(|_| settings.level.clone());
    let filter = filter(&level);
    // Colours only on a terminal: `just up` writes logs to files.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _already_installed = match settings.format {
        LogFormat::Compact => builder.compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nats_client_never_logs_payloads_even_at_trace() {
        for level in ["trace", "async_nats=trace", "info,async_nats=trace"] {
            let filter = filter(level).to_string();
            assert!(filter.contains("async_nats=debug"), "{level}: {filter}");
            assert!(!filter.contains("async_nats=trace"), "{level}: {filter}");
        }
    }
}
