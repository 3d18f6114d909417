//! The served OpenAPI document states the rules the gateway enforces, so a client generated
//! from it sends what the gateway takes: ids are UUIDs, closed sets are enums, pages and bulk
//! arrays have their bounds, bodies their required fields and no others, and each error status
//! its family's codes. A representative rule of each kind is checked here against the
//! validators' own constants; `just fuzz` checks them all against the running system.

use bus::messages::bot_api::paging::{STATES_PAGE_MAX, TRANSACTIONS_PAGE_MAX};
use gateway::api::bot::fields::MAX_ITEMS;
use gateway::api::bot::validate::{MAX_CHILD_ORDERS, MAX_ORDER_ID_CHARS};
use serde_json::{Value, json};

async fn served_document() -> Value {
    let gateway = crate::support::Gateway::start().await;
    test_support::http_client().get(gateway.url("/openapi.json")).send().await.unwrap().json().await.unwrap()
}

fn parameter<'a>(document: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    document["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == name)
        .map(|parameter| &parameter["schema"])
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

/// A property's schema, following one `$ref`.
fn property<'a>(document: &'a Value, name: &str, field: &str) -> &'a Value {
    let property = &schema(document, name)["properties"][field];
    match property["$ref"].as_str() {
        Some(reference) => schema(document, reference.trim_start_matches("#/components/schemas/")),
        None => property,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_in_paths_and_bodies_are_uuids() {
    let document = served_document().await;
    for (path, method) in [
        ("/api/bots/{slug}/trades/{tradeId}", "get"),
        ("/api/bots/{slug}/trades/{tradeId}", "patch"),
        ("/api/bots/{slug}/trades/{tradeId}/transactions", "post"),
        ("/api/bots/{slug}/trades/{tradeId}/participations", "get"),
    ] {
        assert_eq!(parameter(&document, path, method, "tradeId")["format"], "uuid", "{method} {path}");
    }
    let transaction = "/api/bots/{slug}/trades/{tradeId}/transactions/{transactionId}";
    assert_eq!(parameter(&document, transaction, "patch", "transactionId")["format"], "uuid");
    assert_eq!(parameter(&document, "/partner/v1/bots/backtest/{id}/results", "get", "id")["format"], "uuid");
    assert_eq!(parameter(&document, "/api/bots/{slug}/state", "get", "accountId")["format"], "uuid");
    for field in ["botTradeId", "userId", "brokerAccountId"] {
        assert_eq!(property(&document, "ParticipationItem", field)["format"], "uuid", "{field}");
    }
    assert_eq!(parameter(&document, "/api/bots/{slug}", "get", "slug")["pattern"], "^[a-zA-Z0-9_-]+$");
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_sets_are_enums() {
    let document = served_document().await;
    let statuses = json!(["pending", "open", "closed", "cancelled", "error"]);
    assert_eq!(parameter(&document, "/api/bots/{slug}/trades", "get", "status")["enum"], statuses);
    assert_eq!(property(&document, "TradeBody", "tradeType")["enum"], json!(["long", "short"]));
    assert_eq!(property(&document, "TransactionItem", "transactionGroup")["enum"], json!(["entry", "exit"]));
    assert_eq!(property(&document, "EntryTransactionItem", "transactionGroup")["enum"], json!(["entry"]));
    assert_eq!(property(&document, "TransactionPatchBody", "status")["enum"], json!(["open", "filled", "cancelled"]));
    let types = &property(&document, "StartBacktestBody", "type")["enum"];
    assert!(types.as_array().unwrap().contains(&json!("spot_dollar_cost_averaging")), "{types}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bounds_are_the_validators_limits() {
    let document = served_document().await;
    let max = |schema: &Value, key: &str| schema[key].as_u64().unwrap_or_else(|| panic!("no {key} in {schema}"));
    assert_eq!(
        max(&schema(&document, "ParticipationsBody")["properties"]["participations"], "maxItems"),
        MAX_ITEMS as u64
    );
    assert_eq!(max(&schema(&document, "StatesBody")["properties"]["states"], "maxItems"), MAX_ITEMS as u64);
    assert_eq!(max(&schema(&document, "TransactionsBody")["properties"]["transactions"], "maxItems"), MAX_ITEMS as u64);
    assert_eq!(max(&schema(&document, "TransactionsBody")["properties"]["transactions"], "minItems"), 1);
    let children = property(&document, "ParticipationItem", "childOrderIds");
    assert_eq!(max(children, "maxItems"), MAX_CHILD_ORDERS as u64);
    assert_eq!(children["uniqueItems"], true);
    assert_eq!(max(&children["items"], "maxLength"), MAX_ORDER_ID_CHARS as u64);
    assert_eq!(max(property(&document, "ParticipationItem", "brokerOrderId"), "maxLength"), MAX_ORDER_ID_CHARS as u64);
    assert_eq!(property(&document, "ParticipationItem", "units")["exclusiveMinimum"], 0);

    let limit = |path: &str| parameter(&document, path, "get", "limit").clone();
    assert_eq!(
        (limit("/api/bots/{slug}/trades")["minimum"].clone(), max(&limit("/api/bots/{slug}/trades"), "maximum")),
        (json!(1), 500)
    );
    assert_eq!(
        max(&limit("/api/bots/{slug}/trades/{tradeId}/transactions"), "maximum"),
        u64::from(TRANSACTIONS_PAGE_MAX)
    );
    assert_eq!(max(&limit("/api/bots/{slug}/state"), "maximum"), u64::from(STATES_PAGE_MAX));
    let key = parameter(&document, "/api/bots/{slug}/trades", "post", "Idempotency-Key");
    assert!(key["pattern"].as_str().unwrap().contains("{0,253}"), "{key}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_name_their_required_fields_and_no_others() {
    let document = served_document().await;
    assert_eq!(schema(&document, "TradeBody")["required"], json!(["symbol", "tradeType", "signalAt"]));
    for body in
        ["TradeBody", "TransactionItem", "ParticipationItem", "StateItem", "TradePatchBody", "StartBacktestBody"]
    {
        assert_eq!(schema(&document, body)["additionalProperties"], false, "{body}");
    }
    assert_eq!(schema(&document, "TradePatchBody")["minProperties"], 1);
    // The rules that depend on another field.
    let rules = schema(&document, "TransactionItem")["allOf"].to_string();
    assert!(rules.contains(r#""if":{"properties":{"transactionGroup":{"const":"exit"}}"#), "{rules}");
    assert!(
        rules.contains(r#""then":{"properties":{"trimLevel":{"type":"number"}},"required":["trimLevel"]}"#),
        "{rules}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_error_status_carries_its_familys_codes() {
    let document = served_document().await;
    let code = |path: &str, method: &str, status: &str| {
        let schema = &document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
        schema["allOf"][1]["properties"]["code"]["enum"].clone()
    };
    assert_eq!(code("/api/bots/{slug}/trades/{tradeId}", "get", "404"), json!(["NOT_FOUND"]));
    assert_eq!(code("/api/bots/{slug}/trades", "post", "422"), json!(["IDEMPOTENCY_KEY_REUSED"]));
    assert_eq!(code("/api/bots/{slug}/trades", "post", "409"), json!(["CONFLICT"]));
    assert_eq!(code("/partner/v1/bots/backtest/{id}/results", "get", "409"), json!([1006]));
    assert_eq!(code("/partner/v1/bots/backtest/{id}/results", "get", "404"), json!([1009]));
    assert_eq!(code("/partner/v1/bots/backtest", "post", "422"), json!([1007, 1011]));
}
