//! All diesel code of the executor. Functions take a connection and return `QueryResult`.

pub mod backtests;
pub mod candles;
pub mod chunk;
pub mod runs;
/// As `just schema backtest-executor` (diesel print-schema) writes it; never edited otherwise.
#[allow(missing_docs)]
pub mod schema;
