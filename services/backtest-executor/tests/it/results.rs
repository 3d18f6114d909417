//! What a backtest stores is what the engine gives over the CSV's candles, to the last decimal:
//! results, every log line and every position, compared with a reference run of the engine
//! fed straight from the file (the engine's own decimal-to-tick conversion).

use crate::support::{BTC_1M_CANDLES, BTC_1M_FIRST, DCA, GRID, World, marketdata};
use backtest_executor::domain::results::{self, RunFacts};
use backtest_executor::settings::WorkerSettings;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use engine::{BotSettings, Candle, Engine, MarketSpec, Report, RunConfig};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The grid of the partner API's first-backtest example (README), over the month of minutes.
const SPEC_GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 25000, "upperLimit": 31000, "gridCount": 30,
    "investmentAsset": "Quote", "investmentAmount": 9900}"#;

fn engine_over_the_csv(script_type: &str, settings: &str) -> Report {
    let market = MarketSpec::sim_btc_usdt();
    let text = std::fs::read_to_string(marketdata("BTC_USDT-1m.csv")).unwrap();
    let candles: Vec<Candle> = text
        .lines()
        .skip(1)
        .map(|row| {
            let fields: Vec<&str> = row.split(',').collect();
            let number = |index: usize| Decimal::from_str(fields[index]).unwrap();
            let time = fields[0].parse::<i64>().unwrap() / 1000;
            Candle::from_decimals(&market, time, [number(1), number(2), number(3), number(4)], number(5)).unwrap()
        })
        .collect();
    assert_eq!(candles.len() as i64, BTC_1M_CANDLES);
    let bot: BotSettings =
        serde_json::from_str(&format!(r#"{{"type": "{script_type}", "settings": {settings}}}"#)).unwrap();
    let mut run = Engine::new(bot, market, RunConfig { interval_seconds: 60, ..RunConfig::default() }).unwrap();
    run.on_candles(&candles);
    run.finish()
}

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    results: String,
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = Array<Text>)]
    logs: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    reference_logs: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    positions: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    reference_positions: Vec<String>,
}

#[derive(diesel::QueryableByName)]
struct Times {
    #[diesel(sql_type = BigInt)]
    execution_start: i64,
    #[diesel(sql_type = BigInt)]
    execution_end: i64,
}

/// Runs the backtest through the executor and compares what it stored with the reference.
/// Both sides go through Postgres's `jsonb` text, so keys are in one order and every number
/// keeps its written digits.
async fn compare(world: &World, script_type: &str, settings: &str) -> Report {
    let id = world.start_ok(script_type, settings).await;
    let status = world
        .wait_for(id, "the backtest to finish", |s| {
            !["loading_script", "loading_data", "executing"].contains(&s.state.as_str())
        })
        .await;
    assert_eq!(status.state, "completed", "{status:?}");
    let mut connection = world.db.connect().await;
    let times: Times = diesel::sql_query(
        "SELECT (results->>'executionStart')::int8 AS execution_start, (results->>'executionEnd')::int8 AS execution_end \
         FROM backtests WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(&mut connection)
    .await
    .unwrap();
    let report = engine_over_the_csv(script_type, settings);
    let market = MarketSpec::sim_btc_usdt();
    let facts = RunFacts {
        backtest_id: id,
        start_unix: BTC_1M_FIRST,
        end_unix: BTC_1M_FIRST + BTC_1M_CANDLES * 60,
        execution_start: times.execution_start,
        execution_end: times.execution_end,
        user_id: None,
        futures: false,
    };
    let reference = results::results_json(&report, &market, &facts).unwrap();
    let logs: Vec<String> =
        report.logs.iter().map(|line| format!("{}|{}|{}", line.time, u8::from(line.level), line.message)).collect();
    let positions: Vec<String> =
        report.positions.iter().map(|position| results::compact_position(position, &report, &market, &facts)).collect();
    let stored: Stored = diesel::sql_query(
        "SELECT b.results::text AS results, $2::jsonb::text AS reference, \
           (SELECT coalesce(array_agg(l.time || '|' || l.level || '|' || l.message ORDER BY l.line_number), '{}') \
            FROM backtest_logs l WHERE l.backtest_id = b.id) AS logs, $3 AS reference_logs, \
           (SELECT coalesce(array_agg(p.body::text ORDER BY p.position_no), '{}') \
            FROM backtest_positions p WHERE p.backtest_id = b.id) AS positions, \
           (SELECT coalesce(array_agg(r::jsonb::text ORDER BY n), '{}') FROM unnest($4::text[]) WITH ORDINALITY AS t(r, n)) \
             AS reference_positions \
         FROM backtests b WHERE b.id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(&reference)
    .bind::<Array<Text>, _>(&logs)
    .bind::<Array<Text>, _>(&positions)
    .get_result(&mut connection)
    .await
    .unwrap();
    assert_eq!(stored.results, stored.reference, "{script_type}: results");
    assert_eq!(stored.logs.len(), report.logs.len(), "{script_type}: log lines");
    assert_eq!(stored.logs, stored.reference_logs, "{script_type}: logs");
    assert_eq!(stored.positions.len(), report.positions.len(), "{script_type}: positions");
    assert_eq!(stored.positions, stored.reference_positions, "{script_type}: positions");
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_results_are_the_engines_over_the_csv_to_the_last_decimal() {
    let world = World::new().await;
    let _executor =
        world.executor(WorkerSettings { workers: 2, poll_interval_ms: 100, ..WorkerSettings::default() }).await;
    let spec = compare(&world, "spot_grid", SPEC_GRID).await;
    // The spec backtest: unchanged since the engine was written.
    assert_eq!(spec.orders_stats.filled, 165);
    assert_eq!(spec.summary.fee_costs.to_string(), "54.596018");
    compare(&world, "spot_grid", GRID).await;
    compare(&world, "spot_dollar_cost_averaging", DCA).await;
}
