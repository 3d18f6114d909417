//! Body validation of the two PATCH routes (docs/api/bot.md#trades): at least one field;
//! `null` clears.

use super::fields::{Check, MAX_METADATA_BYTES, decimal_field, opaque_object, storable};
use super::validate_trades::trade_status;
use crate::api::json::{self, Object};
use crate::api::time::parse_timestamp;
use bus::messages::trades::{TradePatch, TransactionPatch};
use chrono::{DateTime, Utc};
use domain::trade::TransactionStatus;
use rust_decimal::Decimal;
use serde_json::value::RawValue;

/// A nullable field of a patch: absent → `None`, `null` → `Some(None)`, a value → `read`.
fn nullable<T>(body: &Object, field: &str, read: impl Fn(&RawValue, &str) -> Check<T>) -> Check<Option<Option<T>>> {
    match body.get(field) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == json::Kind::Null => Ok(Some(None)),
        Some(raw) => read(raw, field).map(|value| Some(Some(value))),
    }
}

fn timestamp(raw: &RawValue, field: &str) -> Check<DateTime<Utc>> {
    json::as_string(raw)
        .and_then(|text| parse_timestamp(&text))
        .ok_or_else(|| format!("{field} must be a valid ISO timestamp"))
}

fn decimal(raw: &RawValue, field: &str) -> Check<Decimal> {
    decimal_field(raw, field)
}

fn string(raw: &RawValue, field: &str) -> Check<String> {
    json::as_string(raw).ok_or_else(|| format!("{field} must be a string")).and_then(|text| storable(text, field))
}

fn metadata(body: &mut Object) -> Check<Option<Box<RawValue>>> {
    body.remove("metadata").map(|raw| opaque_object(raw, "metadata", MAX_METADATA_BYTES)).transpose()
}

/// `PATCH /api/bots/:slug/trades/:tradeId`: at least one of the fields.
pub fn trade_patch(body: Option<Object>) -> Check<TradePatch> {
    let mut body = body.unwrap_or_default();
    let patch = TradePatch {
        status: trade_status(&body)?,
        closed_at: nullable(&body, "closedAt", timestamp)?,
        net_pnl: nullable(&body, "netPnl", decimal)?,
        error_message: nullable(&body, "errorMessage", string)?,
        error_at: nullable(&body, "errorAt", timestamp)?,
        metadata: metadata(&mut body)?,
    };
    let known = ["status", "closedAt", "netPnl", "errorMessage", "errorAt"];
    if let Some(unknown) = json::unknown_field(&body, &known, "") {
        return Err(unknown);
    }
    let empty = patch.status.is_none()
        && patch.closed_at.is_none()
        && patch.net_pnl.is_none()
        && patch.error_message.is_none()
        && patch.error_at.is_none()
        && patch.metadata.is_none();
    if empty {
        return Err("At least one of status, closedAt, netPnl, errorMessage, errorAt, metadata is required".to_string());
    }
    Ok(patch)
}

/// `PATCH .../transactions/:transactionId`: at least one of the fields.
pub fn transaction_patch(body: Option<Object>) -> Check<TransactionPatch> {
    let mut body = body.unwrap_or_default();
    let status = match body.get("status") {
        None => None,
        Some(raw) => Some(
            json::as_string(raw)
                .and_then(|text| text.parse::<TransactionStatus>().ok())
                .ok_or("status must be 'open', 'filled' or 'cancelled'")?,
        ),
    };
    let patch = TransactionPatch {
        status,
        filled_at: nullable(&body, "filledAt", timestamp)?,
        filled_quantity: nullable(&body, "filledQuantity", decimal)?,
        avg_fill_price: nullable(&body, "avgFillPrice", decimal)?,
        stop_price: nullable(&body, "stopPrice", decimal)?,
        price: nullable(&body, "price", decimal)?,
        broker_parent_order_id: nullable(&body, "brokerParentOrderId", string)?,
        notes: nullable(&body, "notes", string)?,
        metadata: metadata(&mut body)?,
    };
    let known =
        ["status", "filledAt", "filledQuantity", "avgFillPrice", "stopPrice", "price", "brokerParentOrderId", "notes"];
    if let Some(unknown) = json::unknown_field(&body, &known, "") {
        return Err(unknown);
    }
    let empty = patch.status.is_none()
        && patch.filled_at.is_none()
        && patch.filled_quantity.is_none()
        && patch.avg_fill_price.is_none()
        && patch.stop_price.is_none()
        && patch.price.is_none()
        && patch.broker_parent_order_id.is_none()
        && patch.notes.is_none()
        && patch.metadata.is_none();
    if empty {
        return Err("At least one of status, filledAt, filledQuantity, avgFillPrice, stopPrice, price, \
                    brokerParentOrderId, notes, metadata is required"
            .to_string());
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: serde_json::Value) -> Option<Object> {
        json::parse_body(value.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn patches_tell_null_from_absent_and_need_a_field() {
        let patch = trade_patch(body(json!({"errorMessage": null, "netPnl": "12.50"}))).unwrap();
        assert_eq!(patch.error_message, Some(None));
        assert_eq!(patch.net_pnl, Some(Some("12.50".parse().unwrap())));
        assert!(patch.closed_at.is_none());
        assert!(trade_patch(body(json!({}))).unwrap_err().starts_with("At least one of"));
        assert!(transaction_patch(body(json!({}))).unwrap_err().starts_with("At least one of"));
        assert_eq!(
            transaction_patch(body(json!({"status": "gone"}))).unwrap_err(),
            "status must be 'open', 'filled' or 'cancelled'"
        );
    }

    #[test]
    fn patches_refuse_what_cannot_be_stored() {
        assert_eq!(
            trade_patch(body(json!({"errorMessage": "a\u{0}b"}))).unwrap_err(),
            "errorMessage must not contain the \\u0000 character"
        );
        assert_eq!(
            transaction_patch(body(json!({"notes": "\u{0}"}))).unwrap_err(),
            "notes must not contain the \\u0000 character"
        );
        assert_eq!(
            trade_patch(body(json!({"closedAt": "10000-01-01T00:00:00Z"}))).unwrap_err(),
            "closedAt must be a valid ISO timestamp"
        );
        assert_eq!(
            transaction_patch(body(json!({"price": "1e16"}))).unwrap_err(),
            "price must be within ±1e15 and have at most 18 decimal places"
        );
        assert_eq!(
            trade_patch(body(json!({"metadata": {"a": "\u{0}"}}))).unwrap_err(),
            "metadata must not contain the \\u0000 character"
        );
        assert_eq!(
            trade_patch(body(json!({"errorMessage": 5}))).unwrap_err(),
            "errorMessage must be a string",
            "the type message stays"
        );
    }
}
