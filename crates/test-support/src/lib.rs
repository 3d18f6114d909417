#![doc = include_str!("../README.md")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod conformance;
mod db;
mod nats;

pub use db::TestDb;
pub use nats::{PrivateNats, TEST_USER, TestNats, publish_event, sync};

use platform::settings::{BackendSettings, DatabaseSettings, HttpSettings, LogSettings};
use std::future::Future;
use std::time::{Duration, Instant};

/// Settings for a backend under test: HTTP on a free port, the test's database and prefix.
pub fn backend_settings(db: &TestDb, nats: &TestNats) -> BackendSettings {
    backend_settings_as(db, nats, TEST_USER)
}

/// [`backend_settings`] connecting to NATS as `user` (on a private server; see
/// [`TestNats::secured`]).
pub fn backend_settings_as(db: &TestDb, nats: &TestNats, user: &str) -> BackendSettings {
    BackendSettings {
        http: HttpSettings { port: 0, workers: 1, ..HttpSettings::local(0) },
        nats: nats.settings_as(user),
        database: DatabaseSettings {
            url: db.url().to_string(),
            max_connections: 4,
            ..DatabaseSettings::local("unused")
        },
        log: LogSettings::default(),
    }
}

/// Polls `check` every 20 ms until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An HTTP client builder for tests. The workspace's reqwest has rustls without a built-in
/// crypto provider (the fetcher's Tradier client installs ring; see its README), so a process
/// must install a provider before it builds any client: this does, once.
pub fn http() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A default HTTP client for tests (see [`http`]).
pub fn http_client() -> reqwest::Client {
    http().build().expect("an HTTP client")
}

/// Logs to the test's output when `RUST_LOG` is set.
pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    }
}
