//! The engine room against real Postgres: a change written by anyone (another replica's
//! consumer, the reconciliation) reaches the replica holding the run at once, through
//! `NOTIFY runs_changed`, not at its next lease renewal.

use crate::harness::{Harness, PATIENCE, grid};
use bus::messages::hosted::Desired;
use domain::{BotId, UserId};

/// Waits until `bot`'s run is in `state`.
async fn state_is(harness: &Harness, bot: BotId, state: &str) {
    test_support::eventually(&format!("bot {bot} {state}"), PATIENCE, || async {
        harness.run(bot).await.filter(|run| run.state == state).map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_written_by_anyone_wakes_the_runner_at_once() {
    let mut harness = Harness::new().await;
    // Leases of 5 minutes: renewals (and so the polling claims) come every 100 s, far beyond
    // the test's patience; only the notification can make the runner act in time.
    harness.start(|settings| settings.live.lease_secs = 300).await;
    let (bot, user) = (BotId::new(), UserId::new());

    // Written straight into the table, as another replica's consumer would: no in-process
    // wake-up reaches this runner.
    assert!(harness.seed(&grid(bot, user, 1, Desired::Running, "31000")).await);
    state_is(&harness, bot, "running").await;
    assert!(harness.seed(&grid(bot, user, 2, Desired::Stopped, "31000")).await);
    state_is(&harness, bot, "stopped").await;
    assert!(harness.seed(&grid(bot, user, 3, Desired::Running, "31000")).await);
    state_is(&harness, bot, "running").await;
    assert!(harness.seed(&grid(bot, user, 4, Desired::Deleted, "31000")).await);
    state_is(&harness, bot, "deleted").await;
}
