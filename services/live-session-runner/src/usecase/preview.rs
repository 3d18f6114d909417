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

/// When the preview is asked and how old its price may be before it says so.
#[derive(Clone, Copy, Debug)]
pub struct PriceAge {
    /// Now, on the runner's clock (Unix ms).
    pub now_ms: i64,
    /// A quote older than this is stale (`live.stale_after_ms`, as the bots' watchdog).
    pub stale_after_ms: i64,
}

/// The preview; not found when no quote of the market was heard yet. A price from a quote
/// older than the staleness threshold is still used, with a warning first.
pub fn preview_grid(
    quotes: &LastQuotes,
    defaults: &RunDefaults,
    age: PriceAge,
    request: &PreviewGrid,
) -> Result<GridPreview, BusError> {
    let market: MarketSpec = serde_json::to_value(&request.market)
        .and_then(serde_json::from_value)
        .map_err(|error| BusError::invalid(format!("market: {error}")))?;
    let settings = bot_settings(&request.script_type, request.settings.get()).map_err(BusError::invalid)?;
    let last = quotes
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&market.symbol)
        .map(|quote| (quote.last, quote.time_ms));
    let Some((price, quoted_at)) = last else {
        return Err(BusError::not_found(format!("No current price for {}", market.symbol)));
    };
    let mut warnings = Vec::new();
    let quote_age_ms = age.now_ms - quoted_at;
    if quote_age_ms > age.stale_after_ms {
        warnings.push(format!(
            "The price is from a quote {} s old: market data for {} is stale",
            quote_age_ms.div_euclid(1000),
            market.symbol
        ));
    }
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
        warnings: warnings.into_iter().chain(preview.warnings).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bus::messages::hosted::MarketSpecMsg;
    use bus::messages::market::{MarketSymbol, QuoteMsg};
    use rust_decimal::Decimal;
    use serde_json::value::RawValue;

    const QUOTED_AT: i64 = 1_800_000_000_000;

    fn preview_at(now_ms: i64) -> GridPreview {
        let symbol = MarketSymbol::new("SIM_BTC_USDT_").unwrap();
        let last = Decimal::from(29_000);
        let quote = QuoteMsg::new(symbol.clone(), QUOTED_AT, last, last, last).unwrap();
        let quotes = LastQuotes::default();
        quotes.write().unwrap().insert(symbol.as_str().to_string(), quote);
        let request = PreviewGrid {
            script_type: "spot_grid".to_string(),
            settings: RawValue::from_string(
                r#"{"symbol":"SIM_BTC_USDT_","lowerLimit":28000,"upperLimit":31000,"gridCount":30,"investmentAmount":9900,"investmentAsset":"Quote"}"#.to_string(),
            )
            .unwrap(),
            market: MarketSpecMsg {
                symbol: "SIM_BTC_USDT_".to_string(),
                base_currency: "BTC".to_string(),
                quote_currency: "USDT".to_string(),
                price_decimals: 2,
                amount_decimals: 5,
                minimum_trade_amount: Decimal::new(1, 5),
            },
        };
        let defaults = RunDefaults { starting_quote: Decimal::from(10_000) };
        preview_grid(&quotes, &defaults, PriceAge { now_ms, stale_after_ms: 10_000 }, &request).unwrap()
    }

    #[test]
    fn a_price_from_a_stale_quote_is_used_with_a_warning_first() {
        let fresh = preview_at(QUOTED_AT + 10_000);
        assert!(!fresh.warnings.iter().any(|warning| warning.contains("stale")), "{:?}", fresh.warnings);
        let stale = preview_at(QUOTED_AT + 3_600_500);
        assert_eq!(stale.warnings[0], "The price is from a quote 3600 s old: market data for SIM_BTC_USDT_ is stale");
        assert_eq!(stale.price, fresh.price, "the same price, said to be old");
    }
}
