//! The events the ledger consumes: the fetcher's outcomes, through the durable consumer
//! `bus::consumers::LEDGER_FETCH_OUTCOMES`.

use crate::usecase::fetches;
use bus::consumers::LEDGER_FETCH_OUTCOMES;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;

/// Starts the consumer; it finishes the batch in hand on shutdown.
pub fn start(backend: &Backend) {
    let spec = LEDGER_FETCH_OUTCOMES.spec(&backend.subjects);
    let (pool, subjects) = (backend.pool.clone(), backend.subjects.clone());
    let apply = move |batch: Vec<Delivery>| {
        let (pool, subjects) = (pool.clone(), subjects.clone());
        async move { fetches::apply(&pool, &subjects, batch).await }
    };
    let (jetstream, shutdown) = (backend.jetstream.clone(), backend.shutdown());
    backend.spawn("fetch outcome consumer", move || {
        let config = ConsumerConfig::default();
        consumer::run(jetstream.clone(), spec.clone(), config, shutdown.clone(), apply.clone())
    });
}
