//! The benchmark's bots over the real 1-minute BTC/USDT series kept in the repository.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;

fn load() -> Vec<Candle> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/local/marketdata/BTC_USDT-1m.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let m = MarketSpec::sim_btc_usdt();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let d = |i: usize| Decimal::from_str(f[i]).unwrap();
            let ts: i64 = f[0].parse().unwrap();
            Candle::from_decimals(&m, ts / 1000, [d(1), d(2), d(3), d(4)], d(5)).unwrap()
        })
        .collect()
}

#[test]
fn benchmark_bots_on_real_candles() {
    let c = load();
    assert_eq!(c.len(), 46_001);
    let mut g = grid(Decimal::from(25_000), Decimal::from(31_000), 30, Decimal::from(9_900));
    g.symbol = "SIM_BTC_USDT_".into();
    for bot in [BotSettings::SpotGrid(g), BotSettings::SpotDca(dca())] {
        let r = run(bot.clone(), RunConfig::default(), &c);
        assert!(r.orders_stats.filled > 10, "{bot:?}");
        assert_eq!(r.candles, 46_001);
        assert!(r.equity.len() <= 2001);
        let unrealized: Decimal = r.positions.iter().map(|p| p.unrealized_profit).sum();
        assert_eq!(r.final_equity - r.starting_equity, r.summary.realized_profit + unrealized);
        // A month of data: ~32 daily returns, so the ratios exist.
        assert!(r.performance.sharpe_ratio.is_some() && r.performance.sortino_ratio.is_some());
        // 30,015.32 → 26,072.00 (the last close): the month's fall.
        assert!(r.summary.price_change < Decimal::from(-10));
        assert_eq!(r, run(bot, RunConfig::default(), &c), "deterministic");
    }
}
