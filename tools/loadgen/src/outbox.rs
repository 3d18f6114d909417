//! `just bench outbox`: participations through the Bot API in batches of 10 at a fixed rate,
//! then wait until every one is fetched from the local Tradier server and applied back in the
//! ledger. Reports participations fetched per second and commit → fetched latency.
//!
//! Latency is read from the ledger itself: `created_at` is the participation's transaction
//! time (its commit follows within the request) and `updated_at` the time the `order fetched`
//! outcome was applied, so it covers ledger outbox → JetStream → fetcher → broker → fetcher
//! outbox → JetStream → ledger.

use crate::fixtures;
use crate::gateway::Gateway;
use crate::say;
use crate::seed::Seed;
use anyhow::{Context, Result, bail};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel_async::RunQueryDsl;
use domain::TradeId;
use platform::db::PgPool;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Participations per request, as the issue asks.
const BATCH: usize = 10;
/// The latency target at the target rate.
const P99_TARGET_MS: f64 = 250.0;
/// How long to wait for stragglers after the load stops.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);

/// What one run measured.
#[derive(Debug, QueryableByName)]
struct Figures {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    fetched: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = Nullable<Double>)]
    p50_ms: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p99_ms: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    max_ms: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    span_s: Option<f64>,
}

/// Runs the benchmark at `rate` participations/s for `duration`. `Ok(false)` when the p99
/// target was missed.
pub async fn run(gateway: Gateway, pool: PgPool, seed: &Seed, rate: f64, duration: Duration) -> Result<bool> {
    let run_id: String = uuid::Uuid::new_v4().simple().to_string().chars().take(8).collect();
    let requests_per_second = rate / BATCH as f64;
    let total_requests = (requests_per_second * duration.as_secs_f64()).ceil() as u64;
    let trades = fixtures::new_trades(&pool, seed.bot_id, 1, &run_id, "outbox").await?;
    let trade = trades[0];
    say(&format!(
        "outbox run {run_id}: {rate} participations/s ({requests_per_second} requests of {BATCH}/s) for {} s, \
         bot {}, broker account {}",
        duration.as_secs(),
        seed.bot_slug,
        seed.broker_account_id
    ));

    let gateway = Arc::new(gateway);
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / requests_per_second);
    let path = format!("/api/bots/{}/participations", seed.bot_slug);
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..total_requests {
        // Open loop: request n leaves at its scheduled time whatever the earlier ones are doing.
        tokio::time::sleep_until((started + interval.mul_f64(n as f64)).into()).await;
        let body = batch_body(seed, trade, &run_id, n);
        let (gateway, errors, path) = (gateway.clone(), errors.clone(), path.clone());
        sends.spawn(async move {
            if gateway.post_ok(&path, body).await.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while sends.join_next().await.is_some() {}
    let load_time = started.elapsed();
    let failed_requests = AtomicU64::load(&errors, Ordering::Relaxed);
    say(&format!("sent {total_requests} requests in {:.1} s ({failed_requests} failed)", load_time.as_secs_f64()));

    let expected = (total_requests - failed_requests) as i64 * BATCH as i64;
    let waited = Instant::now();
    let figures = loop {
        let figures = measure(&pool, trade).await?;
        if figures.fetched + figures.failed >= expected || waited.elapsed() > SETTLE_LIMIT {
            break figures;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    report(&figures, rate);
    if figures.failed > 0 {
        say(&format!(
            "{} participations ended fetch_failed (see `outbox-broker-fetcher admin dead-letters`)",
            figures.failed
        ));
    }
    if figures.fetched + figures.failed < figures.total {
        bail!(
            "{} participations were still pending after {} s",
            figures.total - figures.fetched,
            SETTLE_LIMIT.as_secs()
        );
    }
    Ok(figures.p99_ms.is_some_and(|p99| p99 <= P99_TARGET_MS))
}

fn batch_body(seed: &Seed, trade: TradeId, run_id: &str, n: u64) -> Vec<u8> {
    let participations: Vec<_> = (0..BATCH)
        .map(|i| {
            json!({
                "botTradeId": trade,
                "userId": seed.user_id,
                "brokerAccountId": seed.broker_account_id,
                // Tradier order ids are numbers; the run id keeps runs apart.
                "brokerOrderId": format!("{}{:07}{i}", u32::from_str_radix(&run_id[..4], 16).unwrap_or(0), n),
                "childOrderIds": [],
            })
        })
        .collect();
    json!({ "participations": participations }).to_string().into_bytes()
}

async fn measure(pool: &PgPool, trade: TradeId) -> Result<Figures> {
    let mut connection = pool.get().await.context("connecting to the ledger database")?;
    diesel::sql_query(
        "SELECT count(*) AS total, \
                count(*) FILTER (WHERE fetch_status = 'fetched') AS fetched, \
                count(*) FILTER (WHERE fetch_status = 'fetch_failed') AS failed, \
                percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_ms, \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99_ms, \
                max(latency_ms) AS max_ms, \
                extract(epoch FROM max(done_at) - min(created_at))::float8 AS span_s \
         FROM (SELECT fetch_status, created_at, \
                      CASE WHEN fetch_status = 'fetched' THEN updated_at END AS done_at, \
                      CASE WHEN fetch_status = 'fetched' \
                           THEN extract(epoch FROM updated_at - created_at)::float8 * 1000 END AS latency_ms \
               FROM participations WHERE bot_trade_id = $1) AS p",
    )
    .bind::<diesel::sql_types::Uuid, _>(trade)
    .get_result(&mut connection)
    .await
    .context("reading the participations' fetch times")
}

fn report(figures: &Figures, rate: f64) {
    let ms = |value: Option<f64>| value.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    let throughput = figures.span_s.filter(|s| *s > 0.0).map(|s| figures.fetched as f64 / s);
    say(&format!(
        "participations {} | fetched {} | fetched/s {} | commit→fetched p50 {} ms, p99 {} ms, max {} ms",
        figures.total,
        figures.fetched,
        throughput.map(|t| format!("{t:.0}")).unwrap_or_else(|| "-".into()),
        ms(figures.p50_ms),
        ms(figures.p99_ms),
        ms(figures.max_ms),
    ));
    let verdict = match figures.p99_ms {
        Some(p99) if p99 <= P99_TARGET_MS => "met",
        Some(_) => "MISSED",
        None => "not measured",
    };
    say(&format!("target p99 ≤ {P99_TARGET_MS} ms at {rate} participations/s: {verdict}"));
}
