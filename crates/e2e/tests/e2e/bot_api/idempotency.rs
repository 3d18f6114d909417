//! `Idempotency-Key` on the Bot API's POST routes (docs/api/bot.md#idempotency).

use super::fixture::Fixture;
use serde_json::json;

async fn post_with_key(fixture: &Fixture, path: &str, key: &str, body: &serde_json::Value) -> (u16, String) {
    let response = test_support::http_client()
        .post(fixture.system.url(&format!("/api/bots/{}{path}", fixture.bot.slug)))
        .header("x-api-key", &fixture.bot.key)
        .header("Idempotency-Key", key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_replays_the_first_response_and_another_body_is_refused() {
    let fixture = Fixture::start().await;
    let trade = json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"});
    let (status, first) = post_with_key(&fixture, "/trades", "key-1", &trade).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = post_with_key(&fixture, "/trades", "key-1", &trade).await;
    assert_eq!((status, &again), (200, &first), "the stored response, byte for byte");
    let alpha_aapl = format!("SELECT count(*) FROM bot_trades WHERE symbol = 'AAPL' AND bot_id = '{}'", fixture.bot.id);
    assert_eq!(fixture.count(&alpha_aapl).await, 2, "the fixture's trade and one new one");

    let other = json!({"symbol": "MSFT", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z"});
    let (status, refused) = post_with_key(&fixture, "/trades", "key-1", &other).await;
    assert_eq!(status, 422, "{refused}");
    let refused: serde_json::Value = serde_json::from_str(&refused).unwrap();
    assert_eq!(refused["code"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(fixture.count("SELECT count(*) FROM bot_trades WHERE symbol = 'MSFT'").await, 0);

    // Keys are per route body and per bot: another key runs the request again.
    let (status, _) = post_with_key(&fixture, "/trades", "key-2", &trade).await;
    assert_eq!(status, 200);
    assert_eq!(fixture.count(&alpha_aapl).await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn participations_and_states_honour_the_key_too() {
    let fixture = Fixture::start().await;
    let participations = json!({"participations": [{
        "botTradeId": fixture.bot.trade_id, "userId": fixture.user_id,
        "brokerAccountId": fixture.account_id, "brokerOrderId": "ORD-9"
    }]});
    let (status, first) = post_with_key(&fixture, "/participations", "p-1", &participations).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(post_with_key(&fixture, "/participations", "p-1", &participations).await, (200, first));
    assert_eq!(fixture.count("SELECT count(*) FROM outbox").await, 1);

    let states =
        json!({"states": [{"accountId": fixture.account_id, "tickerId": fixture.ticker_id, "state": {"n": 1}}]});
    let (status, first) = post_with_key(&fixture, "/state", "s-1", &states).await;
    assert_eq!(status, 200, "{first}");
    let changed =
        json!({"states": [{"accountId": fixture.account_id, "tickerId": fixture.ticker_id, "state": {"n": 2}}]});
    assert_eq!(post_with_key(&fixture, "/state", "s-1", &changed).await.0, 422);
    assert_eq!(fixture.count("SELECT count(*) FROM user_bot_states WHERE state->>'n' = '1'").await, 1);
}
