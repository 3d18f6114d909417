//! Spot grid runs worked out by hand.

use rust_decimal::dec;

use super::*;
use crate::settings::{StartCondition, StopCondition, Threshold};
use crate::{Direction, PositionStatus, Side};

/// Grid 100–140 in 4 grids (levels 100, 110, 120, 130, 140), 1,000 USDT (Quote): 250 per
/// grid, so qty_0 = 250/100 = 2.5, qty_1 = 250/110 = 2.27272, qty_2 = 250/120 = 2.08333,
/// qty_3 = 250/130 = 1.92307 (floored to 5 decimals). Fee 0.1 %, 10,000 USDT to start.
///
/// ```text
/// c0  O125 H126 L124 C125   close: start; buys L2@120 (#0), L1@110 (#1), L0@100 (#2), nearest first
/// c1  O125 H131 L119 C131   L119: L2 buy fills → sell L2@130 (#3), live from c2: C131 does NOT fill it
///                           close: L3 (130 < 131) idle → buy L3@130 (#4)
/// c2  O131 H132 L129 C129.5 O131: sell L2@130 crossed at the open → fills at its limit 130
///                           L129: buy L3@130 fills → sell L3@140 (#5); close: buy L2@120 (#6)
/// c3  O129.5 H129.8 L108 C109  L108: buys @120 (#6) and @110 (#1), highest first
///                           → sells L2@130 (#7), L1@120 (#8)
/// c4  O109 H135 L105 C134   H135: sells @120 (#8) then @130 (#7), lowest first
///                           close: buys L2@120 (#9), L1@110 (#10)
/// ```
///
/// Fills (notional, fee = 0.1 %):
/// 1. buy  2.08333 @120 = 249.9996, fee 0.2499996
/// 2. sell 2.08333 @130 = 270.8329, fee 0.2708329 → round trip: gross 20.8333, net 20.3124675
/// 3. buy  1.92307 @130 = 249.9991, fee 0.2499991 (still open at the end)
/// 4. buy  2.08333 @120 = 249.9996, fee 0.2499996
/// 5. buy  2.27272 @110 = 249.9992, fee 0.2499992
/// 6. sell 2.27272 @120 = 272.7264, fee 0.2727264 → gross 22.7272, net 22.2044744
/// 7. sell 2.08333 @130 = 270.8329, fee 0.2708329 → gross 20.8333, net 20.3124675
///
/// grossProfit = 20.8333 + 22.7272 + 20.8333 = 64.3938; feeCosts = Σ fees = 1.8143897;
/// realizedProfit = 64.3938 − 1.8143897 = 62.5794103; roi = 62.5794103 / 10,000 × 100 = 0.62579410 3 %.
/// Quote at the end: 10,000 − 185.6053 (net notional) − 1.8143897 = 9,812.5803103; base 1.92307;
/// equity at 134: 9,812.5803103 + 257.69138 = 10,070.2716903 = 10,000 + realized + unrealized
/// (1.92307 × (134 − 130) = 7.69228).
///
/// Equity at the closes: c0 10,000; c1 9,749.7504004 + 2.08333·131 = 10,022.6666304;
/// c2 9,770.0633684 + 1.92307·129.5 = 10,019.1009334; c3 9,269.5645696 + 6.27912·109 =
/// 9,953.9886496; c4 10,070.2716903. Max drawdown 10,022.6666304 − 9,953.9886496 = 68.6779808
/// (0.68522663 % of the peak); highest profit 70.2716903, lowest −46.0113504.
fn hand_series() -> Vec<Candle> {
    series(&[
        [dec!(125), dec!(126), dec!(124), dec!(125)],
        [dec!(125), dec!(131), dec!(119), dec!(131)],
        [dec!(131), dec!(132), dec!(129), dec!(129.5)],
        [dec!(129.5), dec!(129.8), dec!(108), dec!(109)],
        [dec!(109), dec!(135), dec!(105), dec!(134)],
    ])
}

#[test]
fn hand_worked_spot_grid() {
    let g = grid(dec!(100), dec!(140), 4, dec!(1000));
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &hand_series());

    // Orders: 11 placed, 7 filled, 4 still open (L0@100, L3 sell@140, L2@120, L1@110).
    assert_eq!((r.orders_stats.total, r.orders_stats.filled, r.orders_stats.partially_filled), (11, 7, 0));
    let o = &r.orders;
    assert_eq!((o[0].price, o[1].price, o[2].price), (dec!(120), dec!(110), dec!(100)), "nearest level first");
    assert_eq!((o[0].amount, o[1].amount, o[2].amount), (dec!(2.08333), dec!(2.27272), dec!(2.5)));
    // t+1: the sell placed at c1's low was not filled by c1's close of 131 but at c2's open.
    assert_eq!(
        (o[3].side, o[3].price, o[3].created_at, o[3].closed_at),
        (Side::Sell, dec!(130), close_time(1), Some(close_time(2)))
    );
    let open: Vec<_> = o.iter().filter(|o| o.status == OrderStatus::Open).map(|o| (o.id, o.price)).collect();
    assert_eq!(open, vec![(2, dec!(100)), (5, dec!(140)), (9, dec!(120)), (10, dec!(110))]);
    // Average open time: 60 s for six fills, 180 s for #1 (placed at c0, filled at c3): 540 / 7.
    assert_eq!(r.orders_stats.average_open_time.round_dp(6), dec!(77.142857));

    // Positions in the order they opened: L2, L3, L2 again, L1; price priority at c3's low
    // filled the 120 buy before the 110 one.
    let p = &r.positions;
    assert_eq!(p.len(), 4);
    assert_eq!(
        p.iter().map(|p| p.average_entry_price).collect::<Vec<_>>(),
        vec![dec!(120), dec!(130), dec!(120), dec!(110)]
    );
    assert_eq!(
        p.iter().map(|p| p.status).collect::<Vec<_>>(),
        vec![PositionStatus::Closed, PositionStatus::Open, PositionStatus::Closed, PositionStatus::Closed]
    );
    assert_eq!((p[0].realized_profit, p[3].realized_profit), (dec!(20.3124675), dec!(22.2044744)));
    assert_eq!((p[0].gross_profit, p[0].fee_costs), (dec!(20.8333), dec!(0.5208325)));
    assert_eq!(p[1].unrealized_profit, dec!(7.69228));
    assert_eq!((p[0].entry_orders.len(), p[0].exit_orders.len()), (1, 1));
    assert_eq!((p[0].entry_orders[0].order_id, p[0].exit_orders[0].order_id), (0, 3));
    assert!(p.iter().all(|p| p.direction == Direction::Long && p.leverage == 1));

    let s = &r.summary;
    assert_eq!(s.gross_profit, dec!(64.3938));
    assert_eq!(s.fee_costs, dec!(1.8143897));
    assert_eq!(s.realized_profit, dec!(62.5794103));
    assert_eq!(s.roi, dec!(0.62579410_3));
    assert_eq!(s.price_change, dec!(7.2), "(134 − 125) / 125");
    assert_eq!(s.profit_currency, "USDT");

    assert_eq!((r.final_quote, r.final_base), (dec!(9812.5803103), dec!(1.92307)));
    assert_eq!((r.starting_equity, r.final_equity), (dec!(10000), dec!(10070.2716903)));

    let pf = &r.performance;
    assert_eq!(pf.max_drawdown, dec!(-68.6779808));
    assert_eq!(pf.max_drawdown_percent.round_dp(8), dec!(-0.68522663));
    assert_eq!((pf.highest_profit, pf.lowest_profit), (dec!(70.2716903), dec!(-46.0113504)));
    assert_eq!(pf.profit_factor, None, "no losing position");
    assert_eq!(pf.win_percentage, dec!(1));
    assert_eq!((pf.biggest_win, pf.biggest_loss), (dec!(22.2044744), dec!(0)));
    assert_eq!((pf.sharpe_ratio, pf.sortino_ratio), (None, None), "one day: no daily return series");

    let ps = &r.positions_stats;
    assert_eq!((ps.closed_positions, ps.winning_positions, ps.losing_positions), (3, 3, 0));
    // (20.3124675 · 2 + 22.2044744) / 3 and (249.9996 · 2 + 249.9992) / 3.
    assert_eq!(ps.average_profit.round_dp(10), dec!(20.9431364667));
    assert_eq!(ps.average_margin.round_dp(10), dec!(249.9994666667));

    // The equity curve ends at the last close with its drawdown.
    let last = r.equity.last().unwrap();
    assert_eq!((last.time, last.equity, last.drawdown), (close_time(4), dec!(10070.2716903), dec!(0)));
    assert_eq!(r.equity[3].drawdown, dec!(68.6779808));
    assert!(has_log(
        &r,
        LogLevel::Trade,
        "BUY order filled at 120.00 for 2.08333 BTC, fee 0.2499996 USDT (Grid buy #2)"
    ));
    assert!(has_log(&r, LogLevel::Trade, "Position #0 closed. Profit: +20.3124675 USDT"));
}

#[test]
fn geometric_grid_runs() {
    // 100 → 400 in 2 geometric grids: 100, 200, 400; 1,000 Quote → 5 @100, 2.5 @200.
    let mut g = grid(dec!(100), dec!(400), 2, dec!(1000));
    g.grid_mode = GridMode::Geometric;
    let c = series(&[
        [dec!(300), dec!(300), dec!(300), dec!(300)],
        [dec!(300), dec!(300), dec!(190), dec!(250)],
        [dec!(250), dec!(410), dec!(250), dec!(260)],
    ]);
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &c);
    let f = fills(&r);
    assert_eq!(
        f.iter().map(|o| (o.side, o.price, o.amount)).collect::<Vec<_>>(),
        vec![(Side::Buy, dec!(200), dec!(2.5)), (Side::Sell, dec!(400), dec!(2.5))]
    );
    // 2.5 × 200 gross, fees 0.5 + 1.
    assert_eq!(r.summary.realized_profit, dec!(498.5));
}

#[test]
fn trade_to_fill_grid_buys_base_for_levels_above_the_price() {
    // 100–130 in 3 grids, 900 Quote: qty 3 @100, 2.72727 @110, 2.5 @120. Start at 105:
    // levels 110 and 120 are above the price → market buys of 2.72727 and 2.5 at 105, their
    // sells rest at 120 and 130; level 100 gets its buy.
    let mut g = grid(dec!(100), dec!(130), 3, dec!(900));
    g.trade_to_fill_grid = Some(true);
    let c = series(&[[dec!(105), dec!(105), dec!(105), dec!(105)], [dec!(105), dec!(125), dec!(104), dec!(124)]]);
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &c);
    let fill = with_role(&r, OrderRole::GridFill);
    assert_eq!(
        fill.iter().map(|o| (o.price, o.amount)).collect::<Vec<_>>(),
        vec![(dec!(105), dec!(2.72727)), (dec!(105), dec!(2.5))]
    );
    // At c1's high 125 the sell of level 1 at 120 fills; level 2's at 130 does not.
    let sells: Vec<_> = with_role(&r, OrderRole::GridSell).iter().map(|o| (o.price, o.status)).collect();
    assert_eq!(sells, vec![(dec!(120), OrderStatus::Filled), (dec!(130), OrderStatus::Open)]);
    // Profit of that round trip: 2.72727 × (120 − 105) = 40.90905, fees 0.28636335 + 0.3272724.
    assert_eq!(r.positions[0].realized_profit, dec!(40.90905) - dec!(0.28636335) - dec!(0.3272724));
}

#[test]
fn price_start_condition_waits() {
    // Start when the close is at or below 105: c0 closes at 115 (no orders), c1 at 105.
    let mut g = grid(dec!(100), dec!(120), 2, dec!(1000));
    g.start_condition = StartCondition::Price;
    g.start_type = Threshold::Below;
    g.start_value = dec!(105);
    let c = series(&[[dec!(115), dec!(115), dec!(115), dec!(115)], [dec!(115), dec!(115), dec!(105), dec!(105)]]);
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &c);
    assert_eq!(r.orders.len(), 1);
    assert_eq!((r.orders[0].price, r.orders[0].created_at), (dec!(100), close_time(1)));
}

#[test]
fn rsi_start_condition_needs_fifteen_closes() {
    // RSI below 30: 15 falling closes give RSI 0 at the 15th close, not before.
    let mut g = grid(dec!(50), dec!(200), 3, dec!(1000));
    g.start_condition = StartCondition::Rsi;
    g.start_type = Threshold::Below;
    g.start_value = dec!(30);
    let rows: Vec<_> = (0..16)
        .map(|i| {
            let p = rust_decimal::Decimal::from(180 - i);
            [p, p, p, p]
        })
        .collect();
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &series(&rows));
    assert!(!r.orders.is_empty());
    assert_eq!(r.orders.iter().map(|o| o.created_at).min(), Some(close_time(14)));
}

#[test]
fn stop_condition_with_stop_exit_sells_the_inventory() {
    // 100–120, 2 grids, 1,000 Quote: 5 @100, 4.54545 @110. c1's low fills the 110 buy; c1 closes
    // at 104 ≤ 105: stop → cancel the 100 buy and the 120 sell, sell 4.54545 at 104.
    let mut g = grid(dec!(100), dec!(120), 2, dec!(1000));
    g.stop_condition = StopCondition::Price;
    g.stop_type = Threshold::Below;
    g.stop_value = dec!(105);
    g.stop_exit = true;
    let c = series(&[
        [dec!(115), dec!(115), dec!(115), dec!(115)],
        [dec!(115), dec!(115), dec!(104), dec!(104)],
        [dec!(104), dec!(130), dec!(90), dec!(100)],
    ]);
    let r = run(BotSettings::SpotGrid(g.clone()), RunConfig::default(), &c);
    let exit = with_role(&r, OrderRole::GridExit);
    assert_eq!(
        exit.iter().map(|o| (o.side, o.price, o.amount, o.created_at)).collect::<Vec<_>>(),
        vec![(Side::Sell, dec!(104), dec!(4.54545), close_time(1))]
    );
    assert!(r.orders.iter().all(|o| o.status != OrderStatus::Open));
    assert_eq!(r.final_base, dec!(0));
    // Loss: 4.54545 × (104 − 110) = −27.2727, fees 0.4999995 + 0.4727268.
    assert_eq!(r.positions[0].realized_profit, dec!(-27.2727) - dec!(0.4999995) - dec!(0.4727268));
    assert_eq!(r.performance.profit_factor, Some(dec!(0)));
    assert_eq!(r.positions_stats.losing_positions, 1);
    assert!(has_log(&r, LogLevel::Info, "Stop condition met"));

    // Without stopExit the inventory stays.
    g.stop_exit = false;
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &c);
    assert!(with_role(&r, OrderRole::GridExit).is_empty());
    assert_eq!(r.final_base, dec!(4.54545));
}

#[test]
fn insufficient_funds_is_logged_once_per_balance_change() {
    // 5 grids of 2,500 quote each on a 10,000 account. Nearest first: 17.85714 @140 holds
    // 2,499.9996 + 2.4999996, 19.23076 @130 2,499.9988 + 2.4999988, 20.83333 @120 2,499.9996 +
    // 2.4999996: 7,507.497998 in all; the fourth, 22.72727 @110 (2,502.4996997), does not fit
    // in the 2,492.502002 left. Nothing changes afterwards, so it is not retried.
    let g = grid(dec!(100), dec!(150), 5, dec!(12500));
    let rows: Vec<_> = (0..50).map(|_| [dec!(151), dec!(151), dec!(151), dec!(151)]).collect();
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &series(&rows));
    assert_eq!(r.orders.len(), 3);
    let refusals = r.logs.iter().filter(|l| l.message.contains("Insufficient funds")).count();
    assert_eq!(refusals, 1);
    assert!(has_log(
        &r,
        LogLevel::Error,
        "Blocking PlaceBuyOrder(). Insufficient funds. 2502.499700 USDT required. 2492.502002 USDT available."
    ));
}

#[test]
fn levels_below_the_minimum_are_not_traded() {
    let g = grid(dec!(100), dec!(150), 5, dec!(0.004)); // 0.0008 quote per grid: 0.000008 BTC at 100
    let r =
        run(BotSettings::SpotGrid(g), RunConfig::default(), &series(&[[dec!(151), dec!(151), dec!(151), dec!(151)]]));
    assert_eq!(r.orders.len(), 0);
    assert!(has_log(&r, LogLevel::Warning, "5 grid levels trade less than the minimum trade amount 0.00001"));
}

#[test]
fn rsi_stop_condition_cancels_the_grid() {
    // Stop when RSI(14) ≥ 70: rising closes 101, 102, … give RSI 100 at the 15th close (c14),
    // where every order is cancelled; nothing is placed afterwards.
    let mut g = grid(dec!(50), dec!(200), 3, dec!(1000));
    g.stop_condition = StopCondition::Rsi;
    g.stop_type = Threshold::Above;
    g.stop_value = dec!(70);
    let rows: Vec<_> = (0..20)
        .map(|i| {
            let p = rust_decimal::Decimal::from(101 + i);
            [p, p, p, p]
        })
        .collect();
    let r = run(BotSettings::SpotGrid(g), RunConfig::default(), &series(&rows));
    assert!(!r.orders.is_empty());
    assert!(r.orders.iter().all(|o| o.status == OrderStatus::Cancelled && o.closed_at == Some(close_time(14))));
    assert!(r.orders.iter().all(|o| o.created_at < close_time(14)));
    assert!(has_log(&r, LogLevel::Info, "Stop condition met"));
}
