//! The events the ledger consumes: the fetcher's outcomes, through the durable consumer
//! `bus::consumers::LEDGER_FETCH_OUTCOMES`; the runner's fills and stops, through
//! `bus::consumers::LEDGER_LIVE_EVENTS`.

use crate::usecase::{fetches, live_events};
use bus::consumers::{LEDGER_FETCH_OUTCOMES, LEDGER_LIVE_EVENTS};
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;

/// Starts the consumers; each finishes the batch in hand on shutdown.
pub fn start(backend: &Backend) {
    let (pool, subjects) = (backend.pool.clone(), backend.subjects.clone());
    let apply = move |batch: Vec<Delivery>| {
        let (pool, subjects) = (pool.clone(), subjects.clone());
        async move { fetches::apply(&pool, &subjects, batch).await }
    };
    consumer::spawn(backend, &LEDGER_FETCH_OUTCOMES, ConsumerConfig::default(), apply);

    let (pool, subjects) = (backend.pool.clone(), backend.subjects.clone());
    let apply = move |batch: Vec<Delivery>| {
        let (pool, subjects) = (pool.clone(), subjects.clone());
        async move { live_events::apply(&pool, &subjects, batch).await }
    };
    consumer::spawn(backend, &LEDGER_LIVE_EVENTS, ConsumerConfig::default(), apply);
}
