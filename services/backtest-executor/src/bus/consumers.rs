//! The events the executor consumes: its own `backtest queued`, through the durable consumer
//! `bus::consumers::EXECUTOR_BACKTEST_QUEUED`. A message only wakes the workers: they claim
//! the job from Postgres, so there is nothing to decode or dedupe.

use bus::consumers::EXECUTOR_BACKTEST_QUEUED;
use outbox::consumer::{self, ConsumerConfig, Delivery};
use platform::Backend;
use std::sync::Arc;
use tokio::sync::Notify;

/// Starts the consumer; each batch wakes the waiting workers through `wake`.
pub fn start(backend: &Backend, wake: Arc<Notify>) {
    let wake_workers = move |_batch: Vec<Delivery>| {
        wake.notify_waiters();
        async { Ok(()) }
    };
    consumer::spawn(backend, &EXECUTOR_BACKTEST_QUEUED, ConsumerConfig::default(), wake_workers);
}
