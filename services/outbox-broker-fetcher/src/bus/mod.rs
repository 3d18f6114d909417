//! What the fetcher takes from the bus, each handed to its usecase:
//!
//! - `participation created`, through the durable consumer
//!   `bus::consumers::FETCHER_PARTICIPATION_CREATED`, to the intake;
//! - `user deleted`, through `bus::consumers::FETCHER_USER_DELETED`, to the erasure of the
//!   user's credentials;
//! - the `store exchange credentials` request (besides the ping every backend answers), to
//!   the sealing of a partner user's exchange keys.

use crate::crypto::CredentialCipher;
use crate::usecase::workers::JobQueue;
use crate::usecase::{exchange_credentials, intake, user_deletion};
use bus::consumers::{FETCHER_PARTICIPATION_CREATED, FETCHER_USER_DELETED};
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;
use std::sync::Arc;
use std::time::Duration;

/// Starts the consumers and the responder. New fetch jobs are leased for `lease` and sent to
/// the workers through `queue`; `cipher` seals exchange keys. Each finishes what it has in
/// hand on shutdown.
pub fn start(backend: &Backend, queue: JobQueue, lease: Duration, concurrency: usize, cipher: CredentialCipher) {
    consume_participations(backend, queue, lease, concurrency);
    consume_user_deletions(backend);
    answer_store_exchange_credentials(backend, cipher);
}

fn consume_participations(backend: &Backend, queue: JobQueue, lease: Duration, concurrency: usize) {
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

fn consume_user_deletions(backend: &Backend) {
    let pool = backend.pool.clone();
    let erase = move |batch: Vec<Delivery>| {
        let pool = pool.clone();
        async move { user_deletion::erase(&pool, batch).await }
    };
    consumer::spawn(backend, &FETCHER_USER_DELETED, ConsumerConfig::default(), erase);
}

fn answer_store_exchange_credentials(backend: &Backend, cipher: CredentialCipher) {
    let cipher = Arc::new(cipher);
    let endpoint = backend.subjects.store_exchange_credentials();
    backend.respond("store exchange credentials", endpoint, move |pool, request| {
        let cipher = cipher.clone();
        async move { exchange_credentials::store(&pool, &cipher, request).await }
    });
}
