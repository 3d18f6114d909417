//! `equity.svg`: the equity curve and, under it, the drawdown from the running peak, as a
//! hand-written SVG.
//!
//! ```text
//!  ┌ title ──────────────────────────────────────────────┐
//!  │ equity   ┌ equity panel: line, start level, grid ─┐ │
//!  │ (quote)  └────────────────────────────────────────┘ │
//!  │                        max drawdown −x quote (y %)  │
//!  │ drawdown ┌ drawdown panel: 0 at the top, the run's┐ │
//!  │ (quote)  └ deepest drawdown at the bottom ────────┘ │
//!  │            time ticks (UTC)                         │
//!  └─────────────────────────────────────────────────────┘
//! ```
//!
//! Each panel is a `<g class="panel">` whose first child is its frame (`<rect
//! class="frame">`); every shape is drawn inside its own panel's frame (the scales clamp), so
//! the drawdown can never cover the equity line. Coordinates are `f64`: drawing only, the
//! data stays exact elsewhere.

mod axis;

use axis::{Scale, decimals_for, money, money_ticks, time_ticks};
use bus::messages::backtest::BacktestEquity;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 784.0;
const EQUITY: (f64, f64) = (48.0, 288.0);
const DRAWDOWN: (f64, f64) = (328.0, 428.0);

const EQUITY_COLOUR: &str = "#1e88e5";
const DRAWDOWN_COLOUR: &str = "#e53935";
const GRID_COLOUR: &str = "#e0e0e0";
const TEXT_COLOUR: &str = "#424242";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One sample in drawing units.
struct Sample {
    time: i64,
    equity: f64,
    /// Below the running peak, ≥ 0 (the sign the data carries does not matter).
    drawdown: f64,
}

/// Renders the chart.
pub fn render(equity: &BacktestEquity) -> String {
    let samples: Vec<Sample> = equity
        .points
        .iter()
        .map(|p| Sample {
            time: p.time,
            equity: p.equity.to_f64().unwrap_or(0.0),
            drawdown: p.drawdown.abs().to_f64().unwrap_or(0.0),
        })
        .collect();
    let quote = equity.market.rsplit_once('-').map_or("quote", |(_, quote)| quote);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11" fill="{TEXT_COLOUR}"><rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="22" font-size="14">Equity and drawdown, {} ({})</text>"#,
        escape(&equity.market),
        equity.backtest_id
    );
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        let _ = write!(svg, r#"<text x="{LEFT}" y="150">No equity points</text></svg>"#);
        return svg;
    };
    let time = Scale { low: first.time as f64, high: last.time as f64, from: LEFT, to: RIGHT };
    let ticks = time_ticks(first.time, last.time, 6);
    equity_panel(&mut svg, &samples, time, &ticks, quote);
    drawdown_panel(&mut svg, &samples, time, &ticks, quote);
    for (tick, label) in &ticks {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            time.at(*tick as f64),
            DRAWDOWN.1 + 16.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">Time (UTC)</text></svg>"#,
        (LEFT + RIGHT) / 2.0,
        DRAWDOWN.1 + 38.0
    );
    svg
}

/// Opens a panel group with its frame, the horizontal grid with value labels, the vertical
/// time grid and the axis title (rotated, left of the labels).
fn open_panel(
    svg: &mut String,
    id: &str,
    (top, bottom): (f64, f64),
    rows: &[(f64, String)],
    time: Scale,
    ticks: &[(i64, String)],
    title: &str,
) {
    let _ = write!(
        svg,
        r##"<g class="panel" id="{id}"><rect class="frame" x="{LEFT}" y="{top}" width="{}" height="{}" fill="#fafafa" stroke="#bdbdbd"/>"##,
        RIGHT - LEFT,
        bottom - top
    );
    for (y, label) in rows {
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{GRID_COLOUR}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (tick, _) in ticks {
        let x = time.at(*tick as f64);
        let _ = write!(svg, r#"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="{GRID_COLOUR}"/>"#);
    }
    let middle = (top + bottom) / 2.0;
    let _ = write!(
        svg,
        r#"<text x="16" y="{middle:.1}" text-anchor="middle" transform="rotate(-90 16 {middle:.1})">{}</text>"#,
        escape(title)
    );
}

fn equity_panel(svg: &mut String, samples: &[Sample], time: Scale, ticks: &[(i64, String)], quote: &str) {
    let min = samples.iter().map(|s| s.equity).fold(f64::INFINITY, f64::min);
    let max = samples.iter().map(|s| s.equity).fold(f64::NEG_INFINITY, f64::max);
    let (low, high, values) = money_ticks(min, max, 5.0);
    let decimals = values.get(1).zip(values.first()).map_or(0, |(b, a)| decimals_for(b - a));
    let y = Scale { low, high, from: EQUITY.1, to: EQUITY.0 };
    let rows: Vec<(f64, String)> = values.iter().map(|v| (y.at(*v), money(*v, decimals))).collect();
    open_panel(svg, "equity-panel", EQUITY, &rows, time, ticks, &format!("Equity ({quote})"));
    // The starting equity, dashed, so gains and losses read at a glance.
    let start = y.at(samples.first().map_or(low, |s| s.equity));
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{start:.1}" x2="{RIGHT}" y2="{start:.1}" stroke="#9e9e9e" stroke-dasharray="4 3"/>"##
    );
    let mut line = String::new();
    for sample in samples {
        let _ = write!(line, "{:.1},{:.1} ", time.at(sample.time as f64), y.at(sample.equity));
    }
    let _ = write!(
        svg,
        r#"<polyline fill="none" stroke="{EQUITY_COLOUR}" stroke-width="1.5" stroke-linejoin="round" points="{}"/></g>"#,
        line.trim_end()
    );
}

fn drawdown_panel(svg: &mut String, samples: &[Sample], time: Scale, ticks: &[(i64, String)], quote: &str) {
    // Depth as a share of the peak it fell from (peak = equity + drawdown).
    let deepest = samples.iter().map(|s| s.drawdown).fold(0.0, f64::max);
    let percent = samples
        .iter()
        .filter(|s| s.equity + s.drawdown > 0.0)
        .map(|s| s.drawdown / (s.equity + s.drawdown) * 100.0)
        .fold(0.0, f64::max);
    let (rows, y, note) = if deepest > 0.0 {
        let (_, bottom, values) = money_ticks(0.0, deepest, 3.0);
        let decimals = values.get(1).map_or(0, |step| decimals_for(*step));
        let y = Scale { low: 0.0, high: bottom, from: DRAWDOWN.0, to: DRAWDOWN.1 };
        let rows: Vec<(f64, String)> = values.iter().map(|v| (y.at(*v), money(-v, decimals))).collect();
        let note = format!("max drawdown {} {quote} ({percent:.2} %)", money(-deepest, 2));
        (rows, y, note)
    } else {
        // Nothing to scale to: the band stays on the zero line at the top.
        let y = Scale { low: 0.0, high: 1.0, from: DRAWDOWN.0, to: DRAWDOWN.1 };
        (vec![(DRAWDOWN.0, "0".to_string())], y, "no drawdown".to_string())
    };
    open_panel(svg, "drawdown-panel", DRAWDOWN, &rows, time, ticks, &format!("Drawdown ({quote})"));
    let (first, last) = (samples.first().map_or(0, |s| s.time), samples.last().map_or(0, |s| s.time));
    let mut edge = String::new();
    for sample in samples {
        let _ = write!(edge, "{:.1},{:.1} ", time.at(sample.time as f64), y.at(sample.drawdown));
    }
    let edge = edge.trim_end();
    let _ = write!(
        svg,
        r#"<polygon fill="{DRAWDOWN_COLOUR}" fill-opacity="0.3" stroke="none" points="{:.1},{top:.1} {edge} {:.1},{top:.1}"/>"#,
        time.at(first as f64),
        time.at(last as f64),
        top = DRAWDOWN.0
    );
    let _ = write!(
        svg,
        r#"<polyline fill="none" stroke="{DRAWDOWN_COLOUR}" stroke-width="1" points="{edge}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text></g>"#,
        RIGHT,
        DRAWDOWN.0 - 8.0,
        escape(&note)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use bus::messages::backtest::EquitySample;
    use rust_decimal::dec;

    #[test]
    fn renders_both_panels_and_says_when_there_is_nothing() {
        let equity = BacktestEquity {
            backtest_id: domain::BacktestId::from_uuid(uuid::Uuid::nil()),
            market: "SIM:BTC-USDT".into(),
            points: vec![
                EquitySample { time: 0, equity: dec!(10000), drawdown: dec!(0) },
                EquitySample { time: 60, equity: dec!(9900), drawdown: dec!(100) },
                EquitySample { time: 120, equity: dec!(10100), drawdown: dec!(0) },
            ],
        };
        let svg = render(&equity);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"id="equity-panel""#) && svg.contains(r#"id="drawdown-panel""#));
        assert!(svg.contains("Equity (USDT)") && svg.contains("Drawdown (USDT)") && svg.contains("Time (UTC)"));
        assert!(svg.contains("max drawdown \u{2212}100.00 USDT (1.00 %)"), "{svg}");
        let empty = render(&BacktestEquity { points: vec![], ..equity });
        assert!(empty.contains("No equity points") && empty.ends_with("</svg>"));
    }
}
