//! The fetcher's pure rules: retry decisions, which broker serves an account, which code a
//! client is told when a fetch fails, and what exchange keys must be to be stored.

pub mod broker_kind;
pub mod exchange_credentials;
pub mod failure;
pub mod retry;
