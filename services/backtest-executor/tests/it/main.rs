//! Integration tests of backtest-executor against real Postgres and NATS: one binary, a module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backtests;
mod candles;
mod foundation;
mod idempotency;
mod import;
mod loops;
mod results;
mod support;
