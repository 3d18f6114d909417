//! Integration tests of the gateway: one binary, a module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod body_limit;
mod openapi;
mod operations;
mod partner_backtest;
mod support;
mod timeouts;
