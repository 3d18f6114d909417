//! A partner's signals in the runner (`cmd.live.send_signal`, `qry.live.signal`): stored once
//! per (partner, token, timestamp, action) with one receipt per bot, read back as the token's
//! last signal, and delivered by each bot's owner at its next quote, exactly once.

use crate::harness::{Harness, PATIENCE, partner};
use bus::messages::hosted::{Desired, HostedBotChanged};
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::partner::reference::JsonDecimal;
use bus::messages::signals::{
    GetSignal, InvestmentTypeMsg, SendSignal, SignalActionMsg, SignalBot, SignalBotKind, SignalMsg, SignalView,
};
use bus::{BusError, RequestError};
use diesel_async::RunQueryDsl;
use domain::{BotId, PartnerId, UserId};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

fn signal(token: &str, timestamp: i64, action: SignalActionMsg) -> SignalMsg {
    SignalMsg {
        signal_token: token.to_string(),
        action,
        amount: JsonDecimal(Decimal::new(15, 3)),
        timestamp,
        price: None,
        investment_type: InvestmentTypeMsg::Base,
        max_lag: Some(60),
        metadata: RawValue::from_string(r#"{"strategy": "rsi",  "n": [1, 2.50]}"#.to_string()).unwrap(),
    }
}

fn bot(running: bool) -> SignalBot {
    hosted(BotId::new(), running, 1)
}

/// A hosted bot as the ledger answers it: running or not, at `revision`.
fn hosted(bot_id: BotId, running: bool, revision: i64) -> SignalBot {
    SignalBot { bot_id, kind: SignalBotKind::Hosted, running, revision }
}

async fn send(
    harness: &Harness,
    partner: PartnerId,
    signal: SignalMsg,
    bots: &[SignalBot],
) -> Result<bool, RequestError> {
    let client = harness.nats.client().await;
    let request = Command::new(SendSignal { partner_id: partner, signal, bots: bots.to_vec() });
    match bus::request(&client, &harness.nats.subjects().send_signal(), &request, TIMEOUT).await? {
        Replayable::Fresh(stored) => Ok(stored),
        Replayable::Replayed(raw) => Ok(serde_json::from_str(raw.get()).unwrap()),
    }
}

async fn get(harness: &Harness, partner: PartnerId, token: &str) -> Result<SignalView, RequestError> {
    let client = harness.nats.client().await;
    let request = GetSignal { partner_id: partner, signal_token: token.to_string() };
    bus::request(&client, &harness.nats.subjects().signal(), &request, TIMEOUT).await
}

async fn count(harness: &Harness, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut connection = harness.db.connect().await;
    let row: Count =
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(&mut connection).await.unwrap();
    row.n
}

#[tokio::test]
async fn a_signal_is_stored_once_with_a_pending_receipt_per_running_bot_and_a_skipped_one_per_stopped_bot() {
    let harness = Harness::started().await;
    let (running, stopped) = (bot(true), bot(false));
    let bots = [running.clone(), stopped.clone(), running.clone()];

    assert!(send(&harness, partner(), signal("tok-1", 1_800_000_000, SignalActionMsg::Buy), &bots).await.unwrap());

    let view = get(&harness, partner(), "tok-1").await.unwrap();
    assert_eq!(
        (view.signal_token.as_str(), view.action, view.timestamp),
        ("tok-1", SignalActionMsg::Buy, 1_800_000_000)
    );
    assert_eq!((view.amount, view.price), (JsonDecimal(Decimal::new(15, 3)), None));
    assert_eq!(view.metadata.get(), r#"{"strategy": "rsi",  "n": [1, 2.50]}"#, "kept as sent, byte for byte");
    assert!(view.received_at > 1_700_000_000, "stored now: {}", view.received_at);
    assert_eq!(view.receipts.len(), 2, "one receipt per bot, however often the list names it");
    let receipt = |bot: &SignalBot| {
        view.receipts.iter().find(|r| r.bot_id == bot.bot_id.as_uuid().simple().to_string()).unwrap().clone()
    };
    let pending = receipt(&running);
    assert_eq!((pending.status.as_str(), pending.reason, pending.delivered_at), ("pending", None, None));
    assert_eq!((pending.order_id, pending.order_status, pending.bot_kind), (None, None, SignalBotKind::Hosted));
    let skipped = receipt(&stopped);
    assert_eq!((skipped.status.as_str(), skipped.reason.as_deref()), ("skipped", Some("bot is stopped")));
    assert!(skipped.delivered_at.is_some());
}

#[tokio::test]
async fn a_repeat_answers_true_and_changes_nothing_while_another_action_or_time_is_a_new_signal() {
    let harness = Harness::started().await;
    let bots = [bot(true)];
    let first = signal("tok-2", 1_800_000_000, SignalActionMsg::Buy);
    assert!(send(&harness, partner(), first.clone(), &bots).await.unwrap());
    let (signals, receipts) = (count(&harness, "signals").await, count(&harness, "signal_receipts").await);

    // The same (token, timestamp, action), even with another amount and other bots.
    let repeat = SignalMsg { amount: JsonDecimal(Decimal::ONE), ..first.clone() };
    assert!(send(&harness, partner(), repeat, &[bot(true), bot(true)]).await.unwrap());
    assert_eq!((count(&harness, "signals").await, count(&harness, "signal_receipts").await), (signals, receipts));
    assert_eq!(get(&harness, partner(), "tok-2").await.unwrap().amount, JsonDecimal(Decimal::new(15, 3)));

    let sell = SignalMsg { action: SignalActionMsg::Sell, ..first.clone() };
    assert!(send(&harness, partner(), sell, &bots).await.unwrap());
    let later = SignalMsg { timestamp: first.timestamp + 1, ..first };
    assert!(send(&harness, partner(), later, &bots).await.unwrap());
    assert_eq!(count(&harness, "signals").await, signals + 2);
    let last = get(&harness, partner(), "tok-2").await.unwrap();
    assert_eq!((last.action, last.timestamp), (SignalActionMsg::Buy, 1_800_000_001), "the last one stored");
}

#[tokio::test]
async fn a_token_is_the_partners_own_and_one_never_signalled_is_not_found() {
    let harness = Harness::started().await;
    let other: PartnerId = "00000000-0000-0000-0000-000000000008".parse().unwrap();
    assert!(
        send(&harness, partner(), signal("shared", 1_800_000_000, SignalActionMsg::Buy), &[bot(true)]).await.unwrap()
    );

    for (who, token) in [(other, "shared"), (partner(), "never-used")] {
        match get(&harness, who, token).await {
            Err(RequestError::Rejected(BusError::NotFound { message })) => {
                assert_eq!(message, format!("No signal sent with token '{token}'"));
            }
            other => panic!("expected not found, got {other:?}"),
        }
    }
    // The other partner's identical signal is its own, not a repeat of this one.
    assert!(send(&harness, other, signal("shared", 1_800_000_000, SignalActionMsg::Buy), &[bot(true)]).await.unwrap());
    assert_eq!(count(&harness, "signals").await, 2);
}

#[tokio::test]
async fn a_signal_for_no_bot_is_refused_and_stores_nothing() {
    let harness = Harness::started().await;
    match send(&harness, partner(), signal("tok-3", 1_800_000_000, SignalActionMsg::Buy), &[]).await {
        Err(RequestError::Rejected(BusError::Invalid { message })) => {
            assert_eq!(message, "a signal needs at least one bot");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert_eq!(count(&harness, "signals").await, 0);
}

/// A running hosted webhook bot on `SIM_BTC_USDT_` listening to `token`, at `revision`.
fn webhook(bot: BotId, revision: i64, desired: Desired, token: &str) -> HostedBotChanged {
    let settings = format!(r#"{{"symbol":"SIM_BTC_USDT_","signalToken":"{token}"}}"#);
    HostedBotChanged {
        script_type: "webhook".into(),
        settings: RawValue::from_string(settings).unwrap(),
        ..crate::harness::grid(bot, UserId::new(), revision, desired, "31000")
    }
}

/// A webhook bot whose run the runner holds and runs.
async fn running_webhook(harness: &Harness, token: &str) -> BotId {
    let bot = BotId::new();
    assert!(harness.seed(&webhook(bot, 1, Desired::Running, token)).await);
    run_state_is(harness, bot, "running").await;
    bot
}

async fn run_state_is(harness: &Harness, bot: BotId, state: &str) {
    test_support::eventually(&format!("bot {bot} {state}"), PATIENCE, || async {
        harness.run(bot).await.filter(|run| run.state == state).map(drop)
    })
    .await;
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Quotes at 29,000 until the bot's receipt of the token's last signal is no longer pending.
async fn settled(harness: &Harness, token: &str) -> SignalView {
    test_support::eventually(&format!("the receipts of '{token}' settled"), PATIENCE, || async {
        harness.quote(29_000).await;
        let view = get(harness, partner(), token).await.unwrap();
        view.receipts.iter().all(|receipt| receipt.status != "pending").then_some(view)
    })
    .await
}

/// The bot's orders, as the runner stored them.
async fn orders(harness: &Harness, bot: BotId) -> i64 {
    let run = harness.run(bot).await.unwrap();
    count(harness, &format!("run_orders WHERE run_id = '{}'", run.id)).await
}

#[tokio::test]
async fn two_running_webhook_bots_each_act_on_a_signal_once_at_the_next_quote() {
    let harness = Harness::started().await;
    let (first, second) = (running_webhook(&harness, "tok-d").await, running_webhook(&harness, "tok-d").await);
    let bots = [first, second].map(|bot_id| hosted(bot_id, true, 1));
    let buy = SignalMsg { max_lag: None, ..signal("tok-d", now_s(), SignalActionMsg::Buy) };
    assert!(send(&harness, partner(), buy.clone(), &bots).await.unwrap());

    let view = settled(&harness, "tok-d").await;
    for receipt in &view.receipts {
        assert_eq!((receipt.status.as_str(), receipt.reason.as_deref()), ("delivered", None), "{receipt:?}");
        assert_eq!(receipt.order_id.as_ref().map(String::len), Some(32));
        assert_eq!(receipt.order_status.as_deref(), Some("FILLED"), "a market buy fills at the touch");
        assert!(receipt.delivered_at.is_some());
    }
    // A repeat and more quotes change nothing: each bot holds its one order.
    assert!(send(&harness, partner(), buy, &bots).await.unwrap());
    for _ in 0..5 {
        harness.quote(29_010).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((orders(&harness, first).await, orders(&harness, second).await), (1, 1));
}

#[tokio::test]
async fn a_signal_pending_when_the_runner_stopped_is_delivered_once_by_the_next_one() {
    let mut harness = Harness::started().await;
    let bot = running_webhook(&harness, "tok-r").await;
    let bots = [hosted(bot, true, 1)];
    assert!(send(&harness, partner(), signal("tok-r", now_s(), SignalActionMsg::Buy), &bots).await.unwrap());
    harness.stop().await;
    assert_eq!(count(&harness, "signal_receipts WHERE status = 'pending'").await, 1, "stopped before any quote");

    harness.start(|_| {}).await;
    let view = settled(&harness, "tok-r").await;
    assert_eq!(view.receipts[0].status, "delivered");
    for _ in 0..5 {
        harness.quote(29_020).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(orders(&harness, bot).await, 1);
}

#[tokio::test]
async fn a_signal_older_than_its_max_lag_at_delivery_is_skipped_and_places_nothing() {
    let harness = Harness::started().await;
    let bot = running_webhook(&harness, "tok-l").await;
    let bots = [hosted(bot, true, 1)];
    let late = SignalMsg { max_lag: Some(60), ..signal("tok-l", now_s() - 61, SignalActionMsg::Buy) };
    assert!(send(&harness, partner(), late, &bots).await.unwrap());

    let receipt = settled(&harness, "tok-l").await.receipts[0].clone();
    assert_eq!((receipt.status.as_str(), receipt.reason.as_deref()), ("skipped", Some("maxLag exceeded at delivery")));
    assert_eq!((receipt.order_id, receipt.order_status), (None, None));
    assert_eq!(orders(&harness, bot).await, 0);
}

#[tokio::test]
async fn a_bot_stopped_before_its_signal_was_delivered_skips_it() {
    let harness = Harness::started().await;
    let bot = running_webhook(&harness, "tok-s").await;
    // Stopped before any quote came: its run is given back, with nobody left to deliver.
    assert!(harness.seed(&webhook(bot, 2, Desired::Stopped, "tok-s")).await);
    run_state_is(&harness, bot, "stopped").await;
    let bots = [hosted(bot, true, 1)];
    assert!(send(&harness, partner(), signal("tok-s", now_s(), SignalActionMsg::Buy), &bots).await.unwrap());

    let receipt = settled(&harness, "tok-s").await.receipts[0].clone();
    assert_eq!((receipt.status.as_str(), receipt.reason.as_deref()), ("skipped", Some("bot is stopped")));
    assert_eq!(orders(&harness, bot).await, 0);
}

#[tokio::test]
async fn a_signal_sent_while_a_start_is_on_its_way_waits_for_it_and_is_delivered() {
    let mut harness = Harness::new().await;
    let bot = BotId::new();
    assert!(harness.seed(&webhook(bot, 2, Desired::Stopped, "tok-w")).await);
    // Short rounds: the supervisor sweeps stopped bots' receipts every third of a second.
    harness.start(|settings| settings.live.lease_secs = 1).await;
    run_state_is(&harness, bot, "stopped").await;
    // The ledger answered from revision 3, running: the runner has not heard of it yet.
    assert!(
        send(&harness, partner(), signal("tok-w", now_s(), SignalActionMsg::Buy), &[hosted(bot, true, 3)])
            .await
            .unwrap()
    );
    for _ in 0..5 {
        harness.quote(29_000).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get(&harness, partner(), "tok-w").await.unwrap().receipts[0].status, "pending", "not given up");

    assert!(harness.seed(&webhook(bot, 3, Desired::Running, "tok-w")).await);
    run_state_is(&harness, bot, "running").await;
    let receipt = settled(&harness, "tok-w").await.receipts[0].clone();
    assert_eq!((receipt.status.as_str(), receipt.order_status.as_deref()), ("delivered", Some("FILLED")));
    assert_eq!(orders(&harness, bot).await, 1);
}
