#![doc = include_str!("../README.md")]

mod account;
mod book;
mod bots;
mod candle;
mod checkpoint;
mod config;
mod engine;
mod equity;
mod error;
pub mod events;
mod exchange;
mod fees;
mod live;
mod log;
mod market;
pub mod metrics;
mod order;
mod position;
mod preview;
mod price;
mod report;
mod runtime;
pub mod scripts;
pub mod settings;
mod store;
mod vocabulary;

pub use bots::{LiveSignal, RSI_PERIOD};
pub use candle::{Candle, CandleError, Quote};
pub use checkpoint::EngineState;
pub use config::{LiveConfig, LiveKind, Pnl, RunConfig, Snapshot};
pub use engine::{Backtest, Engine};
pub use equity::EquityPoint;
pub use error::{EngineError, ValidationError};
pub use events::{Decision, EngineEvent, EventKind, Fill, SignalOutcome};
pub use fees::MAX_FEE_DECIMALS;
pub use log::{LogLevel, LogLine};
pub use market::MarketSpec;
pub use order::Order;
pub use position::{Position, PositionFill};
pub use preview::{Preview, PreviewOrder, ProfitRange, preview};
pub use price::{MAX_DECIMALS, Price, Qty};
pub use report::{OrdersStats, Performance, PositionsStats, Report, Summary};
pub use scripts::{ScriptMeta, SettingMeta, SettingType, SettingValue, script, scripts};
pub use settings::BotSettings;
pub use vocabulary::{Direction, OrderRole, OrderStatus, OrderType, PositionStatus, ScriptType, Side};

#[cfg(test)]
mod tests;
