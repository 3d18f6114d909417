//! Integration tests of outbox-broker-fetcher against real Postgres, NATS and a local Tradier
//! server: one binary, a module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod credentials;
mod exchange_credentials;
mod fetch;
mod foundation;
mod harness;
mod loops;
mod prune;
