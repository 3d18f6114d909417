#![doc = include_str!("../README.md")]

mod account;
mod book;
mod bots;
mod candle;
mod engine;
mod equity;
mod error;
mod exchange;
mod fees;
mod log;
mod market;
pub mod metrics;
mod order;
mod position;
mod price;
mod report;
pub mod scripts;
pub mod settings;

pub use bots::RSI_PERIOD;
pub use candle::{Candle, CandleError, Quote};
pub use engine::{Backtest, Engine, RunConfig, Snapshot};
pub use equity::EquityPoint;
pub use error::{EngineError, ValidationError};
pub use fees::MAX_FEE_DECIMALS;
pub use log::{LogLevel, LogLine};
pub use market::MarketSpec;
pub use order::{Order, OrderRole, OrderStatus, OrderType, Side};
pub use position::{Direction, Position, PositionFill, PositionStatus};
pub use price::{MAX_DECIMALS, Price, Qty};
pub use report::{OrdersStats, Performance, PositionsStats, Report, Summary};
pub use scripts::{ScriptMeta, ScriptType, SettingMeta, SettingType, SettingValue, script, scripts};
pub use settings::BotSettings;

#[cfg(test)]
mod tests;
