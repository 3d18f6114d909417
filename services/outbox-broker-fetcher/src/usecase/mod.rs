//! Orchestration: requests become jobs, jobs become broker calls and recorded outcomes.

pub mod fetch;
pub mod intake;
pub mod rate_gate;
pub mod workers;
