//! DCA runs worked out by hand.

use rust_decimal::dec;

use super::*;
use crate::{Direction, PositionStatus, Side};

/// A DCA as docs/engine.md#dca describes it (base 100, 5 safety orders of 200 at 1 % steps,
/// scales 1, take profit 1 %, fee 0.1 %) around a price of 100.
///
/// ```text
/// c0  O100 H100 L100 C100      close: base order, market, 100/100 = 1 BTC @100 (fee 0.1)
///                              safeties k=1..5 at 99, 98, 97, 96, 95 (base·(1 − 0.01k)),
///                              sized 200/price: 2.02020, 2.04081, 2.06185, 2.08333, 2.10526
///                              take-profit 1 @ 100·(1 + 0.01 + 0.001)/(1 − 0.001) = 101.2012 → 101.20
/// c1  O100 H100.5 L98.5 C98.8  L98.5: safety 1 fills, 2.0202 @99 = 199.9998 (fee 0.1999998);
///                              the TP is cancelled at once and re-placed for 3.0202 at
///                              avg = (100 + 199.9998)/3.0202 = 99.3311039 → ·1.011/0.999 =
///                              100.52427 → 100.52, live from c2
/// c2  O98.8 H101 L98.7 C100.8  H101: TP fills, 3.0202 @100.52 = 303.590504 (fee 0.303590504);
///                              safeties 2–5 cancelled; close: deal 2, 100/100.8 = 0.99206 @100.8
///                              (= 99.999648, fee 0.099999648), safeties at 99.79 (2.00416),
///                              98.78 (2.02461), 97.78 (2.04549), 96.77 (2.06679), 95.76 (2.08855),
///                              TP 100.8·1.011/0.999 = 102.0108 → 102.01
/// c3  O100.8 H101.2 L100.6 C101  nothing fills
/// ```
///
/// Deal 1: gross 303.590504 − 299.9998 = 3.590704, fees 0.1 + 0.1999998 + 0.303590504 =
/// 0.603590304, net 2.987113696. feeCosts adds deal 2's entry fee: 0.703589952; realizedProfit
/// = 3.590704 − 0.703589952 = 2.887114048, roi 0.02887114048 %. Quote at the end
/// 9,902.887466048, base 0.99206; equity at 101: 10,003.085526048 = 10,000 + realized +
/// 0.99206·(101 − 100.8). Equity at the closes: 9,999.9, 9,998.0959602, 10,002.887114048,
/// 10,003.085526048: max drawdown 1.9040398 from the start (0.019040398 %).
fn hand_series() -> Vec<Candle> {
    series(&[
        [dec!(100), dec!(100), dec!(100), dec!(100)],
        [dec!(100), dec!(100.5), dec!(98.5), dec!(98.8)],
        [dec!(98.8), dec!(101), dec!(98.7), dec!(100.8)],
        [dec!(100.8), dec!(101.2), dec!(100.6), dec!(101)],
    ])
}

#[test]
fn hand_worked_dca() {
    let r = run(BotSettings::SpotDca(dca()), RunConfig::default(), &hand_series());
    let o = &r.orders;
    assert_eq!(o.len(), 15);
    // Deal 1.
    assert_eq!(
        (o[0].role, o[0].price, o[0].amount, o[0].fee_costs),
        (OrderRole::DcaBase, dec!(100), dec!(1), dec!(0.1))
    );
    let safeties: Vec<_> = o[1..6].iter().map(|o| (o.price, o.amount)).collect();
    assert_eq!(
        safeties,
        vec![
            (dec!(99), dec!(2.0202)),
            (dec!(98), dec!(2.04081)),
            (dec!(97), dec!(2.06185)),
            (dec!(96), dec!(2.08333)),
            (dec!(95), dec!(2.10526)),
        ]
    );
    assert_eq!(
        (o[6].role, o[6].price, o[6].amount, o[6].status),
        (OrderRole::DcaTakeProfit, dec!(101.2), dec!(1), OrderStatus::Cancelled)
    );
    assert_eq!(o[6].closed_at, Some(close_time(1)), "cancelled when safety 1 filled");
    assert_eq!(
        (o[7].price, o[7].amount, o[7].created_at, o[7].closed_at),
        (dec!(100.52), dec!(3.0202), close_time(1), Some(close_time(2)))
    );
    assert!(o[2..6].iter().all(|o| o.status == OrderStatus::Cancelled && o.closed_at == Some(close_time(2))));
    // Deal 2 at c2's close.
    assert_eq!(
        (o[8].role, o[8].price, o[8].amount, o[8].created_at),
        (OrderRole::DcaBase, dec!(100.8), dec!(0.99206), close_time(2))
    );
    let safeties: Vec<_> = o[9..14].iter().map(|o| (o.price, o.amount)).collect();
    assert_eq!(
        safeties,
        vec![
            (dec!(99.79), dec!(2.00416)),
            (dec!(98.78), dec!(2.02461)),
            (dec!(97.78), dec!(2.04549)),
            (dec!(96.77), dec!(2.06679)),
            (dec!(95.76), dec!(2.08855)),
        ]
    );
    assert_eq!((o[14].price, o[14].status), (dec!(102.01), OrderStatus::Open));

    let p = &r.positions;
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].status, p[0].direction), (PositionStatus::Closed, Direction::Long));
    assert_eq!(p[0].entry_orders.iter().map(|f| f.order_id).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(p[0].exit_orders.iter().map(|f| f.order_id).collect::<Vec<_>>(), vec![7]);
    assert_eq!(
        (p[0].gross_profit, p[0].fee_costs, p[0].realized_profit),
        (dec!(3.590704), dec!(0.603590304), dec!(2.987113696))
    );
    assert_eq!(p[0].margin, dec!(299.9998));
    assert_eq!(p[0].average_exit_price, Some(dec!(100.52)));
    assert_eq!(p[1].status, PositionStatus::Open);

    let s = &r.summary;
    assert_eq!(
        (s.gross_profit, s.fee_costs, s.realized_profit),
        (dec!(3.590704), dec!(0.703589952), dec!(2.887114048))
    );
    assert_eq!(s.roi, dec!(0.02887114048));
    assert_eq!(
        (r.final_quote, r.final_base, r.final_equity),
        (dec!(9902.887466048), dec!(0.99206), dec!(10003.085526048))
    );
    assert_eq!(
        (r.performance.max_drawdown, r.performance.max_drawdown_percent),
        (dec!(-1.9040398), dec!(-0.019040398))
    );
    assert_eq!((r.performance.highest_profit, r.performance.lowest_profit), (dec!(3.085526048), dec!(-1.9040398)));
    // Filled: base 1 (0 s), safety 1 (60 s), TP (60 s), base 2 (0 s).
    assert_eq!((r.orders_stats.filled, r.orders_stats.average_open_time), (4, dec!(30)));
    assert_eq!((r.positions_stats.closed_positions, r.positions_stats.average_profit), (1, dec!(2.987113696)));
}

#[test]
fn a_cancelled_take_profit_stops_being_live_at_once() {
    // A short deal (the walk meets a long deal's take-profit at the high before any safety
    // order at the low, so only a short shows this): sell 1 @100, safety 1 sells 200/101 =
    // 1.98019 @101, TP buys back at 100·0.989/1.001 = 98.8012 → 98.80.
    // c1: the high 101.5 fills the safety; the TP at 98.80 is cancelled at once (the low
    // 98.5 would cross it) and re-placed at avg = (100 + 101·1.98019)/2.98019 = 100.66444 →
    // ·0.989/1.001 = 99.4576 → 99.46, live from c2, whose open 99 crosses it: it fills at 99.46.
    let mut d = dca();
    d.direction = crate::settings::DcaDirection::Sell;
    let cfg = RunConfig { starting_base: dec!(10), ..RunConfig::default() };
    let c = series(&[
        [dec!(100), dec!(100), dec!(100), dec!(100)],
        [dec!(100), dec!(101.5), dec!(98.5), dec!(99)],
        [dec!(99), dec!(99.2), dec!(98.9), dec!(99)],
    ]);
    let r = run(BotSettings::SpotDca(d), cfg, &c);
    let tps = with_role(&r, OrderRole::DcaTakeProfit);
    assert_eq!(
        (tps[0].price, tps[0].status, tps[0].closed_at),
        (dec!(98.8), OrderStatus::Cancelled, Some(close_time(1)))
    );
    assert_eq!((tps[1].price, tps[1].amount), (dec!(99.46), dec!(2.98019)));
    assert_eq!((tps[1].status, tps[1].closed_at), (OrderStatus::Filled, Some(close_time(2))));
}

#[test]
fn take_profit_fills_then_the_next_deal_opens_at_that_close() {
    // A gap up through the TP: c1 opens at 102, the TP (101.20) fills at its limit; the next
    // deal opens at c1's close of 102.5.
    let c = series(&[[dec!(100), dec!(100), dec!(100), dec!(100)], [dec!(102), dec!(103), dec!(102), dec!(102.5)]]);
    let r = run(BotSettings::SpotDca(dca()), RunConfig::default(), &c);
    let bases = with_role(&r, OrderRole::DcaBase);
    assert_eq!(
        bases.iter().map(|o| (o.price, o.created_at)).collect::<Vec<_>>(),
        vec![(dec!(100), close_time(0)), (dec!(102.5), close_time(1))]
    );
    assert_eq!(with_role(&r, OrderRole::DcaTakeProfit)[0].price, dec!(101.2));
}

#[test]
fn step_and_volume_scales() {
    // deviation 1 %, step scale 2, volume scale 1.5: safety k at 1 − 0.01·(1 + 2 + … 2^(k−1)):
    // 99, 97, 93; amounts 200, 300, 450 → 2.0202, 3.09278, 4.83870.
    let mut d = dca();
    d.max_safety_orders = 3;
    d.safety_order_step_scale = dec!(2);
    d.safety_order_volume_scale = dec!(1.5);
    let r =
        run(BotSettings::SpotDca(d), RunConfig::default(), &series(&[[dec!(100), dec!(100), dec!(100), dec!(100)]]));
    let s: Vec<_> = with_role(&r, OrderRole::DcaSafety).iter().map(|o| (o.price, o.amount)).collect();
    assert_eq!(s, vec![(dec!(99), dec!(2.0202)), (dec!(97), dec!(3.09278)), (dec!(93), dec!(4.8387))]);
}

#[test]
fn short_dca_mirrors_the_long_one() {
    // Sell 1 BTC at 100 (the account holds 2 BTC), safeties above at 101, 102…, TP below at
    // 100·(1 − 0.01 − 0.001)/(1 + 0.001) = 98.8012 → 98.80.
    let cfg = RunConfig { starting_base: dec!(20), ..RunConfig::default() };
    let mut d = dca();
    d.direction = crate::settings::DcaDirection::Sell;
    let c = series(&[[dec!(100), dec!(100), dec!(100), dec!(100)], [dec!(100), dec!(100), dec!(98), dec!(98.5)]]);
    let r = run(BotSettings::SpotDca(d), cfg, &c);
    assert_eq!((r.orders[0].side, r.orders[0].amount), (Side::Sell, dec!(1)));
    assert_eq!((r.orders[1].side, r.orders[1].price), (Side::Sell, dec!(101)));
    let tp = with_role(&r, OrderRole::DcaTakeProfit)[0];
    assert_eq!((tp.side, tp.price, tp.status), (Side::Buy, dec!(98.8), OrderStatus::Filled));
    // 1 × (100 − 98.8) = 1.2 gross, fees 0.1 + 0.0988.
    assert_eq!(r.positions[0].realized_profit, dec!(1.0012));
    assert_eq!(r.positions[0].direction, Direction::Short);
}

#[test]
fn slippage_moves_market_orders() {
    // 5 ticks: the base order fills at 100.05 and its quantity uses that price: 100/100.05.
    let cfg = RunConfig { slippage_ticks: 5, ..RunConfig::default() };
    let r = run(BotSettings::SpotDca(dca()), cfg, &series(&[[dec!(100), dec!(100), dec!(100), dec!(100)]]));
    assert_eq!((r.orders[0].price, r.orders[0].amount), (dec!(100.05), dec!(0.99950)));
    // Safeties are placed from the fill price: 100.05 · 0.99 = 99.0495 → 99.05.
    assert_eq!(r.orders[1].price, dec!(99.05));
}
