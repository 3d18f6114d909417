//! DCA bot settings (`spot_dollar_cost_averaging`, `futures_dollar_cost_averaging`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{interval, leverage, positive, symbol};
use crate::error::ValidationError;

/// Most safety orders a deal may have.
pub const MAX_SAFETY_ORDERS: u32 = 100;

/// Deal direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DcaDirection {
    /// Long: buy, average down, sell above.
    #[default]
    Buy,
    /// Short: sell, average up, buy back below.
    Sell,
}

/// Settings of a spot or futures DCA bot. Amounts are order notionals in quote (on futures the
/// margin posted is notional / leverage). Percentages are percent (1 = 1 %).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DcaSettings {
    /// Market symbol.
    pub symbol: String,
    /// Buy (long) or Sell (short).
    #[serde(default)]
    pub direction: DcaDirection,
    /// Quote size of the market order opening a deal.
    pub base_order_amount: Decimal,
    /// Quote size of the first safety order.
    pub safety_order_amount: Decimal,
    /// Safety orders per deal.
    #[serde(default = "default_max_safety")]
    pub max_safety_orders: u32,
    /// % from the base price to the first safety order.
    #[serde(default = "default_deviation")]
    pub price_deviation: Decimal,
    /// Multiplier of each next gap between safety orders.
    #[serde(default = "one")]
    pub safety_order_step_scale: Decimal,
    /// Multiplier of each next safety order's size.
    #[serde(default = "one")]
    pub safety_order_volume_scale: Decimal,
    /// Target profit %, net of fees, of the take-profit.
    #[serde(default = "one")]
    pub take_profit: Decimal,
    /// Futures only: leverage (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage: Option<u32>,
    /// Minutes: a backtest's candle interval (default: the finest stored); live bars of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
}

pub(crate) fn default_max_safety() -> u32 {
    5
}

pub(crate) fn default_deviation() -> Decimal {
    Decimal::TWO
}

fn one() -> Decimal {
    Decimal::ONE
}

impl DcaSettings {
    /// `leverage`, defaulted (1 on spot).
    pub fn leverage(&self) -> u32 {
        self.leverage.unwrap_or(1)
    }

    pub(crate) fn validate(&self, futures: bool) -> Result<(), ValidationError> {
        symbol(&self.symbol)?;
        positive("baseOrderAmount", self.base_order_amount)?;
        if self.max_safety_orders > MAX_SAFETY_ORDERS {
            return Err(ValidationError::new("maxSafetyOrders", format!("must be at most {MAX_SAFETY_ORDERS}")));
        }
        if self.max_safety_orders > 0 {
            positive("safetyOrderAmount", self.safety_order_amount)?;
        } else if self.safety_order_amount.is_sign_negative() {
            return Err(ValidationError::new("safetyOrderAmount", "must not be negative"));
        }
        positive("priceDeviation", self.price_deviation)?;
        if self.price_deviation >= Decimal::ONE_HUNDRED {
            return Err(ValidationError::new("priceDeviation", "must be less than 100"));
        }
        let ten = Decimal::TEN;
        positive("safetyOrderStepScale", self.safety_order_step_scale)?;
        if self.safety_order_step_scale > ten {
            return Err(ValidationError::new("safetyOrderStepScale", "must be at most 10"));
        }
        positive("safetyOrderVolumeScale", self.safety_order_volume_scale)?;
        if self.safety_order_volume_scale > ten {
            return Err(ValidationError::new("safetyOrderVolumeScale", "must be at most 10"));
        }
        positive("takeProfit", self.take_profit)?;
        if self.take_profit >= Decimal::ONE_HUNDRED {
            return Err(ValidationError::new("takeProfit", "must be less than 100"));
        }
        if self.direction == DcaDirection::Buy && self.max_safety_orders > 0 {
            // The last safety order of a long deal must stay above a price of 0.
            let reach = self.total_deviation(self.max_safety_orders);
            if reach.is_none_or(|r| r >= Decimal::ONE) {
                return Err(ValidationError::new(
                    "priceDeviation",
                    "the last safety order would be at a price of 0 or less; lower priceDeviation, safetyOrderStepScale or maxSafetyOrders",
                ));
            }
        }
        leverage(self.leverage, futures)?;
        interval(self.interval)
    }

    /// `Σ_{j<k} deviation × stepScale^j` as a fraction: how far safety order `k` is from the
    /// base price. `None` on overflow.
    pub(crate) fn total_deviation(&self, k: u32) -> Option<Decimal> {
        let dev = self.price_deviation.checked_div(Decimal::ONE_HUNDRED)?;
        let (mut sum, mut step) = (Decimal::ZERO, Decimal::ONE);
        for _ in 0..k {
            sum = sum.checked_add(dev.checked_mul(step)?)?;
            step = step.checked_mul(self.safety_order_step_scale)?;
        }
        Some(sum)
    }
}
