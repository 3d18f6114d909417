//! What the runner takes from the bus, each handed to its usecase:
//!
//! - `hosted bot changed`, through the durable consumer `bus::consumers::LIVE_HOSTED_BOTS`, to
//!   the runs of hosted bots (a newer revision only); the runs' owners are woken after each
//!   batch;
//! - `qry.live.bot_orders.v1` and `qry.live.bot_logs.v1`: a hosted bot's open orders and log.
//!
//! Its requests to the ledger (the reconciliation's `hosted_bot_revisions` and
//! `hosted_bot_definitions`) are in `usecase::reconcile`; the quotes it hears are in `live`.

use crate::usecase::{hosted_bots, queries};
use bus::consumers::LIVE_HOSTED_BOTS;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;
use std::sync::Arc;
use tokio::sync::Notify;

/// Starts the consumers and the responders; each finishes what it has in hand on shutdown.
/// `changed` is woken whenever runs were written.
pub fn start(backend: &Backend, changed: Arc<Notify>) {
    consume_hosted_bot_changes(backend, changed);
    backend.respond("bot orders responder", backend.subjects.bot_orders(), |pool, request| async move {
        queries::bot_orders(&pool, request).await
    });
    backend.respond("bot logs responder", backend.subjects.bot_logs(), |pool, request| async move {
        queries::bot_logs(&pool, request).await
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
