#![doc = include_str!("../README.md")]

pub mod ids;
pub mod service;

pub use ids::*;
pub use service::ServiceName;
