//! Shapes of the reference-data routes (`exchanges`, `markets`, `scripts`, `scripts/script`)
//! for the OpenAPI document. The ledger and the engine write these; the gateway only forwards
//! them, so these types describe them and are never built.

use super::{ScriptType, described, errors};
use std::collections::BTreeMap;
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

/// An exchange (reference 003).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerExchange {
    /// Its id (`SIM`, `BITMEX`): the `exchangeId` of users, bots and markets.
    id: String,
    /// Display name.
    name: String,
    /// Whether it trades spot markets.
    is_spot: bool,
    /// Whether it trades leveraged markets.
    is_leverage: bool,
}

/// Success envelope of `GET /exchanges`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ExchangesEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The enabled exchanges.
    data: Vec<PartnerExchange>,
}

/// A market with its trading rules (reference 003: all 16 fields).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerMarket {
    /// The exchange it trades on.
    exchange_id: String,
    /// `BTC/USDT`, followed by the contract when there is one (`ADA/USDT ADAUSDT`).
    name: String,
    /// `<exchange name> <name>`.
    full_name: String,
    /// `<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>` (`SIM_BTC_USDT_`): the `symbol` of bot settings.
    symbol: String,
    /// The exchange's own symbol.
    exchange_symbol: String,
    /// Base currency.
    base_currency: String,
    /// Quote currency.
    quote_currency: String,
    /// Decimals of a price.
    price_decimals: i16,
    /// Decimals of an amount.
    amount_decimals: i16,
    /// The smallest order amount, in the base currency (a JSON number written digit for digit).
    minimum_trade_amount: f64,
    /// The smallest order value, in the quote currency; 0 when the exchange sets none.
    minimum_trade_volume: f64,
    /// What amounts are counted in.
    amount_label: String,
    /// The currency profit settles in.
    profit_label: String,
    /// Whether it is a spot market.
    is_spot: bool,
    /// Whether it is a leveraged market.
    is_leverage: bool,
    /// Whether the exchange's calendar is open now.
    is_open: bool,
}

/// Success envelope of `GET /markets`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct MarketsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// Every market of the enabled exchanges.
    data: Vec<PartnerMarket>,
}

/// `POST /scripts/script` (reference 003).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptBody {
    /// The bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
}

/// The value type of a setting.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SettingType {
    /// Text.
    String,
    /// A number.
    Number,
    /// One of `options`.
    Option,
    /// `true` / `false`.
    Boolean,
    /// A JSON array (the webhook's backtest-only `signals`).
    Array,
}

/// One setting of a script: reference 003's fields, plus `required`, `min`, `max` and
/// `backtestOnly`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerScriptSetting {
    /// The key in a bot's `settings` (camelCase).
    key: String,
    /// Display group.
    group: String,
    /// Display name.
    name: String,
    /// What it does.
    description: String,
    /// Value type.
    #[serde(rename = "type")]
    kind: SettingType,
    /// The default value (a string, number, boolean or empty array), or null without one.
    #[schema(value_type = serde_json::Value)]
    value: Option<String>,
    /// Must be given.
    required: bool,
    /// Smallest value accepted (numbers); null without a bound.
    min: Option<f64>,
    /// Largest value accepted (numbers); null without a bound.
    max: Option<f64>,
    /// May be changed on a running bot.
    can_be_edited: bool,
    /// The allowed values of an `option` setting; empty otherwise.
    options: Vec<String>,
    /// Only used by backtests (the webhook's `signals`).
    backtest_only: bool,
}

/// A hosted bot type with its settings.
#[derive(ToSchema)]
pub struct PartnerScript {
    /// The bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
    /// Display name.
    name: String,
    /// What it does.
    description: String,
    /// Its settings.
    settings: Vec<PartnerScriptSetting>,
}

/// Success envelope of `GET /scripts`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ScriptsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The five scripts, in the reference's order.
    data: Vec<PartnerScript>,
}

/// Success envelope of `POST /scripts/script`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ScriptEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The script.
    data: PartnerScript,
}

fn envelope(data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": data})
}

/// The reply of `GET /exchanges` on the local stack.
pub fn exchanges_example() -> serde_json::Value {
    envelope(serde_json::json!([{"id": "SIM", "name": "Simulated exchange", "isSpot": true, "isLeverage": true}]))
}

/// A reply of `GET /markets`.
pub fn markets_example() -> serde_json::Value {
    envelope(serde_json::json!([{
        "exchangeId": "SIM", "name": "BTC/USDT", "fullName": "Simulated exchange BTC/USDT",
        "symbol": "SIM_BTC_USDT_", "exchangeSymbol": "BTCUSDT", "baseCurrency": "BTC", "quoteCurrency": "USDT",
        "priceDecimals": 2, "amountDecimals": 5, "minimumTradeAmount": 0.00001, "minimumTradeVolume": 0,
        "amountLabel": "BTC", "profitLabel": "USDT", "isSpot": true, "isLeverage": true, "isOpen": true
    }]))
}

/// The reply of `GET /scripts`: the engine's metadata itself.
pub fn scripts_example() -> serde_json::Value {
    envelope(serde_json::to_value(engine::scripts::scripts()).unwrap_or_default())
}

/// The reply of `POST /scripts/script` for `spot_grid`.
pub fn script_example() -> serde_json::Value {
    envelope(serde_json::to_value(engine::scripts::script(engine::scripts::ScriptType::SpotGrid)).unwrap_or_default())
}

fn reference_errors() -> BTreeMap<String, RefOr<Response>> {
    let mut responses = errors(&[401, 413, 500]);
    responses.insert("503".into(), described("Code 9503: the ledger is unavailable", &[9503]));
    responses
}

/// Errors of `exchanges`, `markets` and `scripts`: the common ones only.
pub struct ReferenceErrors;

impl IntoResponses for ReferenceErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        reference_errors()
    }
}

/// Errors of `scripts/script`.
pub struct ScriptErrors;

impl IntoResponses for ScriptErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = reference_errors();
        responses.insert(
            "400".into(),
            described("Code 1000: invalid JSON, an unknown field, or `type` missing or not a bot type", &[1000]),
        );
        responses
    }
}
