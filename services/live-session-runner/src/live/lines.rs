//! The runner's own lines in a bot's log, besides the engine's.

use engine::BotSettings;
use serde_json::Value;

/// A stop the partner asked for.
pub const STOPPED_BY_REQUEST: &str = "Bot stopped: stop requested";

/// Quotes came back after a stale episode.
pub const MARKET_DATA_RESUMED: &str = "Market data resumed";

/// No quote on `symbol` for `quiet_ms`.
pub fn market_data_stale(symbol: &str, quiet_ms: i64) -> String {
    format!("No quotes for {symbol} for {} s: market data is stale", quiet_ms.div_euclid(1000))
}

/// A run taken over after its owner died gets its first quote `quiet_ms` after the last one
/// it had seen.
pub fn resumed_after(quiet_ms: i64) -> String {
    format!("Resumed after {} s without quotes", quiet_ms.div_euclid(1000))
}

/// The settings an edit changed, `key old → new` each, in key order: `stopValue 0 → 55000`.
pub fn settings_changes(old: &BotSettings, new: &BotSettings) -> String {
    let (old, new) = (fields(old), fields(new));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let changes: Vec<String> = keys
        .into_iter()
        .filter(|key| old.get(*key) != new.get(*key))
        .map(|key| format!("{key} {} → {}", shown(old.get(key)), shown(new.get(key))))
        .collect();
    if changes.is_empty() { "no visible change".to_string() } else { changes.join(", ") }
}

/// The settings object of tagged settings (`{"type": …, "settings": {…}}`).
fn fields(settings: &BotSettings) -> serde_json::Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(mut tagged)) => match tagged.remove("settings") {
            Some(Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        },
        _ => serde_json::Map::new(),
    }
}

/// A setting's value as a person reads it: numbers and words bare, `none` when unset.
fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "none".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::run::bot_settings;

    fn grid(extra: &str) -> BotSettings {
        let settings = format!(
            r#"{{"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
                "investmentAsset": "Quote", "investmentAmount": 9900{extra}}}"#
        );
        bot_settings("spot_grid", &settings).expect("valid settings")
    }

    #[test]
    fn an_edit_names_each_changed_setting_with_its_old_and_new_value() {
        let before = grid(r#", "stopCondition": "Price", "stopValue": 0"#);
        let after = grid(r#", "stopCondition": "Price", "stopValue": 55000"#);
        assert_eq!(settings_changes(&before, &after), "stopValue 0 → 55000");
        let more = grid(r#", "stopCondition": "Price", "stopValue": 55000, "stopExit": true"#);
        assert_eq!(settings_changes(&before, &more), "stopExit false → true, stopValue 0 → 55000");
    }

    #[test]
    fn the_feed_lines_count_whole_seconds() {
        assert_eq!(
            market_data_stale("SIM_BTC_USDT_", 10_999),
            "No quotes for SIM_BTC_USDT_ for 10 s: market data is stale"
        );
        assert_eq!(resumed_after(65_000), "Resumed after 65 s without quotes");
    }
}
