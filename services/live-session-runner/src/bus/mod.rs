//! What the runner takes from the bus, each handed to its usecase:
//!
//! - `hosted bot changed`, through the durable consumer `bus::consumers::LIVE_HOSTED_BOTS`, to
//!   the runs of hosted bots (a newer revision only).
//!
//! Its requests to the ledger (the reconciliation's `hosted_bot_revisions` and
//! `hosted_bot_definitions`) are in `usecase::reconcile`.

use crate::usecase::hosted_bots;
use bus::consumers::LIVE_HOSTED_BOTS;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;

/// Starts the consumers; each finishes the batch in hand on shutdown.
pub fn start(backend: &Backend) {
    consume_hosted_bot_changes(backend);
}

fn consume_hosted_bot_changes(backend: &Backend) {
    let pool = backend.pool.clone();
    let apply = move |batch: Vec<Delivery>| {
        let pool = pool.clone();
        async move { hosted_bots::apply(&pool, batch).await }
    };
    consumer::spawn(backend, &LIVE_HOSTED_BOTS, ConsumerConfig::default(), apply);
}
