//! The market catalogue: exchanges and the tickers traded on them.

use super::schema::{exchanges, tickers};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;

/// An exchange row.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = exchanges)]
pub struct Exchange {
    /// Its id (`SIM`, `BITMEX`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Trades spot markets.
    pub is_spot: bool,
    /// Trades leveraged markets.
    pub is_leverage: bool,
    /// Listed, and usable for new users.
    pub enabled: bool,
    /// Bots can trade on it.
    pub has_adapter: bool,
    /// When its markets trade (`domain::calendar::Calendar` as JSON).
    pub calendar: serde_json::Value,
}

/// Creates an exchange.
pub async fn insert_exchange(connection: &mut AsyncPgConnection, exchange: &Exchange) -> QueryResult<()> {
    diesel::insert_into(exchanges::table).values(exchange).execute(connection).await.map(drop)
}

/// The exchange with this id, enabled or not.
pub async fn find_exchange(connection: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<Exchange>> {
    exchanges::table.find(id).select(Exchange::as_select()).first(connection).await.optional()
}

/// Whether an enabled exchange has this id (exactly).
pub async fn exchange_enabled(connection: &mut AsyncPgConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(exchanges::table.find(id).filter(exchanges::enabled)))
        .get_result(connection)
        .await
}

/// The enabled exchanges, by id.
pub async fn enabled_exchanges(connection: &mut AsyncPgConnection) -> QueryResult<Vec<Exchange>> {
    exchanges::table
        .filter(exchanges::enabled)
        .order(exchanges::id)
        .select(Exchange::as_select())
        .load(connection)
        .await
}

/// A ticker of an enabled exchange, as `GET /markets` needs it.
#[derive(Queryable, Debug, Clone)]
pub struct ListedTicker {
    /// `<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>` (or a plain symbol such as `AAPL`).
    pub symbol: String,
    /// Base currency.
    pub base_currency: String,
    /// Quote currency.
    pub quote_currency: String,
    /// Contract, empty for none.
    pub contract: String,
    /// Decimals of prices.
    pub price_decimals: i16,
    /// Decimals of amounts.
    pub amount_decimals: i16,
    /// Smallest order amount, if set.
    pub min_amount: Option<Decimal>,
    /// Smallest order value.
    pub min_volume: Decimal,
    /// Spot market.
    pub is_spot: bool,
    /// Leveraged market.
    pub is_leverage: bool,
    /// Its exchange's id.
    pub exchange_id: String,
    /// Its exchange's name.
    pub exchange_name: String,
    /// Its exchange's calendar.
    pub calendar: serde_json::Value,
}

/// The tickers of the enabled exchanges, by exchange then symbol.
pub async fn listed_tickers(connection: &mut AsyncPgConnection) -> QueryResult<Vec<ListedTicker>> {
    tickers::table
        .inner_join(exchanges::table.on(tickers::exchange.eq(exchanges::id.nullable())))
        .filter(exchanges::enabled)
        .order((exchanges::id, tickers::symbol))
        .select((
            tickers::symbol,
            tickers::base_currency,
            tickers::quote_currency,
            tickers::contract,
            tickers::price_decimals,
            tickers::amount_decimals,
            tickers::min_amount,
            tickers::min_volume,
            tickers::is_spot,
            tickers::is_leverage,
            exchanges::id,
            exchanges::name,
            exchanges::calendar,
        ))
        .load(connection)
        .await
}

/// A market of an enabled exchange, as a hosted bot needs it.
#[derive(Queryable, Debug, Clone)]
pub struct TradedMarket {
    /// The symbol.
    pub symbol: String,
    /// Base currency.
    pub base_currency: String,
    /// Quote currency.
    pub quote_currency: String,
    /// Decimals of prices.
    pub price_decimals: i16,
    /// Decimals of amounts.
    pub amount_decimals: i16,
    /// Smallest order amount, if set.
    pub min_amount: Option<Decimal>,
    /// Its exchange.
    pub exchange_id: String,
    /// Whether bots can trade on its exchange.
    pub has_adapter: bool,
}

/// The market with this symbol on a known exchange (when `enabled_only`, an enabled one).
pub async fn traded_market(
    connection: &mut AsyncPgConnection,
    symbol: &str,
    enabled_only: bool,
) -> QueryResult<Option<TradedMarket>> {
    tickers::table
        .inner_join(exchanges::table.on(tickers::exchange.eq(exchanges::id.nullable())))
        .filter(exchanges::enabled.or(diesel::dsl::sql::<diesel::sql_types::Bool>(if enabled_only {
            "false"
        } else {
            "true"
        })))
        .filter(tickers::symbol.eq(symbol))
        .select((
            tickers::symbol,
            tickers::base_currency,
            tickers::quote_currency,
            tickers::price_decimals,
            tickers::amount_decimals,
            tickers::min_amount,
            exchanges::id,
            exchanges::has_adapter,
        ))
        .first(connection)
        .await
        .optional()
}

/// The asset type of the ticker with this symbol (`crypto`, `stock`, ...).
pub async fn asset_type(connection: &mut AsyncPgConnection, symbol: &str) -> QueryResult<Option<String>> {
    tickers::table.filter(tickers::symbol.eq(symbol)).select(tickers::asset_type).first(connection).await.optional()
}
