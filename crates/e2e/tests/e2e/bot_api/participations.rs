//! Reference 000, who a bot may reach, and the checks every Bot API route makes first
//! (docs/api/bot.md#authentication, docs/api/bot.md#participations).

use super::fixture::{Fixture, text};
use domain::ServiceName;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

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
        .admin(AdminCommand::Follow {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_reaches_only_the_broker_accounts_that_follow_it() {
    let fixture = Fixture::start().await;
    let admin = |command: AdminCommand| fixture.system.admin(command);
    // Partner A: a user with a bot and three accounts; partner B: a user with one account.
    let partner_a = text(&admin(AdminCommand::CreatePartner { name: "Partner A".into() }).await, "partnerId");
    let partner_b = text(&admin(AdminCommand::CreatePartner { name: "Partner B".into() }).await, "partnerId");
    let user = |partner: &str, email: &str| {
        admin(AdminCommand::CreateUser { partner: Some(partner.parse().unwrap()), email: email.into() })
    };
    let user_a = text(&user(&partner_a, "a@partner-a.example").await, "userId");
    let user_b = text(&user(&partner_b, "b@partner-b.example").await, "userId");
    let account = |user: &str, number: &str| {
        admin(AdminCommand::CreateBrokerAccount {
            user: user.parse().unwrap(),
            broker: "TRADIER".into(),
            account_number: number.into(),
        })
    };
    let following = text(&account(&user_a, "A-FOLLOWS").await, "brokerAccountId");
    let not_following = text(&account(&user_a, "A-NEVER").await, "brokerAccountId");
    let paused = text(&account(&user_a, "A-PAUSED").await, "brokerAccountId");
    let foreign = text(&account(&user_b, "B-ELSEWHERE").await, "brokerAccountId");
    let bot = fixture.add_bot("partner-a-bot", Some(user_a.parse().unwrap())).await;
    let follow = |bot: &str, account: &str| {
        admin(AdminCommand::Follow {
            bot: bot.into(),
            broker_account: account.parse().unwrap(),
            ticker: "AAPL".into(),
            quantity: "1".parse().unwrap(),
        })
    };
    follow(&bot.slug, &following).await;
    follow(&bot.slug, &paused).await;
    // Following another bot does not open the account to this one.
    follow(&fixture.other.slug, &foreign).await;

    let post = |items: Vec<Value>| {
        let path = format!("/api/bots/{}/participations", bot.slug);
        let body = json!({ "participations": items }).to_string();
        let key = bot.key.clone();
        let fixture = &fixture;
        async move { fixture.send(Method::POST, &path, Some(&key), Some(body)).await }
    };
    let item = |user: &str, account: &str, order: &str| {
        let trade = bot.trade_id;
        json!({"botTradeId": trade, "userId": user, "brokerAccountId": account, "brokerOrderId": order})
    };
    let refused = |account: &str| {
        let error = format!("User broker account '{account}' does not follow bot 'partner-a-bot'");
        json!({"status": "error", "error": error})
    };

    // The account whose link is paused below still follows the bot here.
    let (status, reply) = post(vec![
        item(&user_b, &foreign, "B-1"),
        item(&user_a, &not_following, "A-1"),
        item(&user_a, &following, "A-2"),
        item(&user_a, &paused, "A-3"),
    ])
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["summary"], json!({"total": 4, "succeeded": 2, "failed": 2}), "{reply}");
    assert_eq!(reply["results"][0], refused(&foreign));
    assert_eq!(reply["results"][1], refused(&not_following));
    assert_eq!(reply["results"][2]["status"], "success");
    assert_eq!(reply["results"][3]["status"], "success");

    // No longer following (the link paused): refused too.
    fixture.execute(&format!("UPDATE bot_followers SET status = 'paused' WHERE broker_account_id = '{paused}'")).await;
    let (status, reply) = post(vec![item(&user_a, &paused, "A-4"), item(&user_a, &following, "A-5")]).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["results"][0], refused(&paused));
    assert_eq!(reply["results"][1]["status"], "success");

    // Nothing was written for a refused item: no participation, no event asking for its orders.
    let rows_of = |account: &str| format!("SELECT count(*) FROM participations WHERE broker_account_id = '{account}'");
    assert_eq!(fixture.count(&rows_of(&foreign)).await, 0);
    assert_eq!(fixture.count(&rows_of(&not_following)).await, 0);
    assert_eq!(fixture.count(&rows_of(&paused)).await, 1, "only the one made while it followed");
    assert_eq!(fixture.count(&rows_of(&following)).await, 2);
    assert_eq!(fixture.count("SELECT count(*) FROM outbox").await, 3, "one event per accepted participation");
    for account in [&foreign, &not_following] {
        let events = format!("SELECT count(*) FROM outbox WHERE payload::text LIKE '%{account}%'");
        assert_eq!(fixture.count(&events).await, 0, "no fetch is asked for {account}");
    }
}
