//! What the fetcher takes from the bus: `participation created`, through the durable consumer
//! `bus::consumers::FETCHER_PARTICIPATION_CREATED`, handed to the intake. (It answers no
//! requests but the ping every backend answers.)

use crate::usecase::intake;
use crate::usecase::workers::JobQueue;
use bus::consumers::FETCHER_PARTICIPATION_CREATED;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;
use std::time::Duration;

/// Starts the consumer: each batch of requests becomes jobs leased for `lease`, sent to the
/// workers through `queue`. It finishes the batch in hand on shutdown.
pub fn start(backend: &Backend, queue: JobQueue, lease: Duration, concurrency: usize) {
    let pool = backend.pool.clone();
    let accept = move |batch: Vec<Delivery>| {
        let (pool, queue) = (pool.clone(), queue.clone());
        async move {
            for job in intake::accept(&pool, batch, lease).await? {
                // Closed only on shutdown: the job keeps its lease and is taken over.
                let _ = queue.send(job).await;
            }
            Ok(())
        }
    };
    // New jobs arrive leased: take no more at once than the workers can start well within the
    // lease.
    let config = ConsumerConfig { batch_size: concurrency.clamp(1, 128), ..ConsumerConfig::default() };
    consumer::spawn(backend, &FETCHER_PARTICIPATION_CREATED, config, accept);
}
