//! Orchestration: requests become jobs, jobs become broker calls and recorded outcomes;
//! exchange keys are sealed on request and erased when their user is deleted.

pub mod credential_cache;
pub mod exchange_credentials;
pub mod fetch;
pub mod intake;
pub mod key_rotation;
pub mod rate_gate;
pub mod recorder;
pub mod user_deletion;
pub mod workers;

use bus::BusError;
use tracing::error;

/// Our database failed while answering a request: logged here, answered as `unavailable` (the
/// requester may retry) without the detail.
pub fn storage_error(error: impl std::fmt::Display) -> BusError {
    error!(error = %error, "fetcher storage failure");
    BusError::unavailable("the fetcher database failed")
}
