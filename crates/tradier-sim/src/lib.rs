#![doc = include_str!("../README.md")]

pub mod fixtures;
mod order;
mod script;
mod server;

pub use fixtures::Fixture;
pub use order::{HeldOrder, SimStatus};
pub use script::{Step, TIMEOUT_HOLD_MS};
pub use server::TradierSim;
