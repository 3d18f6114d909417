//! Trades and transactions (reference 001, docs/api/bot.md#trades) through the gateway.

use super::fixture::Fixture;
use reqwest::Method;
use serde_json::{Value, json};

async fn create_trade(fixture: &Fixture, body: Value) -> Value {
    let (status, reply) = fixture.post("/trades", body).await;
    assert_eq!(status, 200, "{reply}");
    reply["trade"].clone()
}

fn entry(status: &str, quantity: u32) -> Value {
    let mut entry = json!({
        "transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
        "quantity": quantity, "transactionDate": "2024-01-15T10:30:00Z", "status": status,
    });
    if status == "filled" {
        entry["filledAt"] = json!("2024-01-15T10:30:05Z");
        entry["avgFillPrice"] = json!("150.25");
    }
    entry
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trade_follows_its_transactions_from_pending_to_closed() {
    let fixture = Fixture::start().await;
    let trade = create_trade(
        &fixture,
        json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z", "transactions": [entry("open", 100)]}),
    )
    .await;
    assert_eq!(trade["status"], "pending");
    assert_eq!(trade["signalAt"], "2024-01-15T10:30:00.000Z");
    assert_eq!(trade["transactions"][0]["quantity"], 100);
    let trade_id = trade["id"].as_str().unwrap().to_string();
    let entry_id = trade["transactions"][0]["id"].as_str().unwrap().to_string();

    // The entry fills: the trade opens at the fill time.
    let path = format!("/api/bots/alpha-bot/trades/{trade_id}/transactions/{entry_id}");
    let (status, reply) = fixture
        .send(
            Method::PATCH,
            &path,
            Some(&fixture.bot.key.clone()),
            Some(json!({"status": "filled", "filledAt": "2024-01-15T10:31:00Z"}).to_string()),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["trade"]["status"], "open");
    assert_eq!(reply["trade"]["openedAt"], "2024-01-15T10:31:00.000Z");
    assert_eq!(reply["transaction"]["status"], "filled");

    // Reference 001's example: a take-profit exit, open → still open; a trim fills half.
    let exits = json!({"transactions": [
        {"transactionGroup": "exit", "exitType": "take_profit", "symbol": "AAPL", "assetType": "stock", "side": "sell",
         "type": "limit", "price": "160.00", "quantity": 100, "transactionDate": "2024-01-15T11:00:00Z", "status": "open"},
        {"transactionGroup": "exit", "exitType": "trim", "trimLevel": 1, "symbol": "AAPL", "assetType": "stock", "side": "sell",
         "type": "limit", "price": "155.00", "quantity": 50, "transactionDate": "2024-01-15T11:00:00Z", "status": "filled",
         "filledAt": "2024-01-15T11:05:00Z", "filledQuantity": "50"}
    ]});
    let (status, reply) = fixture.post(&format!("/trades/{trade_id}/transactions"), exits).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["transactionsAdded"], 2);
    assert_eq!(reply["trade"]["status"], "open", "a trim reduces but does not close");

    // Closing fills the open take-profit; closedAt comes from the latest exit fill.
    let path = format!("/api/bots/alpha-bot/trades/{trade_id}");
    let (status, reply) = fixture
        .send(
            Method::PATCH,
            &path,
            Some(&fixture.bot.key.clone()),
            Some(json!({"status": "closed", "netPnl": "812.50"}).to_string()),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["trade"]["status"], "closed");
    assert_eq!(reply["trade"]["netPnl"], "812.50");
    let transactions = reply["trade"]["transactions"].as_array().unwrap();
    assert!(transactions.iter().all(|t| t["status"] == "filled"), "{reply}");
    let closed_at = reply["trade"]["closedAt"].as_str().unwrap().to_string();
    assert!(
        closed_at.as_str() > "2024-01-15T11:05:00.000Z",
        "the latest exit fill (the one closing filled): {closed_at}"
    );

    // Read back with transactions and participations, and in the list.
    let (status, one) = fixture.get(&format!("/trades/{trade_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["trade"]["transactions"].as_array().unwrap().len(), 3);
    assert_eq!(one["trade"]["transactions"][1]["price"], "160.00", "prices come back as the strings they were");
    assert_eq!(one["trade"]["participations"], json!([]));
    let (status, list) = fixture.get("/trades?status=closed&symbol=AAPL").await;
    assert_eq!(status, 200);
    assert_eq!(list["trades"].as_array().unwrap().len(), 1);
    assert_eq!(list["nextCursor"], Value::Null);

    // A new filled entry (200 in, 150 out) reopens it: the derived closedAt goes away.
    let (status, reply) = fixture
        .post(&format!("/trades/{trade_id}/transactions"), json!({"transactions": [entry("filled", 100)]}))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["trade"]["status"], "open");
    assert_eq!(reply["trade"]["closedAt"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_report_moves_a_pending_trade_to_error_and_back() {
    let fixture = Fixture::start().await;
    let trade =
        create_trade(&fixture, json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"}))
            .await;
    let path = format!("/api/bots/alpha-bot/trades/{}", trade["id"].as_str().unwrap());
    let key = Some(fixture.bot.key.clone());
    let (status, reply) = fixture
        .send(Method::PATCH, &path, key.as_deref(), Some(json!({"errorMessage": "broker rejected"}).to_string()))
        .await;
    assert_eq!((status, reply["trade"]["status"].as_str()), (200, Some("error")), "{reply}");
    let (_, reply) =
        fixture.send(Method::PATCH, &path, key.as_deref(), Some(json!({"errorMessage": null}).to_string())).await;
    assert_eq!(reply["trade"]["status"], "pending");
    let (status, reply) = fixture.send(Method::PATCH, &path, key.as_deref(), Some("{}".to_string())).await;
    assert_eq!(status, 400, "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_numbers_are_stored_exactly() {
    let fixture = Fixture::start().await;
    let body = r#"{"symbol":"AAPL","tradeType":"long","signalAt":"2024-01-15T10:30:00Z","metadata":{"a":1.10},
        "transactions":[{"transactionGroup":"entry","symbol":"AAPL","assetType":"stock","side":"buy","type":"market",
        "quantity":1,"transactionDate":"2024-01-15T10:30:00Z","metadata":{"p":0.10000000000000000001}}]}"#;
    let (status, reply) = fixture
        .send(Method::POST, "/api/bots/alpha-bot/trades", Some(&fixture.bot.key.clone()), Some(body.to_string()))
        .await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["trade"]["id"].as_str().unwrap();
    let text = test_support::http_client()
        .get(fixture.system.url(&format!("/api/bots/alpha-bot/trades/{id}")))
        .header("x-api-key", &fixture.bot.key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("0.10000000000000000001"), "{text}");
    assert!(text.contains("1.10"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn trades_page_newest_first_and_stay_with_their_bot() {
    let fixture = Fixture::start().await;
    for _ in 0..3 {
        create_trade(&fixture, json!({"symbol": "MSFT", "tradeType": "short", "signalAt": "2024-01-15T10:30:00Z"}))
            .await;
    }
    let (status, first) = fixture.get("/trades?limit=2&symbol=MSFT").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["trades"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap().to_string();
    let (_, second) = fixture.get(&format!("/trades?limit=2&symbol=MSFT&cursor={cursor}")).await;
    assert_eq!(second["trades"].as_array().unwrap().len(), 1);
    assert_eq!(second["nextCursor"], Value::Null);
    // Ids are time-ordered (UUID v7): newest first means descending ids.
    assert!(first["trades"][0]["id"].as_str() > first["trades"][1]["id"].as_str());
    assert!(first["trades"][1]["id"].as_str() > second["trades"][0]["id"].as_str());

    // Another bot's trade is not found, on every route (BOLA).
    let other = fixture.other.trade_id;
    let not_found = json!({"error": "Trade not found", "code": "NOT_FOUND"});
    assert_eq!(fixture.get(&format!("/trades/{other}")).await, (404, not_found.clone()));
    assert_eq!(fixture.get(&format!("/trades/{other}/participations")).await, (404, not_found.clone()));
    let (status, reply) =
        fixture.post(&format!("/trades/{other}/transactions"), json!({"transactions": [entry("open", 1)]})).await;
    assert_eq!((status, reply), (404, not_found));
    let (status, reply) = fixture.get("/trades/not-a-uuid").await;
    assert_eq!((status, reply["error"].as_str().unwrap()), (400, "tradeId must be a valid UUID"));
    assert_eq!(fixture.count("SELECT count(*) FROM transactions").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn transaction_body_errors_use_the_references_messages() {
    let fixture = Fixture::start().await;
    let trade = fixture.bot.trade_id;
    let cases = [
        (json!({"transactions": []}), "transactions array required and cannot be empty"),
        (
            json!({"transactions": [{"transactionGroup": "both"}]}),
            "transactions[0].transactionGroup must be 'entry' or 'exit'",
        ),
        (
            json!({"transactions": [{"transactionGroup": "exit"}]}),
            "transactions[0].exitType is required for exit transactions",
        ),
        (
            json!({"transactions": [{"transactionGroup": "entry"}]}),
            "transactions[0].symbol is required and must be a string",
        ),
    ];
    for (body, message) in cases {
        let (status, reply) = fixture.post(&format!("/trades/{trade}/transactions"), body).await;
        assert_eq!((status, reply), (400, json!({"error": message, "code": "BAD_REQUEST"})));
    }
    let (status, reply) = fixture
        .post(&format!("/trades/{}/transactions", uuid::Uuid::now_v7()), json!({"transactions": [entry("open", 1)]}))
        .await;
    assert_eq!((status, reply), (404, json!({"error": "Trade not found", "code": "NOT_FOUND"})));
}
