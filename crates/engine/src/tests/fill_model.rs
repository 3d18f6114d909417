//! The fill model through webhook signals (limit and market orders at chosen prices).

use rust_decimal::dec;

use super::*;
use crate::settings::{Signal, SignalAction};
use crate::{Quote, Side};

fn sig(i: i64, action: SignalAction, amount: rust_decimal::Decimal, price: Option<rust_decimal::Decimal>) -> Signal {
    Signal { timestamp: close_time(i), action, amount, price }
}

fn flat(n: usize, p: rust_decimal::Decimal) -> Vec<[rust_decimal::Decimal; 4]> {
    vec![[p, p, p, p]; n]
}

#[test]
fn candles_are_walked_open_high_low_close() {
    // A buy at 99 and a sell at 101 rest (the account holds 1 BTC). Candle c1 is red
    // (O100 C99.5) with H101.5 and L98.5: the walk O → H → L → C meets the sell at H first,
    // then the buy at L, whatever the candle's color.
    let cfg = RunConfig { starting_base: dec!(1), ..RunConfig::default() };
    let w = webhook(vec![
        sig(0, SignalAction::Buy, dec!(0.1), Some(dec!(99))),
        sig(0, SignalAction::Sell, dec!(0.1), Some(dec!(101))),
    ]);
    let mut rows = flat(1, dec!(100));
    rows.push([dec!(100), dec!(101.5), dec!(98.5), dec!(99.5)]);
    let r = run(BotSettings::Webhook(w), cfg, &series(&rows));
    let lines: Vec<&str> =
        r.logs.iter().filter(|l| l.message.contains("order filled")).map(|l| l.message.as_str()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("SELL order filled at 101"), "{lines:?}");
    assert!(lines[1].starts_with("BUY order filled at 99"), "{lines:?}");
}

#[test]
fn limits_fill_at_their_price_even_through_a_gap() {
    // Buy limit 99 placed at c0's close; c1 opens at 95: it fills at 99, not 95.
    let w = webhook(vec![sig(0, SignalAction::Buy, dec!(0.1), Some(dec!(99)))]);
    let mut rows = flat(1, dec!(100));
    rows.push([dec!(95), dec!(96), dec!(94), dec!(95)]);
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &series(&rows));
    assert_eq!((r.orders[0].status, r.orders[0].price), (OrderStatus::Filled, dec!(99)));
    assert_eq!(r.orders[0].closed_at, Some(close_time(1)));
}

#[test]
fn a_touch_is_enough_and_orders_placed_at_a_close_wait_a_candle() {
    // Buy limit 99 placed at c0's close, whose low was 98 (c0 cannot fill it); c1's low is
    // exactly 99: it fills.
    let w = webhook(vec![sig(0, SignalAction::Buy, dec!(0.1), Some(dec!(99)))]);
    let rows = [[dec!(100), dec!(100), dec!(98), dec!(100)], [dec!(100), dec!(100), dec!(99), dec!(100)]];
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &series(&rows));
    assert_eq!((r.orders[0].created_at, r.orders[0].closed_at), (close_time(0), Some(close_time(1))));
}

#[test]
fn every_order_crossed_at_one_point_fills_in_price_priority() {
    // Buys at 97, 99, 98 (placed in that order); c1's low 96 crosses all three: 99, 98, 97.
    let w = webhook(vec![
        sig(0, SignalAction::Buy, dec!(0.1), Some(dec!(97))),
        sig(0, SignalAction::Buy, dec!(0.1), Some(dec!(99))),
        sig(0, SignalAction::Buy, dec!(0.1), Some(dec!(98))),
    ]);
    let mut rows = flat(1, dec!(100));
    rows.push([dec!(100), dec!(100), dec!(96), dec!(96)]);
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &series(&rows));
    let order: Vec<&str> = r
        .logs
        .iter()
        .filter(|l| l.message.starts_with("BUY order filled"))
        .map(|l| l.message.split(" for ").next().unwrap_or_default())
        .collect();
    assert_eq!(order, vec!["BUY order filled at 99.00", "BUY order filled at 98.00", "BUY order filled at 97.00"]);
}

#[test]
fn market_orders_fill_at_the_close_of_the_signal() {
    // A signal timed inside c1 is acted on at c1's close (101), not before.
    let w = webhook(vec![Signal { timestamp: T0 + 90, action: SignalAction::Buy, amount: dec!(0.5), price: None }]);
    let rows = [
        [dec!(100), dec!(100), dec!(100), dec!(100)],
        [dec!(100), dec!(102), dec!(99), dec!(101)],
        [dec!(101), dec!(101), dec!(101), dec!(101)],
    ];
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &series(&rows));
    assert_eq!((r.orders[0].price, r.orders[0].created_at), (dec!(101), close_time(1)));
}

#[test]
fn amounts_floor_and_prices_round() {
    // 0.123456789 BTC → 0.12345; limit 100.005 → 100.01 (half away from zero).
    let w = webhook(vec![sig(0, SignalAction::Buy, dec!(0.123456789), Some(dec!(100.005)))]);
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &series(&flat(1, dec!(101))));
    assert_eq!((r.orders[0].amount, r.orders[0].price), (dec!(0.12345), dec!(100.01)));
}

#[test]
fn below_minimum_and_insufficient_funds_are_refused_with_a_log_line() {
    let w = webhook(vec![
        sig(0, SignalAction::Buy, dec!(0.000009), None),
        sig(0, SignalAction::Buy, dec!(1000), None),
        sig(0, SignalAction::Sell, dec!(1), None),
    ]);
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &series(&flat(1, dec!(100))));
    assert!(r.orders.is_empty());
    assert!(has_log(&r, LogLevel::Warning, "is below the minimum trade amount 0.00001 BTC"));
    assert!(has_log(
        &r,
        LogLevel::Error,
        "Blocking PlaceBuyOrder(). Insufficient funds. 100100.000000 USDT required. 10000.000000 USDT available."
    ));
    assert!(has_log(
        &r,
        LogLevel::Error,
        "Blocking PlaceSellOrder(). Insufficient funds. 1.000000 BTC required. 0.000000 BTC available."
    ));
}

#[test]
fn quotes_fill_limits_against_the_touch() {
    let m = MarketSpec::sim_btc_usdt();
    let w = webhook(vec![
        Signal { timestamp: 10, action: SignalAction::Buy, amount: dec!(0.1), price: Some(dec!(100)) },
        Signal { timestamp: 10, action: SignalAction::Sell, amount: dec!(0.1), price: Some(dec!(101)) },
        Signal { timestamp: 50, action: SignalAction::Buy, amount: dec!(0.2), price: None },
    ]);
    let cfg = RunConfig { starting_base: dec!(1), ..RunConfig::default() };
    let mut e = Engine::new(BotSettings::Webhook(w), m.clone(), cfg).unwrap();
    // Quote times are ms; the signals' timestamps are unix seconds.
    let q = |t: i64, bid, ask| Quote::from_decimals(&m, t * 1000, bid, ask, (bid + ask) / dec!(2)).unwrap();
    e.on_quote(&q(10, dec!(100.4), dec!(100.6))); // both limits placed, live from the next quote
    e.on_quote(&q(20, dec!(99.9), dec!(100.1))); // ask 100.1 > 100: no buy; bid < 101: no sell
    assert_eq!(e.snapshot().fills, 0);
    e.on_quote(&q(30, dec!(99.8), dec!(100))); // ask ≤ 100: the buy fills at 100
    e.on_quote(&q(40, dec!(101), dec!(101.2))); // bid ≥ 101: the sell fills at 101
    e.on_quote(&q(50, dec!(101), dec!(101.2))); // market buy at the ask
    let r = e.finish();
    let f: Vec<_> = r.orders.iter().map(|o| (o.side, o.price, o.closed_at)).collect();
    assert_eq!(
        f,
        vec![(Side::Buy, dec!(100), Some(30)), (Side::Sell, dec!(101), Some(40)), (Side::Buy, dec!(101.2), Some(50))]
    );
}

#[test]
fn out_of_order_candles_are_skipped() {
    let mut c = series(&flat(3, dec!(100)));
    c.swap(1, 2);
    let r = run(BotSettings::Webhook(webhook(vec![])), RunConfig::default(), &c);
    assert_eq!((r.candles, r.skipped_events), (2, 1));
    assert!(has_log(&r, LogLevel::Warning, "is not after the previous one"));
}

#[test]
fn log_is_capped_with_a_last_line() {
    let signals = (0..20).map(|_| sig(0, SignalAction::Buy, dec!(0.000001), None)).collect();
    let cfg = RunConfig { log_cap: 5, ..RunConfig::default() };
    let r = run(BotSettings::Webhook(webhook(signals)), cfg, &series(&flat(1, dec!(100))));
    assert_eq!(r.logs.len(), 6);
    // 2 start lines + 20 refusals + 1 end line = 23; 5 kept.
    assert_eq!(r.logs[5].message, "18 more lines omitted (log capped at 5 lines)");
}
