//! Signals to hosted webhook bots, end to end (real gateway, ledger, runner, feed, Postgres
//! and NATS): `signals/send` reaches the calling partner's bots only, each running bot acts
//! once at its market's next quote, a repeat changes nothing, and `signals/get` shows a
//! receipt per bot. Quotes are pushed through the feed on a market of the test's own.

use crate::partner::{ok, own_sim_market, partner_key, post, send, sim_user};
use crate::system::System;
use serde_json::{Value, json};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

/// A partner with one user on SIM and a market of its own.
struct Partner {
    key: String,
    user: Value,
    symbol: String,
}

async fn partner(system: &System, name: &str) -> Partner {
    let key = partner_key(system, name).await;
    let symbol = own_sim_market(system, "S").await;
    let user = sim_user(system, &key).await;
    Partner { key, user, symbol }
}

impl Partner {
    /// A running webhook bot listening to `token`: its id.
    async fn webhook(&self, system: &System, token: &str) -> String {
        let settings = json!({"symbol": self.symbol, "signalToken": token});
        let body = json!({"userId": self.user, "type": "webhook", "settings": settings});
        ok(system, &self.key, "bots/create", body).await["botId"].as_str().unwrap().to_string()
    }

    async fn send(&self, system: &System, signal: Value) -> (u16, Value) {
        post(system, &self.key, "signals/send", json!({"signal": signal})).await
    }

    async fn get(&self, system: &System, token: &str) -> (u16, Value) {
        post(system, &self.key, "signals/get", json!({"signalToken": token})).await
    }

    /// Quotes at 29,000 until no receipt of the token's last signal is pending: its view.
    async fn settled(&self, system: &System, token: &str) -> Value {
        test_support::eventually(&format!("the receipts of '{token}' settled"), PATIENCE, || async {
            system.push_quote(&self.symbol, "28999.5", "29000.5", "29000").await;
            let (status, reply) = self.get(system, token).await;
            assert_eq!(status, 200, "{reply}");
            let receipts = reply["data"]["receipts"].as_array().cloned().unwrap_or_default();
            receipts.iter().all(|receipt| receipt["status"] != "pending").then(|| reply["data"].clone())
        })
        .await
    }

    /// Waits until the runner holds `bot` (its log starts).
    async fn held(&self, system: &System, bot: &str) {
        test_support::eventually(&format!("bot {bot} held"), PATIENCE, || async {
            let (status, reply) = post(system, &self.key, "bots/logs", json!({"botId": bot})).await;
            (status == 200 && !reply["data"]["items"].as_array().is_none_or(Vec::is_empty)).then_some(())
        })
        .await;
    }
}

fn buy(token: &str) -> Value {
    json!({"signalToken": token, "action": "buy", "amount": 0.01, "timestamp": chrono::Utc::now().timestamp(),
        "metadata": {"source": "TradingView", "confidence": 0.85}})
}

fn receipt<'a>(view: &'a Value, bot: &str) -> &'a Value {
    view["receipts"].as_array().unwrap().iter().find(|receipt| receipt["botId"] == bot).expect("a receipt per bot")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_running_webhook_bot_buys_once_and_a_stopped_one_skips_the_signal() {
    let system = System::start().await.expect("the system starts");
    let partner = partner(&system, "Signals Partner").await;
    let (first, second) = (partner.webhook(&system, "tok-1").await, partner.webhook(&system, "tok-1").await);
    let stopped = partner.webhook(&system, "tok-1").await;
    ok(&system, &partner.key, "bots/stop", json!({"botId": stopped})).await;
    let signal = buy("tok-1");

    assert_eq!(
        partner.send(&system, signal.clone()).await,
        (200, json!({"isSuccess": true, "code": 0, "message": "", "data": true}))
    );
    let view = partner.settled(&system, "tok-1").await;

    assert_eq!((view["signalToken"].clone(), view["action"].clone()), (json!("tok-1"), json!("buy")));
    assert_eq!((view["amount"].clone(), view["price"].clone()), (json!(0.01), Value::Null));
    assert_eq!(view["metadata"], json!({"source": "TradingView", "confidence": 0.85}));
    assert_eq!(view["timestamp"], signal["timestamp"]);
    assert_eq!(view["receipts"].as_array().unwrap().len(), 3, "{view}");
    for bot in [&first, &second] {
        let receipt = receipt(&view, bot);
        assert_eq!((receipt["status"].clone(), receipt["reason"].clone()), (json!("delivered"), Value::Null));
        assert_eq!((receipt["botKind"].clone(), receipt["orderStatus"].clone()), (json!("hosted"), json!("FILLED")));
        assert_eq!(receipt["orderId"].as_str().map(str::len), Some(32), "{receipt}");
    }
    let skipped = receipt(&view, &stopped);
    assert_eq!((skipped["status"].clone(), skipped["reason"].clone()), (json!("skipped"), json!("bot is stopped")));
    assert_eq!(skipped["orderId"], Value::Null);

    // The bought position shows on the bot; a repeat answers true and changes nothing.
    let open = ok(&system, &partner.key, "bots/positions/open", json!({"botId": first})).await;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(partner.send(&system, signal).await.0, 200);
    for _ in 0..3 {
        system.push_quote(&partner.symbol, "28999.5", "29000.5", "29000").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let written = [system.orders_written(&first).await, system.orders_written(&second).await];
    assert_eq!(written, [1, 1], "one BUY each");
    assert_eq!(system.orders_written(&stopped).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signals_and_other_partners_tokens_are_refused_and_change_nothing() {
    let system = System::start().await.expect("the system starts");
    let mine = partner(&system, "Token Owner").await;
    let theirs = partner(&system, "Token Guesser").await;
    let bot = mine.webhook(&system, "mine").await;

    let refused =
        |message: &str, code: u16| json!({"isSuccess": false, "code": code, "message": message, "data": null});
    let mut upper = buy("mine");
    upper["action"] = json!("BUY");
    assert_eq!(
        mine.send(&system, upper).await,
        (400, refused("signal.action must be one of buy, sell, enter_long, exit_long, enter_short, exit_short", 1000))
    );
    let mut old = buy("mine");
    old["timestamp"] = json!(chrono::Utc::now().timestamp() - 3600);
    old["maxLag"] = json!(60);
    assert_eq!(mine.send(&system, old).await, (400, refused("signal is older than maxLag (60 s)", 1000)));
    let (status, reply) = mine.send(&system, buy("nobody-listens")).await;
    assert_eq!((status, reply["code"].clone()), (404, json!(1010)), "{reply}");
    let (status, reply) = theirs.send(&system, buy("mine")).await;
    assert_eq!((status, reply["code"].clone()), (404, json!(1010)), "another partner's token: {reply}");
    let (status, reply) = theirs.get(&system, "mine").await;
    assert_eq!((status, reply["code"].clone()), (404, json!(1010)), "{reply}");
    let (status, reply) = mine.get(&system, "mine").await;
    assert_eq!((status, reply["code"].clone()), (404, json!(1010)), "never signalled: {reply}");

    for _ in 0..3 {
        system.push_quote(&mine.symbol, "28999.5", "29000.5", "29000").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(system.orders_written(&bot).await, 0, "nothing reached the bot");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runner_killed_between_send_and_delivery_delivers_once_after_a_restart() {
    let mut system = System::start().await.expect("the system starts");
    let partner = partner(&system, "Restart Partner").await;
    let bot = partner.webhook(&system, "tok-k").await;
    partner.held(&system, &bot).await;
    assert_eq!(partner.send(&system, buy("tok-k")).await.0, 200);
    let (_, pending) = partner.get(&system, "tok-k").await;
    assert_eq!(pending["data"]["receipts"][0]["status"], "pending", "no quote came yet: {pending}");

    let name = system.runner_names()[0].clone();
    system.kill_runner(&name).await;
    system.start_runner().await.expect("a runner starts");
    let view = partner.settled(&system, "tok-k").await;

    assert_eq!(receipt(&view, &bot)["status"], "delivered", "{view}");
    for _ in 0..3 {
        system.push_quote(&partner.symbol, "28999.5", "29000.5", "29000").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(system.orders_written(&bot).await, 1, "exactly once");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_replays_its_reply_and_refuses_another_body() {
    let system = System::start().await.expect("the system starts");
    let partner = partner(&system, "Keyed Partner").await;
    let bot = partner.webhook(&system, "tok-i").await;
    let (first, other) = (
        buy("tok-i"),
        json!({"signalToken": "tok-i", "action": "sell", "amount": 0.01,
        "timestamp": chrono::Utc::now().timestamp()}),
    );
    let keyed = |signal: &Value| {
        let body = json!({"signal": signal});
        let key = partner.key.clone();
        let system = &system;
        async move { send(system, &key, "POST", "/partner/v1/signals/send", Some(body), Some("sig-key-1")).await }
    };

    assert_eq!(keyed(&first).await, (200, json!({"isSuccess": true, "code": 0, "message": "", "data": true})));
    assert_eq!(keyed(&first).await, (200, json!({"isSuccess": true, "code": 0, "message": "", "data": true})));
    let (status, reply) = keyed(&other).await;
    assert_eq!((status, reply["code"].clone()), (422, json!(1011)), "{reply}");

    let view = partner.settled(&system, "tok-i").await;
    assert_eq!((view["action"].clone(), view["receipts"].as_array().unwrap().len()), (json!("buy"), 1));
    assert_eq!(system.orders_written(&bot).await, 1, "the replay placed nothing more");
}
