//! A partner's signals as the runner stores them (`cmd.live.send_signal`, `qry.live.signal`):
//! once per (partner, token, timestamp, action), one receipt per bot, read back as the token's
//! last signal. Delivery at the next quote comes with the signals issue's second part.

use crate::harness::{Harness, partner};
use bus::messages::partner::reference::JsonDecimal;
use bus::messages::signals::{
    GetSignal, InvestmentTypeMsg, SendSignal, SignalActionMsg, SignalBot, SignalBotKind, SignalMsg, SignalView,
};
use bus::{BusError, RequestError};
use diesel_async::RunQueryDsl;
use domain::{BotId, PartnerId};
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
        metadata: RawValue::from_string(r#"{"strategy":"rsi","n":[1,2]}"#.to_string()).unwrap(),
    }
}

fn bot(running: bool) -> SignalBot {
    SignalBot { bot_id: BotId::new(), kind: SignalBotKind::Hosted, running }
}

async fn send(
    harness: &Harness,
    partner: PartnerId,
    signal: SignalMsg,
    bots: &[SignalBot],
) -> Result<bool, RequestError> {
    let client = harness.nats.client().await;
    let request = SendSignal { partner_id: partner, signal, bots: bots.to_vec() };
    bus::request(&client, &harness.nats.subjects().send_signal(), &request, TIMEOUT).await
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
    assert_eq!(serde_json::to_value(&view.metadata).unwrap(), serde_json::json!({"strategy": "rsi", "n": [1, 2]}));
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
