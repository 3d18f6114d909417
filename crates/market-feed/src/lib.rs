#![doc = include_str!("../README.md")]

mod board;
mod feed;
mod path;
mod replay;
mod server;
pub mod settings;

pub use board::{Mode, SymbolView};
pub use feed::Feed;
pub use settings::{FeedSettings, ReplaySettings, ReplayedMarket};
