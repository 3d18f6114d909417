//! `hosted bot changed` through JetStream: the first revision creates the bot's run, a newer
//! one updates it, an older or equal one and the same event again change nothing, and
//! `deleted` is kept. The upsert underneath answers whether it changed the run.

use crate::harness::{Harness, grid, partner};
use bus::messages::hosted::Desired;
use domain::{BotId, EventId, UserId};
use live_session_runner::store::runs::HostedRun;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_revision_wins_and_nothing_else_changes_the_run() {
    let harness = Harness::started().await;
    let (bot, user) = (BotId::new(), UserId::new());

    // Revision 1 creates the run: the whole definition (the engine room then claims and runs it).
    harness.publish(EventId::new(), &grid(bot, user, 1, Desired::Running, "31000"), 0).await;
    let created = harness.wait_revision(bot, 1).await;
    assert_eq!(created.desired.as_str(), "running");
    assert_eq!((created.partner_id, created.user_id), (Some(partner()), user));
    assert_eq!((created.script_type.as_str(), created.exchange_id.as_str()), ("spot_grid", "SIM"));
    assert_eq!(
        created.settings,
        json!({"symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
               "investmentAmount": 9900.125})
    );
    assert_eq!(
        created.market,
        json!({"symbol": "SIM_BTC_USDT_", "baseCurrency": "BTC", "quoteCurrency": "USDT", "priceDecimals": 2,
               "amountDecimals": 5, "minimumTradeAmount": "0.00001"})
    );

    // Revision 3 updates it, in place.
    let third = EventId::new();
    harness.publish(third, &grid(bot, user, 3, Desired::Stopped, "33000"), 0).await;
    let updated = harness.wait_revision(bot, 3).await;
    assert_eq!((updated.id, updated.created_at), (created.id, created.created_at), "the same run");
    assert_eq!((updated.desired.as_str(), updated.settings["upperLimit"].clone()), ("stopped", json!(33000)));

    // Revision 2 afterwards is applied (its inbox row is there) and changes nothing.
    let second = EventId::new();
    harness.publish(second, &grid(bot, user, 2, Desired::Running, "32000"), 0).await;
    harness.wait_processed(second).await;
    assert_eq!(
        definition(harness.run(bot).await.unwrap()),
        definition(updated.clone()),
        "an older revision changes nothing"
    );

    // The same event again (re-published with a fresh message id, so the stream keeps it),
    // then another bot's: once the other bot's run exists, the repeat was handled too.
    harness.publish(third, &grid(bot, user, 3, Desired::Running, "39000"), 1).await;
    let other = BotId::new();
    harness.publish(EventId::new(), &grid(other, user, 1, Desired::Running, "31000"), 0).await;
    harness.wait_revision(other, 1).await;
    assert_eq!(
        definition(harness.run(bot).await.unwrap()),
        definition(updated),
        "the same event again changes nothing"
    );

    // Deleted is kept: a later older event does not bring the bot back.
    harness.publish(EventId::new(), &grid(bot, user, 4, Desired::Deleted, "33000"), 0).await;
    let deleted = harness.wait_revision(bot, 4).await;
    assert_eq!(deleted.desired, "deleted");
    let late = EventId::new();
    harness.publish(late, &grid(bot, user, 3, Desired::Running, "33000"), 0).await;
    harness.wait_processed(late).await;
    assert_eq!(definition(harness.run(bot).await.unwrap()), definition(deleted), "deleted stays deleted");
}

/// What the ledger's events write of a run: everything but the state, which the engine room
/// moves on its own meanwhile.
fn definition(mut run: HostedRun) -> HostedRun {
    run.state.clear();
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upsert_says_whether_it_changed_the_run() {
    let harness = Harness::new().await;
    let (bot, user) = (BotId::new(), UserId::new());
    assert!(harness.seed(&grid(bot, user, 2, Desired::Running, "31000")).await, "created");
    assert!(!harness.seed(&grid(bot, user, 2, Desired::Stopped, "32000")).await, "equal: unchanged");
    assert!(!harness.seed(&grid(bot, user, 1, Desired::Stopped, "32000")).await, "older: unchanged");
    let run = harness.run(bot).await.unwrap();
    assert_eq!((run.revision, run.desired.as_str(), run.settings["upperLimit"].clone()), (2, "running", json!(31000)));
    assert!(harness.seed(&grid(bot, user, 5, Desired::Deleted, "32000")).await, "newer: changed");
    let run = harness.run(bot).await.unwrap();
    assert_eq!((run.revision, run.desired.as_str(), run.settings["upperLimit"].clone()), (5, "deleted", json!(32000)));
    assert!(run.updated_at >= run.created_at);
}
