//! Grid bot settings (`spot_grid`, `futures_grid`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{interval, leverage, non_negative, positive, symbol};
use crate::error::ValidationError;

/// Most grid levels a bot may have.
pub const MAX_GRID_COUNT: u32 = 1000;

/// How levels are spaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GridMode {
    /// Equal price differences.
    #[default]
    Arithmetic,
    /// Equal price ratios.
    Geometric,
}

/// What `investmentAmount` is counted in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvestmentAsset {
    /// Base currency: every level trades `investmentAmount / gridCount` of it.
    #[default]
    Base,
    /// Quote currency: level `i` trades `(investmentAmount / gridCount) / p_i`.
    Quote,
}

/// When a bot starts trading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartCondition {
    /// At the first candle close.
    #[default]
    Instant,
    /// When the close is above / below `startValue`.
    Price,
    /// When RSI(14) of the closes is above / below `startValue`.
    #[serde(rename = "RSI")]
    Rsi,
}

/// When a bot stops trading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopCondition {
    /// Never (a user stops it).
    #[default]
    Manual,
    /// When the close is above / below `stopValue`.
    Price,
    /// When RSI(14) of the closes is above / below `stopValue`.
    #[serde(rename = "RSI")]
    Rsi,
}

/// Which side of the value triggers a condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Threshold {
    /// At or above the value.
    #[default]
    #[serde(rename = "Above value")]
    Above,
    /// At or below the value.
    #[serde(rename = "Below value")]
    Below,
}

/// Settings of a spot or futures grid bot. Settings of only one of the two types are
/// optional here and refused by `validate` on the other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GridSettings {
    /// Market symbol, e.g. `SIM_BTC_USDT_`.
    pub symbol: String,
    /// Lowest level price.
    pub lower_limit: Decimal,
    /// Highest level price.
    pub upper_limit: Decimal,
    /// Level spacing.
    #[serde(default)]
    pub grid_mode: GridMode,
    /// Number of grids the range is split into (levels `0..=gridCount`).
    pub grid_count: u32,
    /// Spot only: what `investmentAmount` is counted in (default `Base`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investment_asset: Option<InvestmentAsset>,
    /// Total investment, split evenly among grids (futures: margin, quote).
    pub investment_amount: Decimal,
    /// Spot only: buy at start the base the levels above the price need for their sells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_to_fill_grid: Option<bool>,
    /// Futures only: leverage (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage: Option<u32>,
    /// Futures only: total profit (quote) at which the bot closes out and stops; 0 = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_win: Option<Decimal>,
    /// Futures only: total loss (quote, positive) at which the bot closes out and stops; 0 = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss: Option<Decimal>,
    /// When the bot starts.
    #[serde(default)]
    pub start_condition: StartCondition,
    /// Above or below `startValue`.
    #[serde(default)]
    pub start_type: Threshold,
    /// Price or RSI value of the start condition.
    #[serde(default)]
    pub start_value: Decimal,
    /// When the bot stops.
    #[serde(default)]
    pub stop_condition: StopCondition,
    /// Above or below `stopValue`.
    #[serde(default)]
    pub stop_type: Threshold,
    /// Price or RSI value of the stop condition.
    #[serde(default)]
    pub stop_value: Decimal,
    /// On stop, sell the inventory (`Below value`) or buy back what was sold (`Above value`).
    #[serde(default)]
    pub stop_exit: bool,
    /// Minutes: the RSI's bar length (live: default 1) and a backtest's candle interval
    /// (default: the finest stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
}

impl GridSettings {
    /// `investmentAsset`, defaulted.
    pub fn asset(&self) -> InvestmentAsset {
        self.investment_asset.unwrap_or_default()
    }

    /// `leverage`, defaulted (1 on spot).
    pub fn leverage(&self) -> u32 {
        self.leverage.unwrap_or(1)
    }

    pub(crate) fn validate(&self, futures: bool) -> Result<(), ValidationError> {
        symbol(&self.symbol)?;
        positive("lowerLimit", self.lower_limit)?;
        if self.upper_limit <= self.lower_limit {
            return Err(ValidationError::new("upperLimit", "must be greater than lowerLimit"));
        }
        if !(1..=MAX_GRID_COUNT).contains(&self.grid_count) {
            return Err(ValidationError::new("gridCount", format!("must be between 1 and {MAX_GRID_COUNT}")));
        }
        positive("investmentAmount", self.investment_amount)?;
        let only = |field: &str, set: bool, kind: &str| {
            if set { Err(ValidationError::new(field, format!("is not a setting of {kind} grid bots"))) } else { Ok(()) }
        };
        if futures {
            only("investmentAsset", self.investment_asset.is_some(), "futures")?;
            only("tradeToFillGrid", self.trade_to_fill_grid.is_some(), "futures")?;
        } else {
            only("maxWin", self.max_win.is_some(), "spot")?;
            only("maxLoss", self.max_loss.is_some(), "spot")?;
        }
        leverage(self.leverage, futures)?;
        non_negative("maxWin", self.max_win.unwrap_or_default())?;
        non_negative("maxLoss", self.max_loss.unwrap_or_default())?;
        condition_value("startValue", self.start_condition == StartCondition::Rsi, self.start_value)?;
        condition_value("stopValue", self.stop_condition == StopCondition::Rsi, self.stop_value)?;
        interval(self.interval)
    }
}

fn condition_value(field: &str, rsi: bool, v: Decimal) -> Result<(), ValidationError> {
    non_negative(field, v)?;
    if rsi && v > Decimal::ONE_HUNDRED {
        return Err(ValidationError::new(field, "an RSI value must be between 0 and 100"));
    }
    Ok(())
}
