//! Webhook bot settings and the timed signals a backtest replays.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{MAX_LEVERAGE, interval, positive, symbol};
use crate::error::ValidationError;

/// Most signals one backtest may carry.
pub const MAX_SIGNALS: usize = 100_000;

/// A signal's action (lowercase only, as the partner API requires).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalAction {
    /// Spot: buy `amount`.
    Buy,
    /// Spot: sell `amount`.
    Sell,
    /// Futures: open or add to the long position.
    EnterLong,
    /// Futures: reduce or close the long position.
    ExitLong,
    /// Futures: open or add to the short position.
    EnterShort,
    /// Futures: reduce or close the short position.
    ExitShort,
}

/// One timed signal of a backtest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signal {
    /// When the signal arrives, unix seconds.
    pub timestamp: i64,
    /// What to do.
    pub action: SignalAction,
    /// Amount in the base currency.
    pub amount: Decimal,
    /// Limit price; a market order when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
}

/// Settings of a webhook bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSettings {
    /// Market symbol.
    pub symbol: String,
    /// The token signals are sent with (live); unused by backtests.
    #[serde(default)]
    pub signal_token: String,
    /// Leverage of futures actions (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage: Option<u32>,
    /// Backtest only: the signals to replay, `[{timestamp, action, amount, price?}]`.
    #[serde(default)]
    pub signals: Vec<Signal>,
    /// Minutes: a backtest's candle interval (default: the finest stored); live bars of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
}

impl WebhookSettings {
    /// `leverage`, defaulted.
    pub fn leverage(&self) -> u32 {
        self.leverage.unwrap_or(1)
    }

    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        symbol(&self.symbol)?;
        if !(1..=MAX_LEVERAGE).contains(&self.leverage()) {
            return Err(ValidationError::new("leverage", format!("must be between 1 and {MAX_LEVERAGE}")));
        }
        if self.signals.len() > MAX_SIGNALS {
            return Err(ValidationError::new("signals", format!("cannot contain more than {MAX_SIGNALS} items")));
        }
        for (i, s) in self.signals.iter().enumerate() {
            positive(&format!("signals[{i}].amount"), s.amount)?;
            if let Some(p) = s.price {
                positive(&format!("signals[{i}].price"), p)?;
            }
            if s.timestamp < 0 {
                return Err(ValidationError::new(format!("signals[{i}].timestamp"), "must be a unix time in seconds"));
            }
        }
        interval(self.interval)
    }
}
