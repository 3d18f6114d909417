#![doc = include_str!("../README.md")]

pub mod api_key;
pub mod bot;
pub mod calendar;
pub mod ids;
pub mod secret;
pub mod service;
pub mod trade;

pub use ids::*;
pub use secret::Secret;
pub use service::ServiceName;
