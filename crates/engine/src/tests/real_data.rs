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

/// FNV-1a, 64 bits: a fingerprint of a text that needs no dependency.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Backtests stay exactly what they were before the live path (ms time, events, checkpoints,
/// compaction) came in: the fills, fee total, max drawdown, every log line and the whole
/// report (orders, positions, equity curve) of the benchmark's grid and DCA, fingerprinted
/// from the engine as it was before.
#[test]
fn backtests_are_unchanged_by_the_live_path() {
    let c = load();
    let g = grid(Decimal::from(25_000), Decimal::from(31_000), 30, Decimal::from(9_900));
    let cases = [
        (
            BotSettings::SpotGrid(g),
            165,
            "54.596018",
            "-807.2846577",
            433,
            0x0114_2374_6110_c025_u64,
            0xf7dc_bdcf_fe0e_0627_u64,
        ),
        (
            BotSettings::SpotDca(dca()),
            33,
            "7.7351545078",
            "-158.1260090144",
            157,
            0x48f3_8fb6_0dfe_c6d3,
            0xaa08_0dd7_47ef_d040,
        ),
    ];
    for (bot, fills, fees, max_dd, lines, log_hash, report_hash) in cases {
        let r = run(bot, RunConfig::default(), &c);
        assert_eq!(r.orders_stats.filled, fills);
        assert_eq!(r.summary.fee_costs.to_string(), fees);
        assert_eq!(r.performance.max_drawdown.to_string(), max_dd);
        let logs: Vec<String> = r.logs.iter().map(crate::LogLine::to_results_string).collect();
        assert_eq!(logs.len(), lines);
        assert_eq!(fnv(&logs.join("\n")), log_hash, "log lines changed");
        assert_eq!(fnv(&serde_json::to_string(&r).unwrap()), report_hash, "the report changed");
    }
}
