//! The foundation every backend passes: migrations, settings, health, readiness and ping.

use domain::ServiceName;
use outbox_broker_fetcher::{App, MIGRATIONS};
use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
async fn migrations_apply_to_an_empty_database_and_round_trip() {
    test_support::conformance::migrations_round_trip("fetcher", || MIGRATIONS).await;
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    test_support::conformance::binary_refuses_bad_setting(env!("CARGO_BIN_EXE_outbox-broker-fetcher"));
}

#[test]
fn the_binary_refuses_the_development_key_outside_local() {
    use base64::Engine;
    let development =
        base64::engine::general_purpose::STANDARD.encode(outbox_broker_fetcher::settings::DEVELOPMENT_KEY);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_outbox-broker-fetcher"))
        .arg("migrate")
        .env("APP_ENVIRONMENT", "production")
        .env("APP_CONFIG_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("config"))
        .env("APP_CREDENTIALS__ENCRYPTION_KEY", &development)
        .env("APP_DATABASE__URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!output.status.success(), "start-up must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("credentials.encryption_key") && stderr.contains("development key"), "{stderr}");
    assert!(!stderr.contains(&development), "the key is not printed: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_health_ready_and_ping_until_shut_down() {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    test_support::conformance::serves_health_ready_and_ping(
        ServiceName::OutboxBrokerFetcher,
        MIGRATIONS,
        &migrations_dir,
        |settings, shutdown| async move {
            let app =
                App::build(outbox_broker_fetcher::Settings::with_backend(settings)).await.expect("the service starts");
            (app.health_addr(), tokio::spawn(app.run_until_stopped(shutdown)))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_its_ping_while_its_database_is_unreachable() {
    test_support::conformance::refuses_ping_while_database_unreachable(
        ServiceName::OutboxBrokerFetcher,
        |settings, shutdown| async move {
            let app = App::build(outbox_broker_fetcher::Settings::with_backend(settings))
                .await
                .expect("the service starts without its database");
            (app.health_addr(), tokio::spawn(app.run_until_stopped(shutdown)))
        },
    )
    .await;
}
