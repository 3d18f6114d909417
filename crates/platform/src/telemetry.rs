//! Logging through tracing-subscriber: compact lines for people, JSON for log collectors.

use crate::settings::{LogFormat, LogSettings};
use std::io::IsTerminal;
use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterFn, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The NATS client writes each message's whole payload at TRACE, and some payloads carry
/// secrets (a partner user's exchange keys on their way to the fetcher): it never logs at
/// TRACE, whatever the filter asks. The directive below drops those events where they are
/// emitted; [`no_nats_payloads`] drops them again after any filter, since a more specific
/// directive (`async_nats::connection=trace`) would win over a directive.
const NATS_CLIENT_CEILING: &str = "async_nats=debug";

/// The filter for `level` (a tracing filter such as `info` or `trade_ledger=debug,info`), with
/// the NATS client capped at DEBUG. A directive sets a level rather than capping it, so the
/// ceiling is added only to a filter that asks for TRACE somewhere: added to `info`, it would
/// turn the client's DEBUG lines on.
pub fn filter(level: &str) -> EnvFilter {
    let filter = EnvFilter::new(level);
    if !level.to_ascii_lowercase().contains("trace") {
        return filter;
    }
    // A constant that parses (the test below shows the cap holds).
    match NATS_CLIENT_CEILING.parse() {
        Ok(ceiling) => filter.add_directive(ceiling),
        Err(_) => filter,
    }
}

/// A global filter that refuses every TRACE event of the NATS client, under any target of it.
pub fn no_nats_payloads() -> FilterFn<fn(&Metadata<'_>) -> bool> {
    filter_fn(|metadata| !(metadata.target().starts_with("async_nats") && *metadata.level() == Level::TRACE))
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `log.level`. A second call
/// (tests start several services in one process) keeps the first subscriber.
pub fn init(settings: &LogSettings) {
    let level = std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or_else(|_| settings.level.clone());
    // Colours only on a terminal: `just up` writes logs to files.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&level))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _already_installed = match settings.format {
        LogFormat::Compact => builder.compact().finish().with(no_nats_payloads()).try_init(),
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(true).finish().with(no_nats_payloads()).try_init()
        }
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

    #[test]
    fn the_ceiling_never_raises_the_nats_clients_level() {
        for level in ["info", "warn", "trade_ledger=debug,info", ""] {
            let filter = filter(level).to_string();
            assert!(!filter.contains("async_nats"), "{level}: {filter}");
        }
    }

    #[test]
    fn no_directive_lets_a_nats_payload_through() {
        type Buffer = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;
        #[derive(Clone)]
        struct Writer(Buffer);
        impl std::io::Write for Writer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().map(|mut buffer| buffer.extend_from_slice(bytes)).ok();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = Writer(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter("trace,async_nats::connection=trace"))
            .with_writer(move || writer.clone())
            .finish()
            .with(no_nats_payloads());
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "async_nats::connection", "payload: secret-key");
            tracing::debug!(target: "async_nats::connection", "connected");
            tracing::trace!(target: "trade_ledger", "ours");
        });
        let text =
            String::from_utf8(buffer.lock().map(|buffer| buffer.clone()).unwrap_or_default()).unwrap_or_default();
        assert!(!text.contains("secret-key"), "{text}");
        assert!(text.contains("connected") && text.contains("ours"), "{text}");
    }
}
