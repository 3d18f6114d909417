//! Reference 002: bulk state upserts, and reading them back.

use super::fixture::Fixture;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn states_upsert_per_item_keep_numbers_exactly_and_read_back() {
    let fixture = Fixture::start().await;
    let unknown_ticker = uuid::Uuid::now_v7();
    let unknown_account = uuid::Uuid::now_v7();
    // Raw text so the exact number reaches the server as written.
    let body = format!(
        r#"{{"states": [
            {{"accountId": "{account}", "tickerId": "{ticker}", "state": {{"lastPrice": 150.25, "position": "long"}}}},
            {{"accountId": "{account}", "tickerId": "{unknown_ticker}", "state": {{}}}},
            {{"accountId": "{unknown_account}", "tickerId": "{ticker}", "state": {{}}}},
            {{"accountId": "{account}", "tickerId": "{ticker}", "state": {{"qty": 0.123456789012345678901234567}}}}
        ]}}"#,
        account = fixture.account_id,
        ticker = fixture.ticker_id,
    );
    let path = format!("/api/bots/{}/state", fixture.bot.slug);
    let (status, reply) = fixture.send(reqwest::Method::POST, &path, Some(&fixture.bot.key.clone()), Some(body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["summary"], json!({"total": 4, "succeeded": 2, "failed": 2}));
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "success");
    assert_eq!(results[0]["data"]["botId"], fixture.bot.id.as_str());
    assert_eq!(results[0]["data"]["userBrokerAccountId"], fixture.account_id.as_str());
    assert_eq!(results[0]["accountId"], fixture.account_id.as_str());
    assert_eq!(
        results[1],
        json!({"status": "error", "error": "Ticker not found", "accountId": fixture.account_id, "tickerId": unknown_ticker, "index": 1})
    );
    assert_eq!(results[2]["error"], "User broker account not found");
    assert_eq!(results[2]["index"], 2);
    // The same pair twice: each item has its result, both name the one row, the last one wins.
    assert_eq!(results[3]["data"]["id"], results[0]["data"]["id"]);
    assert_eq!(fixture.count("SELECT count(*) FROM user_bot_states").await, 1);

    let (status, listed) = fixture.get("/state").await;
    assert_eq!(status, 200, "{listed}");
    let state = &listed["states"][0]["state"];
    // Compare the text: the number must not have passed through binary floating point.
    let raw = serde_json::to_string(state).unwrap();
    let (_, text) = fixture
        .send(
            reqwest::Method::GET,
            &format!("/api/bots/{}/state", fixture.bot.slug),
            Some(&fixture.bot.key.clone()),
            None,
        )
        .await;
    assert!(text.to_string().contains("qty"), "{raw}");
    let body = test_support::http_client()
        .get(fixture.system.url(&format!("/api/bots/{}/state?tickerId={}", fixture.bot.slug, fixture.ticker_id)))
        .header("x-api-key", &fixture.bot.key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("0.123456789012345678901234567"), "exact number lost: {body}");

    let (status, none) = fixture.get(&format!("/state?tickerId={unknown_ticker}")).await;
    assert_eq!((status, none["states"].as_array().unwrap().len()), (200, 0));
    let (status, bad) = fixture.get("/state?accountId=nope").await;
    assert_eq!((status, bad["error"].as_str().unwrap()), (400, "accountId must be a valid UUID"));
}

#[tokio::test(flavor = "multi_thread")]
async fn state_body_errors_use_the_references_messages() {
    let fixture = Fixture::start().await;
    let cases = [
        (json!({}), "states must be an array"),
        (json!({"states": []}), "states array cannot be empty"),
        (json!({"states": [{"accountId": 1}]}), "states[0].accountId is required and must be a string"),
        (
            json!({"states": [{"accountId": fixture.account_id, "tickerId": fixture.ticker_id, "state": [1]}]}),
            "states[0].state is required and must be an object",
        ),
    ];
    for (body, message) in cases {
        let (status, reply) = fixture.post("/state", body).await;
        assert_eq!((status, reply), (400, json!({"error": message, "code": "BAD_REQUEST"})));
    }
    assert_eq!(fixture.count("SELECT count(*) FROM user_bot_states").await, 0);
}
