//! `qry.live.preview_grid.v1`: what a grid bot would place if started now, at the latest quote
//! this replica heard on its market (every replica hears every market), computed by the
//! engine's pure `preview` with the fee rate and paper balance a started bot would have.

use crate::live::LastQuotes;
use crate::live::run::{RunDefaults, bot_settings};
use crate::wire::wire_name;
use bus::BusError;
use bus::messages::live::{GridPreview, GridPreviewOrder, PreviewGrid, ProfitRangeMsg};
use bus::messages::partner::reference::JsonDecimal;
use engine::{MarketSpec, RunConfig};
use std::sync::PoisonError;

/// The preview; not found when no quote of the market was heard yet.
pub fn preview_grid(
    quotes: &LastQuotes,
    defaults: &RunDefaults,
    request: &PreviewGrid,
) -> Result<GridPreview, BusError> {
    let market: MarketSpec = serde_json::to_value(&request.market)
        .and_then(serde_json::from_value)
        .map_err(|error| BusError::invalid(format!("market: {error}")))?;
    let settings = bot_settings(&request.script_type, request.settings.get()).map_err(BusError::invalid)?;
    let last = quotes.read().unwrap_or_else(PoisonError::into_inner).get(&market.symbol).map(|quote| quote.last);
    let Some(price) = last else {
        return Err(BusError::not_found(format!("No current price for {}", market.symbol)));
    };
    let fee_rate = RunConfig::default().fee_rate;
    let preview = engine::preview(&settings, &market, price, fee_rate, defaults.starting_quote)
        .map_err(|error| BusError::invalid(error.to_string()))?;
    Ok(GridPreview {
        price: JsonDecimal(preview.price),
        orders: preview
            .orders
            .into_iter()
            .map(|order| GridPreviewOrder {
                level: order.level,
                direction: wire_name(&order.direction),
                price: JsonDecimal(order.price),
                amount: JsonDecimal(order.amount),
            })
            .collect(),
        amount_per_grid: JsonDecimal(preview.amount_per_grid),
        profit_per_grid: ProfitRangeMsg {
            min: JsonDecimal(preview.profit_per_grid.min),
            max: JsonDecimal(preview.profit_per_grid.max),
        },
        required_quote: JsonDecimal(preview.required_quote),
        required_base: JsonDecimal(preview.required_base),
        estimated_fees: JsonDecimal(preview.estimated_fees),
        warnings: preview.warnings,
    })
}
