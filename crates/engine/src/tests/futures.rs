//! Futures: margin, liquidation, futures grids with maxWin / maxLoss, futures DCA.

use rust_decimal::dec;

use super::*;
use crate::settings::{Signal, SignalAction};
use crate::{Direction, Side};

fn sig(i: i64, action: SignalAction, amount: rust_decimal::Decimal) -> Signal {
    Signal { timestamp: close_time(i), action, amount, price: None }
}

fn futures_webhook(leverage: u32, signals: Vec<Signal>) -> BotSettings {
    BotSettings::Webhook(WebhookSettings { leverage: Some(leverage), ..webhook(signals) })
}

#[test]
fn a_long_is_liquidated_where_the_path_meets_its_trigger() {
    // 1 BTC long at 100 ×10: margin 10, fee 0.1, trigger 90.45 (see the exchange tests).
    // c1 falls to 89 without a gap: liquidation at 90.45; 10 − 9.55 − 0.09045 comes back.
    let s = futures_webhook(10, vec![sig(0, SignalAction::EnterLong, dec!(1))]);
    let c = series(&[[dec!(100), dec!(100), dec!(100), dec!(100)], [dec!(99), dec!(99), dec!(89), dec!(92)]]);
    let r = run(s, RunConfig::default(), &c);
    let liq = with_role(&r, OrderRole::Liquidation);
    assert_eq!(
        liq.iter().map(|o| (o.side, o.price, o.leverage)).collect::<Vec<_>>(),
        vec![(Side::Sell, dec!(90.45), 10)]
    );
    assert!(r.positions[0].liquidated);
    assert_eq!(r.final_quote, dec!(9990.25955));
    assert_eq!(r.positions[0].realized_profit, dec!(-9.55) - dec!(0.1) - dec!(0.09045));
    assert_eq!(r.positions[0].margin, dec!(10));
    assert!(has_log(&r, LogLevel::Warning, "Position #0 liquidated at 90.45"));
    assert!(r.notes.iter().any(|n| n.contains("funding")));
}

#[test]
fn a_gap_through_the_trigger_liquidates_at_the_open() {
    let s = futures_webhook(10, vec![sig(0, SignalAction::EnterLong, dec!(1))]);
    let c = series(&[[dec!(100), dec!(100), dec!(100), dec!(100)], [dec!(85), dec!(86), dec!(84), dec!(85)]]);
    let r = run(s, RunConfig::default(), &c);
    assert_eq!(with_role(&r, OrderRole::Liquidation)[0].price, dec!(85));
    // The account loses the margin and the entry fee, no more.
    assert_eq!(r.final_quote, dec!(9989.9));
}

#[test]
fn a_short_is_liquidated_on_the_way_up() {
    // Short 1 @100 ×10: trigger 109.46.
    let s = futures_webhook(10, vec![sig(0, SignalAction::EnterShort, dec!(1))]);
    let c = series(&[[dec!(100), dec!(100), dec!(100), dec!(100)], [dec!(100), dec!(112), dec!(100), dec!(101)]]);
    let r = run(s, RunConfig::default(), &c);
    let liq = with_role(&r, OrderRole::Liquidation);
    assert_eq!((liq[0].side, liq[0].price), (Side::Buy, dec!(109.46)));
    assert_eq!(r.positions[0].direction, Direction::Short);
}

#[test]
fn enter_and_exit_move_the_futures_position() {
    // Long 2 @100 ×5 (margin 40), exit 0.5 @110 (releases 10 of margin, +5), exit 5 @120:
    // capped at the 1.5 left (+30).
    let s = futures_webhook(
        5,
        vec![
            sig(0, SignalAction::EnterLong, dec!(2)),
            sig(1, SignalAction::ExitLong, dec!(0.5)),
            sig(2, SignalAction::ExitLong, dec!(5)),
            sig(3, SignalAction::ExitShort, dec!(1)),
        ],
    );
    let c = series(&[
        [dec!(100), dec!(100), dec!(100), dec!(100)],
        [dec!(110), dec!(110), dec!(110), dec!(110)],
        [dec!(120), dec!(120), dec!(120), dec!(120)],
        [dec!(120), dec!(120), dec!(120), dec!(120)],
    ]);
    let r = run(s, RunConfig::default(), &c);
    assert_eq!(
        r.orders.iter().map(|o| (o.side, o.amount)).collect::<Vec<_>>(),
        vec![(Side::Buy, dec!(2)), (Side::Sell, dec!(0.5)), (Side::Sell, dec!(1.5))]
    );
    let p = &r.positions[0];
    assert_eq!((p.gross_profit, p.status), (dec!(35), crate::PositionStatus::Closed));
    // Fees: 0.2 + 0.055 + 0.18.
    assert_eq!(p.fee_costs, dec!(0.435));
    assert_eq!(r.final_quote, dec!(10034.565));
    assert!(has_log(&r, LogLevel::Warning, "no open Short position"));
}

/// Futures grid 100–120, 2 grids, 100 USDT ×10: qty 500/100 = 5 and 500/110 = 4.54545.
fn futures_grid() -> crate::settings::GridSettings {
    let mut g = grid(dec!(100), dec!(120), 2, dec!(100));
    g.investment_asset = None;
    g.leverage = Some(10);
    g
}

#[test]
fn futures_grid_round_trip_uses_margin() {
    let c = series(&[
        [dec!(115), dec!(115), dec!(115), dec!(115)],
        [dec!(115), dec!(115), dec!(109), dec!(112)],
        [dec!(112), dec!(121), dec!(112), dec!(118)],
    ]);
    let r = run(BotSettings::FuturesGrid(futures_grid()), RunConfig::default(), &c);
    let p = &r.positions[0];
    // 4.54545 @110 → @120: gross 45.4545; fees 0.4999995 + 0.545454; margin 49.9999500.
    assert_eq!(
        (p.gross_profit, p.fee_costs, p.margin, p.leverage),
        (dec!(45.4545), dec!(1.0454535), dec!(49.99995), 10)
    );
    // The margin went out and came back; the wallet keeps the net profit (the re-placed buys
    // only hold funds in reserve).
    assert_eq!(r.final_quote, dec!(10044.4090465));
    assert_eq!(r.summary.realized_profit, dec!(44.4090465));
}

#[test]
fn max_loss_closes_out_and_stops() {
    // c1's low (105) fills the 110 buy (4.54545) at 110; c1 closes at 105: profit 4.54545·(105 − 110) −
    // 0.4999995 = −23.2272495 ≤ −20 → close at market at 105, cancel the rest, stop.
    let mut g = futures_grid();
    g.max_loss = Some(dec!(20));
    let c = series(&[
        [dec!(115), dec!(115), dec!(115), dec!(115)],
        [dec!(115), dec!(115), dec!(105), dec!(105)],
        [dec!(105), dec!(130), dec!(95), dec!(100)],
    ]);
    let r = run(BotSettings::FuturesGrid(g), RunConfig::default(), &c);
    let out = with_role(&r, OrderRole::CloseOut);
    assert_eq!(
        out.iter().map(|o| (o.side, o.price, o.amount)).collect::<Vec<_>>(),
        vec![(Side::Sell, dec!(105), dec!(4.54545))]
    );
    assert!(r.orders.iter().all(|o| o.status != OrderStatus::Open));
    assert_eq!(r.orders.len(), 4, "2 buys, 1 sell (cancelled), the close-out; nothing after the stop");
    // −22.72725 − 0.4999995 − 0.47727225.
    assert_eq!(r.summary.realized_profit, dec!(-23.70452175));
    assert!(has_log(&r, LogLevel::Info, "maxLoss reached"));
}

#[test]
fn max_win_stops_the_bot() {
    // The round trip of the previous test earns 44.409; maxWin 40 stops the bot at c2's close.
    let mut g = futures_grid();
    g.max_win = Some(dec!(40));
    let c = series(&[
        [dec!(115), dec!(115), dec!(115), dec!(115)],
        [dec!(115), dec!(115), dec!(109), dec!(112)],
        [dec!(112), dec!(121), dec!(112), dec!(118)],
        [dec!(118), dec!(118), dec!(90), dec!(95)],
    ]);
    let r = run(BotSettings::FuturesGrid(g), RunConfig::default(), &c);
    assert!(has_log(&r, LogLevel::Info, "maxWin reached"));
    assert!(r.orders.iter().all(|o| o.status != OrderStatus::Open));
    assert_eq!(r.summary.realized_profit, dec!(44.4090465));
}

#[test]
fn futures_dca_posts_notional_over_leverage() {
    // Base 100 notional ×5: margin 20 + fee 0.1.
    let mut d = dca();
    d.leverage = Some(5);
    d.max_safety_orders = 1;
    let r =
        run(BotSettings::FuturesDca(d), RunConfig::default(), &series(&[[dec!(100), dec!(100), dec!(100), dec!(100)]]));
    assert_eq!(r.positions[0].margin, dec!(20));
    // The safety order (2.0202 @99, ×5) only holds its margin and fee in reserve.
    assert_eq!(r.final_quote, dec!(9979.9));
    assert_eq!(r.final_equity, dec!(9999.9));
}
