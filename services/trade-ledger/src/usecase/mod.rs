//! Orchestration: open a connection or transaction, apply the domain rules, call the store,
//! write outbox events, commit. Each returns the reply the bus handler sends, or a `BusError`.

pub mod auth;
pub mod bot_config;
pub mod catalogue;
pub mod fetches;
pub mod hosted_bots;
pub mod live_events;
pub mod participations;
pub mod partner_users;
pub mod states;
pub mod trades;

use bus::BusError;
use tracing::error;

/// Maps a storage failure to the retryable `unavailable`, logging the cause once here (the
/// reply carries no internals).
pub fn storage_error(error: impl std::fmt::Display) -> BusError {
    error!(error = %error, "ledger storage failure");
    BusError::unavailable("the ledger database failed")
}
