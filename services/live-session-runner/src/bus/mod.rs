//! What the runner takes from the bus, each handed to its usecase:
//!
//! - `hosted bot changed`, through the durable consumer `bus::consumers::LIVE_HOSTED_BOTS`, to
//!   the runs of hosted bots (a newer revision only); the runs' owners are woken after each
//!   batch;
//! - `qry.live.bot_orders.v1`, `bot_logs.v1`, `bot_positions.v1` and `position_orders.v1`: a
//!   hosted bot's open orders, log and positions (marked at the latest quotes);
//! - `qry.live.preview_grid.v1`: a grid bot's preview at the latest quote of its market;
//! - `cmd.live.send_signal.v1` and `qry.live.signal.v1`: a partner's signals with one receipt
//!   per bot.
//!
//! Its requests to the ledger (the reconciliation's `hosted_bot_revisions` and
//! `hosted_bot_definitions`) are in `usecase::reconcile`; the quotes it hears are in `live`.

use crate::clock::SharedClock;
use crate::live::LastQuotes;
use crate::live::run::RunDefaults;
use crate::usecase::preview::PriceAge;
use crate::usecase::{hosted_bots, positions, preview, queries, signals};
use bus::consumers::LIVE_HOSTED_BOTS;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;
use std::sync::Arc;
use tokio::sync::Notify;

/// Starts the consumers and the responders; each finishes what it has in hand on shutdown.
/// `changed` is woken whenever runs were written.
pub fn start(
    backend: &Backend,
    changed: Arc<Notify>,
    last_quotes: LastQuotes,
    defaults: RunDefaults,
    clock: SharedClock,
    stale_after_ms: i64,
) {
    let preview_quotes = last_quotes.clone();
    consume_hosted_bot_changes(backend, changed);
    backend.respond("bot orders responder", backend.subjects.bot_orders(), |pool, request| async move {
        queries::bot_orders(&pool, request).await
    });
    backend.respond("bot logs responder", backend.subjects.bot_logs(), |pool, request| async move {
        queries::bot_logs(&pool, request).await
    });
    backend.respond("bot positions responder", backend.subjects.bot_positions(), move |pool, request| {
        let last_quotes = last_quotes.clone();
        async move { positions::bot_positions(&pool, &last_quotes, request).await }
    });
    backend.respond("grid preview responder", backend.subjects.preview_grid(), move |_pool, request| {
        let (quotes, defaults) = (preview_quotes.clone(), defaults.clone());
        let age = PriceAge { now_ms: clock.now_ms(), stale_after_ms };
        async move { preview::preview_grid(&quotes, &defaults, age, &request) }
    });
    backend.respond("position orders responder", backend.subjects.position_orders(), |pool, request| async move {
        positions::position_orders(&pool, request).await
    });
    backend.respond("send signal responder", backend.subjects.send_signal(), |pool, request| async move {
        signals::send(&pool, request).await
    });
    backend.respond("signal responder", backend.subjects.signal(), |pool, request| async move {
        signals::get(&pool, request).await
    });
}

fn consume_hosted_bot_changes(backend: &Backend, changed: Arc<Notify>) {
    let pool = backend.pool.clone();
    let apply = move |batch: Vec<Delivery>| {
        let (pool, changed) = (pool.clone(), changed.clone());
        async move {
            hosted_bots::apply(&pool, batch).await?;
            changed.notify_one();
            Ok(())
        }
    };
    consumer::spawn(backend, &LIVE_HOSTED_BOTS, ConsumerConfig::default(), apply);
}
