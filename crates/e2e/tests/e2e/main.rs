//! End-to-end tests: all five services in one process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backtest;
mod backtest_listing;
mod backtest_routes;
mod bot_api;
mod bus_security;
mod hosted_bots;
mod hosted_trading;
mod leaks;
mod partner;
mod partner_reference;
mod partner_users;
mod runner_runs;
mod signals;
mod status;
mod system;
mod timeouts;
