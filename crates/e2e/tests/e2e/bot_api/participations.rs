//! Reference 000 and the checks every Bot API route makes first (CONTRACTS §1).

use super::fixture::Fixture;
use domain::ServiceName;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

fn item(fixture: &Fixture, order: &str) -> Value {
    json!({
        "botTradeId": fixture.bot.trade_id,
        "userId": fixture.user_id,
        "brokerAccountId": fixture.account_id,
        "brokerOrderId": order,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn participations_succeed_or_fail_per_item_and_repeat_without_duplicates() {
    let fixture = Fixture::start().await;
    let mut with_children = item(&fixture, "TRADIER-ORDER-12346");
    with_children["childOrderIds"] = json!(["TRADIER-ORDER-12347", "TRADIER-ORDER-12348"]);
    with_children["units"] = json!(2);
    let unknown_trade = uuid::Uuid::now_v7();
    let body = json!({ "participations": [
        item(&fixture, "TRADIER-ORDER-12345"),
        with_children,
        json!({"botTradeId": fixture.other.trade_id, "userId": fixture.user_id, "brokerAccountId": fixture.account_id, "brokerOrderId": "X-1"}),
        json!({"botTradeId": unknown_trade, "userId": fixture.user_id, "brokerAccountId": fixture.account_id, "brokerOrderId": "X-2"}),
        json!({"botTradeId": fixture.bot.trade_id, "userId": fixture.user_id, "brokerAccountId": fixture.other_account_id, "brokerOrderId": "X-3"}),
    ]});
    let (status, reply) = fixture.post("/participations", body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["success"], true);
    assert_eq!(reply["summary"], json!({"total": 5, "succeeded": 2, "failed": 3}));
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "success");
    assert_eq!(results[0]["data"]["userId"], fixture.user_id.as_str());
    assert_eq!(results[0]["data"]["botTradeId"], fixture.bot.trade_id.to_string());
    assert_eq!(
        results[2],
        json!({"status": "error", "error": format!("Bot trade '{}' does not belong to bot 'alpha-bot'", fixture.other.trade_id)})
    );
    assert_eq!(results[3], json!({"status": "error", "error": format!("Bot trade '{unknown_trade}' not found")}));
    assert_eq!(
        results[4],
        json!({"status": "error", "error": format!(
            "User broker account '{}' not found for user '{}'", fixture.other_account_id, fixture.user_id)})
    );

    // Exactly one outbox event per new participation, and it reaches the stream.
    assert_eq!(fixture.count("SELECT count(*) FROM participations").await, 2);
    assert_eq!(fixture.count("SELECT count(*) FROM outbox").await, 2);
    let stream_name = fixture.system.nats().subjects().stream_name(ServiceName::TradeLedger);
    let jetstream = async_nats::jetstream::new(fixture.system.nats().client().await);
    test_support::eventually("both events to reach the stream", Duration::from_secs(10), || async {
        let mut stream = jetstream.get_stream(&stream_name).await.ok()?;
        (stream.info().await.ok()?.state.messages == 2).then_some(())
    })
    .await;

    // The same natural keys again: the same ids, no new rows, no new events.
    let (status, again) = fixture.post("/participations", body).await;
    assert_eq!(status, 200);
    assert_eq!(again["results"][0]["data"]["participationId"], results[0]["data"]["participationId"]);
    assert_eq!(again["results"][1]["data"]["participationId"], results[1]["data"]["participationId"]);
    assert_eq!(fixture.count("SELECT count(*) FROM participations").await, 2);
    assert_eq!(fixture.count("SELECT count(*) FROM outbox").await, 2);
    assert_eq!(
        fixture.count("SELECT count(*) FROM participations WHERE units = 2 AND child_order_ids = ARRAY['TRADIER-ORDER-12347','TRADIER-ORDER-12348']").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_run_in_the_contracts_order_and_change_nothing() {
    let fixture = Fixture::start().await;
    let valid = json!({ "participations": [item(&fixture, "O-1")] }).to_string();
    let post = |slug: &str, key: Option<String>, body: &str| {
        let path = format!("/api/bots/{slug}/participations");
        let body = body.to_string();
        let fixture = &fixture;
        async move { fixture.send(Method::POST, &path, key.as_deref(), Some(body)).await }
    };
    let bad_slug = "Invalid slug format. Only alphanumeric characters, hyphens, and underscores are allowed.";
    // A bad slug comes first, even without a key and with a broken body.
    assert_eq!(post("bad%20slug", None, "{").await, (400, json!({"error": bad_slug, "code": "BAD_REQUEST"})));
    assert_eq!(
        post("alpha-bot", None, "{").await,
        (401, json!({"message": "API key required. Include x-api-key header."}))
    );
    assert_eq!(
        post("nobody", Some(fixture.bot.key.clone()), "{").await,
        (404, json!({"error": "Bot with slug 'nobody' not found", "code": "NOT_FOUND"}))
    );
    // Another bot's key (BOLA) and a malformed key are both "not this bot's key".
    assert_eq!(
        post("alpha-bot", Some(fixture.other.key.clone()), &valid).await,
        (403, json!({"message": "Invalid API key for this bot"}))
    );
    assert_eq!(post("alpha-bot", Some("garbage".into()), &valid).await.0, 403);
    // Only an authenticated request gets a body error.
    assert_eq!(
        post("alpha-bot", Some(fixture.bot.key.clone()), "{").await,
        (400, json!({"error": "Invalid JSON in request body", "code": "BAD_REQUEST"}))
    );
    let (status, reply) = fixture.post("/participations", json!({"participations": [{"botTradeId": 1}]})).await;
    assert_eq!(
        (status, reply["error"].as_str().unwrap()),
        (400, "participations[0].botTradeId is required and must be a string")
    );
    let mut unknown = item(&fixture, "O-2");
    unknown["foo"] = json!(true);
    let (status, reply) = fixture.post("/participations", json!({ "participations": [unknown] })).await;
    assert_eq!((status, reply["error"].as_str().unwrap()), (400, "Unknown field 'participations[0].foo'"));
    let mut not_a_number = item(&fixture, "O-3");
    not_a_number["units"] = json!("2");
    let (status, reply) = fixture.post("/participations", json!({ "participations": [not_a_number] })).await;
    assert_eq!((status, reply["error"].as_str().unwrap()), (400, "participations[0].units must be a positive number"));
    let many: Vec<Value> = (0..1001).map(|n| item(&fixture, &format!("O-{n}"))).collect();
    let (status, reply) = fixture.post("/participations", json!({ "participations": many })).await;
    assert_eq!((status, reply["error"].as_str().unwrap()), (400, "participations cannot contain more than 1000 items"));

    assert_eq!(fixture.count("SELECT count(*) FROM participations").await, 0, "no refused request wrote anything");
    assert_eq!(fixture.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bot_reads_its_configuration_without_credentials() {
    let fixture = Fixture::start().await;
    fixture
        .system
        .admin(trade_ledger::admin::AdminCommand::Follow {
            bot: "alpha-bot".into(),
            broker_account: fixture.account_id.parse().unwrap(),
            ticker: "AAPL".into(),
            quantity: "10".parse().unwrap(),
        })
        .await;
    let (status, reply) = fixture.get("").await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["success"], true);
    assert_eq!(reply["bot"]["id"], fixture.bot.id.as_str());
    assert_eq!(reply["bot"]["slug"], "alpha-bot");
    let follower = &reply["bot"]["followers"][0];
    assert_eq!(follower["id"], fixture.account_id.as_str());
    assert_eq!(follower["accountNumber"], "VA0001");
    assert_eq!(follower["userId"], fixture.user_id.as_str());
    assert_eq!(follower["tickers"][0]["symbol"], "AAPL");
    assert_eq!(follower["tickers"][0]["quantity"], "10");
    assert!(!reply.to_string().contains(&fixture.bot.key), "never a credential");
}
