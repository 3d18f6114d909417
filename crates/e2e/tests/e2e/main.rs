//! End-to-end tests: all five services in one process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backtest;
mod bot_api;
mod status;
mod system;
