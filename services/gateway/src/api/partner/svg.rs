//! `equity.svg`: the equity curve (top) and its drawdown (bottom) as a hand-written SVG.

use bus::messages::backtest::BacktestEquity;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 10.0;
const EQUITY_TOP: f64 = 30.0;
const EQUITY_BOTTOM: f64 = 270.0;
const DRAWDOWN_TOP: f64 = 300.0;
const DRAWDOWN_BOTTOM: f64 = 400.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Renders the curve. Coordinates are `f64` (drawing only; the data stays exact elsewhere).
pub fn render(equity: &BacktestEquity) -> String {
    let points: Vec<(f64, f64, f64)> = equity
        .points
        .iter()
        .map(|p| (p.time as f64, p.equity.to_f64().unwrap_or(0.0), p.drawdown.to_f64().unwrap_or(0.0)))
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="18" font-size="13">Equity and drawdown, {} ({})</text>"#,
        escape(&equity.market),
        equity.backtest_id
    );
    if points.is_empty() {
        svg.push_str(r#"<text x="70" y="150">No equity points</text></svg>"#);
        return svg;
    }
    let (t0, t1) = (points[0].0, points[points.len() - 1].0);
    let span = if t1 > t0 { t1 - t0 } else { 1.0 };
    let x = |t: f64| LEFT + (t - t0) / span * (WIDTH - LEFT - RIGHT);
    let min_equity = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max_equity = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let equity_span = if max_equity > min_equity { max_equity - min_equity } else { 1.0 };
    let y_equity = |e: f64| EQUITY_BOTTOM - (e - min_equity) / equity_span * (EQUITY_BOTTOM - EQUITY_TOP);
    let deepest = points.iter().map(|p| p.2).fold(0.0_f64, f64::min);
    let drawdown_span = if deepest < 0.0 { -deepest } else { 1.0 };
    let y_drawdown = |d: f64| DRAWDOWN_TOP + (-d) / drawdown_span * (DRAWDOWN_BOTTOM - DRAWDOWN_TOP);

    let mut line = String::new();
    for (t, e, _) in &points {
        let _ = write!(line, "{:.1},{:.1} ", x(*t), y_equity(*e));
    }
    let _ =
        write!(svg, r##"<polyline fill="none" stroke="#1e88e5" stroke-width="1.5" points="{}"/>"##, line.trim_end());
    let mut area = format!("{:.1},{DRAWDOWN_TOP:.1} ", x(t0));
    for (t, _, d) in &points {
        let _ = write!(area, "{:.1},{:.1} ", x(*t), y_drawdown(*d));
    }
    let _ = write!(area, "{:.1},{DRAWDOWN_TOP:.1}", x(t1));
    let _ = write!(svg, r##"<polygon fill="#e53935" fill-opacity="0.4" stroke="#e53935" points="{area}"/>"##);
    for (y, label) in [
        (EQUITY_TOP, format!("{max_equity:.2}")),
        (EQUITY_BOTTOM, format!("{min_equity:.2}")),
        (DRAWDOWN_TOP, "0".to_string()),
        (DRAWDOWN_BOTTOM, format!("{deepest:.2}")),
    ] {
        let _ = write!(svg, r#"<text x="{}" y="{:.1}" text-anchor="end">{label}</text>"#, LEFT - 4.0, y + 4.0);
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{EQUITY_BOTTOM}" x2="{}" y2="{EQUITY_BOTTOM}" stroke="#999"/><text x="{LEFT}" y="{}">drawdown</text></svg>"##,
        WIDTH - RIGHT,
        DRAWDOWN_TOP - 6.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use bus::messages::backtest::EquitySample;
    use rust_decimal::dec;

    #[test]
    fn renders_a_curve_and_an_area() {
        let equity = BacktestEquity {
            backtest_id: uuid::Uuid::nil(),
            market: "SIM:BTC-USDT".into(),
            points: vec![
                EquitySample { time: 0, equity: dec!(10000), drawdown: dec!(0) },
                EquitySample { time: 60, equity: dec!(9900), drawdown: dec!(-100) },
                EquitySample { time: 120, equity: dec!(10100), drawdown: dec!(0) },
            ],
        };
        let svg = render(&equity);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<polyline") && svg.contains("<polygon"));
        assert!(svg.contains("SIM:BTC-USDT"));
        let empty = render(&BacktestEquity { points: vec![], ..equity });
        assert!(empty.contains("No equity points") && empty.ends_with("</svg>"));
    }
}
