//! What configures a run besides the bot's settings, and the read-only views of its state.

use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::{Deserialize, Serialize};

/// Parameters of a run that are not bot settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunConfig {
    /// Fee per fill on notional (default 0.001 = 0.1 %), charged in quote.
    pub fee_rate: Decimal,
    /// Ticks a market order fills worse than the moment's price (default 0).
    pub slippage_ticks: i64,
    /// Starting quote balance (default 10,000).
    pub starting_quote: Decimal,
    /// Starting base balance (default 0).
    pub starting_base: Decimal,
    /// Days per year for annualising Sharpe and Sortino: 365 for markets open every day
    /// (SIM, crypto), 252 for exchange-traded markets.
    pub annualisation_days: u32,
    /// Most points kept in the equity curve (default 2,000).
    pub equity_points: usize,
    /// Most log lines kept (default 50,000); the rest are counted in a last line.
    pub log_cap: usize,
    /// Candle length in seconds (default 60): a candle closes at `open_time + interval`.
    pub interval_seconds: i64,
    /// Maintenance margin of futures positions, a fraction of notional (default 0.005).
    pub maintenance_margin_rate: Decimal,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            fee_rate: dec!(0.001),
            slippage_ticks: 0,
            starting_quote: dec!(10000),
            starting_base: Decimal::ZERO,
            annualisation_days: 365,
            equity_points: 2000,
            log_cap: 50_000,
            interval_seconds: 60,
            maintenance_margin_rate: dec!(0.005),
        }
    }
}

/// A snapshot of the account (progress reports, tests).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Candles (or quotes) processed.
    pub candles: u64,
    /// Time of the last event processed (a candle's close time).
    pub time: i64,
    /// Last close (or quote's last price).
    pub price: Decimal,
    /// Mark-to-market equity at that price.
    pub equity: Decimal,
    /// Quote balance (futures margin excluded).
    pub quote: Decimal,
    /// Quote held by resting orders.
    pub reserved_quote: Decimal,
    /// Base balance.
    pub base: Decimal,
    /// Base held by resting sells.
    pub reserved_base: Decimal,
    /// Margin posted on open futures positions.
    pub margin: Decimal,
    /// Unrealized profit of open futures positions at the price.
    pub futures_unrealized: Decimal,
    /// Orders resting or waiting to go live.
    pub open_orders: usize,
    /// Fills so far.
    pub fills: u64,
}

/// What a live run is, which its log says ("Bot started with equity …" / "Session started
/// with equity …"; a backtest says "Backtest started …"). The risk policy of strategy
/// sessions will come here too.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveConfig {
    /// A hosted bot or a strategy session.
    pub kind: LiveKind,
}

/// A hosted bot or a strategy session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LiveKind {
    /// A hosted bot (partner API).
    #[default]
    Bot,
    /// A strategy bot's daily session (user API).
    Session,
}

impl LiveKind {
    /// `Bot` or `Session`, as the log names the run.
    pub fn label(self) -> &'static str {
        match self {
            Self::Bot => "Bot",
            Self::Session => "Session",
        }
    }
}

/// Profit and equity at the current touch (the last quote's `last`; the last close before
/// any quote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pnl {
    /// Σ profit before fees of every exit so far, quote.
    pub realized_gross: Decimal,
    /// Σ fees paid so far, quote.
    pub fees: Decimal,
    /// Profit of the open positions at the price, quote.
    pub unrealized: Decimal,
    /// Mark-to-market equity at the price, quote.
    pub equity: Decimal,
}
