//! Body validation of the Bot API with the references' exact messages. The first failing
//! field wins; fields are checked in the order the references list them, unknown fields last.

use super::fields::{
    Check, MAX_ITEMS, MAX_STATE_BYTES, item_object, join, number, opaque_object, required_string, storable,
};
use crate::api::json::{self, Object};
use bus::messages::bot_api::{ParticipationInput, StateInput};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::str::FromStr;

/// The longest broker order id (parent or child), in characters.
pub const MAX_ORDER_ID_CHARS: usize = 128;

/// The most child orders one participation may name.
pub const MAX_CHILD_ORDERS: usize = 50;

/// A required id field: any typed id (`TradeId`, `UserId`, ...) parses from a UUID's text.
fn required_id<Id: FromStr>(item: &Object, path: &str, field: &str) -> Check<Id> {
    let text = required_string(item, path, field)?;
    text.parse().map_err(|_| format!("{path}.{field} must be a valid UUID"))
}

fn items(body: &Object, field: &str) -> Option<Vec<Box<RawValue>>> {
    body.get(field).and_then(|raw| json::as_array(raw))
}

fn too_many(field: &str) -> String {
    format!("{field} cannot contain more than {MAX_ITEMS} items")
}

/// A broker order id the fetcher can ask for: storable and at most 128 characters.
fn order_id(id: String, name: &str) -> Check<String> {
    let id = storable(id, name)?;
    if id.chars().count() > MAX_ORDER_ID_CHARS {
        return Err(format!("{name} must be at most {MAX_ORDER_ID_CHARS} characters"));
    }
    Ok(id)
}

/// `childOrderIds`: at most 50 distinct order ids.
fn child_order_ids(item: &Object, path: &str) -> Check<Vec<String>> {
    let name = join(path, "childOrderIds");
    let Some(raw) = item.get("childOrderIds") else { return Ok(Vec::new()) };
    let ids = json::as_array(raw)
        .and_then(|ids| ids.iter().map(|id| json::as_string(id)).collect::<Option<Vec<_>>>())
        .ok_or_else(|| format!("{name} must be an array of strings"))?;
    if ids.len() > MAX_CHILD_ORDERS {
        return Err(format!("{name} cannot contain more than {MAX_CHILD_ORDERS} items"));
    }
    let ids = ids
        .into_iter()
        .enumerate()
        .map(|(index, id)| order_id(id, &format!("{name}[{index}]")))
        .collect::<Check<Vec<_>>>()?;
    let mut seen = HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(format!("{name} contains '{twice}' twice"));
    }
    Ok(ids)
}

/// Reference 000's body: `{participations: [...]}`.
pub fn participations(body: Option<Object>) -> Check<Vec<ParticipationInput>> {
    let body = body.unwrap_or_default();
    let raw_items = items(&body, "participations")
        .filter(|items| !items.is_empty())
        .ok_or("participations is required and must be a non-empty array")?;
    if raw_items.len() > MAX_ITEMS {
        return Err(too_many("participations"));
    }
    if let Some(unknown) = json::unknown_field(&body, &["participations"], "") {
        return Err(unknown);
    }
    raw_items
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let path = format!("participations[{index}]");
            let item = item_object(raw, &path)?;
            let bot_trade_id = required_id(&item, &path, "botTradeId")?;
            let user_id = required_id(&item, &path, "userId")?;
            let broker_account_id = required_id(&item, &path, "brokerAccountId")?;
            let broker_order_id = item
                .get("brokerOrderId")
                .and_then(|raw| json::as_string(raw))
                .filter(|id| !id.trim().is_empty())
                .ok_or_else(|| format!("{path}.brokerOrderId is required and must be a non-empty string"))?;
            let broker_order_id = order_id(broker_order_id, &format!("{path}.brokerOrderId"))?;
            let child_order_ids = child_order_ids(&item, &path)?;
            let units = match item.get("units") {
                None => Decimal::ONE,
                Some(raw) => {
                    let name = format!("{path}.units");
                    let positive = || format!("{name} must be a positive number");
                    let units = number(raw, &name).ok_or_else(positive)??;
                    if units <= Decimal::ZERO {
                        return Err(positive());
                    }
                    units
                }
            };
            let known = ["botTradeId", "userId", "brokerAccountId", "brokerOrderId", "childOrderIds", "units"];
            if let Some(unknown) = json::unknown_field(&item, &known, &format!("{path}.")) {
                return Err(unknown);
            }
            Ok(ParticipationInput { bot_trade_id, user_id, broker_account_id, broker_order_id, child_order_ids, units })
        })
        .collect()
}

/// Reference 002's body: `{states: [...]}`.
pub fn states(body: Option<Object>) -> Check<Vec<StateInput>> {
    let body = body.unwrap_or_default();
    let raw_items = items(&body, "states").ok_or("states must be an array")?;
    if raw_items.is_empty() {
        return Err("states array cannot be empty".to_string());
    }
    if raw_items.len() > MAX_ITEMS {
        return Err(too_many("states"));
    }
    if let Some(unknown) = json::unknown_field(&body, &["states"], "") {
        return Err(unknown);
    }
    raw_items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let path = format!("states[{index}]");
            let mut item = item_object(&raw, &path)?;
            let account_id = required_id(&item, &path, "accountId")?;
            let ticker_id = required_id(&item, &path, "tickerId")?;
            let state = item
                .remove("state")
                .filter(|raw| json::kind(raw) == json::Kind::Object)
                .ok_or_else(|| format!("{path}.state is required and must be an object"))?;
            let state = opaque_object(state, &format!("{path}.state"), MAX_STATE_BYTES)?;
            if let Some(unknown) = json::unknown_field(&item, &["accountId", "tickerId"], &format!("{path}.")) {
                return Err(unknown);
            }
            Ok(StateInput { account_id, ticker_id, state })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TRADE: &str = "222e4567-e89b-12d3-a456-426614174003";
    const USER: &str = "789e4567-e89b-12d3-a456-426614174002";
    const ACCOUNT: &str = "550e8400-e29b-41d4-a716-446655440000";

    fn body(value: serde_json::Value) -> Option<Object> {
        json::parse_body(value.to_string().as_bytes()).unwrap()
    }

    fn participation() -> serde_json::Value {
        json!({"botTradeId": TRADE, "userId": USER, "brokerAccountId": ACCOUNT, "brokerOrderId": "TRADIER-1"})
    }

    fn participation_error(item: serde_json::Value) -> String {
        participations(body(json!({ "participations": [item] }))).unwrap_err()
    }

    #[test]
    fn a_valid_participation_gets_its_defaults() {
        let parsed = participations(body(json!({ "participations": [participation()] }))).unwrap();
        assert_eq!(parsed[0].units, Decimal::ONE);
        assert!(parsed[0].child_order_ids.is_empty());
        assert_eq!(parsed[0].bot_trade_id.to_string(), TRADE);
    }

    #[test]
    fn participation_messages_are_the_references() {
        let missing = "participations is required and must be a non-empty array";
        assert_eq!(participations(None).unwrap_err(), missing);
        assert_eq!(participations(body(json!({}))).unwrap_err(), missing);
        assert_eq!(participations(body(json!({"participations": []}))).unwrap_err(), missing);
        assert_eq!(participations(body(json!({"participations": "x"}))).unwrap_err(), missing);

        let mut item = participation();
        item["botTradeId"] = json!(5);
        assert_eq!(participation_error(item), "participations[0].botTradeId is required and must be a string");
        let mut item = participation();
        item.as_object_mut().unwrap().remove("userId");
        assert_eq!(participation_error(item), "participations[0].userId is required and must be a string");
        let mut item = participation();
        item["brokerAccountId"] = json!(null);
        assert_eq!(participation_error(item), "participations[0].brokerAccountId is required and must be a string");
        let mut item = participation();
        item["childOrderIds"] = json!(["a", 1]);
        assert_eq!(participation_error(item), "participations[0].childOrderIds must be an array of strings");
    }

    #[test]
    fn participation_messages_the_contracts_add() {
        let mut item = participation();
        item["userId"] = json!("not-a-uuid");
        assert_eq!(participation_error(item), "participations[0].userId must be a valid UUID");
        let mut item = participation();
        item["brokerOrderId"] = json!("");
        assert_eq!(
            participation_error(item),
            "participations[0].brokerOrderId is required and must be a non-empty string"
        );
        for bad_units in [json!(0), json!(-1), json!("1")] {
            let mut item = participation();
            item["units"] = bad_units;
            assert_eq!(participation_error(item), "participations[0].units must be a positive number");
        }
        let mut item = participation();
        item["foo"] = json!(1);
        assert_eq!(participation_error(item), "Unknown field 'participations[0].foo'");
        let extra = participations(body(json!({"participations": [participation()], "bar": 1}))).unwrap_err();
        assert_eq!(extra, "Unknown field 'bar'");
        let many: Vec<_> = (0..=MAX_ITEMS).map(|_| participation()).collect();
        let too_many = participations(body(json!({ "participations": many }))).unwrap_err();
        assert_eq!(too_many, "participations cannot contain more than 1000 items");
    }

    #[test]
    fn order_ids_are_bounded_and_distinct() {
        let long = "x".repeat(MAX_ORDER_ID_CHARS + 1);
        let mut item = participation();
        item["brokerOrderId"] = json!(long);
        assert_eq!(participation_error(item), "participations[0].brokerOrderId must be at most 128 characters");
        let mut item = participation();
        item["childOrderIds"] = json!(["a", long]);
        assert_eq!(participation_error(item), "participations[0].childOrderIds[1] must be at most 128 characters");
        let mut item = participation();
        item["childOrderIds"] = json!((0..=MAX_CHILD_ORDERS).map(|n| n.to_string()).collect::<Vec<_>>());
        assert_eq!(participation_error(item), "participations[0].childOrderIds cannot contain more than 50 items");
        let mut item = participation();
        item["childOrderIds"] = json!(["A-1", "B-2", "A-1"]);
        assert_eq!(participation_error(item), "participations[0].childOrderIds contains 'A-1' twice");
        let mut item = participation();
        item["childOrderIds"] = json!(["A\u{0}"]);
        assert_eq!(
            participation_error(item),
            "participations[0].childOrderIds[0] must not contain the \\u0000 character"
        );
        // Found by `just fuzz`: a positive number no decimal holds is refused for its size.
        let mut item = participation();
        item["units"] = json!(5e-324);
        assert_eq!(
            participation_error(item),
            "participations[0].units must be within ±1e15 and have at most 18 decimal places"
        );
        let mut item = participation();
        item["units"] = json!(1e16);
        assert_eq!(
            participation_error(item),
            "participations[0].units must be within ±1e15 and have at most 18 decimal places"
        );
        let mut item = participation();
        item["childOrderIds"] = json!(["é".repeat(MAX_ORDER_ID_CHARS)]);
        assert!(participations(body(json!({ "participations": [item] }))).is_ok(), "characters, not bytes");
    }

    #[test]
    fn the_first_failing_item_is_reported() {
        let mut second = participation();
        second["userId"] = json!(1);
        let error = participations(body(json!({"participations": [participation(), second]}))).unwrap_err();
        assert_eq!(error, "participations[1].userId is required and must be a string");
    }

    #[test]
    fn units_keep_their_exact_value() {
        let mut item = participation();
        item["units"] = json!(2);
        let parsed = participations(
            json::parse_body(
                format!(
                    r#"{{"participations":[{}]}}"#,
                    item.to_string().replace("\"units\":2", "\"units\":2.000000000000000001")
                )
                .as_bytes(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(parsed[0].units.to_string(), "2.000000000000000001");
    }

    fn state() -> serde_json::Value {
        json!({"accountId": ACCOUNT, "tickerId": TRADE, "state": {"lastPrice": 150.25}})
    }

    fn state_error(value: serde_json::Value) -> String {
        states(body(value)).unwrap_err()
    }

    #[test]
    fn state_messages_are_the_references() {
        assert_eq!(state_error(json!({})), "states must be an array");
        assert_eq!(state_error(json!({"states": {}})), "states must be an array");
        assert_eq!(state_error(json!({"states": []})), "states array cannot be empty");
        let mut item = state();
        item["accountId"] = json!(7);
        assert_eq!(state_error(json!({ "states": [item] })), "states[0].accountId is required and must be a string");
        let mut item = state();
        item.as_object_mut().unwrap().remove("tickerId");
        assert_eq!(state_error(json!({ "states": [item] })), "states[0].tickerId is required and must be a string");
        for bad in [json!(null), json!([1]), json!("s"), json!(3)] {
            let mut item = state();
            item["state"] = bad;
            assert_eq!(state_error(json!({ "states": [item] })), "states[0].state is required and must be an object");
        }
        let mut item = state();
        item["tickerId"] = json!("nope");
        assert_eq!(state_error(json!({ "states": [item] })), "states[0].tickerId must be a valid UUID");
    }

    #[test]
    fn a_state_is_kept_as_sent() {
        let parsed = states(json::parse_body(
            format!(r#"{{"states":[{{"accountId":"{ACCOUNT}","tickerId":"{TRADE}","state":{{"p":0.10000000000000000001}}}}]}}"#)
                .as_bytes(),
        ).unwrap())
        .unwrap();
        assert_eq!(parsed[0].state.get(), r#"{"p":0.10000000000000000001}"#);
    }
}
