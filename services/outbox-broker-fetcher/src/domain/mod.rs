//! The fetcher's pure rules: retry decisions and which broker serves an account.

pub mod broker_kind;
pub mod retry;
