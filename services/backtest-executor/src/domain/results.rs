//! What a finished run is stored as: the results reply, one compact position per row, the
//! log lines and the equity curve. Decimals are written as JSON numbers with their exact
//! digits (the engine's report carries them as strings).

use super::is_decimal;
use domain::BacktestId;
use engine::{Direction, LogLevel, LogLine, MarketSpec, OrderType, Position, PositionFill, Report, Side};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// How many log lines the results reply carries (reference 003).
pub const RESULTS_LOG_LINES: usize = 50;

/// Keys of the compact position and order objects whose values are text, never numbers.
const TEXT_KEYS: [&str; 11] = ["pg", "g", "ac", "ma", "pl", "al", "paid", "id", "eid", "fc", "n"];

/// Writes `value` as JSON text, turning strings that are exact decimals into numbers, except
/// under the keys in `text_keys`.
pub fn exact_json(value: &Value, text_keys: &[&str]) -> String {
    let mut out = String::new();
    write(value, text_keys, false, &mut out);
    out
}

fn write(value: &Value, text_keys: &[&str], keep_text: bool, out: &mut String) {
    match value {
        Value::String(text) if !keep_text && is_decimal(text) => out.push_str(text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, text_keys, false, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write(item, text_keys, text_keys.contains(&key.as_str()), out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Facts of the run that are not in the engine's report.
#[derive(Clone, Debug)]
pub struct RunFacts {
    /// The backtest.
    pub backtest_id: BacktestId,
    /// The requested range.
    pub start_unix: i64,
    /// The requested range's end.
    pub end_unix: i64,
    /// When the worker started, unix seconds.
    pub execution_start: i64,
    /// When it finished, unix seconds.
    pub execution_end: i64,
    /// The partner's user, if the request named one.
    pub user_id: Option<String>,
    /// A futures bot (the compact `mt` key: 0 spot, 1 futures).
    pub futures: bool,
}

/// The `data` of `GET /bots/backtest/{id}/results`.
pub fn results_json(report: &Report, market: &MarketSpec, facts: &RunFacts) -> anyhow::Result<String> {
    let logs: Vec<String> = report.logs.iter().take(RESULTS_LOG_LINES).map(LogLine::to_results_string).collect();
    let value = json!({
        "backtestId": facts.backtest_id,
        "startUnix": facts.start_unix,
        "endUnix": facts.end_unix,
        "executionStart": facts.execution_start,
        "executionEnd": facts.execution_end,
        "market": market.display_name(),
        "summary": serde_json::to_value(&report.summary)?,
        "performance": serde_json::to_value(&report.performance)?,
        "orders": serde_json::to_value(&report.orders_stats)?,
        "positions": serde_json::to_value(&report.positions_stats)?,
        "logs": logs,
    });
    // Every string of these sections except the currency and the log lines is a decimal.
    Ok(exact_json(&value, &["backtestId", "market", "profitCurrency", "logs"]))
}

/// One row of `backtest_logs` as the logs route shows it.
pub fn log_item(line_number: i32, time: i64, level: i16, message: &str) -> Value {
    let level = u8::try_from(level).ok().and_then(|level| LogLevel::try_from(level).ok()).unwrap_or(LogLevel::Info);
    let color = match level {
        LogLevel::Info | LogLevel::Custom => "rgba(128, 128, 128, 1.00)",
        LogLevel::Trade => "rgba(33, 150, 243, 1.00)",
        LogLevel::Warning => "rgba(255, 152, 0, 1.00)",
        LogLevel::Error => "rgba(244, 67, 54, 1.00)",
    };
    json!({
        "lineNumber": line_number,
        "timestamp": time,
        "severity": level.name(),
        "color": color,
        "message": message,
    })
}

/// A position in the reference's compact keys (see the README for the mapping).
pub fn compact_position(position: &Position, report: &Report, market: &MarketSpec, facts: &RunFacts) -> String {
    let direction = match position.direction {
        Direction::Long => 0,
        Direction::Short => 1,
    };
    let orders = |fills: &[PositionFill], entry: bool| -> Vec<Value> {
        fills.iter().map(|f| compact_order(f, position, report, entry)).collect()
    };
    let value = json!({
        "pg": position.id.to_string(),
        "g": facts.backtest_id.to_string(),
        "ac": facts.user_id.clone().unwrap_or_default(),
        "ma": market.symbol,
        "le": position.leverage,
        "d": direction,
        "mt": u8::from(facts.futures),
        "pl": market.quote_currency,
        "al": market.base_currency,
        "pd": market.price_decimals,
        "ad": market.amount_decimals,
        "ot": position.open_time,
        "ct": position.close_time.unwrap_or(0),
        "ic": position.close_time.is_some() && position.open_amount.is_zero(),
        "ap": position.average_entry_price.to_string(),
        "t": position.amount.to_string(),
        "av": position.average_exit_price.unwrap_or(Decimal::ZERO).to_string(),
        "io": position.open_amount.to_string(),
        "eno": orders(&position.entry_orders, true),
        "exo": orders(&position.exit_orders, false),
        "cp": position.gross_profit.to_string(),
        "fe": position.fee_costs.to_string(),
        "rp": position.realized_profit.to_string(),
        "up": position.unrealized_profit.to_string(),
        "roi": position.roi.to_string(),
        "hpip": null,
        "lpip": null,
    });
    exact_json(&value, &TEXT_KEYS)
}

fn compact_order(fill: &PositionFill, position: &Position, report: &Report, entry: bool) -> Value {
    let order = report.orders.get(fill.order_id as usize);
    let leverage = Decimal::from(position.leverage.max(1));
    let margin = if entry { fill.price * fill.amount / leverage } else { Decimal::ZERO };
    json!({
        "paid": position.id.to_string(),
        "pa": fill.amount.to_string(),
        "id": fill.order_id.to_string(),
        "eid": "",
        "ot": order.map_or(fill.time, |o| o.created_at),
        "ct": fill.time,
        "to": 0,
        "d": match fill.side { Side::Buy => 0, Side::Sell => 1 },
        "t": match fill.order_type { OrderType::Market => 0, OrderType::Limit => 1 },
        "p": order.map_or(fill.price, |o| o.price).to_string(),
        "tp": 0,
        "ep": fill.price.to_string(),
        "a": order.map_or(fill.amount, |o| o.amount).to_string(),
        "af": order.map_or(fill.amount, |o| o.amount_filled).to_string(),
        "fe": fill.fee_costs.to_string(),
        "fc": order.map_or_else(String::new, |o| o.fee_currency.clone()),
        "m": margin.normalize().to_string(),
        "pr": null,
        "r": null,
        "cr": null,
        "n": fill.note,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decimal_strings_become_exact_numbers_except_text_keys() {
        let value = json!({"a": "1.10", "b": "USDT", "n": "5", "c": [ "2", null, true ], "d": {"e": "-0.5"}});
        assert_eq!(exact_json(&value, &["n"]), r#"{"a":1.10,"b":"USDT","c":[2,null,true],"d":{"e":-0.5},"n":"5"}"#);
    }

    #[test]
    fn log_items_name_their_severity() {
        let item = log_item(3, 100, 2, "careful");
        assert_eq!(item["severity"], "warning");
        assert_eq!(item["lineNumber"], 3);
    }
}
