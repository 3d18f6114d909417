//! Orchestration: requests become jobs, jobs become broker calls and recorded outcomes.

pub mod credential_cache;
pub mod fetch;
pub mod intake;
pub mod key_rotation;
pub mod rate_gate;
pub mod recorder;
pub mod workers;
