//! Checks every backend service must pass, written once and called from each service's
//! integration tests.

use crate::{TestDb, TestNats, backend_settings, eventually};
use diesel::migration::MigrationSource;
use diesel_migrations::EmbeddedMigrations;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Migrations apply to an empty database, revert completely, and apply again.
///
/// `migrations` yields the service's `MIGRATIONS` (a const, but not `Clone`).
pub async fn migrations_round_trip(service: &str, migrations: fn() -> EmbeddedMigrations) {
    let db = TestDb::empty(service).await;
    let expected = MigrationSource::<diesel::pg::Pg>::migrations(&migrations()).expect("embedded migrations").len();
    let applied =
        platform::db::run_pending(db.url(), migrations()).await.expect("migrations apply to an empty database");
    assert_eq!(applied.len(), expected, "every migration applied");
    assert!(!applied.is_empty(), "{service} has at least one migration");
    let reverted = platform::db::revert_all(db.url(), migrations()).await.expect("every migration reverts");
    assert_eq!(reverted.len(), expected);
    assert_eq!(db.table_names().await, Vec::<String>::new(), "down migrations leave no table behind");
    let reapplied =
        platform::db::run_pending(db.url(), migrations()).await.expect("migrations apply again after a full revert");
    assert_eq!(reapplied, applied);
}

/// The binary refuses a bad setting at start-up, naming the key in its error.
pub fn binary_refuses_bad_setting(binary: &str) {
    let output = Command::new(binary)
        .arg("serve")
        .env("APP_NATS__PREFIX", "not.a.token")
        .env("APP_CONFIG_DIR", "/nonexistent")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "start-up must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nats.prefix") && stderr.contains("APP_NATS__PREFIX"), "error names the key: {stderr}");
}

/// A started service answers `/health`, `/ready` and its NATS ping; after shutdown it no
/// longer answers the ping.
pub async fn serves_health_ready_and_ping<A, Fut>(
    service: domain::ServiceName,
    migrations: EmbeddedMigrations,
    migrations_dir: &Path,
    start: impl FnOnce(platform::BackendSettings, tokio_util::sync::CancellationToken) -> Fut,
) where
    Fut: std::future::Future<Output = (std::net::SocketAddr, tokio::task::JoinHandle<A>)>,
{
    let db = TestDb::new(service.context(), migrations, migrations_dir).await;
    let nats = TestNats::new();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (addr, running) = start(backend_settings(&db, &nats), shutdown.clone()).await;

    let http = crate::http_client();
    let health = http.get(format!("http://{addr}/health")).send().await.expect("/health answers");
    assert_eq!(health.status(), 200);
    let ready = http.get(format!("http://{addr}/ready")).send().await.expect("/ready answers");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("JSON body");
    assert_eq!(body, serde_json::json!({"status": "ready", "checks": {"database": "up", "nats": "up"}}));

    let client = nats.client().await;
    let subjects = nats.subjects();
    let reply = bus::request(&client, &subjects.ping(service), &Default::default(), Duration::from_secs(2))
        .await
        .expect("the service answers its ping");
    assert_eq!(reply.service, service);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), running).await.expect("graceful shutdown ends").expect("no panic");
    // Drained: NATS itself answers "no responders" (a timeout would only mean a slow machine).
    eventually("the ping subscription to be gone", Duration::from_secs(10), || {
        let client = client.clone();
        let endpoint = subjects.ping(service);
        async move {
            match bus::request(&client, &endpoint, &Default::default(), Duration::from_secs(2)).await {
                Err(bus::RequestError::NoResponders { .. }) => Some(()),
                _ => None,
            }
        }
    })
    .await;
}

/// With its database unreachable, a service still starts, reports not ready, and refuses its
/// ping with `unavailable` (so the gateway's `/status` shows it down at once).
pub async fn refuses_ping_while_database_unreachable<A, Fut>(
    service: domain::ServiceName,
    start: impl FnOnce(platform::BackendSettings, tokio_util::sync::CancellationToken) -> Fut,
) where
    Fut: std::future::Future<Output = (std::net::SocketAddr, tokio::task::JoinHandle<A>)>,
{
    let nats = TestNats::new();
    let mut settings = platform::BackendSettings::local(0, "unused");
    settings.http.workers = 1;
    settings.nats = nats.settings();
    // A database that does not exist: connections fail the way they do when Postgres is down.
    settings.database.url = format!("postgres://tb:tb@127.0.0.1:5432/missing_{}", uuid::Uuid::new_v4().simple());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (addr, running) = start(settings, shutdown.clone()).await;

    let ready = crate::http_client().get(format!("http://{addr}/ready")).send().await.expect("/ready answers");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("JSON body");
    assert_eq!(body["checks"]["database"], "down", "{body}");

    let client = nats.client().await;
    let result =
        bus::request(&client, &nats.subjects().ping(service), &Default::default(), Duration::from_secs(5)).await;
    match result {
        Err(bus::RequestError::Rejected(bus::BusError::Unavailable { .. })) => {}
        other => panic!("expected an unavailable refusal, got {other:?}"),
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), running).await.expect("graceful shutdown ends").expect("no panic");
}

/// With the service's own config files (`config_dir`), its streams forget events before its
/// inbox forgets their ids, so a redelivered event is still recognised; and a retention
/// shorter than the streams' `max_age` stops start-up naming the key. `limits` reads
/// `(nats.jetstream.max_age_secs, database.retention.keep_secs)` from the service's settings.
pub fn streams_forget_events_before_the_inbox_does<S: platform::settings::Settings>(
    defaults: &S,
    config_dir: &str,
    limits: impl Fn(&S) -> (u64, u64),
) {
    let sources = |env: &[(&str, &str)]| platform::settings::Sources {
        config_dir: config_dir.into(),
        environment: "local".into(),
        env: env.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
    };
    let settings = platform::settings::load(defaults, &sources(&[])).expect("the service's own settings load");
    let (max_age, keep) = limits(&settings);
    assert!(max_age < keep, "streams keep events {max_age} s, the inbox their ids only {keep} s");
    let shorter_retention = [("APP_DATABASE__RETENTION__KEEP_SECS", "86400")];
    let error = platform::settings::load(defaults, &sources(&shorter_retention)).err().map(|e| e.to_string());
    assert!(
        error.as_deref().is_some_and(|error| error.contains("`nats.jetstream.max_age_secs`")),
        "a retention below the streams' max_age must be refused naming it: {error:?}"
    );
}
