//! Request bodies of the Bot API as the OpenAPI document states them: every rule of the
//! validators (`validate`, `validate_trades`, `validate_patches`, `fields`) that a JSON Schema
//! can express, so a client generated from the document sends only what the gateway takes.
//!
//! What a JSON Schema cannot express is named in the descriptions and refused with a 400
//! naming the field: the NUL character in any string, an unpaired surrogate escape or a
//! number of more than 40 digits inside `metadata` / `state`, a time outside the years
//! 1000–9999 in UTC, the byte caps of `metadata` (16 KiB) and `state` (64 KiB), and more
//! than 18 decimal places of a JSON number (a schema sees the number, not how it was written).
//!
//! The numbers in the attributes are literals (the derive takes no constants); a test
//! compares them with the validators' constants.

use serde_json::json;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, Modify, ToSchema};

/// A decimal written as a JSON number or a numeric string, or `null`: within ±1e15; as a
/// string, digits with an optional sign and fraction of at most 18 places and 28 digits in
/// all (what an exact decimal holds).
pub const NUMERIC_STRING: &str = r"^-?(?:[0-9]{1,10}(?:\.[0-9]{1,18})?|[0-9]{11}(?:\.[0-9]{1,17})?|[0-9]{12}(?:\.[0-9]{1,16})?|[0-9]{13}(?:\.[0-9]{1,15})?|[0-9]{14}(?:\.[0-9]{1,14})?|[0-9]{15}(?:\.[0-9]{1,13})?)$";

/// A string that is not empty and not only whitespace.
pub const NOT_BLANK: &str = r"\S";

/// The `Idempotency-Key` header of the POST routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Replays the first response for a repeat with the same body (24 h): 1 to 255 visible
    /// ASCII characters (spaces and tabs inside). HTTP drops the spaces and tabs around a
    /// header's value, so the pattern allows them there and counts only what is between.
    #[param(
        rename = "Idempotency-Key",
        pattern = r"^[\t ]*[\x21-\x7E](?:[\t\x20-\x7E]{0,253}[\x21-\x7E])?[\t ]*$",
        nullable = false
    )]
    idempotency_key: Option<String>,
}

/// A decimal field of a request: a number or a numeric string, `null` to leave it unset.
fn nullable_decimal() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Number, Type::String, Type::Null]))
        .minimum(Some(-1e15))
        .maximum(Some(1e15))
        .pattern(Some(NUMERIC_STRING))
        .description(Some("A number or a numeric string (e.g. `\"150.25\"`), within ±1e15, at most 18 decimal places"))
        .build()
}

/// `childOrderIds`: at most 50 distinct ids of at most 128 characters.
fn child_order_ids() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String).max_length(Some(128)))
        .max_items(Some(50))
        .unique_items(true)
        .description(Some("Child order ids (bracket legs): at most 50, distinct, each at most 128 characters"))
        .build()
}

/// The entry transactions of a new trade.
fn entry_transactions() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("EntryTransactionItem"))
        .min_items(Some(1))
        .max_items(Some(1000))
        .description(Some("Entry transactions (1 to 1,000), created with the trade"))
        .build()
}

/// `POST /api/bots/{slug}/participations` (reference 000).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipationsBody {
    /// 1 to 1,000 items.
    #[schema(min_items = 1, max_items = 1000)]
    participations: Vec<ParticipationItem>,
}

/// One participation.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParticipationItem {
    /// The bot trade.
    bot_trade_id: uuid::Uuid,
    /// The user.
    user_id: uuid::Uuid,
    /// The user's broker account.
    broker_account_id: uuid::Uuid,
    /// Broker order id: at most 128 characters, not blank.
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    broker_order_id: String,
    /// Child order ids.
    #[serde(default)]
    #[schema(schema_with = child_order_ids)]
    child_order_ids: Vec<String>,
    /// Units or contracts: positive, at most 1e15 (1 when absent).
    #[serde(default)]
    #[schema(exclusive_minimum = 0, maximum = 1e15)]
    units: f64,
}

/// `POST /api/bots/{slug}/state` (reference 002).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatesBody {
    /// 1 to 1,000 items.
    #[schema(min_items = 1, max_items = 1000)]
    states: Vec<StateItem>,
}

/// One state update.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateItem {
    /// The user broker account.
    account_id: uuid::Uuid,
    /// The ticker.
    ticker_id: uuid::Uuid,
    /// The bot's state, stored and returned as sent: an object of at most 64 KiB of JSON.
    #[schema(value_type = Object)]
    state: serde_json::Value,
}

/// `POST /api/bots/{slug}/trades`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TradeBody {
    /// Symbol.
    #[schema(pattern = r"\S")]
    symbol: String,
    /// Long or short.
    trade_type: domain::trade::TradeType,
    /// When the signal fired (RFC 3339; no offset means UTC).
    signal_at: chrono::DateTime<chrono::Utc>,
    /// An explicit status (else derived from the transactions).
    #[serde(default)]
    status: domain::trade::TradeStatus,
    /// An explicit open time.
    opened_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Metadata object, stored as sent (at most 16 KiB of JSON; `{}` when absent).
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    /// Entry transactions.
    #[serde(default)]
    #[schema(schema_with = entry_transactions)]
    transactions: Vec<TransactionItem>,
}

/// `POST .../transactions` (reference 001).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionsBody {
    /// 1 to 1,000 transactions.
    #[schema(min_items = 1, max_items = 1000)]
    transactions: Vec<TransactionItem>,
}

/// One transaction (reference 001). `exitType` is required (not blank) for exits and
/// `trimLevel` for `trim` exits. Prices are numbers or numeric strings.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionItem {
    /// Entry or exit.
    transaction_group: domain::trade::TransactionGroup,
    /// `take_profit`, `stop`, `trim`, ...: required for exits.
    exit_type: Option<String>,
    /// Required for `trim` exits; within ±1e15.
    #[schema(minimum = -1e15, maximum = 1e15)]
    trim_level: Option<f64>,
    /// Symbol.
    #[schema(pattern = r"\S")]
    symbol: String,
    /// `stock`, `option`, ...
    #[schema(pattern = r"\S")]
    asset_type: String,
    /// `buy` or `sell` (any text that is not blank is kept).
    #[schema(pattern = r"\S")]
    side: String,
    /// `market`, `limit`, `stop`, ...
    #[schema(rename = "type", pattern = r"\S")]
    order_type: String,
    /// Quantity, within ±1e15.
    #[schema(minimum = -1e15, maximum = 1e15)]
    quantity: f64,
    /// When it was placed (RFC 3339; no offset means UTC).
    transaction_date: chrono::DateTime<chrono::Utc>,
    /// Stop price.
    #[schema(schema_with = nullable_decimal)]
    stop_price: Option<String>,
    /// Limit price.
    #[schema(schema_with = nullable_decimal)]
    price: Option<String>,
    /// `call` or `put`.
    option_type: Option<String>,
    /// Strike price.
    #[schema(schema_with = nullable_decimal)]
    strike_price: Option<String>,
    /// Expiration date.
    expiration_date: Option<String>,
    /// `open` when absent or `null`.
    status: Option<domain::trade::TransactionStatus>,
    /// Fill time.
    filled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Fill price.
    #[schema(schema_with = nullable_decimal)]
    filled_price: Option<String>,
    /// Filled quantity.
    #[schema(schema_with = nullable_decimal)]
    filled_quantity: Option<String>,
    /// Average fill price.
    #[schema(schema_with = nullable_decimal)]
    avg_fill_price: Option<String>,
    /// Broker code.
    broker: Option<String>,
    /// Broker account number.
    broker_account_number: Option<String>,
    /// Broker order id.
    broker_order_id: Option<String>,
    /// Broker parent order id.
    broker_parent_order_id: Option<String>,
    /// Notes.
    notes: Option<String>,
    /// Metadata object, stored as sent (at most 16 KiB of JSON; `{}` when absent).
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
}

/// `PATCH /api/bots/{slug}/trades/{tradeId}`: at least one field; `null` clears.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct TradePatchBody {
    /// Explicit status; `closed` first fills every open exit.
    #[serde(default)]
    status: domain::trade::TradeStatus,
    /// Close time.
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Net P&L.
    #[schema(schema_with = nullable_decimal)]
    net_pnl: Option<String>,
    /// Error message.
    error_message: Option<String>,
    /// Error time.
    error_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Metadata object, replacing the stored one (at most 16 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
}

/// `PATCH .../transactions/{transactionId}`: at least one field; `null` clears.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct TransactionPatchBody {
    /// New status.
    #[serde(default)]
    status: domain::trade::TransactionStatus,
    /// Fill time.
    filled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Filled quantity.
    #[schema(schema_with = nullable_decimal)]
    filled_quantity: Option<String>,
    /// Average fill price.
    #[schema(schema_with = nullable_decimal)]
    avg_fill_price: Option<String>,
    /// Stop price.
    #[schema(schema_with = nullable_decimal)]
    stop_price: Option<String>,
    /// Limit price.
    #[schema(schema_with = nullable_decimal)]
    price: Option<String>,
    /// Broker parent order id.
    broker_parent_order_id: Option<String>,
    /// Notes.
    notes: Option<String>,
    /// Metadata object, replacing the stored one (at most 16 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
}

/// The rules of a transaction that depend on another field, which the derive cannot write:
/// `exitType` is required and not blank for an exit, `trimLevel` is required for a `trim`
/// exit; and the entries-only copy a new trade's `transactions` use.
pub struct TransactionRules;

impl Modify for TransactionRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(schemas) = openapi.components.as_mut().map(|components| &mut components.schemas) else { return };
        let Some(RefOr::T(Schema::Object(mut any))) = schemas.get("TransactionItem").cloned() else { return };
        let mut entry = any.clone();
        entry.properties.insert(
            "transactionGroup".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["entry"]))
                .description(Some("`entry`: a new trade takes entries only"))
                .into(),
        );
        entry.description = Some("An entry transaction of a new trade (reference 001's fields).".into());
        let trim = json!({
            "if": {"properties": {"exitType": {"const": "trim"}}, "required": ["exitType"]},
            "then": {"properties": {"trimLevel": {"type": "number"}}, "required": ["trimLevel"]}
        });
        let exit = json!({
            "if": {"properties": {"transactionGroup": {"const": "exit"}}, "required": ["transactionGroup"]},
            "then": {"properties": {"exitType": {"type": "string", "pattern": NOT_BLANK}}, "required": ["exitType"]}
        });
        // `if` / `then` are JSON Schema keywords utoipa's model has no field for; the schema's
        // flattened extension map writes them where they belong.
        any.extensions.get_or_insert_with(Default::default).insert("allOf".into(), json!([exit, trim]));
        entry.extensions.get_or_insert_with(Default::default).insert("allOf".into(), json!([trim]));
        schemas.insert("TransactionItem".into(), RefOr::T(Schema::Object(any)));
        schemas.insert("EntryTransactionItem".into(), RefOr::T(Schema::Object(entry)));
    }
}
