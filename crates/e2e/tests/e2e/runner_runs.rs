//! The live-session-runner hears of a partner's hosted bots (real gateway, ledger, runner,
//! Postgres and NATS): a bot created through the gateway becomes a run in the runner's
//! database with its whole definition, and each later change (stop, delete) reaches the run
//! with the ledger's next revision.

use crate::partner::{ok, partner_key, post};
use crate::system::System;
use domain::{BotId, ServiceName, UserId};
use live_session_runner::store::runs::{self, HostedRun};
use serde_json::json;
use std::time::Duration;

/// Waits until the runner's database holds `bot`'s run at `revision`.
async fn run_at(system: &System, bot: BotId, revision: i64) -> HostedRun {
    test_support::eventually(&format!("the run of {bot} at revision {revision}"), Duration::from_secs(30), || async {
        let mut connection = system.db(ServiceName::LiveSessionRunner).connect().await;
        runs::find_hosted(&mut connection, bot).await.unwrap().filter(|run| run.revision == revision)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runner_keeps_each_hosted_bots_definition_and_desired_state() {
    let system = System::start().await.expect("the system starts");
    let key = partner_key(&system, "Runner Partner").await;
    test_support::eventually("the ledger answers", Duration::from_secs(10), || async {
        (post(&system, &key, "bots/list", json!({})).await.0 == 200).then_some(())
    })
    .await;
    let user = ok(&system, &key, "users/create", json!({"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x"}))
        .await
        .as_str()
        .expect("the bare userId")
        .to_string();
    let settings = json!({"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
        "investmentAsset": "Quote", "investmentAmount": 9900});
    let created =
        ok(&system, &key, "bots/create", json!({"userId": user, "type": "spot_grid", "settings": settings})).await;
    let wire = created["botId"].as_str().expect("data.botId").to_string();
    let bot: BotId = wire.parse().expect("a bot id");

    let run = run_at(&system, bot, 1).await;
    assert_eq!(run.desired.as_str(), "running");
    assert_eq!(run.user_id, user.parse::<UserId>().unwrap());
    assert!(run.partner_id.is_some());
    assert_eq!((run.script_type.as_str(), run.exchange_id.as_str()), ("spot_grid", "SIM"));
    let shown = ok(&system, &key, "bots/get", json!({"userId": user, "botId": wire})).await;
    assert_eq!(run.settings, shown["settings"], "the canonical settings, defaults filled in");
    assert_eq!(run.settings["symbol"], "SIM_BTC_USDT_");
    assert_eq!(
        (run.market["symbol"].clone(), run.market["baseCurrency"].clone(), run.market["quoteCurrency"].clone()),
        (json!("SIM_BTC_USDT_"), json!("BTC"), json!("USDT"))
    );
    assert_eq!((run.market["priceDecimals"].clone(), run.market["amountDecimals"].clone()), (json!(2), json!(5)));

    assert_eq!(ok(&system, &key, "bots/stop", json!({"botId": wire})).await, json!(true));
    let stopped = run_at(&system, bot, 2).await;
    assert_eq!((stopped.id, stopped.desired.as_str()), (run.id, "stopped"), "the same run");

    assert_eq!(ok(&system, &key, "bots/delete", json!({"botId": wire})).await, json!(true));
    let deleted = run_at(&system, bot, 3).await;
    assert_eq!((deleted.id, deleted.desired.as_str()), (run.id, "deleted"));
    assert_eq!(deleted.settings, run.settings);
}
