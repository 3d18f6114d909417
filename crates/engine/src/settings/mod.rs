//! Bot settings as the partner API names them (camelCase), with `validate()` naming the field.
//!
//! [`BotSettings`] is adjacently tagged like the backtest request: `{"type": "spot_grid",
//! "settings": {...}}`. Unknown settings are refused (the request's "Unknown field" rule).

mod dca;
mod edit;
mod grid;
mod webhook;

pub use dca::{DcaDirection, DcaSettings};
pub(crate) use edit::check_edit;
pub use edit::validate_live;
pub use grid::{GridMode, GridSettings, InvestmentAsset, StartCondition, StopCondition, Threshold};
pub use webhook::{Signal, SignalAction, WebhookSettings};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::vocabulary::ScriptType;

/// Highest leverage accepted: above 1 / maintenance margin a position would be liquidatable
/// the moment it opens.
pub const MAX_LEVERAGE: u32 = 100;

/// The settings of one bot, tagged with its script type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "settings")]
pub enum BotSettings {
    /// `spot_grid`.
    #[serde(rename = "spot_grid")]
    SpotGrid(GridSettings),
    /// `futures_grid`.
    #[serde(rename = "futures_grid")]
    FuturesGrid(GridSettings),
    /// `spot_dollar_cost_averaging`.
    #[serde(rename = "spot_dollar_cost_averaging")]
    SpotDca(DcaSettings),
    /// `futures_dollar_cost_averaging`.
    #[serde(rename = "futures_dollar_cost_averaging")]
    FuturesDca(DcaSettings),
    /// `webhook`.
    #[serde(rename = "webhook")]
    Webhook(WebhookSettings),
}

impl BotSettings {
    /// The script type.
    pub fn script_type(&self) -> ScriptType {
        match self {
            Self::SpotGrid(_) => ScriptType::SpotGrid,
            Self::FuturesGrid(_) => ScriptType::FuturesGrid,
            Self::SpotDca(_) => ScriptType::SpotDca,
            Self::FuturesDca(_) => ScriptType::FuturesDca,
            Self::Webhook(_) => ScriptType::Webhook,
        }
    }

    /// The market symbol the bot trades.
    pub fn symbol(&self) -> &str {
        match self {
            Self::SpotGrid(s) | Self::FuturesGrid(s) => &s.symbol,
            Self::SpotDca(s) | Self::FuturesDca(s) => &s.symbol,
            Self::Webhook(s) => &s.symbol,
        }
    }

    /// The interval (minutes) the settings ask for, if any: a backtest's candle length, and
    /// the RSI's bar length (live runs default to one minute).
    pub fn interval(&self) -> Option<u32> {
        match self {
            Self::SpotGrid(s) | Self::FuturesGrid(s) => s.interval,
            Self::SpotDca(s) | Self::FuturesDca(s) => s.interval,
            Self::Webhook(s) => s.interval,
        }
    }

    /// Checks every setting; the error names the first invalid one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Self::SpotGrid(s) => s.validate(false),
            Self::FuturesGrid(s) => s.validate(true),
            Self::SpotDca(s) => s.validate(false),
            Self::FuturesDca(s) => s.validate(true),
            Self::Webhook(s) => s.validate(),
        }
    }
}

pub(crate) fn positive(field: &str, v: Decimal) -> Result<(), ValidationError> {
    if v <= Decimal::ZERO {
        return Err(ValidationError::new(field, "must be greater than 0"));
    }
    Ok(())
}

pub(crate) fn non_negative(field: &str, v: Decimal) -> Result<(), ValidationError> {
    if v.is_sign_negative() && !v.is_zero() {
        return Err(ValidationError::new(field, "must not be negative"));
    }
    Ok(())
}

pub(crate) fn symbol(v: &str) -> Result<(), ValidationError> {
    if v.trim().is_empty() {
        return Err(ValidationError::new("symbol", "is required"));
    }
    Ok(())
}

pub(crate) fn leverage(v: Option<u32>, futures: bool) -> Result<(), ValidationError> {
    match (v, futures) {
        (Some(_), false) => Err(ValidationError::new("leverage", "is not a setting of spot bots")),
        (Some(l), true) if !(1..=MAX_LEVERAGE).contains(&l) => {
            Err(ValidationError::new("leverage", format!("must be between 1 and {MAX_LEVERAGE}")))
        }
        _ => Ok(()),
    }
}

pub(crate) fn interval(v: Option<u32>) -> Result<(), ValidationError> {
    if v == Some(0) {
        return Err(ValidationError::new("interval", "must be at least 1 minute"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
