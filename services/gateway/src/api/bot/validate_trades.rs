//! Body validation of trades and transactions (reference 001, docs/api/bot.md#trades).

use super::fields::{
    Check, MAX_ITEMS, item_object, join, metadata, non_empty, number, optional_decimal, optional_string,
    optional_timestamp,
};
use crate::api::json::{self, Object};
use crate::api::time::parse_timestamp;
use bus::messages::trades::NewTransaction;
use chrono::{DateTime, Utc};
use domain::trade::{TradeStatus, TradeType, TransactionGroup, TransactionStatus};
use serde_json::value::RawValue;

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
            let name = join(path, "trimLevel");
            Some(number(raw, &name).ok_or_else(|| format!("{name} must be a number"))??)
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
        .and_then(|raw| number(raw, &join(path, "quantity")))
        .ok_or_else(|| format!("{path}.quantity is required and must be a number"))??;
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

/// A new trade (docs/api/bot.md#trades).
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
    let symbol = non_empty(&body, "", "symbol")?;
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
    let opened_at = optional_timestamp(&body, "", "openedAt")?;
    let metadata = metadata(&mut body, "")?;
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

pub(super) fn trade_status(body: &Object) -> Check<Option<TradeStatus>> {
    match body.get("status") {
        None => Ok(None),
        Some(raw) => json::as_string(raw)
            .and_then(|text| text.parse::<TradeStatus>().ok())
            .map(Some)
            .ok_or_else(|| "status must be one of 'pending', 'open', 'closed', 'cancelled', 'error'".to_string()),
    }
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
    fn a_number_no_decimal_holds_is_refused_for_its_size_not_its_type() {
        // Found by `just fuzz`: 5e-324 is a number, yet the reply said "must be a number".
        for (field, message) in [
            ("quantity", "transactions[0].quantity must be within ±1e15 and have at most 18 decimal places"),
            ("trimLevel", "transactions[0].trimLevel must be within ±1e15 and have at most 18 decimal places"),
            (
                "filledQuantity",
                "transactions[0].filledQuantity must be within ±1e15 and have at most 18 decimal places",
            ),
        ] {
            let mut item = exit();
            item[field] = json!(5e-324);
            assert_eq!(error(item), message, "{field}");
        }
        let patch = transaction_patch_error(json!({"avgFillPrice": 9.132962867499716e-74}));
        assert_eq!(patch, "avgFillPrice must be within ±1e15 and have at most 18 decimal places");
    }

    fn transaction_patch_error(value: serde_json::Value) -> String {
        super::super::validate_patches::transaction_patch(body(value)).unwrap_err()
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
    fn what_postgres_or_a_reply_could_not_keep_is_refused_by_name() {
        let cases = [
            ("symbol", json!("AA\u{0}PL"), "transactions[0].symbol must not contain the \\u0000 character"),
            ("notes", json!("\u{0}"), "transactions[0].notes must not contain the \\u0000 character"),
            (
                "quantity",
                json!(1e16),
                "transactions[0].quantity must be within ±1e15 and have at most 18 decimal places",
            ),
            (
                "price",
                json!("0.1234567890123456789"),
                "transactions[0].price must be within ±1e15 and have at most 18 decimal places",
            ),
            ("filledAt", json!("0999-12-31T00:00:00Z"), "transactions[0].filledAt must be a valid ISO timestamp"),
            (
                "transactionDate",
                json!("9999-12-31T23:00:00-05:00"),
                "transactions[0].transactionDate is required and must be a valid ISO timestamp",
            ),
        ];
        for (field, value, message) in cases {
            let mut item = exit();
            item[field] = value;
            assert_eq!(error(item), message, "{field}");
        }
        let lone = r#"{"transactions": [{"transactionGroup": "entry", "symbol": "A", "assetType": "stock", "side": "buy",
            "type": "market", "quantity": 1, "transactionDate": "2024-01-15T10:30:00Z", "metadata": {"a": "\ud800"}}]}"#;
        assert_eq!(
            transactions(json::parse_body(lone.as_bytes()).unwrap()).unwrap_err(),
            "transactions[0].metadata must not contain an unpaired surrogate escape (\\ud800 to \\udfff)"
        );
        let root = trade(body(json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z",
            "metadata": {"n": 1e41}})));
        assert_eq!(
            root.err().unwrap(),
            "metadata must not contain a number with more than 40 digits or an exponent beyond ±40"
        );
    }
}
