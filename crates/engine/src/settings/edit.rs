//! Which settings a live run accepts: no backtest-only setting, and an edit changes only the
//! keys the script metadata marks editable (`canBeEdited`; a test keeps the two in step).

use super::{BotSettings, DcaSettings, GridSettings, WebhookSettings};
use crate::error::ValidationError;

/// Refuses what a live definition may not carry: the webhook's `signals` (the timed signals
/// a backtest replays), with `signals: a backtest-only setting`. The ledger calls it on every
/// live create, edit and copy; [`crate::Engine::live`] calls it too. (An empty list is the
/// same as none: deserialized settings cannot tell them apart.)
pub fn validate_live(settings: &BotSettings) -> Result<(), ValidationError> {
    if let BotSettings::Webhook(w) = settings
        && !w.signals.is_empty()
    {
        return Err(ValidationError::new("signals", "a backtest-only setting"));
    }
    Ok(())
}

/// The keys each script lets a running bot change (the metadata's `canBeEdited`; the lists
/// below name the others).
#[cfg(test)]
pub(crate) const EDITABLE_GRID: [&str; 6] = ["maxWin", "maxLoss", "stopCondition", "stopType", "stopValue", "stopExit"];
#[cfg(test)]
pub(crate) const EDITABLE_DCA: [&str; 1] = ["takeProfit"];
#[cfg(test)]
pub(crate) const EDITABLE_WEBHOOK: [&str; 1] = ["signalToken"];

/// Checks that `new` differs from `current` only in editable keys; the error names the first
/// other key that differs (`<key>: cannot be edited`), or `type` for another script type.
pub(crate) fn check_edit(current: &BotSettings, new: &BotSettings) -> Result<(), ValidationError> {
    if current.script_type() != new.script_type() {
        return Err(ValidationError::new("type", "cannot be edited"));
    }
    let fixed = match (current, new) {
        (BotSettings::SpotGrid(a), BotSettings::SpotGrid(b))
        | (BotSettings::FuturesGrid(a), BotSettings::FuturesGrid(b)) => grid(a, b),
        (BotSettings::SpotDca(a), BotSettings::SpotDca(b))
        | (BotSettings::FuturesDca(a), BotSettings::FuturesDca(b)) => dca(a, b),
        (BotSettings::Webhook(a), BotSettings::Webhook(b)) => webhook(a, b),
        _ => vec![],
    };
    match fixed.into_iter().find(|(_, same)| !same) {
        Some((key, _)) => Err(ValidationError::new(key, "cannot be edited")),
        None => Ok(()),
    }
}

/// `(key, unchanged)` for every key that is not editable.
fn grid(a: &GridSettings, b: &GridSettings) -> Vec<(&'static str, bool)> {
    vec![
        ("symbol", a.symbol == b.symbol),
        ("lowerLimit", a.lower_limit == b.lower_limit),
        ("upperLimit", a.upper_limit == b.upper_limit),
        ("gridMode", a.grid_mode == b.grid_mode),
        ("gridCount", a.grid_count == b.grid_count),
        ("investmentAsset", a.asset() == b.asset()),
        ("investmentAmount", a.investment_amount == b.investment_amount),
        ("tradeToFillGrid", a.trade_to_fill_grid.unwrap_or(false) == b.trade_to_fill_grid.unwrap_or(false)),
        ("leverage", a.leverage() == b.leverage()),
        ("startCondition", a.start_condition == b.start_condition),
        ("startType", a.start_type == b.start_type),
        ("startValue", a.start_value == b.start_value),
        ("interval", a.interval == b.interval),
    ]
}

fn dca(a: &DcaSettings, b: &DcaSettings) -> Vec<(&'static str, bool)> {
    vec![
        ("symbol", a.symbol == b.symbol),
        ("direction", a.direction == b.direction),
        ("baseOrderAmount", a.base_order_amount == b.base_order_amount),
        ("safetyOrderAmount", a.safety_order_amount == b.safety_order_amount),
        ("maxSafetyOrders", a.max_safety_orders == b.max_safety_orders),
        ("priceDeviation", a.price_deviation == b.price_deviation),
        ("safetyOrderStepScale", a.safety_order_step_scale == b.safety_order_step_scale),
        ("safetyOrderVolumeScale", a.safety_order_volume_scale == b.safety_order_volume_scale),
        ("leverage", a.leverage() == b.leverage()),
        ("interval", a.interval == b.interval),
    ]
}

fn webhook(a: &WebhookSettings, b: &WebhookSettings) -> Vec<(&'static str, bool)> {
    vec![
        ("symbol", a.symbol == b.symbol),
        ("leverage", a.leverage() == b.leverage()),
        ("signals", a.signals == b.signals),
        ("interval", a.interval == b.interval),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::scripts::script;

    fn parse(v: serde_json::Value) -> BotSettings {
        serde_json::from_value(v).unwrap()
    }

    /// The edit check names every key of every script: the editable ones (as the metadata
    /// marks them) and all the others, so no key can change unchecked.
    #[test]
    fn editable_keys_match_the_metadata_and_every_other_key_is_checked() {
        let grid_s = parse(json!({"type": "futures_grid", "settings": {"symbol": "SIM_BTC_USDT_",
            "lowerLimit": 1, "upperLimit": 2, "gridCount": 1, "investmentAmount": 1}}));
        let dca_s = parse(json!({"type": "futures_dollar_cost_averaging", "settings": {"symbol": "SIM_BTC_USDT_",
            "baseOrderAmount": 1, "safetyOrderAmount": 1}}));
        let hook = parse(json!({"type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_"}}));
        let fixed = |s: &BotSettings| -> BTreeSet<&'static str> {
            match s {
                BotSettings::SpotGrid(g) | BotSettings::FuturesGrid(g) => grid(g, g),
                BotSettings::SpotDca(d) | BotSettings::FuturesDca(d) => dca(d, d),
                BotSettings::Webhook(w) => webhook(w, w),
            }
            .into_iter()
            .map(|(k, same)| {
                assert!(same);
                k
            })
            .collect()
        };
        for (s, editable) in
            [(&grid_s, &EDITABLE_GRID[..]), (&dca_s, &EDITABLE_DCA[..]), (&hook, &EDITABLE_WEBHOOK[..])]
        {
            let meta = script(s.script_type());
            let marked: BTreeSet<&str> = meta.settings.iter().filter(|m| m.can_be_edited).map(|m| m.key).collect();
            assert_eq!(marked, editable.iter().copied().collect(), "{:?}", s.script_type());
            let all: BTreeSet<&str> = meta.settings.iter().map(|m| m.key).collect();
            let checked: BTreeSet<&str> = fixed(s).union(&marked).copied().collect();
            assert!(all.is_subset(&checked), "{:?}: {:?} not checked", s.script_type(), all.difference(&checked));
        }
        // The spot grid's own keys are in the futures grid's check too.
        let spot: BTreeSet<&str> = script(crate::ScriptType::SpotGrid).settings.iter().map(|m| m.key).collect();
        let futures = fixed(&grid_s).union(&EDITABLE_GRID.iter().copied().collect()).copied().collect::<BTreeSet<_>>();
        assert!(spot.is_subset(&futures));
    }

    #[test]
    fn an_edit_is_refused_naming_the_first_fixed_key_that_differs() {
        let a = parse(json!({"type": "spot_dollar_cost_averaging", "settings": {"symbol": "SIM_BTC_USDT_",
            "baseOrderAmount": 10, "safetyOrderAmount": 20}}));
        let tp = parse(json!({"type": "spot_dollar_cost_averaging", "settings": {"symbol": "SIM_BTC_USDT_",
            "baseOrderAmount": 10, "safetyOrderAmount": 20, "takeProfit": 3}}));
        assert_eq!(check_edit(&a, &tp), Ok(()));
        let base = parse(json!({"type": "spot_dollar_cost_averaging", "settings": {"symbol": "SIM_BTC_USDT_",
            "baseOrderAmount": 11, "safetyOrderAmount": 20, "takeProfit": 3}}));
        assert_eq!(check_edit(&a, &base), Err(ValidationError::new("baseOrderAmount", "cannot be edited")));
        let hook = parse(json!({"type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_", "signalToken": "a"}}));
        let token = parse(json!({"type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_", "signalToken": "b"}}));
        assert_eq!(check_edit(&hook, &token), Ok(()));
    }

    #[test]
    fn live_definitions_may_not_carry_backtest_signals() {
        let with = parse(json!({"type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_",
            "signals": [{"timestamp": 1, "action": "buy", "amount": 1}]}}));
        let e = validate_live(&with).unwrap_err();
        assert_eq!(e.to_string(), "signals: a backtest-only setting");
        let without = parse(json!({"type": "webhook", "settings": {"symbol": "SIM_BTC_USDT_"}}));
        assert_eq!(validate_live(&without), Ok(()));
        // The interval is a live setting now (RSI bars); signals stay backtest-only.
        for t in crate::ScriptType::ALL {
            let meta = script(t);
            let only: Vec<&str> = meta.settings.iter().filter(|m| m.backtest_only).map(|m| m.key).collect();
            let expected: Vec<&str> = if t == crate::ScriptType::Webhook { vec!["signals"] } else { vec![] };
            assert_eq!(only, expected, "{t:?}");
            let interval = meta.settings.iter().find(|m| m.key == "interval").unwrap();
            assert!(interval.description.starts_with("RSI bar length"), "{}", interval.description);
        }
    }
}
