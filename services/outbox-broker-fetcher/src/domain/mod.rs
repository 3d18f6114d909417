//! The fetcher's pure rules: retry decisions, which broker serves an account, and which code
//! a client is told when a fetch fails.

pub mod broker_kind;
pub mod failure;
pub mod retry;
