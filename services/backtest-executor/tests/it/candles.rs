//! Candle storage: imports replace exactly their range and repeat as no-ops, range reads are
//! exact at chunk edges, the read-ahead hands over every candle once and in order from one
//! snapshot, and the per-candle rows of an older database move into chunks.

use crate::support::marketdata;
use backtest_executor::MIGRATIONS;
use backtest_executor::store::{candles, chunk};
use backtest_executor::usecase::import::{self, ImportReport};
use backtest_executor::usecase::reader::{ReadError, ReadPlan, Reader};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use engine::{Candle, MarketSpec};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use test_support::TestDb;

const BTC: &str = "SIM_BTC_USDT_";
const MINUTE: i64 = 60;
/// A period boundary of 1-minute chunks (a multiple of 600,000 s).
const BOUNDARY: i64 = 1_890_000_000;

async fn database() -> TestDb {
    let migrations_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    TestDb::new("backtest", MIGRATIONS, &migrations_dir).await
}

fn pool(db: &TestDb) -> platform::db::PgPool {
    let settings = platform::settings::DatabaseSettings {
        url: db.url().to_string(),
        ..platform::settings::DatabaseSettings::local("unused")
    };
    platform::db::pool(&settings).unwrap()
}

/// A candle of the synthetic series: its prices follow the minute, so every candle differs.
fn line(time: i64, bump: i64) -> String {
    let base = 30_000 + (time / MINUTE) % 997 + bump;
    format!("{},{base}.5,{}.25,{}.75,{base}.1,{}.{:05}\n", time * 1000, base + 3, base - 2, time % 89, time % 100_000)
}

/// Writes a CSV of the candles at `times` (prices shifted by `bump`) to a fresh file.
fn csv(times: impl IntoIterator<Item = i64>, bump: i64) -> PathBuf {
    let mut text = String::from("timestamp_ms,open,high,low,close,volume\n");
    times.into_iter().for_each(|time| text.push_str(&line(time, bump)));
    let path = std::env::temp_dir().join(format!("candles-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).unwrap();
    path
}

async fn import(db: &TestDb, timeframe: &str, file: &Path) -> ImportReport {
    import::run(db.url(), BTC, timeframe, file).await.unwrap()
}

/// The candles of a CSV as the engine would build them from the text (its own rounding),
/// opening in `[start, end)`.
fn expected(files: &[&Path], start: i64, end: i64) -> Vec<Candle> {
    let market = MarketSpec::sim_btc_usdt();
    let mut by_time = std::collections::BTreeMap::new();
    for file in files {
        for row in std::fs::read_to_string(file).unwrap().lines().skip(1) {
            let fields: Vec<&str> = row.split(',').collect();
            let number = |index: usize| Decimal::from_str(fields[index]).unwrap();
            let time = fields[0].parse::<i64>().unwrap() / 1000;
            let candle =
                Candle::from_decimals(&market, time, [number(1), number(2), number(3), number(4)], number(5)).unwrap();
            by_time.insert(time, candle);
        }
    }
    by_time.into_values().filter(|candle| (start..end).contains(&candle.open_time)).collect()
}

/// Everything a reader hands over for `[start, end)`, batch by batch.
async fn read(db: &TestDb, start: i64, end: i64, batch: usize) -> Vec<Vec<Candle>> {
    let plan = ReadPlan { market: BTC.into(), timeframe_secs: 60, start, end, price_decimals: 2, batch };
    let mut reader = Reader::start(pool(db), plan);
    let mut batches = Vec::new();
    while let Some(next) = reader.next().await {
        batches.push(next.unwrap());
    }
    batches
}

async fn stored_chunks(db: &TestDb) -> Vec<(i64, i32, i16, String)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        period_start: i64,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        candles: i32,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        format: i16,
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT period_start, candles, format, xmin::text AS version FROM candle_chunks ORDER BY period_start",
    )
    .load(&mut db.connect().await)
    .await
    .unwrap();
    rows.into_iter().map(|row| (row.period_start, row.candles, row.format, row.version)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_import_changes_nothing_and_an_overlapping_one_replaces_exactly_its_range() {
    let db = database().await;
    // 300 candles across a period boundary: two chunks.
    let first = BOUNDARY - 100 * MINUTE;
    let original: Vec<i64> = (0..300).map(|i| first + i * MINUTE).collect();
    let a = csv(original.clone(), 0);
    let report = import(&db, "1m", &a).await;
    assert_eq!((report.rows, report.inserted, report.skipped, report.chunks_written), (300, 300, 0, 2));
    let chunks = stored_chunks(&db).await;
    assert_eq!(
        chunks.iter().map(|c| (c.0, c.1, c.2)).collect::<Vec<_>>(),
        [(BOUNDARY - 600_000, 100, 1), (BOUNDARY, 200, 1)]
    );

    let again = import(&db, "1m", &a).await;
    assert_eq!((again.inserted, again.skipped, again.replaced, again.removed, again.chunks_written), (0, 300, 0, 0, 0));
    assert_eq!(stored_chunks(&db).await, chunks, "no row was rewritten");

    // Over candles 50..=349: other prices, candle 60 missing, 50 new candles after the end.
    let overlap: Vec<i64> = (50..350).filter(|i| *i != 60).map(|i| first + i * MINUTE).collect();
    let b = csv(overlap, 7);
    let report = import(&db, "1m", &b).await;
    assert_eq!((report.inserted, report.replaced, report.skipped, report.removed), (50, 249, 0, 1), "{report:?}");
    let everything = read(&db, 0, i64::MAX, 10_000).await.concat();
    let mut want = expected(&[&a], first, first + 50 * MINUTE);
    want.extend(expected(&[&b], 0, i64::MAX));
    assert_eq!(everything, want);
    assert_eq!(everything.len(), 349);

    // A file inside one chunk that lacks a stored candle removes only that one.
    let c = csv((10..20).filter(|i| *i != 15).map(|i| first + i * MINUTE), 0);
    let report = import(&db, "1m", &c).await;
    assert_eq!((report.skipped, report.removed, report.chunks_written), (9, 1, 1), "{report:?}");
    assert_eq!(read(&db, 0, i64::MAX, 10_000).await.concat().len(), 348);
    for file in [a, b, c] {
        std::fs::remove_file(file).ok();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_are_refused_and_change_nothing() {
    let db = database().await;
    let good = csv((0..10).map(|i| BOUNDARY + i * MINUTE), 0);
    import(&db, "1m", &good).await;
    let before = stored_chunks(&db).await;
    let cases = [
        ("timestamp_ms,open,high,low,close,volume\n60000,1,1,1,1,1\n60000,2,2,2,2,1\n", "repeats line 2"),
        ("timestamp_ms,open,high,low,close,volume\n60000,1e3,1,1,1,1\n", "open is not a decimal"),
        ("timestamp_ms,open,high,low,close,volume\n60500,1,1,1,1,1\n", "not a whole second"),
        ("timestamp_ms,open,high,low,close,volume\n60000,1,1,1,1\n", "expected 6 fields"),
    ];
    for (text, message) in cases {
        let path = std::env::temp_dir().join(format!("bad-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        let error = import::run(db.url(), BTC, "1m", &path).await.unwrap_err().to_string();
        assert!(error.contains(message), "{message}: {error}");
        std::fs::remove_file(path).ok();
    }
    assert_eq!(stored_chunks(&db).await, before);
    std::fs::remove_file(good).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn range_reads_are_exact_at_chunk_edges() {
    let db = database().await;
    // Three chunks: the end of one period, a whole-ish one with a gap, the start of the next.
    let period = chunk::period_secs(60);
    let times: Vec<i64> = (BOUNDARY - 50 * MINUTE..BOUNDARY + period + 50 * MINUTE)
        .step_by(MINUTE as usize)
        .filter(|time| !(BOUNDARY + 1_000 * MINUTE..BOUNDARY + 1_100 * MINUTE).contains(time))
        .collect();
    let file = csv(times.clone(), 0);
    import(&db, "1m", &file).await;
    let last_of_middle = BOUNDARY + period - MINUTE;
    let ranges = [
        ("everything", 0, i64::MAX),
        ("from a chunk's first candle", BOUNDARY, BOUNDARY + 10 * MINUTE),
        ("up to a chunk's last candle", BOUNDARY + 9_990 * MINUTE, last_of_middle + MINUTE),
        ("only a chunk's last candle", last_of_middle, last_of_middle + 1),
        ("only a chunk's first candle", BOUNDARY, BOUNDARY + 1),
        ("inside one chunk", BOUNDARY + 17 * MINUTE + 30, BOUNDARY + 42 * MINUTE),
        ("across three chunks", BOUNDARY - 3 * MINUTE, BOUNDARY + period + 3 * MINUTE),
        ("inside a gap", BOUNDARY + 1_010 * MINUTE, BOUNDARY + 1_090 * MINUTE),
        ("before everything", 0, BOUNDARY - 50 * MINUTE),
    ];
    for (what, start, end) in ranges {
        let want = expected(&[&file], start, end);
        let got = read(&db, start, end, 10_000).await.concat();
        assert_eq!(got.len(), want.len(), "{what}");
        assert_eq!(got, want, "{what}");
    }
    let mut connection = db.connect().await;
    // The finest timeframe with a candle in the range; none for a range inside a gap.
    let tf = async |connection: &mut AsyncPgConnection, start: i64, end: i64| {
        candles::timeframes(connection, BTC, start, end).await.unwrap()
    };
    assert_eq!(tf(&mut connection, BOUNDARY + 1_010 * MINUTE, BOUNDARY + 1_090 * MINUTE).await, Vec::<i32>::new());
    assert_eq!(tf(&mut connection, BOUNDARY + 1_010 * MINUTE, BOUNDARY + 1_101 * MINUTE).await, [60]);
    assert_eq!(tf(&mut connection, last_of_middle, last_of_middle + 1).await, [60]);
    assert_eq!(tf(&mut connection, last_of_middle + 1, last_of_middle + MINUTE).await, Vec::<i32>::new());
    let hours = csv((0..48).map(|i| BOUNDARY - 24 * 3_600 + i * 3_600), 0);
    import(&db, "1h", &hours).await;
    assert_eq!(tf(&mut connection, BOUNDARY, BOUNDARY + 3_600).await, [60, 3_600]);
    assert_eq!(tf(&mut connection, BOUNDARY - 20 * 3_600, BOUNDARY - 19 * 3_600).await, [3_600]);
    std::fs::remove_file(file).ok();
    std::fs::remove_file(hours).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_read_ahead_hands_over_every_candle_once_in_order_from_one_snapshot() {
    let db = database().await;
    let times: Vec<i64> = (0..25_000).map(|i| BOUNDARY + i * MINUTE).collect();
    let file = csv(times.clone(), 0);
    import(&db, "1m", &file).await;
    let (start, end) = (BOUNDARY + 5 * MINUTE, BOUNDARY + 24_000 * MINUTE);
    let want = expected(&[&file], start, end);

    // Batches of 7: all full but the last, together exactly the range.
    let batches = read(&db, start, end, 7).await;
    assert!(batches[..batches.len() - 1].iter().all(|batch| batch.len() == 7));
    assert_eq!(batches.concat(), want);

    // A slow consumer, while an import rewrites the rest of the range: the run still reads
    // the candles of the moment it started.
    let plan = ReadPlan { market: BTC.into(), timeframe_secs: 60, start, end, price_decimals: 2, batch: 1_000 };
    let mut reader = Reader::start(pool(&db), plan.clone());
    let mut got = reader.next().await.unwrap().unwrap();
    let rewrite = csv(times.clone(), 11);
    assert_eq!(import(&db, "1m", &rewrite).await.replaced, 25_000);
    while let Some(batch) = reader.next().await {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        got.extend(batch.unwrap());
    }
    assert_eq!(got, want);
    assert_eq!(read(&db, start, end, 1_000).await.concat(), expected(&[&rewrite], start, end));

    // A consumer that stops listening: the reader ends and gives its connection back.
    let reading = pool(&db);
    let mut reader = Reader::start(reading.clone(), plan);
    reader.next().await.unwrap().unwrap();
    drop(reader);
    test_support::eventually("the reader's connection back in the pool", std::time::Duration::from_secs(5), || async {
        let status = reading.status();
        (status.size == status.available).then_some(())
    })
    .await;
    std::fs::remove_file(file).ok();
    std::fs::remove_file(rewrite).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_candle_the_engine_refuses_is_named() {
    let db = database().await;
    let path = std::env::temp_dir().join(format!("inconsistent-{}.csv", uuid::Uuid::new_v4()));
    let text = format!("timestamp_ms,open,high,low,close,volume\n{}000,100,99,98,100,1\n", BOUNDARY);
    std::fs::write(&path, text).unwrap();
    import(&db, "1m", &path).await;
    let plan =
        ReadPlan { market: BTC.into(), timeframe_secs: 60, start: 0, end: i64::MAX, price_decimals: 2, batch: 10 };
    let mut reader = Reader::start(pool(&db), plan);
    match reader.next().await {
        Some(Err(error @ ReadError::BadCandle { .. })) => {
            assert!(error.to_string().starts_with(&format!("Bad candle at {BOUNDARY}")), "{error}")
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(path).ok();
}

/// Applies or reverts migrations with diesel's (synchronous) harness on a blocking thread.
async fn harness<T: Send + 'static>(
    url: &str,
    work: impl FnOnce(&mut diesel_async::async_connection_wrapper::AsyncConnectionWrapper<AsyncPgConnection>) -> T
    + Send
    + 'static,
) -> T {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut connection = <diesel_async::async_connection_wrapper::AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url).unwrap();
        work(&mut connection)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn per_candle_rows_of_an_older_database_move_into_chunks() {
    use diesel_migrations::MigrationHarness;
    let db = database().await;
    // Back to the layout before chunks: revert migrations until `candles` is back.
    harness(db.url(), |connection| {
        let chunked = |version: &diesel::migration::MigrationVersion| version.to_string().as_str() >= "20261208000001";
        while connection.applied_migrations().unwrap().iter().any(chunked) {
            connection.revert_last_migration(MIGRATIONS).unwrap();
        }
    })
    .await;
    // Rows as the old import stored them (numeric as written: trailing zeros, varied scales).
    let file = marketdata("BTC_USDT-1h.csv");
    let mut statement = String::from("INSERT INTO candles VALUES ");
    let text = std::fs::read_to_string(&file).unwrap();
    for (index, row) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = row.split(',').collect();
        // Some values written with trailing zeros: the value counts, not how it was written.
        let open = match (index % 3, f[1].contains('.')) {
            (0, true) => format!("{}00", f[1]),
            (0, false) => format!("{}.000", f[1]),
            _ => f[1].to_string(),
        };
        let separator = if index == 0 { "" } else { "," };
        statement.push_str(&format!(
            "{separator}('{BTC}', 3600, {}, {open}, {}, {}, {}, {})",
            f[0].parse::<i64>().unwrap() / 1000,
            f[2],
            f[3],
            f[4],
            f[5]
        ));
    }
    db.connect().await.batch_execute(&statement).await.unwrap();
    let moved = harness(db.url(), |connection| connection.run_pending_migrations(MIGRATIONS).unwrap().len()).await;
    assert!(moved >= 1);
    let chunks = stored_chunks(&db).await;
    assert!(!chunks.is_empty() && chunks.iter().all(|chunk| chunk.2 == 0), "{chunks:?}");
    assert_eq!(chunks.iter().map(|chunk| chunk.1).sum::<i32>(), 2_166);

    // Read as they are: the same candles the file gives.
    let plan =
        ReadPlan { market: BTC.into(), timeframe_secs: 3_600, start: 0, end: i64::MAX, price_decimals: 2, batch: 500 };
    let mut reader = Reader::start(pool(&db), plan);
    let mut got = Vec::new();
    while let Some(batch) = reader.next().await {
        got.extend(batch.unwrap());
    }
    assert_eq!(got, expected(&[&file], 0, i64::MAX));
    let mut connection = db.connect().await;
    assert_eq!(candles::timeframes(&mut connection, BTC, 1_615_852_800, 1_615_852_801).await.unwrap(), [3_600]);

    // The next import of the same file finds every candle stored, and rewrites the chunks
    // in the compact format once; the one after writes nothing.
    let report = import(&db, "1h", &file).await;
    assert_eq!((report.inserted, report.skipped, report.replaced, report.removed), (0, 2_166, 0, 0), "{report:?}");
    assert_eq!(report.chunks_written, chunks.len());
    assert!(stored_chunks(&db).await.iter().all(|chunk| chunk.2 == 1));
    assert_eq!(import(&db, "1h", &file).await.chunks_written, 0);
}
