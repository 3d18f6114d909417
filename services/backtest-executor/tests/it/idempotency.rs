//! `Idempotency-Key` on `start backtest`: a repeat replays the first reply, another request
//! with the key is refused, a repeat while the first still runs answers `conflict`.

use crate::support::{BTC_1M_FIRST, DCA, GRID, World};
use backtest_executor::settings::WorkerSettings;
use bus::messages::backtest::StartBacktestReply;
use bus::messages::idempotency::IdempotencyKey;
use bus::{BusError, RequestError};
use diesel_async::RunQueryDsl;

fn key(key: &str, hash: char) -> Option<IdempotencyKey> {
    Some(IdempotencyKey { key: key.to_string(), request_hash: hash.to_string().repeat(64) })
}

async fn backtests(world: &World) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut connection = world.db.connect().await;
    diesel::sql_query("SELECT count(*) FROM backtests").get_result::<Count>(&mut connection).await.unwrap().count
}

fn started(reply: StartBacktestReply) -> domain::BacktestId {
    match reply {
        StartBacktestReply::Started(started) => started.backtest_id,
        other => panic!("not started: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_keyed_start_runs_once_and_a_reused_key_is_refused() {
    let world = World::new().await;
    let _executor = world.executor(WorkerSettings { poll_interval_ms: 200, ..WorkerSettings::default() }).await;
    let end = BTC_1M_FIRST + 3600;
    let first = started(world.start_keyed(key("k-1", 'a'), "spot_grid", GRID, BTC_1M_FIRST, end).await.unwrap());
    let again = started(world.start_keyed(key("k-1", 'a'), "spot_grid", GRID, BTC_1M_FIRST, end).await.unwrap());
    assert_eq!(first, again, "the stored reply");
    assert_eq!(backtests(&world).await, 1);

    let refused = world.start_keyed(key("k-1", 'b'), "spot_dollar_cost_averaging", DCA, BTC_1M_FIRST, end).await;
    assert!(matches!(refused, Err(RequestError::Rejected(BusError::IdempotencyKeyReused { .. }))), "{refused:?}");
    assert_eq!(backtests(&world).await, 1);

    // A refusal is not stored: the key stays free for a valid request.
    let invalid = world.start_keyed(key("k-2", 'c'), "nope", GRID, BTC_1M_FIRST, end).await;
    assert!(matches!(invalid, Err(RequestError::Rejected(BusError::Invalid { .. }))), "{invalid:?}");
    let other = started(world.start_keyed(key("k-2", 'd'), "spot_grid", GRID, BTC_1M_FIRST, end).await.unwrap());
    assert_ne!(other, first);
    assert_eq!(backtests(&world).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_while_the_first_still_runs_is_a_conflict() {
    let world = World::new().await;
    let _executor = world.executor(WorkerSettings::default()).await;
    // Another request holds the key's lock (as the first one does while it runs).
    let mut holder = world.db.connect().await;
    diesel::sql_query("SELECT pg_advisory_lock(hashtextextended($1 || ':' || $2, 0))")
        .bind::<diesel::sql_types::Uuid, _>(*world.partner.as_uuid())
        .bind::<diesel::sql_types::Text, _>("busy")
        .execute(&mut holder)
        .await
        .unwrap();
    let end = BTC_1M_FIRST + 3600;
    let busy = world.start_keyed(key("busy", 'a'), "spot_grid", GRID, BTC_1M_FIRST, end).await;
    assert!(matches!(busy, Err(RequestError::Rejected(BusError::Conflict { .. }))), "{busy:?}");
    assert_eq!(backtests(&world).await, 0);
    // Released explicitly: a dropped connection closes (and frees its locks) in the background.
    diesel::sql_query("SELECT pg_advisory_unlock(hashtextextended($1 || ':' || $2, 0))")
        .bind::<diesel::sql_types::Uuid, _>(*world.partner.as_uuid())
        .bind::<diesel::sql_types::Text, _>("busy")
        .execute(&mut holder)
        .await
        .unwrap();
    started(world.start_keyed(key("busy", 'a'), "spot_grid", GRID, BTC_1M_FIRST, end).await.unwrap());
}
