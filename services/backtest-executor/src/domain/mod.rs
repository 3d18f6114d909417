//! Pure rules of the executor: markets, timeframes, request validation, and the shapes the
//! results are stored in. No I/O.

pub mod results;
pub mod series;

use engine::{BotSettings, MarketSpec};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

/// The only exchange with stored history.
pub const SIM_EXCHANGE: &str = "SIM";

/// The SIM markets: BTC (2 price, 5 amount decimals) and ETH (2, 4).
pub fn market(symbol: &str) -> Option<MarketSpec> {
    match symbol {
        "SIM_BTC_USDT_" => Some(MarketSpec::sim_btc_usdt()),
        "SIM_ETH_USDT_" => Some(MarketSpec::sim_eth_usdt()),
        _ => None,
    }
}

/// `1m`, `5m`, `1h`, `1d` … as seconds.
pub fn parse_timeframe(text: &str) -> Option<i32> {
    let split = text.len().checked_sub(1)?;
    let (number, unit) = text.split_at(split);
    let number: i32 = number.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    number.checked_mul(unit)
}

/// The lifecycle of a backtest (reference 003).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Stored; waiting for a worker, or the worker is preparing the engine.
    LoadingScript,
    /// The worker counts and starts reading candles.
    LoadingData,
    /// The engine runs; progress moves.
    Executing,
    /// Results are stored.
    Completed,
    /// The run failed; the message says why.
    Failed,
    /// Cancelled by the partner.
    Cancelled,
}

impl State {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::LoadingScript => "loading_script",
            State::LoadingData => "loading_data",
            State::Executing => "executing",
            State::Completed => "completed",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    /// The states a worker may still work on.
    pub const UNFINISHED: [&'static str; 3] = ["loading_script", "loading_data", "executing"];
}

/// A backtest request that passed validation.
#[derive(Clone, Debug)]
pub struct ValidRequest {
    /// The bot settings (validated by the engine).
    pub settings: BotSettings,
    /// `{"type", "settings"}` as stored (the settings text as sent).
    pub frozen: String,
    /// The market.
    pub market: MarketSpec,
    /// The exchange id (`SIM`).
    pub exchange_id: String,
}

/// Validates the type, settings and exchange of a request. The error names the field, as
/// the partner API's code 1000 requires.
pub fn validate(
    script_type: &str,
    settings: &RawValue,
    exchange_id: Option<&str>,
    start_unix: i64,
    end_unix: i64,
) -> Result<ValidRequest, String> {
    const TYPES: [&str; 5] =
        ["spot_grid", "futures_grid", "spot_dollar_cost_averaging", "futures_dollar_cost_averaging", "webhook"];
    if !TYPES.contains(&script_type) {
        return Err(format!("type: must be one of {}", TYPES.join(", ")));
    }
    let exchange_id = exchange_id.unwrap_or(SIM_EXCHANGE);
    if exchange_id != SIM_EXCHANGE {
        return Err(format!("exchangeId: exchange '{exchange_id}' has no price history (only SIM)"));
    }
    if start_unix < 0 || end_unix <= start_unix {
        return Err("endUnix: must be after startUnix".to_string());
    }
    let frozen = format!(r#"{{"type":{},"settings":{}}}"#, serde_json::Value::from(script_type), settings.get());
    let bot: BotSettings = serde_json::from_str(&frozen).map_err(|error| format!("settings: {error}"))?;
    bot.validate().map_err(|error| format!("settings.{}: {}", error.field, error.reason))?;
    let market = market(bot.symbol())
        .ok_or_else(|| format!("settings.symbol: unknown market '{}' (SIM_BTC_USDT_, SIM_ETH_USDT_)", bot.symbol()))?;
    Ok(ValidRequest { settings: bot, frozen, market, exchange_id: exchange_id.to_string() })
}

/// Progress 0–100 of `done` out of `total`.
pub fn progress(done: u64, total: u64) -> u8 {
    if total == 0 {
        return 100;
    }
    u8::try_from((done.min(total) * 100) / total).unwrap_or(100)
}

/// Whether `text` is an exact decimal number (a JSON number can be written as it is).
pub fn is_decimal(text: &str) -> bool {
    Decimal::from_str_exact(text).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    const GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 25000, "upperLimit": 31000, "gridCount": 30,
        "investmentAsset": "Quote", "investmentAmount": 9900}"#;

    #[test]
    fn timeframes_parse() {
        assert_eq!(parse_timeframe("1m"), Some(60));
        assert_eq!(parse_timeframe("5m"), Some(300));
        assert_eq!(parse_timeframe("1h"), Some(3600));
        assert_eq!(parse_timeframe("0m"), None);
        assert_eq!(parse_timeframe("m"), None);
        assert_eq!(parse_timeframe("1x"), None);
    }

    #[test]
    fn a_valid_grid_passes_and_errors_name_the_field() {
        assert!(validate("spot_grid", &raw(GRID), Some("SIM"), 0, 10).is_ok());
        assert!(validate("spot_grid", &raw(GRID), None, 0, 10).is_ok());
        assert!(validate("nope", &raw(GRID), None, 0, 10).unwrap_err().starts_with("type:"));
        assert!(validate("spot_grid", &raw(GRID), Some("BINANCE"), 0, 10).unwrap_err().starts_with("exchangeId:"));
        assert!(validate("spot_grid", &raw(GRID), None, 10, 10).unwrap_err().starts_with("endUnix:"));
        let bad = GRID.replace("\"gridCount\": 30", "\"gridCount\": 0");
        assert!(validate("spot_grid", &raw(&bad), None, 0, 10).unwrap_err().starts_with("settings.gridCount"));
        let unknown = GRID.replace("SIM_BTC_USDT_", "SIM_DOGE_USDT_");
        assert!(validate("spot_grid", &raw(&unknown), None, 0, 10).unwrap_err().starts_with("settings.symbol"));
    }

    #[test]
    fn progress_is_a_percentage() {
        assert_eq!(progress(0, 10), 0);
        assert_eq!(progress(5, 10), 50);
        assert_eq!(progress(11, 10), 100);
        assert_eq!(progress(0, 0), 100);
    }
}
