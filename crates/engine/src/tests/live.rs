//! The live path: ms time, signals at the next quote, the event output and its log cap.

use rust_decimal::dec;

use super::*;
use crate::settings::{InvestmentAsset, SignalAction, StopCondition, Threshold};
use crate::{LiveKind, LiveSignal, SignalOutcome};

fn signal(id: u64, action: SignalAction, amount: Decimal, price: Option<Decimal>) -> LiveSignal {
    LiveSignal { id, action, amount, amount_asset: InvestmentAsset::Base, price }
}

fn filled(events: &[EngineEvent]) -> Vec<(Decimal, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::OrderFilled { fill, .. } => Some((fill.price, fill.time, e.time_ms)),
            _ => None,
        })
        .collect()
}

fn outcomes(events: &[EngineEvent]) -> Vec<(u64, SignalOutcome)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SignalOutcome { signal_id, outcome } => Some((*signal_id, outcome.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_signal_at_quote_k_fills_at_quote_k_plus_one() {
    let mut e = live(BotSettings::Webhook(webhook(vec![])));
    e.on_quote(&quote(1_000, dec!(99.9), dec!(100.1), dec!(100)));
    e.on_signal(signal(7, SignalAction::Buy, dec!(0.5), None));
    assert!(filled(&e.drain()).is_empty(), "nothing happens before the next quote");
    // Quote k+1: the market buy fills at its ask.
    e.on_quote(&quote(2_000, dec!(100.4), dec!(100.6), dec!(100.5)));
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["OrderPlaced", "OrderFilled", "PositionOpened", "SignalOutcome"]);
    assert_eq!(filled(&ev), vec![(dec!(100.6), 2, 2_000)]);
    assert_eq!(outcomes(&ev), vec![(7, SignalOutcome::OrderPlaced { order_id: 0 })]);
    // A limit signal is placed at the next quote and, like any order placed at a quote, is
    // live from the one after: quote 3's bid 101.5 does not fill it, quote 4's 101.2 does.
    e.on_signal(signal(8, SignalAction::Sell, dec!(0.5), Some(dec!(101))));
    e.on_quote(&quote(3_000, dec!(101.5), dec!(101.7), dec!(101.6)));
    let ev = e.drain();
    assert!(filled(&ev).is_empty());
    assert_eq!(outcomes(&ev), vec![(8, SignalOutcome::OrderPlaced { order_id: 1 })]);
    e.on_quote(&quote(4_000, dec!(101.2), dec!(101.4), dec!(101.3)));
    assert_eq!(filled(&e.drain()), vec![(dec!(101), 4, 4_000)]);
}

#[test]
fn a_limit_price_the_market_cannot_hold_is_refused_never_placed_at_market() {
    let mut e = live(BotSettings::Webhook(webhook(vec![])));
    e.on_quote(&quote(1_000, dec!(99.9), dec!(100.1), dec!(100)));
    // 0.001 rounds to 0.00 at the market's 2 price decimals; 1e17 is beyond what it can count.
    e.on_signal(signal(1, SignalAction::Sell, dec!(0.5), Some(dec!(0.001))));
    e.on_signal(signal(2, SignalAction::Buy, dec!(0.5), Some(dec!(100000000000000000))));
    e.on_quote(&quote(2_000, dec!(99.9), dec!(100.1), dec!(100)));
    let ev = e.drain();
    assert!(filled(&ev).is_empty(), "nothing placed, nothing filled: {:?}", kinds(&ev));
    assert_eq!(
        outcomes(&ev),
        vec![
            (
                1,
                SignalOutcome::Refused {
                    reason: "Signal #1: limit price 0.001 cannot be placed on this market".into()
                }
            ),
            (
                2,
                SignalOutcome::Refused {
                    reason: "Signal #2: limit price 100000000000000000 cannot be placed on this market".into()
                }
            ),
        ]
    );
}

#[test]
fn quotes_in_the_same_ms_are_all_processed_and_only_earlier_ones_skipped() {
    let mut e = live(BotSettings::Webhook(webhook(vec![])));
    e.on_quote(&at(1_000, dec!(100)));
    e.on_signal(signal(1, SignalAction::Buy, dec!(0.1), Some(dec!(99.5))));
    e.on_quote(&quote(5_000, dec!(100), dec!(100.2), dec!(100.1))); // the limit is placed
    e.on_quote(&quote(5_000, dec!(99.3), dec!(99.5), dec!(99.4))); // same ms: its ask fills it
    e.on_quote(&at(4_999, dec!(90))); // earlier: skipped
    let ev = e.drain();
    assert_eq!(filled(&ev), vec![(dec!(99.5), 5, 5_000)]);
    assert!(lines(&ev).contains(&"Quote at 4999 ms is before the previous event: skipped".to_string()));
    let r = e.finish();
    assert_eq!((r.candles, r.skipped_events), (3, 1));
    assert_eq!((r.start_time, r.end_time), (1, 5), "times shown in unix seconds");
}

/// Grid 100–120 in 2 grids, 1,000 USDT (Quote): 5 @100, 4.54545 @110.
fn small_grid() -> crate::settings::GridSettings {
    grid(dec!(100), dec!(120), 2, dec!(1000))
}

#[test]
fn drain_gives_every_event_in_order_with_a_gap_free_sequence() {
    let mut e = live(BotSettings::SpotGrid(small_grid()));
    let mut all = Vec::new();
    e.on_quote(&at(1_000, dec!(115)));
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["Decision", "OrderPlaced", "OrderPlaced"]);
    assert_eq!(
        lines(&ev)[..3],
        ["Bot started with equity 10000 USDT", "Grid of 2 grids from 100.00 to 120.00", "Grid bot started"]
    );
    all.extend(ev);
    // The ask reaches the 110 buy: it fills and opens a position; the level's sell follows.
    e.on_quote(&quote(2_000, dec!(108.9), dec!(109), dec!(109)));
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["OrderFilled", "PositionOpened", "OrderPlaced"]);
    all.extend(ev);
    // The bid reaches the 120 sell: the round trip closes; the level buys again.
    e.on_quote(&quote(3_000, dec!(120), dec!(120.1), dec!(120)));
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["OrderFilled", "PositionClosed", "OrderPlaced"]);
    let closed = ev.iter().find_map(|e| match &e.kind {
        EventKind::PositionClosed { position, gross, fees } => Some((position.id, *gross, *fees)),
        _ => None,
    });
    // 4.54545 × (120 − 110) = 45.4545; fees 0.4999995 + 0.545454.
    assert_eq!(closed, Some((0, dec!(45.4545), dec!(1.0454535))));
    assert!(ev.iter().all(|e| e.time_ms == 3_000));
    all.extend(ev);
    e.cancel_all("user request");
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["OrderCancelled", "OrderCancelled"]);
    assert!(ev.iter().all(|e| match &e.kind {
        EventKind::OrderCancelled { reason, order } =>
            reason == "user request" && order.status == OrderStatus::Cancelled,
        _ => true,
    }));
    all.extend(ev);
    assert!(e.drain().is_empty());
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>());
    // Net of every fee: 45.4545 − 1.0454535 (the level's new buy has not filled), over 10,000.
    assert_eq!(e.realized(), (dec!(44.4090465), dec!(0.444090465)));
}

#[test]
fn the_log_cap_counts_only_lines_not_yet_drained() {
    let cfg = RunConfig { log_cap: 5, ..RunConfig::default() };
    let w = BotSettings::Webhook(webhook(vec![]));
    let mut e = Engine::live(w, MarketSpec::sim_btc_usdt(), cfg, LiveConfig::default()).unwrap();
    e.on_quote(&at(1_000, dec!(100)));
    assert_eq!(lines(&e.drain()).len(), 2); // started, "Webhook bot with 0 signals"
    for round in 0..3 {
        for i in 0..4 {
            e.note(LogLevel::Custom, format!("round {round} line {i}"));
        }
        assert_eq!(lines(&e.drain()).len(), 4, "12 lines in all, never more than 5 waiting");
    }
    for i in 0..8 {
        e.note(LogLevel::Info, format!("burst {i}"));
    }
    let l = lines(&e.drain());
    assert_eq!(l.len(), 6);
    assert_eq!(l[4], "burst 4");
    assert_eq!(l[5], "3 more lines omitted (log capped at 5 lines)");
}

#[test]
fn decisions_deactivation_and_signal_outcomes_are_events() {
    // A grid that stops above 130: the stop is a decision, then the bot deactivates.
    let mut g = small_grid();
    g.stop_condition = StopCondition::Price;
    g.stop_type = Threshold::Above;
    g.stop_value = dec!(130);
    let mut e = live(BotSettings::SpotGrid(g));
    e.on_quote(&at(1_000, dec!(115)));
    e.drain();
    e.on_quote(&at(2_000, dec!(131)));
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["Decision", "OrderCancelled", "OrderCancelled", "BotDeactivated"]);
    assert!(matches!(&ev.last().unwrap().kind, EventKind::BotDeactivated { reason } if reason == "stop condition met"));
    // A grid does not act on signals.
    e.on_signal(signal(1, SignalAction::Buy, dec!(1), None));
    e.on_quote(&at(3_000, dec!(131)));
    let o = outcomes(&e.drain());
    assert_eq!(o, vec![(1, SignalOutcome::Refused { reason: "the bot does not act on signals".into() })]);

    let mut w = live(BotSettings::Webhook(webhook(vec![])));
    w.on_quote(&at(1_000, dec!(100)));
    w.on_signal(signal(2, SignalAction::Buy, dec!(1000), None));
    w.on_signal(signal(3, SignalAction::ExitLong, dec!(1), None));
    w.on_quote(&at(2_000, dec!(100)));
    let ev = w.drain();
    let o = outcomes(&ev);
    let SignalOutcome::Refused { reason } = &o[0].1 else { panic!("{o:?}") };
    assert!(
        reason.starts_with("Blocking PlaceBuyOrder(). Insufficient funds. 100100.000000 USDT required."),
        "{reason}"
    );
    assert_eq!(o[1], (3, SignalOutcome::NothingToClose));
    let d = ev.iter().find_map(|e| match &e.kind {
        EventKind::Decision(d) => Some(d.clone()),
        _ => None,
    });
    assert_eq!(d.map(|d| (d.kind, d.reason)), Some(("order_refused".into(), "insufficient_funds".into())));
    w.stop(false);
    w.on_signal(signal(4, SignalAction::Buy, dec!(0.1), None));
    w.on_quote(&at(3_000, dec!(100)));
    assert_eq!(outcomes(&w.drain()), vec![(4, SignalOutcome::Refused { reason: "bot is stopped".into() })]);
}

#[test]
fn a_quote_amount_is_converted_at_the_price_it_fills_at() {
    let mut e = live(BotSettings::Webhook(webhook(vec![])));
    e.on_quote(&at(1_000, dec!(100)));
    let s = LiveSignal { amount_asset: InvestmentAsset::Quote, ..signal(1, SignalAction::Buy, dec!(50), None) };
    e.on_signal(s);
    e.on_quote(&quote(2_000, dec!(124.9), dec!(125), dec!(125)));
    // 50 USDT at the ask 125 = 0.4 BTC.
    assert_eq!(e.finish().orders[0].amount, dec!(0.4));
}

#[test]
fn live_runs_say_bot_or_session_started() {
    let w = || BotSettings::Webhook(webhook(vec![]));
    let mut e = live(w());
    e.on_quote(&at(1_000, dec!(100)));
    assert_eq!(lines(&e.drain())[0], "Bot started with equity 10000 USDT");
    let session = LiveConfig { kind: LiveKind::Session };
    let mut e = Engine::live(w(), MarketSpec::sim_btc_usdt(), RunConfig::default(), session).unwrap();
    e.on_quote(&at(1_000, dec!(100)));
    assert_eq!(lines(&e.drain())[0], "Session started with equity 10000 USDT");
    // A backtest records no events and keeps its wording.
    let mut b = Engine::new(w(), MarketSpec::sim_btc_usdt(), RunConfig::default()).unwrap();
    b.on_quote(&at(1_000, dec!(100)));
    assert!(b.drain().is_empty());
    assert!(b.finish().logs[0].message.starts_with("Backtest started with equity"));
}

#[test]
fn ticks_move_the_clock_but_never_back() {
    let mut e = live(BotSettings::Webhook(webhook(vec![])));
    e.on_quote(&at(61_000, dec!(100)));
    e.on_tick(125_500);
    e.note(LogLevel::Custom, "after the tick");
    e.on_tick(1_000); // earlier than the last event: nothing
    e.note(LogLevel::Custom, "still");
    let t: Vec<(i64, i64)> = e
        .drain()
        .iter()
        .filter(|ev| matches!(&ev.kind, EventKind::Log { level: LogLevel::Custom, .. }))
        .map(|ev| match &ev.kind {
            EventKind::Log { time, .. } => (*time, ev.time_ms),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(t, vec![(125, 125_500), (125, 125_500)]);
}
