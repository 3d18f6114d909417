//! Integration tests of the gateway: one binary, a module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod body_limit;
mod equity_svg;
mod method_not_allowed;
mod openapi;
mod openapi_constraints;
mod operations;
mod partner_backtest;
mod partner_bot_positions;
mod partner_bot_preview;
mod partner_bot_runtime;
mod partner_bots;
mod partner_listing;
mod partner_runtime_fakes;
mod partner_users;
mod rate_limit;
mod support;
mod svg_geometry;
mod timeouts;
