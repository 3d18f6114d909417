//! A hosted bot's settings as the ledger keeps them: the sent keys merged over the script's
//! defaults (or over the stored settings, for an edit or a copy), checked against the engine's
//! script metadata and settings rules, and kept with every number exactly as written.
//!
//! Values travel as raw JSON text (`RawValue`) from the request to the stored `jsonb`, so
//! `0.1` stays `0.1` and `30` stays `30`; only the engine's validation reads them as decimals.

use engine::{BotSettings, ScriptType, SettingMeta, SettingValue, script};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Settings keyed by name, each value the JSON text as written.
pub type Settings = BTreeMap<String, Box<RawValue>>;

/// The longest `signalToken`.
pub const MAX_SIGNAL_TOKEN_CHARS: usize = 128;

/// The message every script type refusal uses (the same as `scripts/script`'s).
pub const TYPE_MESSAGE: &str =
    "type must be one of spot_grid, futures_grid, spot_dollar_cost_averaging, futures_dollar_cost_averaging, webhook";

/// The script type a client named, or the refusal.
pub fn script_type(name: &str) -> Result<ScriptType, String> {
    ScriptType::ALL.into_iter().find(|t| t.as_str() == name).ok_or_else(|| TYPE_MESSAGE.to_string())
}

/// Reads a settings object as sent; `null` is an empty one (a copy without overrides).
pub fn parse(sent: &RawValue) -> Result<Settings, String> {
    if sent.get().trim() == "null" {
        return Ok(Settings::new());
    }
    // Stored as jsonb, whose text cannot hold NUL.
    if sent.get().contains("\\u0000") {
        return Err("settings must not contain the \\u0000 character".to_string());
    }
    serde_json::from_str(sent.get()).map_err(|_| "settings must be an object".to_string())
}

/// Reads stored settings (the ledger's own canonical text).
pub fn stored(text: &str) -> Result<Settings, String> {
    serde_json::from_str(text).map_err(|error| format!("stored settings are not an object: {error}"))
}

/// The settings as one JSON object text.
pub fn to_text(settings: &Settings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_string())
}

/// Refuses keys the script does not have (`Unknown field 'settings.x'`) and keys only a
/// backtest takes (`settings.signals: a backtest-only setting`).
pub fn check_keys(script_type: ScriptType, sent: &Settings) -> Result<(), String> {
    let metadata = script(script_type).settings;
    for key in sent.keys() {
        match metadata.iter().find(|setting| setting.key == key) {
            None => return Err(format!("Unknown field 'settings.{key}'")),
            Some(setting) if setting.backtest_only => return Err(format!("settings.{key}: a backtest-only setting")),
            Some(_) => {}
        }
    }
    Ok(())
}

/// The script's defaults, as JSON text (keys without a default are left out).
pub fn defaults(script_type: ScriptType) -> Settings {
    script(script_type)
        .settings
        .iter()
        .filter(|setting| !setting.backtest_only)
        .filter_map(|setting| Some((setting.key.to_string(), default_text(setting)?)))
        .collect()
}

fn default_text(setting: &SettingMeta) -> Option<Box<RawValue>> {
    let text = match &setting.value {
        SettingValue::None | SettingValue::EmptyArray => return None,
        SettingValue::Text(text) => serde_json::to_string(text).ok()?,
        SettingValue::Number(number) => number.normalize().to_string(),
        SettingValue::Bool(flag) => flag.to_string(),
    };
    RawValue::from_string(text).ok()
}

/// `over` merged onto `base`: each key of `over` replaces the same key of `base`.
pub fn merge(base: &Settings, over: &Settings) -> Settings {
    let mut merged = base.clone();
    merged.extend(over.iter().map(|(key, value)| (key.clone(), value.clone())));
    merged
}

/// The symbol the settings name, if they name one as a string.
pub fn symbol(settings: &Settings) -> Option<String> {
    settings.get("symbol").and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
}

/// Checks the whole of a hosted bot's settings with the engine's rules, naming the field:
/// the webhook's token first (`settings.signalToken is required`), then the shape
/// (`settings: <why>`), then each value (`settings.<field>: <reason>`).
pub fn validate(script_type: ScriptType, settings: &Settings) -> Result<BotSettings, String> {
    if script_type == ScriptType::Webhook {
        let token = settings.get("signalToken").and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
        match token {
            Some(token) if !token.trim().is_empty() && token.chars().count() <= MAX_SIGNAL_TOKEN_CHARS => {}
            Some(token) if !token.trim().is_empty() => {
                return Err(format!("settings.signalToken: must be at most {MAX_SIGNAL_TOKEN_CHARS} characters"));
            }
            _ => return Err("settings.signalToken is required".to_string()),
        }
    }
    let tagged = format!(r#"{{"type":"{}","settings":{}}}"#, script_type.as_str(), to_text(settings));
    let bot: BotSettings = serde_json::from_str(&tagged).map_err(|error| format!("settings: {error}"))?;
    bot.validate().map_err(|error| format!("settings.{}: {}", error.field, error.reason))?;
    engine::settings::validate_live(&bot).map_err(|error| format!("settings.{}: {}", error.field, error.reason))?;
    Ok(bot)
}

/// Refuses an edit that changes a key the script does not let a running bot change
/// (`settings.<key> cannot be edited`); sending an unchanged value is fine, so a client may
/// send the whole object back.
pub fn check_editable(script_type: ScriptType, stored: &Settings, sent: &Settings) -> Result<(), String> {
    let metadata = script(script_type).settings;
    for (key, value) in sent {
        let editable = metadata.iter().any(|setting| setting.key == key && setting.can_be_edited);
        if !editable && !stored.get(key).is_some_and(|current| same_value(current, value)) {
            return Err(format!("settings.{key} cannot be edited"));
        }
    }
    Ok(())
}

/// The keys of `sent` whose value differs from `stored` (by value: `1000` = `1000.0`).
pub fn changed(stored: &Settings, sent: &Settings) -> Settings {
    sent.iter()
        .filter(|(key, value)| !stored.get(*key).is_some_and(|current| same_value(current, value)))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Whether two JSON values are the same: numbers by value (`1000` = `1000.0` = `1e3`).
fn same_value(a: &RawValue, b: &RawValue) -> bool {
    match (number(a.get()), number(b.get())) {
        (Some(a), Some(b)) => a == b,
        _ => {
            let parse = |raw: &RawValue| serde_json::from_str::<serde_json::Value>(raw.get()).ok();
            parse(a).is_some_and(|a| Some(a) == parse(b))
        }
    }
}

fn number(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return None;
    }
    Decimal::from_str(text).ok().or_else(|| Decimal::from_scientific(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        parse(&RawValue::from_string(text.to_string()).unwrap()).unwrap()
    }

    const GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
        "investmentAsset": "Quote", "investmentAmount": 9900.50}"#;

    #[test]
    fn a_create_fills_every_default_and_keeps_numbers_as_written() {
        let merged = merge(&defaults(ScriptType::SpotGrid), &settings(GRID));
        validate(ScriptType::SpotGrid, &merged).unwrap();
        let text: serde_json::Value = serde_json::from_str(&to_text(&merged)).unwrap();
        assert_eq!(text["investmentAmount"].to_string(), "9900.5", "a JSON number");
        assert_eq!(merged["investmentAmount"].get(), "9900.50", "as written");
        assert_eq!(text["gridMode"], "Arithmetic");
        assert_eq!(text["tradeToFillGrid"], false);
        assert_eq!(text["stopCondition"], "Manual");
        assert_eq!(text["startValue"], 0);
        assert!(text.get("signals").is_none() && text.get("interval").is_none(), "{text}");
    }

    #[test]
    fn unknown_and_backtest_only_keys_are_refused() {
        assert_eq!(
            check_keys(ScriptType::SpotGrid, &settings(r#"{"orderSize": 75}"#)).unwrap_err(),
            "Unknown field 'settings.orderSize'"
        );
        assert_eq!(
            check_keys(ScriptType::Webhook, &settings(r#"{"signals": []}"#)).unwrap_err(),
            "settings.signals: a backtest-only setting"
        );
        assert!(check_keys(ScriptType::SpotGrid, &settings(GRID)).is_ok());
    }

    #[test]
    fn values_are_checked_by_the_engine_naming_the_field() {
        let bad = |text: &str| {
            validate(ScriptType::SpotGrid, &merge(&defaults(ScriptType::SpotGrid), &settings(text))).unwrap_err()
        };
        let grid = GRID.replace("\"gridCount\": 30", "\"gridCount\": 0");
        assert!(bad(&grid).starts_with("settings.gridCount:"), "{}", bad(&grid));
        let grid = GRID.replace("28000", "\"cheap\"");
        assert!(bad(&grid).starts_with("settings: "), "{}", bad(&grid));
        let missing = r#"{"symbol": "SIM_BTC_USDT_"}"#;
        assert!(bad(missing).starts_with("settings: missing field"), "{}", bad(missing));
    }

    #[test]
    fn a_webhook_bot_needs_its_signal_token() {
        let webhook =
            |text: &str| validate(ScriptType::Webhook, &merge(&defaults(ScriptType::Webhook), &settings(text)));
        assert_eq!(webhook(r#"{"symbol": "SIM_BTC_USDT_"}"#).unwrap_err(), "settings.signalToken is required");
        assert_eq!(
            webhook(r#"{"symbol": "SIM_BTC_USDT_", "signalToken": " "}"#).unwrap_err(),
            "settings.signalToken is required"
        );
        let long = format!(r#"{{"symbol": "SIM_BTC_USDT_", "signalToken": "{}"}}"#, "t".repeat(129));
        assert!(webhook(&long).unwrap_err().contains("at most 128"));
        assert!(webhook(r#"{"symbol": "SIM_BTC_USDT_", "signalToken": "tok"}"#).is_ok());
    }

    #[test]
    fn an_edit_changes_only_editable_keys_and_accepts_unchanged_values() {
        let stored = merge(&defaults(ScriptType::SpotGrid), &settings(GRID));
        assert_eq!(
            check_editable(ScriptType::SpotGrid, &stored, &settings(r#"{"lowerLimit": 1000}"#)).unwrap_err(),
            "settings.lowerLimit cannot be edited"
        );
        assert!(
            check_editable(ScriptType::SpotGrid, &stored, &settings(r#"{"lowerLimit": 28000.0, "stopValue": 55000}"#))
                .is_ok()
        );
        assert!(check_editable(ScriptType::SpotGrid, &stored, &settings(r#"{"investmentAmount": 9900.5}"#)).is_ok());
        assert!(
            check_editable(ScriptType::SpotGrid, &stored, &settings(r#"{"gridMode": "Arithmetic", "stopExit": true}"#))
                .is_ok()
        );
        assert!(check_editable(ScriptType::SpotGrid, &stored, &settings(r#"{"gridMode": "Geometric"}"#)).is_err());
    }

    #[test]
    fn only_changed_keys_go_on_to_followers() {
        let stored = merge(&defaults(ScriptType::SpotGrid), &settings(GRID));
        let sent = settings(r#"{"lowerLimit": 28000.0, "stopValue": 55000, "stopExit": false}"#);
        let changed = changed(&stored, &sent);
        assert_eq!(changed.keys().collect::<Vec<_>>(), ["stopValue"]);
        assert!(super::changed(&stored, &settings("{}")).is_empty());
    }

    #[test]
    fn a_nul_character_is_refused_before_it_reaches_jsonb() {
        let raw = RawValue::from_string(r#"{"signalToken": "a\u0000b"}"#.to_string()).unwrap();
        assert_eq!(parse(&raw).unwrap_err(), "settings must not contain the \\u0000 character");
    }

    #[test]
    fn script_types_are_the_five_wire_names() {
        assert_eq!(script_type("spot_grid"), Ok(ScriptType::SpotGrid));
        assert_eq!(script_type("Spot_Grid").unwrap_err(), TYPE_MESSAGE);
    }
}
