#![doc = include_str!("../README.md")]

pub mod bot;
pub mod ids;
pub mod service;
pub mod trade;

pub use ids::*;
pub use service::ServiceName;
