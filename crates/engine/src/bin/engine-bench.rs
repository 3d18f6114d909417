//! Throughput benchmark of the engine: the spot grid and the DCA bot over the real 1-minute
//! BTC/USDT series and over a 1,000,000-candle ping-pong replication of it.
//!
//! ```text
//! cargo run --release -p engine --bin engine-bench -- --data deploy/local/marketdata/BTC_USDT-1m.csv
//! ```
//!
//! Options: `--data <csv>`, `--runs <n>` (default 5), `--candles <n>` (default 1,000,000).
//! Prints the median candles/s of the runs (each run: set-up, all candles fed in chunks of
//! 10,000 like the backtest-executor does, and the report), the fills, and the peak RSS
//! (`VmHWM` from `/proc/self/status`).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use engine::settings::{DcaDirection, DcaSettings, GridMode, GridSettings, InvestmentAsset};
use engine::{BotSettings, Candle, Engine, MarketSpec, RunConfig};
use rust_decimal::Decimal;
use rust_decimal::dec;

const CHUNK: usize = 10_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("engine-bench: {e}");
        std::process::exit(1);
    }
}

struct Args {
    data: PathBuf,
    runs: usize,
    candles: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata/BTC_USDT-1m.csv"),
        runs: 5,
        candles: 1_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--data" => a.data = PathBuf::from(v),
            "--runs" => a.runs = v.parse().map_err(|e| format!("--runs: {e}"))?,
            "--candles" => a.candles = v.parse().map_err(|e| format!("--candles: {e}"))?,
            _ => return Err(format!("unknown option {k}")),
        }
    }
    if a.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(a)
}

fn run() -> Result<(), String> {
    let a = args()?;
    let market = MarketSpec::sim_btc_usdt();
    let t = Instant::now();
    let real = load(&a.data, &market)?;
    println!("loaded {} candles from {} in {:.0} ms", real.len(), a.data.display(), t.elapsed().as_secs_f64() * 1e3);
    let long = ping_pong(&real, a.candles);
    println!("built a ping-pong series of {} candles", long.len());
    println!("peak RSS after loading: {} kB", peak_rss_kb());
    println!();
    println!(
        "{:<6} {:<10} {:>10} {:>16} {:>8} {:>14} {:>12}",
        "bot", "series", "candles", "median c/s", "fills", "realized", "final eq"
    );
    for (bot, settings) in [("grid", grid()), ("dca", dca())] {
        for (name, series) in [("real-1m", &real), ("pingpong", &long)] {
            let mut rates = Vec::with_capacity(a.runs);
            let mut last = None;
            for _ in 0..a.runs {
                let t = Instant::now();
                let mut e =
                    Engine::new(settings.clone(), market.clone(), RunConfig::default()).map_err(|e| e.to_string())?;
                for chunk in series.chunks(CHUNK) {
                    e.on_candles(chunk);
                }
                let fills = e.snapshot().fills;
                let report = e.finish();
                rates.push(series.len() as f64 / t.elapsed().as_secs_f64());
                last = Some((fills, report));
            }
            rates.sort_by(f64::total_cmp);
            let median = rates[rates.len() / 2];
            if let Some((fills, r)) = last {
                println!(
                    "{bot:<6} {name:<10} {:>10} {:>16.0} {fills:>8} {:>14} {:>12}",
                    series.len(),
                    median,
                    r.summary.realized_profit.round_dp(2),
                    r.final_equity.round_dp(2)
                );
            }
        }
    }
    println!();
    println!("peak RSS (VmHWM): {} kB", peak_rss_kb());
    Ok(())
}

/// The benchmark's spot grid: 25,000–31,000, 30 grids, 9,900 USDT.
fn grid() -> BotSettings {
    BotSettings::SpotGrid(GridSettings {
        symbol: "SIM_BTC_USDT_".into(),
        lower_limit: dec!(25000),
        upper_limit: dec!(31000),
        grid_mode: GridMode::Arithmetic,
        grid_count: 30,
        investment_asset: Some(InvestmentAsset::Quote),
        investment_amount: dec!(9900),
        trade_to_fill_grid: None,
        leverage: None,
        max_win: None,
        max_loss: None,
        start_condition: Default::default(),
        start_type: Default::default(),
        start_value: Decimal::ZERO,
        stop_condition: Default::default(),
        stop_type: Default::default(),
        stop_value: Decimal::ZERO,
        stop_exit: false,
        interval: None,
    })
}

/// The benchmark's DCA: base 100, 5 safety orders of 200 at 1 % steps, take profit 1 %.
fn dca() -> BotSettings {
    BotSettings::SpotDca(DcaSettings {
        symbol: "SIM_BTC_USDT_".into(),
        direction: DcaDirection::Buy,
        base_order_amount: dec!(100),
        safety_order_amount: dec!(200),
        max_safety_orders: 5,
        price_deviation: dec!(1),
        safety_order_step_scale: dec!(1),
        safety_order_volume_scale: dec!(1),
        take_profit: dec!(1),
        leverage: None,
        interval: None,
    })
}

fn load(path: &PathBuf, market: &MarketSpec) -> Result<Vec<Candle>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [ts, o, h, l, c, v] = f[..] else { return Err(format!("line {}: expected 6 fields", n + 1)) };
        let d = |s: &str| Decimal::from_str(s).map_err(|e| format!("line {}: {e}", n + 1));
        let ts: i64 = ts.parse().map_err(|e| format!("line {}: {e}", n + 1))?;
        let candle = Candle::from_decimals(market, ts / 1000, [d(o)?, d(h)?, d(l)?, d(c)?], d(v)?)
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        out.push(candle);
    }
    Ok(out)
}

/// Forward, then time-reversed with open and close swapped, forward again…, re-stamped on a
/// one-minute grid from the first candle's time.
fn ping_pong(src: &[Candle], len: usize) -> Vec<Candle> {
    let mut out = Vec::with_capacity(len);
    let Some(first) = src.first() else { return out };
    let mut forward = true;
    while out.len() < len {
        let pass: Box<dyn Iterator<Item = &Candle>> =
            if forward { Box::new(src.iter()) } else { Box::new(src.iter().rev()) };
        for c in pass.take(len - out.len()) {
            let t = first.open_time + 60 * out.len() as i64;
            let c = if forward {
                Candle { open_time: t, ..*c }
            } else {
                Candle { open_time: t, open: c.close, close: c.open, ..*c }
            };
            out.push(c);
        }
        forward = !forward;
    }
    out
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
