//! Daily-return metrics end to end, over four days worked by hand.

use rust_decimal::dec;

use super::*;
use crate::settings::{Signal, SignalAction};

#[test]
fn sharpe_and_sortino_over_daily_closes() {
    // No fees. Day 0: buy 10 BTC at 100 (equity 10,000); the last closes of days 1, 2, 3
    // are 110, 99, 99: equity 10,100, 9,990, 9,990.
    // Daily returns from the start (10,000): 0, 0.01, 9,990/10,100 − 1 = −0.0108910891, 0.
    // mean = −0.000222772277; sample variance = 0.0000728057707 → sd 0.00853263;
    // Sharpe = −0.000222772 / 0.00853263 × √365 = −0.498798.
    // Downside: (−0.0108910891)² / 4 = 0.0000296539555 → dd 0.00544554;
    // Sortino = −0.000222772 / 0.00544554 × √365 = −0.781567.
    const DAY: i64 = 86_400;
    let w = webhook(vec![Signal { timestamp: T0 + 60, action: SignalAction::Buy, amount: dec!(10), price: None }]);
    let m = MarketSpec::sim_btc_usdt();
    let rows = [(T0, dec!(100)), (T0 + DAY, dec!(110)), (T0 + 2 * DAY, dec!(99)), (T0 + 3 * DAY, dec!(99))];
    let c: Vec<Candle> = rows.iter().map(|(t, p)| Candle::from_decimals(&m, *t, [*p; 4], dec!(1)).unwrap()).collect();
    let cfg = RunConfig { fee_rate: dec!(0), ..RunConfig::default() };
    let r = run(BotSettings::Webhook(w), cfg.clone(), &c);
    assert_eq!(r.performance.sharpe_ratio, Some(dec!(-0.498798)));
    assert_eq!(r.performance.sortino_ratio, Some(dec!(-0.781567)));
    // Drawdown: 10,100 → 9,990 = 110, 1.0891089 % of the peak.
    assert_eq!(r.performance.max_drawdown, dec!(-110));
    assert_eq!(r.performance.max_drawdown_percent.round_dp(7), dec!(-1.0891089));
    assert_eq!((r.performance.highest_profit, r.performance.lowest_profit), (dec!(100), dec!(-10)));
    // 252 days a year: −0.0261075 × √252 = −0.414456.
    let r = run(
        BotSettings::Webhook(webhook(vec![Signal {
            timestamp: T0 + 60,
            action: SignalAction::Buy,
            amount: dec!(10),
            price: None,
        }])),
        RunConfig { annualisation_days: 252, ..cfg },
        &c,
    );
    assert_eq!(r.performance.sharpe_ratio, Some(dec!(-0.414456)));
}
