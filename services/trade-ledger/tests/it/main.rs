//! Integration tests of trade-ledger against real Postgres and NATS: one binary, a module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod catalogue;
mod fetch_error_codes;
mod fetch_sweep;
mod foundation;
mod live_events;
mod outbox_admin;
mod signal_bots;
