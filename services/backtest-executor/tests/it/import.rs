//! `import-candles`: the marketdata CSVs, idempotently.

use crate::support::marketdata;
use backtest_executor::MIGRATIONS;
use std::path::Path;
use test_support::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn importing_a_file_twice_stores_each_candle_once() {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let db = TestDb::new("backtest", MIGRATIONS, &migrations_dir).await;
    let file = marketdata("BTC_USDT-1h.csv");
    let run = || backtest_executor::usecase::import::run(db.url(), "SIM_BTC_USDT_", "1h", &file);
    let first = run().await.unwrap();
    assert_eq!((first.rows, first.inserted, first.skipped), (2166, 2166, 0));
    assert_eq!(first.first_open_time, Some(1_615_852_800));
    let second = run().await.unwrap();
    assert_eq!((second.rows, second.inserted, second.skipped), (2166, 0, 2166));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_markets_and_timeframes_are_refused() {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let db = TestDb::new("backtest", MIGRATIONS, &migrations_dir).await;
    let file = marketdata("BTC_USDT-1h.csv");
    let error = backtest_executor::usecase::import::run(db.url(), "BTC", "1h", &file).await.unwrap_err();
    assert!(error.to_string().contains("unknown market"), "{error}");
    let error = backtest_executor::usecase::import::run(db.url(), "SIM_BTC_USDT_", "1y", &file).await.unwrap_err();
    assert!(error.to_string().contains("timeframe"), "{error}");
}

#[test]
fn the_binary_imports_and_prints_json_counts() {
    // The subcommand is wired (help lists it); the import itself is tested above.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_backtest-executor"))
        .args(["import-candles", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--timeframe"));
}
