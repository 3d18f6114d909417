//! A grid bot's preview: what a start at a given price would place and what it needs,
//! computed by the same code that sets a grid up (levels, quantities, minimum), with no run.
//!
//! - `orders`: the sells `tradeToFillGrid` would rest (levels at or above the price, each
//!   selling `qty_i` at `p_{i+1}`), then the buys of the levels below the price, nearest to
//!   the price first: the order a start places them in. Levels below the minimum are left
//!   out.
//! - `amountPerGrid`: `investmentAmount / gridCount` (quote, base with `Base`, margin on
//!   futures), to 8 decimals.
//! - `profitPerGrid`: over the levels that trade, the % a round trip earns net of two fees,
//!   `(p_{i+1}·(1 − f) / p_i − (1 + f)) × 100`, its min and max, to 4 decimals.
//! - `requiredQuote`: what the listed buys hold (notional + fee; futures: margin + fee) plus
//!   the `tradeToFillGrid` market buys at the price (notional + fee); `requiredBase`: the base
//!   the listed sells hold (bought by those market buys).
//! - `estimatedFees`: the fees of filling every listed order once.
//! - `warnings`: levels below the minimum, a price outside the range, a requirement above
//!   the paper balance.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::bots::grid::GridBot;
use crate::error::{EngineError, ValidationError};
use crate::exchange::margin_for;
use crate::fees::FeeRate;
use crate::market::MarketSpec;
use crate::price::{Price, Qty, Scales};
use crate::settings::BotSettings;
use crate::vocabulary::{Side, Venue};

/// What a grid bot would do if started now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The price used (rounded to the tick).
    pub price: Decimal,
    /// The resting orders a start would place, in the order it places them.
    pub orders: Vec<PreviewOrder>,
    /// `investmentAmount / gridCount`.
    pub amount_per_grid: Decimal,
    /// % a round trip earns net of two fees, over the levels that trade.
    pub profit_per_grid: ProfitRange,
    /// Quote the start needs.
    pub required_quote: Decimal,
    /// Base the listed sells hold.
    pub required_base: Decimal,
    /// Fees of filling every listed order once, quote.
    pub estimated_fees: Decimal,
    /// What the user should know before starting.
    pub warnings: Vec<String>,
}

/// One order of a preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewOrder {
    /// The grid level (0 = the lowest), as in the order's note `Grid buy #<level>`.
    pub level: u32,
    /// Buy or sell.
    pub direction: Side,
    /// Limit price.
    pub price: Decimal,
    /// Amount (base).
    pub amount: Decimal,
}

/// The smallest and largest of a set of percentages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfitRange {
    /// Smallest.
    pub min: Decimal,
    /// Largest.
    pub max: Decimal,
}

/// Previews a grid bot started at `price` with a `fee_rate` per fill and `paper_balance`
/// quote. Non-grid settings are refused (`type`), like invalid settings, market or price.
pub fn preview(
    settings: &BotSettings,
    market: &MarketSpec,
    price: Decimal,
    fee_rate: Decimal,
    paper_balance: Decimal,
) -> Result<Preview, EngineError> {
    let (g, futures) = match settings {
        BotSettings::SpotGrid(g) => (g, false),
        BotSettings::FuturesGrid(g) => (g, true),
        _ => return Err(ValidationError::new("type", "a preview is only for grid bots").into()),
    };
    settings.validate()?;
    market.validate()?;
    let fee = FeeRate::new(fee_rate)?;
    let s = Scales::new(market.price_decimals, market.amount_decimals, fee.decimals);
    let min_lots = market.min_lots().ok_or_else(|| EngineError::Market("minimumTradeAmount is too large".into()))?;
    let at = s
        .round_price(price)
        .filter(|p| p.0 > 0)
        .ok_or_else(|| EngineError::Config(format!("price {price} is not a positive price of this market")))?;
    let bot = GridBot::new(g, futures, &s, min_lots, false)?;
    let prices = bot.prices();
    let n = prices.len() - 1;
    let leverage = bot.venue().leverage();
    let hold = |p: Price, q: Qty| {
        let tl = i128::from(p.0) * i128::from(q.0);
        let notional = s.ticklots_money(tl);
        let held = if matches!(bot.venue(), Venue::Futures { .. }) { margin_for(notional, leverage) } else { notional };
        (held + fee.fee(tl), fee.fee(tl))
    };
    let (mut orders, mut quote, mut base, mut fees) = (Vec::new(), 0i128, 0i64, 0i128);
    let mut order = |level: usize, side: Side, p: Price, q: Qty, fees: &mut i128| {
        *fees += fee.fee(i128::from(p.0) * i128::from(q.0));
        orders.push(PreviewOrder { level: level as u32, direction: side, price: s.price_dec(p), amount: s.qty_dec(q) });
    };
    if bot.fills_grid() {
        for i in (0..n).filter(|&i| prices[i].0 >= at.0) {
            let Some(q) = bot.level_qty(i) else { continue };
            quote += hold(at, q).0;
            base += q.0;
            order(i, Side::Sell, prices[i + 1], q, &mut fees);
        }
    }
    let below = prices[..n].partition_point(|p| p.0 < at.0);
    for i in (0..below).rev() {
        let Some(q) = bot.level_qty(i) else { continue };
        quote += hold(prices[i], q).0;
        order(i, Side::Buy, prices[i], q, &mut fees);
    }
    let f = fee.rate;
    let profits: Vec<Decimal> = (0..n)
        .filter(|&i| bot.level_qty(i).is_some())
        .filter_map(|i| {
            let (lo, hi) = (s.price_dec(prices[i]), s.price_dec(prices[i + 1]));
            let pct = (hi * (Decimal::ONE - f)).checked_div(lo)? - (Decimal::ONE + f);
            Some((pct * Decimal::ONE_HUNDRED).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero))
        })
        .collect();
    let range = ProfitRange {
        min: profits.iter().copied().min().unwrap_or_default().normalize(),
        max: profits.iter().copied().max().unwrap_or_default().normalize(),
    };
    let per_grid = g.investment_amount.checked_div(Decimal::from(g.grid_count)).unwrap_or_default();
    let required_quote = s.money_dec(quote);
    let mut warnings = Vec::new();
    if bot.disabled() > 0 {
        let (k, min, b) = (bot.disabled(), market.minimum_trade_amount, &market.base_currency);
        warnings.push(format!("{k} grid levels trade less than the minimum trade amount {min} {b}"));
    }
    if at < prices[0] || at > prices[n] {
        warnings.push("price is outside the grid range".into());
    }
    if required_quote > paper_balance {
        let q = &market.quote_currency;
        warnings.push(format!("requiredQuote exceeds the paper balance {} {q}", paper_balance.normalize()));
    }
    Ok(Preview {
        price: s.price_dec(at),
        orders,
        amount_per_grid: per_grid.round_dp_with_strategy(8, RoundingStrategy::MidpointAwayFromZero).normalize(),
        profit_per_grid: range,
        required_quote,
        required_base: s.qty_dec(Qty(base)),
        estimated_fees: s.money_dec(fees),
        warnings,
    })
}
