//! The foundation every backend passes: migrations, settings, health, readiness and ping.

use backtest_executor::{App, MIGRATIONS};
use domain::ServiceName;
use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
async fn migrations_apply_to_an_empty_database_and_round_trip() {
    test_support::conformance::migrations_round_trip("backtest", || MIGRATIONS).await;
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    test_support::conformance::binary_refuses_bad_setting(env!("CARGO_BIN_EXE_backtest-executor"));
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_health_ready_and_ping_until_shut_down() {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    test_support::conformance::serves_health_ready_and_ping(
        ServiceName::BacktestExecutor,
        MIGRATIONS,
        &migrations_dir,
        |settings, shutdown| async move {
            let app =
                App::build(backtest_executor::Settings::with_backend(settings)).await.expect("the service starts");
            (app.health_addr(), tokio::spawn(app.run_until_stopped(shutdown)))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_its_ping_while_its_database_is_unreachable() {
    test_support::conformance::refuses_ping_while_database_unreachable(
        ServiceName::BacktestExecutor,
        |settings, shutdown| async move {
            let app = App::build(backtest_executor::Settings::with_backend(settings))
                .await
                .expect("the service starts without its database");
            (app.health_addr(), tokio::spawn(app.run_until_stopped(shutdown)))
        },
    )
    .await;
}
