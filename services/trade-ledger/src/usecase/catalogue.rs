//! The market catalogue of the Partner API: enabled exchanges and their markets.

use super::storage_error;
use crate::domain::catalogue::{CatalogueEntry, market_view};
use crate::store::catalogue;
use bus::BusError;
use bus::messages::partner::reference::{ExchangeView, MarketView};
use chrono::Utc;
use domain::calendar::Calendar;
use platform::db::PgPool;
use tracing::warn;

/// The enabled exchanges, by id.
pub async fn exchanges(pool: &PgPool) -> Result<Vec<ExchangeView>, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let exchanges = catalogue::enabled_exchanges(&mut connection).await.map_err(storage_error)?;
    Ok(exchanges
        .into_iter()
        .map(|exchange| ExchangeView {
            id: exchange.id,
            name: exchange.name,
            is_spot: exchange.is_spot,
            is_leverage: exchange.is_leverage,
        })
        .collect())
}

/// The markets of the enabled exchanges, each open or not now by its exchange's calendar.
pub async fn markets(pool: &PgPool) -> Result<Vec<MarketView>, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let tickers = catalogue::listed_tickers(&mut connection).await.map_err(storage_error)?;
    let now = Utc::now();
    Ok(tickers
        .iter()
        .map(|ticker| {
            let calendar = stored_calendar(&ticker.exchange_id, &ticker.calendar);
            let entry = CatalogueEntry {
                exchange_id: &ticker.exchange_id,
                exchange_name: &ticker.exchange_name,
                calendar: calendar.as_ref(),
                symbol: &ticker.symbol,
                base_currency: &ticker.base_currency,
                quote_currency: &ticker.quote_currency,
                contract: &ticker.contract,
                price_decimals: ticker.price_decimals,
                amount_decimals: ticker.amount_decimals,
                min_amount: ticker.min_amount,
                min_volume: ticker.min_volume,
                is_spot: ticker.is_spot,
                is_leverage: ticker.is_leverage,
            };
            market_view(&entry, now)
        })
        .collect())
}

/// An exchange's stored calendar. `admin create-exchange` stores only valid ones; a row edited
/// by hand into something unreadable lists its markets as closed rather than failing the list.
fn stored_calendar(exchange: &str, stored: &serde_json::Value) -> Option<Calendar> {
    Calendar::parse(&stored.to_string())
        .inspect_err(
            |error| warn!(exchange, error = %error, "unreadable exchange calendar: its markets are listed as closed"),
        )
        .ok()
}
