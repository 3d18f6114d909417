//! A fill reaches the ledger's stream exactly once, even when the replica that committed it
//! died before its outbox relay published it: the event is a row of the fill's own
//! transaction, and any replica's relay publishes it (once: the relay marks it published, and
//! the stream drops a repeated message id).

use crate::harness::{Harness, PATIENCE, grid};
use bus::messages::hosted::Desired;
use bus::messages::live::{BotTotals, FillMsg, FillRecorded, FilledPosition};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::{BotId, ServiceName, UserId};
use live_session_runner::store::runtime::{self, Effects, LiveEvents, RunState, RunWrite};
use rust_decimal::Decimal;
use std::time::Duration;

fn fill(bot: BotId) -> FillRecorded {
    FillRecorded {
        bot_id: bot,
        session_id: None,
        seq: 7,
        position: FilledPosition {
            id: "0123456789abcdef0123456789abcdef".into(),
            direction: "LONG".into(),
            symbol: "SIM_BTC_USDT_".into(),
            opened_at: 1_700_000_000,
            closed: false,
            gross_profit: Decimal::ZERO,
            fees: Decimal::new(32973, 5),
        },
        fill: FillMsg {
            order_id: "fedcba9876543210fedcba9876543210".into(),
            entry: true,
            side: "BUY".into(),
            order_type: "Limit".into(),
            role: "gridBuy".into(),
            note: "Grid buy #10".into(),
            quantity: Decimal::new(1137, 5),
            price: Decimal::from(29_000),
            fee: Decimal::new(32973, 5),
            fee_currency: "USDT".into(),
            time: 1_700_000_000,
        },
        bot_totals: BotTotals { profit: Decimal::new(-32973, 5), roi: Decimal::new(-32973, 7) },
    }
}

/// The fills of `bot` on the runner's stream.
async fn published(harness: &Harness, bot: BotId) -> Vec<serde_json::Value> {
    let name = harness.nats.subjects().stream_name(ServiceName::LiveSessionRunner);
    let Ok(mut stream) = harness.js.get_stream(&name).await else { return Vec::new() };
    let count = stream.info().await.unwrap().state.messages;
    let mut fills = Vec::new();
    for sequence in 1..=count {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            if event["data"]["botId"] == serde_json::json!(bot) {
                fills.push(event["data"].clone());
            }
        }
    }
    fills
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fill_committed_by_a_replica_that_died_before_publishing_is_published_once() {
    let mut harness = Harness::new().await;
    let (bot, user) = (BotId::new(), UserId::new());
    assert!(harness.seed(&grid(bot, user, 1, Desired::Running, "31000")).await);

    // A replica claims the run, commits a fill with its events, and dies: no relay ran.
    let subjects = harness.nats.subjects();
    let mut connection = harness.db.connect().await;
    let claimed = runtime::claim(&mut connection, "dead-replica", Duration::from_secs(1), 10).await.unwrap();
    let run = claimed.into_iter().find(|run| run.bot_id == bot).expect("the run is claimed");
    let write = RunWrite {
        held: run.claim(),
        state: RunState::Running,
        checkpoint: None,
        next_log_line: 0,
        last_quote_ms: None,
        applied_revision: 1,
        failed_revision: None,
        release: false,
        abandon: false,
        effects: Effects::default(),
        events: LiveEvents { fills: vec![fill(bot)], stopped: None },
    };
    let applied = runtime::commit(&mut connection, &subjects, &[write]).await.unwrap();
    assert!(applied.contains(&run.id), "the dead replica's claim held when it committed");
    assert!(published(&harness, bot).await.is_empty(), "nothing published yet");

    // Another replica starts: its relay publishes what the dead one committed, once.
    harness.start(|_| {}).await;
    let fills = test_support::eventually("the fill published", PATIENCE, || async {
        let fills = published(&harness, bot).await;
        (!fills.is_empty()).then_some(fills)
    })
    .await;
    assert_eq!(fills, [serde_json::to_value(fill(bot)).unwrap()]);
    // The relay marked it published (so no later round publishes it again), and it is on the
    // stream once.
    test_support::eventually("the outbox row marked published", PATIENCE, || async {
        let mut connection = harness.db.connect().await;
        let unpublished: i64 = outbox::schema::outbox::table
            .filter(outbox::schema::outbox::published_at.is_null())
            .count()
            .get_result(&mut connection)
            .await
            .unwrap();
        (unpublished == 0).then_some(())
    })
    .await;
    assert_eq!(published(&harness, bot).await.len(), 1, "published once");
}
