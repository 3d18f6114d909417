#![doc = include_str!("../README.md")]

pub mod app;
pub mod bus;
pub mod clock;
pub mod ids;
pub mod live;
pub mod settings;
pub mod store;
pub mod usecase;
pub mod wire;

pub use app::App;
pub use settings::Settings;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The service's migrations, compiled into the binary and applied by `live-session-runner migrate`.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
