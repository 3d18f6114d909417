//! Integration tests of live-session-runner against real Postgres and NATS: one binary, a module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engine_room;
mod fills;
mod foundation;
mod harness;
mod hosted_bots;
mod reconcile;
mod signals;
