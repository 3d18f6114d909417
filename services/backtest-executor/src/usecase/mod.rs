//! Orchestration: open a connection or transaction, apply the domain rules, call the store,
//! write outbox events, commit. Each returns the reply the bus handler sends, or a `BusError`.

pub mod bench;
pub mod import;
pub mod queries;
pub mod reader;
pub mod start;
pub mod worker;

use bus::BusError;
use tracing::error;

/// Maps a storage failure to the retryable `unavailable`, logging the cause once here (the
/// reply carries no internals).
pub fn storage_error(error: impl std::fmt::Display) -> BusError {
    error!(error = %error, "backtest storage failure");
    BusError::unavailable("the backtest database failed")
}
