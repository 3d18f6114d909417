//! `equity.svg` drawn from curves shaped like a grid run, a DCA run and a run with no
//! drawdown: every point stays inside its own panel and the viewBox, the drawdown panel is
//! scaled to the run's deepest drawdown, and both value axes carry values and units. (The
//! end-to-end tests check the same on real runs.)

use crate::svg_geometry::{Picture, check};
use bus::messages::backtest::{BacktestEquity, EquitySample};
use gateway::api::partner::svg::render;
use rust_decimal::Decimal;

const START: i64 = 1_689_677_460;

/// A curve from equity values one hour apart, with the drawdown from the running peak as the
/// engine stores it (≥ 0).
fn curve(values: &[f64]) -> BacktestEquity {
    let mut peak = f64::MIN;
    let points = values
        .iter()
        .enumerate()
        .map(|(n, value)| {
            let equity = Decimal::from_f64_retain(*value).unwrap().round_dp(7);
            peak = peak.max(*value);
            let drawdown = Decimal::from_f64_retain(peak - value).unwrap().round_dp(7);
            EquitySample { time: START + 3_600 * n as i64, equity, drawdown }
        })
        .collect();
    BacktestEquity {
        backtest_id: domain::BacktestId::from_uuid(uuid::Uuid::nil()),
        market: "SIM:BTC-USDT".into(),
        points,
    }
}

/// A month of a grid bot in a ranging market: waves around 9,900 with a dip of about 594.
fn grid() -> Vec<f64> {
    (0..768).map(|n| 9_900.0 + 400.0 * (n as f64 / 40.0).sin() - 194.0 * (n as f64 / 300.0).sin().powi(8)).collect()
}

/// A DCA bot: slow gains, each cut by a fall the safety orders average into.
fn dca() -> Vec<f64> {
    (0..768)
        .map(|n| 10_000.0 + n as f64 * 1.5 - if n % 200 > 150 { (n % 200 - 150) as f64 * 30.0 } else { 0.0 })
        .collect()
}

fn labels(picture: &Picture, panel: &str) -> Vec<String> {
    picture.panel_texts(panel).into_iter().map(str::to_string).collect()
}

/// A value label (`−1,200.50`) as a number.
fn value(label: &str) -> Option<f64> {
    label.replace('\u{2212}', "-").replace(',', "").parse().ok()
}

/// The drawdown axis is scaled to the run: its deepest label lies between the run's max
/// drawdown and twice it, and the note names the max drawdown itself.
fn assert_scaled_to(picture: &Picture, equity: &BacktestEquity) {
    let deepest = equity.points.iter().map(|p| p.drawdown.abs()).max().unwrap();
    let labels = labels(picture, "drawdown-panel");
    let axis = labels.iter().filter_map(|label| value(label)).fold(0.0, f64::min);
    let max = f64::try_from(deepest).unwrap();
    assert!(-axis >= max && -axis <= 2.0 * max, "axis down to {axis} for a max drawdown of {max}: {labels:?}");
    let note = labels.iter().find(|label| label.starts_with("max drawdown ")).expect("a max drawdown note");
    let shown = value(note.trim_start_matches("max drawdown ").split(' ').next().unwrap()).unwrap();
    assert!((shown + max).abs() < 0.006, "{note} for {max}");
    assert!(note.contains(" USDT ("), "{note}");
}

#[test]
fn a_grid_run_keeps_its_deep_drawdown_inside_the_drawdown_panel() {
    let equity = curve(&grid());
    let deepest = equity.points.iter().map(|p| p.drawdown).max().unwrap();
    assert!(deepest > Decimal::from(500), "the fixture dips: {deepest}");
    let picture = check(&render(&equity));
    let drawdown = labels(&picture, "drawdown-panel");
    assert!(drawdown.contains(&"Drawdown (USDT)".to_string()), "{drawdown:?}");
    assert!(drawdown.contains(&"0".to_string()), "zero at the top: {drawdown:?}");
    assert_scaled_to(&picture, &equity);
    let equity_labels = labels(&picture, "equity-panel");
    assert!(equity_labels.contains(&"Equity (USDT)".to_string()), "{equity_labels:?}");
    assert!(equity_labels.iter().any(|label| label.contains(',') && label.starts_with("9,")), "{equity_labels:?}");
    assert!(picture.all_texts().contains(&"Time (UTC)"));
    assert!(picture.all_texts().iter().any(|text| text.starts_with("2023-07-")), "{:?}", picture.all_texts());
}

#[test]
fn a_dca_run_is_drawn_inside_its_panels() {
    let equity = curve(&dca());
    let picture = check(&render(&equity));
    assert_scaled_to(&picture, &equity);
}

#[test]
fn a_run_with_no_drawdown_draws_a_flat_band_on_the_zero_line() {
    let rising: Vec<f64> = (0..100).map(|n| 10_000.0 + n as f64).collect();
    let picture = check(&render(&curve(&rising)));
    let drawdown = labels(&picture, "drawdown-panel");
    assert!(drawdown.contains(&"no drawdown".to_string()) && drawdown.contains(&"0".to_string()), "{drawdown:?}");
    let top = picture.panels["drawdown-panel"].y;
    let band = picture.shapes.iter().find(|s| s.kind == "polygon").unwrap();
    assert!(band.points.iter().all(|(_, y)| (y - top).abs() < 0.06), "{band:?}");
    // A flat curve and a single point are drawn too.
    check(&render(&curve(&[10_000.0; 5])));
    check(&render(&curve(&[10_000.0])));
}

#[test]
fn a_drawdown_sent_negative_is_drawn_the_same() {
    let positive = curve(&grid());
    let mut negative = positive.clone();
    for point in &mut negative.points {
        point.drawdown = -point.drawdown;
    }
    assert_eq!(render(&positive), render(&negative));
}
