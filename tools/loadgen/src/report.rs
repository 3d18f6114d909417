//! The printed results: one row per (scenario, path), the ratio and the verdict per
//! scenario, and where the CPU went.

use crate::runner::Measurement;
use crate::scenarios::{Outcome, Path, Scenario};
use std::fmt::Write as _;

/// The gateway path must reach at least this share of the direct path's requests/s.
pub const MIN_RATIO: f64 = 0.50;
/// The gateway path's p99 must be at most this, in milliseconds.
pub const MAX_P99_MS: f64 = 25.0;

/// Both runs of one scenario.
pub struct ScenarioResult {
    /// Which one.
    pub scenario: Scenario,
    /// Through the gateway.
    pub gateway: Outcome,
    /// Directly on Postgres (`None` when the gateway run was skipped).
    pub direct: Option<Outcome>,
    /// The paced rate of both runs (`--rate`), `None` for closed-loop runs.
    pub rate: Option<f64>,
}

/// A paced run must deliver at least this share of its rate, or the path could not keep up.
pub const MIN_PACED_SHARE: f64 = 0.95;

/// Whether a scenario met its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every target met.
    Pass,
    /// At least one missed.
    Fail,
    /// Not measured.
    Skipped,
}

impl ScenarioResult {
    fn measured(&self) -> Option<(&Measurement, &Measurement)> {
        match (&self.gateway, &self.direct) {
            (Outcome::Measured(gateway), Some(Outcome::Measured(direct))) => Some((gateway, direct)),
            _ => None,
        }
    }

    /// gateway req/s ÷ direct req/s.
    pub fn ratio(&self) -> Option<f64> {
        self.measured().and_then(|(gateway, direct)| (direct.rate() > 0.0).then(|| gateway.rate() / direct.rate()))
    }

    /// Closed loop: the ratio is at least [`MIN_RATIO`]. Paced: both paths kept up with the
    /// rate (a ratio of paced runs only says that).
    fn throughput_ok(&self) -> bool {
        match (self.rate, self.measured()) {
            (Some(rate), Some((gateway, direct))) => {
                gateway.rate() >= rate * MIN_PACED_SHARE && direct.rate() >= rate * MIN_PACED_SHARE
            }
            _ => self.ratio().is_some_and(|ratio| ratio >= MIN_RATIO),
        }
    }

    /// The verdict against [`MIN_RATIO`] (closed loop) or the rate (paced) and [`MAX_P99_MS`],
    /// with no errors on either path.
    pub fn verdict(&self) -> Verdict {
        let Some((gateway, direct)) = self.measured() else { return Verdict::Skipped };
        let ratio_ok = self.throughput_ok();
        let p99_ok = gateway.percentile_ms(0.99).is_some_and(|p99| p99 <= MAX_P99_MS);
        if ratio_ok && p99_ok && gateway.errors() == 0 && direct.errors() == 0 { Verdict::Pass } else { Verdict::Fail }
    }

    /// The lines that judge the scenario.
    pub fn judgement(&self) -> String {
        let Some((gateway, direct)) = self.measured() else {
            return match &self.gateway {
                Outcome::Skipped(reason) => format!("  SKIPPED: {reason}"),
                Outcome::Measured(_) => "  SKIPPED: no direct run".to_string(),
            };
        };
        let ratio = self.ratio().unwrap_or(0.0);
        let p99 = gateway.percentile_ms(0.99).unwrap_or(f64::INFINITY);
        let mark = |ok: bool| if ok { "ok" } else { "MISSED" };
        let throughput = match self.rate {
            Some(rate) => format!(
                "paced at {rate} req/s: gateway {:.1}, direct {:.1} req/s (both >= {:.0} %: {})",
                gateway.rate(),
                direct.rate(),
                MIN_PACED_SHARE * 100.0,
                mark(self.throughput_ok()),
            ),
            None => format!(
                "gateway/direct = {:.1} % (target >= {:.0} %: {})",
                ratio * 100.0,
                MIN_RATIO * 100.0,
                mark(self.throughput_ok())
            ),
        };
        let mut text = format!(
            "  {throughput}, gateway p99 = {:.1} ms (target <= {:.0} ms: {})",
            p99,
            MAX_P99_MS,
            mark(p99 <= MAX_P99_MS),
        );
        let errors = gateway.errors() + direct.errors();
        if errors > 0 {
            let _ = write!(text, ", {errors} errors");
        }
        let verdict = match self.verdict() {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "SKIPPED",
        };
        let _ = write!(text, " => {verdict}");
        text
    }
}

/// The column titles.
pub fn header() -> String {
    format!(
        "{:<15} {:<8} {:>9} {:>9} {:>8} {:>8} {:>7}",
        "scenario", "path", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    )
}

/// One row.
pub fn row(scenario: Scenario, path: Path, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Skipped(_) => format!("{:<15} {:<8} {:>9}", scenario.name(), path.name(), "skipped"),
        Outcome::Measured(m) => {
            let ms = |q: f64| m.percentile_ms(q).map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
            format!(
                "{:<15} {:<8} {:>9} {:>9.1} {:>8} {:>8} {:>7}",
                scenario.name(),
                path.name(),
                m.requests(),
                m.rate(),
                ms(0.5),
                ms(0.99),
                m.errors()
            )
        }
    }
}

/// The failures of a run, one line per kind.
pub fn failures(measurement: &Measurement) -> Vec<String> {
    measurement.failures.iter().map(|(failure, count)| format!("    {count} x {failure}")).collect()
}

/// Where the CPU went during a run (percent of one core per process group).
pub fn cpu(measurement: &Measurement) -> Option<String> {
    let usage = measurement.cpu.as_ref()?;
    let mut text = String::from("    cpu:");
    for (group, percent) in &usage.groups {
        let _ = write!(text, " {group} {percent:.0} %,");
    }
    let _ = write!(
        text,
        " other {:.0} % (of one core); machine {:.0} % busy",
        usage.other_percent, usage.machine_busy_percent
    );
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(gateway: Measurement, direct: Measurement, rate: Option<f64>) -> ScenarioResult {
        ScenarioResult {
            scenario: Scenario::State,
            gateway: Outcome::Measured(gateway),
            direct: Some(Outcome::Measured(direct)),
            rate,
        }
    }

    #[test]
    fn closed_loop_runs_are_judged_on_the_ratio_and_the_p99() {
        let passing = result(Measurement::of(600, 20, 1), Measurement::of(1000, 10, 1), None);
        assert_eq!(passing.ratio(), Some(0.6));
        assert_eq!(passing.verdict(), Verdict::Pass);
        let slow = result(Measurement::of(600, 30, 1), Measurement::of(1000, 10, 1), None);
        assert_eq!(slow.verdict(), Verdict::Fail);
        let low = result(Measurement::of(400, 20, 1), Measurement::of(1000, 10, 1), None);
        assert_eq!(low.verdict(), Verdict::Fail);
        assert!(low.judgement().contains("40.0 %"), "{}", low.judgement());
    }

    #[test]
    fn paced_runs_are_judged_on_keeping_up_and_the_p99() {
        let kept_up = result(Measurement::of(300, 20, 1), Measurement::of(300, 5, 1), Some(300.0));
        assert_eq!(kept_up.verdict(), Verdict::Pass);
        let behind = result(Measurement::of(200, 20, 1), Measurement::of(300, 5, 1), Some(300.0));
        assert_eq!(behind.verdict(), Verdict::Fail);
    }

    #[test]
    fn a_skipped_scenario_says_why() {
        let skipped = ScenarioResult {
            scenario: Scenario::Transactions,
            gateway: Outcome::Skipped("route not deployed".to_string()),
            direct: None,
            rate: None,
        };
        assert_eq!(skipped.verdict(), Verdict::Skipped);
        assert_eq!(skipped.judgement(), "  SKIPPED: route not deployed");
    }
}
