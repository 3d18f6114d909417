//! Integration tests of the market feed against the real NATS server: one binary, a module
//! per feature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod control;
mod replay;
mod security;
mod support;
