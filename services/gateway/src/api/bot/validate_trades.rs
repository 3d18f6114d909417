//! Body validation of trades and transactions (reference 001, CONTRACTS §1).

use super::validate::{MAX_ITEMS, item_object, required_string};
use crate::api::json::{self, Object};
use crate::api::time::parse_timestamp;
use bus::messages::trades::{NewTransaction, TradePatch, TransactionPatch};
use chrono::{DateTime, Utc};
use domain::trade::{TradeStatus, TradeType, TransactionGroup, TransactionStatus};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

type Check<T> = Result<T, String>;

const TRANSACTION_FIELDS: [&str; 26] = [
    "transactionGroup",
    "exitType",
    "trimLevel",
    "symbol",
    "assetType",
    "side",
    "type",
    "quantity",
    "transactionDate",
    "stopPrice",
    "price",
    "optionType",
    "strikePrice",
    "expirationDate",
    "status",
    "filledAt",
    "filledPrice",
    "filledQuantity",
    "avgFillPrice",
    "broker",
    "brokerAccountNumber",
    "brokerOrderId",
    "brokerParentOrderId",
    "notes",
    "metadata",
    "id",
];

/// A non-empty string field (`symbol`, `assetType`, `side`, `type`).
fn non_empty(item: &Object, path: &str, field: &str) -> Check<String> {
    required_string(item, path, field).and_then(|text| {
        if text.trim().is_empty() { Err(format!("{path}.{field} is required and must be a string")) } else { Ok(text) }
    })
}

/// An optional string field; `null` counts as absent.
fn optional_string(item: &Object, path: &str, field: &str) -> Check<Option<String>> {
    match item.get(field) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == json::Kind::Null => Ok(None),
        Some(raw) => json::as_string(raw).map(Some).ok_or_else(|| format!("{path}.{field} must be a string")),
    }
}

/// A decimal written as a number or a numeric string (prices); `null` counts as absent.
fn optional_decimal(item: &Object, path: &str, field: &str) -> Check<Option<Decimal>> {
    match item.get(field) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == json::Kind::Null => Ok(None),
        Some(raw) => decimal_or_numeric_string(raw)
            .map(Some)
            .ok_or_else(|| format!("{path}.{field} must be a number or a numeric string")),
    }
}

fn decimal_or_numeric_string(raw: &RawValue) -> Option<Decimal> {
    json::as_decimal(raw).or_else(|| json::exact_decimal(json::as_string(raw)?.trim()))
}

fn optional_timestamp(item: &Object, path: &str, field: &str) -> Check<Option<DateTime<Utc>>> {
    match optional_string(item, path, field) {
        Ok(None) => Ok(None),
        Ok(Some(text)) => {
            parse_timestamp(&text).map(Some).ok_or_else(|| format!("{path}.{field} must be a valid ISO timestamp"))
        }
        Err(_) => Err(format!("{path}.{field} must be a valid ISO timestamp")),
    }
}

fn metadata(item: &mut Object, path: &str) -> Check<Box<RawValue>> {
    match item.remove("metadata") {
        None => RawValue::from_string("{}".to_string()).map_err(|error| error.to_string()),
        Some(raw) => opaque_object(raw, &format!("{path}.metadata")),
    }
}

/// An object stored as sent (`metadata`): an object, and one Postgres can store.
fn opaque_object(raw: Box<RawValue>, field: &str) -> Check<Box<RawValue>> {
    let field = field.strip_prefix('.').unwrap_or(field);
    if json::kind(&raw) != json::Kind::Object {
        Err(format!("{field} must be an object"))
    } else if !json::storable(&raw) {
        Err(format!("{field} must not contain the \\u0000 character"))
    } else {
        Ok(raw)
    }
}

fn transaction(raw: &RawValue, path: &str, entries_only: bool) -> Check<NewTransaction> {
    let mut item = item_object(raw, path)?;
    let transaction_group = item
        .get("transactionGroup")
        .and_then(|raw| json::as_string(raw))
        .and_then(|text| text.parse::<TransactionGroup>().ok())
        .ok_or_else(|| format!("{path}.transactionGroup must be 'entry' or 'exit'"))?;
    if entries_only && transaction_group != TransactionGroup::Entry {
        return Err(format!("{path}.transactionGroup must be 'entry' when creating a trade"));
    }
    let exit_type = optional_string(&item, path, "exitType")?.filter(|text| !text.trim().is_empty());
    if transaction_group == TransactionGroup::Exit && exit_type.is_none() {
        return Err(format!("{path}.exitType is required for exit transactions"));
    }
    let trim_level = match item.get("trimLevel") {
        Some(raw) if json::kind(raw) != json::Kind::Null => {
            Some(json::as_decimal(raw).ok_or_else(|| format!("{path}.trimLevel must be a number"))?)
        }
        _ => None,
    };
    if exit_type.as_deref() == Some("trim") && trim_level.is_none() {
        return Err(format!("{path}.trimLevel is required for trim exits and must be a number"));
    }
    let symbol = non_empty(&item, path, "symbol")?;
    let asset_type = non_empty(&item, path, "assetType")?;
    let side = non_empty(&item, path, "side")?;
    let order_type = non_empty(&item, path, "type")?;
    let quantity = item
        .get("quantity")
        .and_then(|raw| json::as_decimal(raw))
        .ok_or_else(|| format!("{path}.quantity is required and must be a number"))?;
    let transaction_date = item
        .get("transactionDate")
        .and_then(|raw| json::as_string(raw))
        .and_then(|text| parse_timestamp(&text))
        .ok_or_else(|| format!("{path}.transactionDate is required and must be a valid ISO timestamp"))?;
    let stop_price = optional_decimal(&item, path, "stopPrice")?;
    let price = optional_decimal(&item, path, "price")?;
    let option_type = optional_string(&item, path, "optionType")?;
    let strike_price = optional_decimal(&item, path, "strikePrice")?;
    let expiration_date = optional_string(&item, path, "expirationDate")?;
    let status = match optional_string(&item, path, "status") {
        Ok(None) => TransactionStatus::Open,
        Ok(Some(text)) => text.parse().map_err(|_| status_error(path))?,
        Err(_) => return Err(status_error(path)),
    };
    let filled_at = optional_timestamp(&item, path, "filledAt")?;
    let filled_price = optional_decimal(&item, path, "filledPrice")?;
    let filled_quantity = optional_decimal(&item, path, "filledQuantity")?;
    let avg_fill_price = optional_decimal(&item, path, "avgFillPrice")?;
    let broker = optional_string(&item, path, "broker")?;
    let broker_account_number = optional_string(&item, path, "brokerAccountNumber")?;
    let broker_order_id = optional_string(&item, path, "brokerOrderId")?;
    let broker_parent_order_id = optional_string(&item, path, "brokerParentOrderId")?;
    let notes = optional_string(&item, path, "notes")?;
    let metadata = metadata(&mut item, path)?;
    // `id` is not accepted from clients: the ledger assigns ids.
    if let Some(unknown) = json::unknown_field(&item, &TRANSACTION_FIELDS[..25], &format!("{path}.")) {
        return Err(unknown);
    }
    Ok(NewTransaction {
        transaction_group,
        exit_type,
        trim_level,
        symbol,
        asset_type,
        side,
        order_type,
        quantity,
        transaction_date,
        stop_price,
        price,
        option_type,
        strike_price,
        expiration_date,
        status,
        filled_at,
        filled_price,
        filled_quantity,
        avg_fill_price,
        broker,
        broker_account_number,
        broker_order_id,
        broker_parent_order_id,
        notes,
        metadata,
    })
}

fn status_error(path: &str) -> String {
    format!("{path}.status must be 'open', 'filled' or 'cancelled'")
}

fn transaction_list(raw: Option<&RawValue>, entries_only: bool) -> Check<Vec<NewTransaction>> {
    let items = raw.and_then(json::as_array).filter(|items| !items.is_empty());
    let Some(items) = items else { return Err("transactions array required and cannot be empty".to_string()) };
    if items.len() > MAX_ITEMS {
        return Err(format!("transactions cannot contain more than {MAX_ITEMS} items"));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, raw)| transaction(raw, &format!("transactions[{index}]"), entries_only))
        .collect()
}

/// Reference 001's body: `{transactions: [...]}`.
pub fn transactions(body: Option<Object>) -> Check<Vec<NewTransaction>> {
    let body = body.unwrap_or_default();
    let list = transaction_list(body.get("transactions").map(|raw| &**raw), false)?;
    match json::unknown_field(&body, &["transactions"], "") {
        Some(unknown) => Err(unknown),
        None => Ok(list),
    }
}

/// A new trade (CONTRACTS §1).
pub struct TradeInput {
    /// Symbol.
    pub symbol: String,
    /// Long or short.
    pub trade_type: TradeType,
    /// Signal time.
    pub signal_at: DateTime<Utc>,
    /// Explicit status.
    pub status: Option<TradeStatus>,
    /// Explicit open time.
    pub opened_at: Option<DateTime<Utc>>,
    /// Metadata object.
    pub metadata: Box<RawValue>,
    /// Entry transactions.
    pub transactions: Vec<NewTransaction>,
}

/// `POST /api/bots/:slug/trades`.
pub fn trade(body: Option<Object>) -> Check<TradeInput> {
    let mut body = body.unwrap_or_default();
    let symbol = non_empty(&body, "", "symbol").map_err(strip_root)?;
    let trade_type = body
        .get("tradeType")
        .and_then(|raw| json::as_string(raw))
        .and_then(|text| text.parse::<TradeType>().ok())
        .ok_or("tradeType must be 'long' or 'short'")?;
    let signal_at = body
        .get("signalAt")
        .and_then(|raw| json::as_string(raw))
        .and_then(|text| parse_timestamp(&text))
        .ok_or("signalAt is required and must be a valid ISO timestamp")?;
    let status = trade_status(&body)?;
    let opened_at = optional_timestamp(&body, "", "openedAt").map_err(strip_root)?;
    let metadata = metadata(&mut body, "").map_err(strip_root)?;
    let transactions = match body.get("transactions") {
        None => Vec::new(),
        Some(raw) => transaction_list(Some(&**raw), true)?,
    };
    let known = ["symbol", "tradeType", "signalAt", "status", "openedAt", "transactions"];
    if let Some(unknown) = json::unknown_field(&body, &known, "") {
        return Err(unknown);
    }
    Ok(TradeInput { symbol, trade_type, signal_at, status, opened_at, metadata, transactions })
}

/// Messages of root fields are built with an empty path: drop the leading dot.
fn strip_root(message: String) -> String {
    message.strip_prefix('.').map(str::to_string).unwrap_or(message)
}

fn trade_status(body: &Object) -> Check<Option<TradeStatus>> {
    match body.get("status") {
        None => Ok(None),
        Some(raw) => json::as_string(raw)
            .and_then(|text| text.parse::<TradeStatus>().ok())
            .map(Some)
            .ok_or_else(|| "status must be one of 'pending', 'open', 'closed', 'cancelled', 'error'".to_string()),
    }
}

/// A nullable field of a patch: absent → `None`, `null` → `Some(None)`, a value → parsed.
fn nullable<T>(
    body: &Object,
    field: &str,
    read: impl Fn(&RawValue) -> Option<T>,
    message: &str,
) -> Check<Option<Option<T>>> {
    match body.get(field) {
        None => Ok(None),
        Some(raw) if json::kind(raw) == json::Kind::Null => Ok(Some(None)),
        Some(raw) => read(raw).map(|value| Some(Some(value))).ok_or_else(|| message.to_string()),
    }
}

fn timestamp(raw: &RawValue) -> Option<DateTime<Utc>> {
    json::as_string(raw).and_then(|text| parse_timestamp(&text))
}

/// `PATCH /api/bots/:slug/trades/:tradeId`: at least one of the fields.
pub fn trade_patch(body: Option<Object>) -> Check<TradePatch> {
    let mut body = body.unwrap_or_default();
    let patch = TradePatch {
        status: trade_status(&body)?,
        closed_at: nullable(&body, "closedAt", timestamp, "closedAt must be a valid ISO timestamp")?,
        net_pnl: nullable(&body, "netPnl", decimal_or_numeric_string, "netPnl must be a number or a numeric string")?,
        error_message: nullable(&body, "errorMessage", json::as_string, "errorMessage must be a string")?,
        error_at: nullable(&body, "errorAt", timestamp, "errorAt must be a valid ISO timestamp")?,
        metadata: body.remove("metadata").map(|raw| opaque_object(raw, "metadata")).transpose()?,
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
    let decimal_message = |field: &str| format!("{field} must be a number or a numeric string");
    let patch = TransactionPatch {
        status,
        filled_at: nullable(&body, "filledAt", timestamp, "filledAt must be a valid ISO timestamp")?,
        filled_quantity: nullable(
            &body,
            "filledQuantity",
            decimal_or_numeric_string,
            &decimal_message("filledQuantity"),
        )?,
        avg_fill_price: nullable(&body, "avgFillPrice", decimal_or_numeric_string, &decimal_message("avgFillPrice"))?,
        stop_price: nullable(&body, "stopPrice", decimal_or_numeric_string, &decimal_message("stopPrice"))?,
        price: nullable(&body, "price", decimal_or_numeric_string, &decimal_message("price"))?,
        broker_parent_order_id: nullable(
            &body,
            "brokerParentOrderId",
            json::as_string,
            "brokerParentOrderId must be a string",
        )?,
        notes: nullable(&body, "notes", json::as_string, "notes must be a string")?,
        metadata: body.remove("metadata").map(|raw| opaque_object(raw, "metadata")).transpose()?,
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

    fn exit() -> serde_json::Value {
        json!({
            "transactionGroup": "exit", "exitType": "take_profit", "symbol": "AAPL", "assetType": "stock",
            "side": "sell", "type": "limit", "price": "160.00", "quantity": 100,
            "transactionDate": "2024-01-15T10:30:00.000Z", "status": "open"
        })
    }

    fn error(item: serde_json::Value) -> String {
        transactions(body(json!({ "transactions": [item] }))).unwrap_err()
    }

    #[test]
    fn the_references_example_is_accepted_with_exact_prices() {
        let parsed = transactions(body(json!({ "transactions": [exit()] }))).unwrap();
        assert_eq!(parsed[0].price.unwrap().to_string(), "160.00");
        assert_eq!(parsed[0].metadata.get(), "{}");
    }

    #[test]
    fn transaction_messages_are_the_references() {
        assert_eq!(transactions(body(json!({}))).unwrap_err(), "transactions array required and cannot be empty");
        assert_eq!(
            transactions(body(json!({"transactions": []}))).unwrap_err(),
            "transactions array required and cannot be empty"
        );
        let mut item = exit();
        item["transactionGroup"] = json!("middle");
        assert_eq!(error(item), "transactions[0].transactionGroup must be 'entry' or 'exit'");
        let mut item = exit();
        item.as_object_mut().unwrap().remove("exitType");
        assert_eq!(error(item), "transactions[0].exitType is required for exit transactions");
        let mut item = exit();
        item.as_object_mut().unwrap().remove("symbol");
        assert_eq!(error(item), "transactions[0].symbol is required and must be a string");
    }

    #[test]
    fn the_rest_of_the_rules() {
        let mut item = exit();
        item["exitType"] = json!("trim");
        assert_eq!(error(item), "transactions[0].trimLevel is required for trim exits and must be a number");
        let mut item = exit();
        item["quantity"] = json!("100");
        assert_eq!(error(item), "transactions[0].quantity is required and must be a number");
        let mut item = exit();
        item["transactionDate"] = json!("soon");
        assert_eq!(error(item), "transactions[0].transactionDate is required and must be a valid ISO timestamp");
        let mut item = exit();
        item["price"] = json!("abc");
        assert_eq!(error(item), "transactions[0].price must be a number or a numeric string");
        let mut item = exit();
        item["status"] = json!("done");
        assert_eq!(error(item), "transactions[0].status must be 'open', 'filled' or 'cancelled'");
        let mut item = exit();
        item["colour"] = json!("red");
        assert_eq!(error(item), "Unknown field 'transactions[0].colour'");
        let mut item = exit();
        item["metadata"] = json!([1]);
        assert_eq!(error(item), "transactions[0].metadata must be an object");
    }

    #[test]
    fn trades_need_their_required_fields_and_only_entries() {
        let base = json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"});
        assert!(trade(body(base.clone())).is_ok());
        assert_eq!(trade(body(json!({}))).err().unwrap(), "symbol is required and must be a string");
        let mut bad = base.clone();
        bad["tradeType"] = json!("sideways");
        assert_eq!(trade(body(bad)).err().unwrap(), "tradeType must be 'long' or 'short'");
        let mut with_exit = base;
        with_exit["transactions"] = json!([exit()]);
        assert_eq!(
            trade(body(with_exit)).err().unwrap(),
            "transactions[0].transactionGroup must be 'entry' when creating a trade"
        );
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
}
