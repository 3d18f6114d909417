//! Every backtest ends: a job whose runs keep dying fails after three claims, a range is
//! bounded, the lease of a live run is renewed by a timer, and the engine runs off the async
//! runtime.

use crate::support::{BTC_1M_CANDLES, BTC_1M_FIRST, GRID, World};
use backtest_executor::settings::WorkerSettings;
use backtest_executor::usecase::worker::{Outcome, Workers};
use bus::BusError;
use bus::RequestError;
use bus::messages::backtest::{StartBacktest, StartBacktestReply};
use bus::messages::idempotency::{Command, Replayable};
use diesel_async::SimpleAsyncConnection;
use serde_json::value::RawValue;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

fn workers() -> WorkerSettings {
    WorkerSettings { workers: 1, poll_interval_ms: 100, ..WorkerSettings::default() }
}

const MINUTE: i64 = 60;

#[tokio::test(flavor = "multi_thread")]
async fn a_range_of_more_than_five_million_candles_is_refused_once_history_exists() {
    let world = World::new().await;
    let _executor = world.executor(workers()).await;
    let too_long = world.start("spot_grid", GRID, BTC_1M_FIRST, BTC_1M_FIRST + 5_000_000 * MINUTE + 1).await;
    match too_long {
        Err(RequestError::Rejected(BusError::Invalid { message })) => {
            assert_eq!(message, "startUnix..endUnix spans more than 5000000 candles")
        }
        other => panic!("{other:?}"),
    }
    // Exactly 5,000,000 one-minute candles is allowed.
    let longest = world.start("spot_grid", GRID, BTC_1M_FIRST, BTC_1M_FIRST + 5_000_000 * MINUTE).await.unwrap();
    assert!(matches!(longest, StartBacktestReply::Started(_)), "{longest:?}");
    // Without any history, however long the range, the answer is still "no price history".
    match world.start("spot_grid", GRID, 1_000, 1_000 + 6_000_000 * MINUTE).await.unwrap() {
        StartBacktestReply::NoPriceHistory { .. } => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_runs_keep_dying_fails_after_three_claims() {
    let world = World::new().await;
    let _executor = world.executor(WorkerSettings { workers: 0, ..workers() }).await;
    let doomed = world.start_ok("spot_grid", GRID).await;
    let last_chance = world.start_ok("spot_grid", GRID).await;
    // As if workers had claimed them and died: three claims for one, two for the other, and
    // both leases run out.
    let statement = format!(
        "UPDATE backtests SET state = 'executing', claim_token = nextval('backtests_lease_tokens'),
                              lease_until = now() - interval '1 second',
                              attempts = CASE WHEN id = '{doomed}' THEN 3 ELSE 2 END"
    );
    world.db.connect().await.batch_execute(&statement).await.unwrap();
    let _workers = world.executor(workers()).await;

    let failed = world.wait_for(doomed, "the job to fail", |s| s.state == "failed").await;
    assert_eq!(failed.message, "stopped after 3 attempts");
    let completed = world.wait_for(last_chance, "the third claim to run", |s| s.state == "completed").await;
    assert_eq!(completed.progress, 100);
    assert_eq!(world.lease_of(last_chance).await.1, 3);
    assert_eq!(world.lease_of(doomed).await, (None, 3), "never claimed a fourth time");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_runs_lease_is_renewed_by_a_timer_and_never_taken_over() {
    let world = World::new().await;
    // Held at 10 % for several leases: only the timer can keep the lease.
    let holder = world.paused_executor(WorkerSettings { chunk_size: 5_000, lease_secs: 1, ..workers() }, 10).await;
    let id = world.start_ok("spot_grid", GRID).await;
    let first = world.wait_for(id, "the holder to run it", |s| s.state == "executing").await;
    let other = world.executor(WorkerSettings { lease_secs: 1, ..workers() }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = world.status(id).await;
    assert_eq!((status.state.as_str(), status.service_id.as_str()), ("executing", first.service_id.as_str()));
    assert_eq!(world.lease_of(id).await.1, 1, "claimed once");
    holder.release.release();
    let done = world.wait_for(id, "the holder to finish", |s| s.state == "completed").await;
    assert_eq!(done.service_id, first.service_id);
    assert_eq!(world.lease_of(id).await.1, 1);
    drop(other);
}

/// Records the thread of every `backtest.engine` span entered: where the engine ran.
#[derive(Clone, Default)]
struct EngineThreads(Arc<Mutex<Vec<String>>>);

impl<S> Layer<S> for EngineThreads
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        if ctx.span(id).is_some_and(|span| span.name() == "backtest.engine") {
            let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
            self.0.lock().unwrap().push(thread);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_runs_off_the_async_runtime() {
    let world = World::new().await;
    let (url, subjects) = (world.db.url().to_string(), world.subjects.clone());
    let threads = EngineThreads::default();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(threads.clone()));
    // The runtime's only thread, and the runtime's blocking threads, report to `threads`.
    let outcome = std::thread::Builder::new()
        .name("the-runtime".into())
        .spawn(move || {
            let for_blocking = dispatch.clone();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&for_blocking)))
                .build()
                .unwrap();
            let _reporting = tracing::dispatcher::set_default(&dispatch);
            runtime.block_on(async move {
                let database = platform::settings::DatabaseSettings {
                    url,
                    ..platform::settings::DatabaseSettings::local("unused")
                };
                let pool = platform::db::pool(&database).unwrap();
                let request = StartBacktest {
                    partner_id: domain::PartnerId::new(),
                    user_id: None,
                    script_type: "spot_grid".into(),
                    exchange_id: Some("SIM".into()),
                    settings: RawValue::from_string(GRID.to_string()).unwrap(),
                    start_unix: BTC_1M_FIRST,
                    end_unix: BTC_1M_FIRST + BTC_1M_CANDLES * MINUTE,
                };
                let started = backtest_executor::usecase::start::start(&pool, &subjects, "test", Command::new(request));
                assert!(matches!(started.await.unwrap(), Replayable::Fresh(StartBacktestReply::Started(_))));
                let workers = Workers {
                    pool,
                    settings: WorkerSettings::default(),
                    instance: "test".into(),
                    wake: Arc::new(Notify::new()),
                    pause_at_progress: None,
                    release: Arc::new(Notify::new()),
                };
                workers.run_once("test/w0", &CancellationToken::new()).await
            })
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(matches!(outcome.unwrap(), Some(Outcome::Completed(_))));
    let threads = threads.0.lock().unwrap().clone();
    // Five chunks of 10,000 candles, then finishing and encoding the run.
    assert_eq!(threads.len(), 6, "{threads:?}");
    assert!(
        threads.iter().all(|thread| thread != "the-runtime"),
        "the engine ran on the runtime's thread: {threads:?}"
    );
}
