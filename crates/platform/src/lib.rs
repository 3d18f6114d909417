#![doc = include_str!("../README.md")]

pub mod backend;
pub mod cli;
pub mod db;
pub mod health;
pub mod idempotency;
pub mod prune;
pub mod settings;
pub mod shutdown;
pub mod supervisor;
pub mod telemetry;

pub use backend::Backend;
pub use settings::{BackendSettings, Settings, SettingsError};
