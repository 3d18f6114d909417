//! Throughput benchmark of the engine: the spot grid and the DCA bot over the real 1-minute
//! BTC/USDT series and over a 1,000,000-candle ping-pong replication of it, then a live grid
//! over 10,000,000 quotes.
//!
//! ```text
//! cargo run --release -p engine --bin engine-bench -- --data deploy/local/marketdata/BTC_USDT-1m.csv
//! ```
//!
//! Options: `--data <csv>`, `--runs <n>` (default 5), `--candles <n>` (default 1,000,000),
//! `--quotes <n>` (default 10,000,000), `--only <grid-real | dca-real | live | load>`.
//! Prints the median candles/s of the runs (each run: set-up, all candles fed in chunks of
//! 10,000 like the backtest-executor does, and the report), the fills, and the peak RSS
//! (`VmHWM` from `/proc/self/status`).
//!
//! The live run feeds the spot grid four quotes per candle of the ping-pong series (open,
//! high, low, close, 15 s apart, bid and ask one tick around the price), drains the events
//! and compacts every 1,000 quotes as the runner does, and prints quotes/s, the events, and
//! the most orders and positions the engine kept at once: memory stays flat however long
//! it runs.
//!
//! `--only` runs one thing once (no ping-pong series unless `live`), for instruction counts:
//! `valgrind --tool=callgrind target/release/engine-bench --only grid-real` (minus
//! `--only load`, which only reads the CSV) is the cost of one 46,001-candle backtest.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use engine::settings::{DcaDirection, DcaSettings, GridMode, GridSettings, InvestmentAsset};
use engine::{BotSettings, Candle, Engine, EventKind, LiveConfig, MarketSpec, Quote, RunConfig};
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
    quotes: usize,
    only: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata/BTC_USDT-1m.csv"),
        runs: 5,
        candles: 1_000_000,
        quotes: 10_000_000,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--data" => a.data = PathBuf::from(v),
            "--runs" => a.runs = v.parse().map_err(|e| format!("--runs: {e}"))?,
            "--candles" => a.candles = v.parse().map_err(|e| format!("--candles: {e}"))?,
            "--quotes" => a.quotes = v.parse().map_err(|e| format!("--quotes: {e}"))?,
            "--only" => a.only = Some(v),
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
    if let Some(only) = &a.only {
        let settings = match only.as_str() {
            "grid-real" => grid(),
            "dca-real" => dca(),
            "live" => return live(&real, a.quotes),
            "load" => return Ok(()),
            _ => return Err(format!("--only: unknown run {only}")),
        };
        let mut e = Engine::new(settings, market.clone(), RunConfig::default()).map_err(|e| e.to_string())?;
        for chunk in real.chunks(CHUNK) {
            e.on_candles(chunk);
        }
        let fills = e.snapshot().fills;
        let r = e.finish();
        println!("{only}: {fills} fills, fees {}, max drawdown {}", r.summary.fee_costs, r.performance.max_drawdown);
        return Ok(());
    }
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
    live(&real, a.quotes)?;
    println!();
    println!("peak RSS (VmHWM): {} kB", peak_rss_kb());
    Ok(())
}

/// The spot grid live over `n` quotes of the ping-pong series, drained and compacted every
/// 1,000 quotes.
fn live(real: &[Candle], n: usize) -> Result<(), String> {
    const DRAIN_EVERY: usize = 1_000;
    let market = MarketSpec::sim_btc_usdt();
    let mut e = Engine::live(grid(), market, RunConfig::default(), LiveConfig::default()).map_err(|e| e.to_string())?;
    let (mut events, mut fills, mut most) = (0usize, 0usize, (0usize, 0usize));
    let t = Instant::now();
    for (i, q) in quotes(real).take(n).enumerate() {
        e.on_quote(&q);
        if (i + 1).is_multiple_of(DRAIN_EVERY) {
            let drained = e.drain();
            events += drained.len();
            fills += drained.iter().filter(|ev| matches!(ev.kind, EventKind::OrderFilled { .. })).count();
            e.compact();
            let (o, p) = e.retained();
            most = (most.0.max(o), most.1.max(p));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let pnl = e.pnl();
    println!("live grid: {n} quotes in {secs:.1} s ({:.0} quotes/s), {events} events, {fills} fills", n as f64 / secs);
    println!(
        "  kept at most {} orders and {} positions at once; realized gross {}, fees {}, equity {}",
        most.0,
        most.1,
        pnl.realized_gross.round_dp(2),
        pnl.fees.round_dp(2),
        pnl.equity.round_dp(2)
    );
    println!("  peak RSS (VmHWM): {} kB", peak_rss_kb());
    Ok(())
}

/// Four quotes per candle of the ping-pong replication of `src` (open, high, low, close,
/// 15 s apart on a one-minute grid), bid and ask one tick around the price; built lazily, so
/// ten million quotes take no memory.
fn quotes(src: &[Candle]) -> impl Iterator<Item = Quote> + '_ {
    let first = src.first().map_or(0, |c| c.open_time) * 1000;
    let len = src.len().max(1);
    (0usize..).flat_map(move |k| {
        let pass = k / len;
        let i = k % len;
        let forward = pass.is_multiple_of(2);
        let c = if forward { src.get(i) } else { src.get(len - 1 - i) };
        let points = match c {
            Some(c) if forward => [c.open, c.high, c.low, c.close],
            Some(c) => [c.close, c.high, c.low, c.open],
            None => [engine::Price(1); 4],
        };
        let t = first + 60_000 * k as i64;
        points
            .into_iter()
            .enumerate()
            .filter_map(move |(j, p)| Quote::from_ticks(t + 15_000 * j as i64, (p.0 - 1).max(1), p.0 + 1, p.0).ok())
    })
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
