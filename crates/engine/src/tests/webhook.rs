//! Webhook bots over candles.

use rust_decimal::dec;

use super::*;
use crate::settings::{Signal, SignalAction};
use crate::{Direction, PositionStatus};

fn sig(i: i64, action: SignalAction, amount: rust_decimal::Decimal) -> Signal {
    Signal { timestamp: close_time(i), action, amount, price: None }
}

#[test]
fn spot_signals_build_and_close_a_position() {
    // Buy 1 @100, buy 1 @110 (avg 105), sell 2 @120: gross 30, fees 0.1 + 0.11 + 0.24.
    let w = webhook(vec![
        sig(0, SignalAction::Buy, dec!(1)),
        sig(1, SignalAction::Buy, dec!(1)),
        sig(2, SignalAction::Sell, dec!(2)),
    ]);
    let c = series(&[
        [dec!(100), dec!(100), dec!(100), dec!(100)],
        [dec!(110), dec!(110), dec!(110), dec!(110)],
        [dec!(120), dec!(120), dec!(120), dec!(120)],
    ]);
    let r = run(BotSettings::Webhook(w), RunConfig::default(), &c);
    assert_eq!(r.positions.len(), 1);
    let p = &r.positions[0];
    assert_eq!((p.average_entry_price, p.gross_profit, p.fee_costs), (dec!(105), dec!(30), dec!(0.45)));
    assert_eq!(p.status, PositionStatus::Closed);
    assert_eq!(p.entry_orders.len(), 2);
    assert_eq!(r.summary.realized_profit, dec!(29.55));
    assert_eq!(r.final_quote, dec!(10029.55));
}

#[test]
fn a_sell_beyond_the_position_opens_a_short_with_held_base() {
    let w = webhook(vec![sig(0, SignalAction::Buy, dec!(1)), sig(1, SignalAction::Sell, dec!(1.5))]);
    let cfg = RunConfig { starting_base: dec!(1), ..RunConfig::default() };
    let c = series(&[[dec!(100), dec!(100), dec!(100), dec!(100)], [dec!(100), dec!(100), dec!(100), dec!(100)]]);
    let r = run(BotSettings::Webhook(w), cfg, &c);
    assert_eq!(r.positions.len(), 2);
    assert_eq!((r.positions[1].direction, r.positions[1].open_amount), (Direction::Short, dec!(0.5)));
    assert_eq!(r.final_base, dec!(0.5));
}

#[test]
fn signals_after_the_last_candle_are_reported() {
    let w = webhook(vec![sig(5, SignalAction::Buy, dec!(1))]);
    let r =
        run(BotSettings::Webhook(w), RunConfig::default(), &series(&[[dec!(100), dec!(100), dec!(100), dec!(100)]]));
    assert!(r.orders.is_empty());
    assert!(has_log(&r, LogLevel::Warning, "1 signals after the last candle were not acted on"));
}
