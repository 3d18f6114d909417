#![doc = include_str!("../README.md")]

pub mod api;
pub mod app;
pub mod auth_cache;
pub mod openapi;
pub mod settings;
pub mod state;

pub use app::App;
pub use settings::Settings;
