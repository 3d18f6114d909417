//! The events the ledger consumes: the fetcher's outcomes, through the durable consumer
//! `bus::consumers::LEDGER_FETCH_OUTCOMES`.

use crate::usecase::fetches;
use bus::consumers::LEDGER_FETCH_OUTCOMES;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;

/// Starts the consumer; it finishes the batch in hand on shutdown.
pub fn start(backend: &Backend) {
    let (pool, subjects) = (backend.pool.clone(), backend.subjects.clone());
    let apply = move |batch: Vec<Delivery>| {
        let (pool, subjects) = (pool.clone(), subjects.clone());
        async move { fetches::apply(&pool, &subjects, batch).await }
    };
    consumer::spawn(backend, &LEDGER_FETCH_OUTCOMES, ConsumerConfig::default(), apply);
}
