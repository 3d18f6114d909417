//! The grid preview, worked by hand.

use rust_decimal::dec;

use super::*;
use crate::{Preview, PreviewOrder, ProfitRange, Side, preview};

#[test]
fn a_four_level_grid_preview_worked_by_hand() {
    // Spot grid 100–140 in 4 grids, 1,000 USDT (Quote), tradeToFillGrid, at 125, fee 0.1 %.
    // Levels 100, 110, 120, 130, 140; 250 USDT per grid: qty 2.5, 2.27272, 2.08333, 1.92307.
    // Orders a start places: level 3 (130 ≥ 125) is bought at market, 1.92307 @125, and
    // rests its sell at 140; the levels below 125 get buys, nearest first: 120, 110, 100.
    // Profit per grid, net of two fees: (p_{i+1}·0.999 / p_i − 1.001) × 100:
    //   level 0: 110·0.999/100 = 1.0989        → 9.79 %
    //   level 1: 120·0.999/110 = 1.0898181…    → 8.8818 %
    //   level 2: 130·0.999/120 = 1.08225       → 8.125 %
    //   level 3: 140·0.999/130 = 1.0758461…    → 7.4846 %
    // Required quote: the buys hold notional + fee: 249.9996 + 0.2499996, 249.9992 +
    // 0.2499992, 250 + 0.25 = 750.7487988; the market buy 1.92307 × 125 = 240.38375 +
    // 0.24038375 = 240.62413375; in all 991.37293255. Required base: 1.92307 (the sell).
    // Fees of the listed orders: sell 140 × 1.92307 = 269.2298 → 0.2692298; buys 0.2499996 +
    // 0.2499992 + 0.25; in all 1.0192286.
    let mut g = grid(dec!(100), dec!(140), 4, dec!(1000));
    g.trade_to_fill_grid = Some(true);
    let m = MarketSpec::sim_btc_usdt();
    let p = preview(&BotSettings::SpotGrid(g.clone()), &m, dec!(125), dec!(0.001), dec!(10000)).unwrap();
    let order = |level, direction, price, amount| PreviewOrder { level, direction, price, amount };
    assert_eq!(
        p,
        Preview {
            price: dec!(125),
            orders: vec![
                order(3, Side::Sell, dec!(140), dec!(1.92307)),
                order(2, Side::Buy, dec!(120), dec!(2.08333)),
                order(1, Side::Buy, dec!(110), dec!(2.27272)),
                order(0, Side::Buy, dec!(100), dec!(2.5)),
            ],
            amount_per_grid: dec!(250),
            profit_per_grid: ProfitRange { min: dec!(7.4846), max: dec!(9.79) },
            required_quote: dec!(991.37293255),
            required_base: dec!(1.92307),
            estimated_fees: dec!(1.0192286),
            warnings: vec![],
        }
    );
    // The same start on a live engine places exactly the previewed orders.
    let mut e = live(BotSettings::SpotGrid(g.clone()));
    e.on_quote(&at(1_000, dec!(125)));
    let placed: Vec<(String, Decimal)> = open_orders(&e).into_iter().map(|o| (o.1, o.2)).collect();
    assert_eq!(
        placed,
        vec![
            ("Grid sell #3".to_string(), dec!(140)),
            ("Grid buy #2".to_string(), dec!(120)),
            ("Grid buy #1".to_string(), dec!(110)),
            ("Grid buy #0".to_string(), dec!(100))
        ]
    );

    // Warnings: outside the range, more than the paper balance, levels below the minimum.
    let p = preview(&BotSettings::SpotGrid(g.clone()), &m, dec!(150), dec!(0.001), dec!(500)).unwrap();
    assert_eq!(p.warnings, vec!["price is outside the grid range", "requiredQuote exceeds the paper balance 500 USDT"]);
    assert_eq!(p.orders.len(), 4, "above the range: every level buys");
    let tiny = crate::settings::GridSettings { investment_amount: dec!(0.0036), trade_to_fill_grid: None, ..g };
    let p = preview(&BotSettings::SpotGrid(tiny), &m, dec!(125), dec!(0.001), dec!(10000)).unwrap();
    assert_eq!(p.warnings, vec!["4 grid levels trade less than the minimum trade amount 0.00001 BTC"]);
    assert!(p.orders.is_empty());
    // Only grids have a preview.
    let e = preview(&BotSettings::SpotDca(dca()), &m, dec!(125), dec!(0.001), dec!(10000)).unwrap_err();
    assert_eq!(e.to_string(), "validation failed: type: a preview is only for grid bots");
}

#[test]
fn a_futures_grid_preview_needs_margin() {
    // Futures grid 100–120 in 2 grids, 100 USDT ×10: 500/100 = 5 @100, 500/110 = 4.54545
    // @110. At 115 both buy; they hold margin + fee: 50 + 0.5 and 49.99995 + 0.4999995.
    let mut g = grid(dec!(100), dec!(120), 2, dec!(100));
    g.investment_asset = None;
    g.leverage = Some(10);
    let p = preview(&BotSettings::FuturesGrid(g), &MarketSpec::sim_btc_usdt(), dec!(115), dec!(0.001), dec!(10000))
        .unwrap();
    assert_eq!(p.required_quote, dec!(100.9999495));
    assert_eq!((p.required_base, p.amount_per_grid), (dec!(0), dec!(50)));
}
