//! Each backend's default database timeouts fit inside the gateway's default backend timeout,
//! read from the same compiled defaults and `config/` files the binaries load.

use platform::settings::{DatabaseSettings, Sources, load};
use std::path::PathBuf;

fn sources(service: &str) -> Sources {
    Sources {
        config_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../services").join(service).join("config"),
        environment: "local".into(),
        env: Default::default(),
    }
}

#[test]
fn every_backend_fails_a_stuck_database_step_before_the_gateway_gives_up() {
    let gateway = load(&gateway::Settings::default(), &sources("gateway")).unwrap();
    let backends: [(&str, DatabaseSettings); 4] = [
        ("trade-ledger", load(&trade_ledger::Settings::default(), &sources("trade-ledger")).unwrap().database),
        (
            "outbox-broker-fetcher",
            outbox_broker_fetcher::settings::load(&sources("outbox-broker-fetcher")).unwrap().database,
        ),
        (
            "backtest-executor",
            load(&backtest_executor::Settings::default(), &sources("backtest-executor")).unwrap().database,
        ),
        (
            "live-session-runner",
            load(&live_session_runner::Settings::default(), &sources("live-session-runner")).unwrap().database,
        ),
    ];
    for (service, database) in backends {
        assert!(
            database.max_step_ms() < gateway.gateway.backend_timeout_ms,
            "{service}: database.acquire_timeout_ms + connect_timeout_ms + statement_timeout_ms = {} ms must stay \
             below the gateway's gateway.backend_timeout_ms = {} ms",
            database.max_step_ms(),
            gateway.gateway.backend_timeout_ms
        );
    }
}
