//! The driver: N tasks each call one operation for warm-up + duration; only calls that start
//! after the warm-up are recorded. Closed loop by default (each task calls again as soon as
//! its call returns); with a rate, each task calls on a fixed schedule and a call's latency
//! counts from its scheduled time, so a stalled server shows as latency rather than as fewer
//! calls (no coordinated omission).
//!
//! ```text
//!  t0 ──warm-up──► measure_start ────────── duration ──────────► end
//!  task i:  op op op op │ op op op op op op op op op op op op op │ (stops starting new calls)
//!                       └── latency of each recorded call, errors by kind
//! ```

use crate::cpu::{self, CpuUsage};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long to run.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Not recorded: connections open, caches and plans warm up.
    pub warmup: Duration,
    /// Recorded.
    pub duration: Duration,
    /// Total calls per second over all tasks; `None` for a closed loop.
    pub rate: Option<f64>,
}

/// What one call of the operation reports on failure: a short description that groups equal
/// failures (status and start of body, or the SQL error).
pub type Failure = String;

/// Distinct failure descriptions kept per task; further ones are counted as "other".
const MAX_FAILURE_KINDS: usize = 16;

/// The result of one run.
#[derive(Debug, Default)]
pub struct Measurement {
    /// Latency of every successful recorded call, in microseconds.
    latencies_us: Vec<u64>,
    /// Failed recorded calls by description.
    pub failures: BTreeMap<Failure, u64>,
    /// Length of the recorded window.
    pub window: Duration,
    /// CPU used by each process group during the recorded window, when `/proc` is readable.
    pub cpu: Option<CpuUsage>,
}

impl Measurement {
    /// Successful recorded calls.
    pub fn successes(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    /// Failed recorded calls.
    pub fn errors(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Every recorded call.
    pub fn requests(&self) -> u64 {
        self.successes() + self.errors()
    }

    /// Successful calls per second.
    pub fn rate(&self) -> f64 {
        let seconds = self.window.as_secs_f64();
        if seconds > 0.0 { self.successes() as f64 / seconds } else { 0.0 }
    }

    /// A measurement of `count` successful calls of `latency_ms` each over `seconds` (tests).
    #[cfg(test)]
    pub fn of(count: u64, latency_ms: u64, seconds: u64) -> Self {
        Self {
            latencies_us: vec![latency_ms * 1000; count as usize],
            window: Duration::from_secs(seconds),
            ..Self::default()
        }
    }

    /// The latency at `quantile` (0..=1) of the successful calls, in milliseconds.
    pub fn percentile_ms(&self, quantile: f64) -> Option<f64> {
        let count = self.latencies_us.len();
        if count == 0 {
            return None;
        }
        // Nearest rank on the sorted latencies (sorted once in `drive`).
        let rank = (quantile * count as f64).ceil() as usize;
        let index = rank.clamp(1, count) - 1;
        self.latencies_us.get(index).map(|us| *us as f64 / 1000.0)
    }
}

/// Runs `operation(client, sequence)` from `concurrency` tasks for the window.
pub async fn drive<F, Fut>(concurrency: usize, window: Window, operation: F) -> Measurement
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Failure>> + Send + 'static,
{
    let operation = Arc::new(operation);
    let start = Instant::now();
    let measure_start = start + window.warmup;
    let end = measure_start + window.duration;

    let cpu_task = tokio::spawn(async move {
        tokio::time::sleep_until(measure_start.into()).await;
        let before = cpu::snapshot();
        tokio::time::sleep_until(end.into()).await;
        let after = cpu::snapshot();
        before.zip(after).map(|(before, after)| cpu::usage(&before, &after))
    });

    // With a rate, each task calls every `interval`, the tasks staggered evenly across it.
    let interval =
        window.rate.filter(|rate| *rate > 0.0).map(|rate| Duration::from_secs_f64(concurrency as f64 / rate));
    let mut tasks = Vec::with_capacity(concurrency);
    for client in 0..concurrency {
        let operation = Arc::clone(&operation);
        let mut scheduled = interval.map(|interval| start + interval.mul_f64(client as f64 / concurrency as f64));
        tasks.push(tokio::spawn(async move {
            let mut latencies_us = Vec::new();
            let mut failures: BTreeMap<Failure, u64> = BTreeMap::new();
            let mut sequence = 0u64;
            loop {
                let started = match (&mut scheduled, interval) {
                    (Some(at), Some(interval)) => {
                        let this = *at;
                        *at += interval;
                        // Behind schedule: call at once, the wait counts as latency.
                        tokio::time::sleep_until(this.into()).await;
                        this
                    }
                    _ => Instant::now(),
                };
                if started >= end {
                    break;
                }
                let outcome = operation(client, sequence).await;
                sequence += 1;
                if started < measure_start {
                    continue;
                }
                match outcome {
                    Ok(()) => latencies_us.push(started.elapsed().as_micros() as u64),
                    Err(failure) => {
                        let key = if failures.len() < MAX_FAILURE_KINDS || failures.contains_key(&failure) {
                            failure
                        } else {
                            "other errors".to_string()
                        };
                        *failures.entry(key).or_default() += 1;
                    }
                }
            }
            (latencies_us, failures)
        }));
    }

    let mut measurement = Measurement { window: window.duration, ..Measurement::default() };
    for task in tasks {
        match task.await {
            Ok((latencies, failures)) => {
                measurement.latencies_us.extend(latencies);
                for (failure, count) in failures {
                    *measurement.failures.entry(failure).or_default() += count;
                }
            }
            Err(error) => *measurement.failures.entry(format!("client task failed: {error}")).or_default() += 1,
        }
    }
    measurement.latencies_us.sort_unstable();
    measurement.cpu = cpu_task.await.ok().flatten();
    measurement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let measurement = Measurement {
            latencies_us: (1..=100).map(|ms| ms * 1000).collect(),
            window: Duration::from_secs(10),
            ..Measurement::default()
        };
        assert_eq!(measurement.percentile_ms(0.5), Some(50.0));
        assert_eq!(measurement.percentile_ms(0.99), Some(99.0));
        assert_eq!(measurement.percentile_ms(1.0), Some(100.0));
        assert!((measurement.rate() - 10.0).abs() < f64::EPSILON);
        assert_eq!(Measurement::default().percentile_ms(0.5), None);
    }

    #[tokio::test]
    async fn only_calls_after_the_warmup_are_recorded() {
        let window = Window { warmup: Duration::from_millis(100), duration: Duration::from_millis(200), rate: None };
        let measurement = drive(4, window, |client, _| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if client == 0 { Err("HTTP 500".to_string()) } else { Ok(()) }
        })
        .await;
        // 3 succeeding clients × ~20 calls in 200 ms; none of the ~10 per client of the warm-up.
        assert!((45..=66).contains(&measurement.successes()), "{}", measurement.successes());
        assert!((15..=22).contains(&measurement.errors()), "{}", measurement.errors());
        assert_eq!(measurement.failures.keys().collect::<Vec<_>>(), ["HTTP 500"]);
    }

    #[tokio::test]
    async fn a_rate_paces_the_calls() {
        let window =
            Window { warmup: Duration::from_millis(100), duration: Duration::from_millis(500), rate: Some(200.0) };
        let measurement = drive(4, window, |_, _| async { Ok(()) }).await;
        // 200 calls/s for 0.5 s, whatever the speed of the operation.
        assert!((95..=105).contains(&measurement.successes()), "{}", measurement.successes());
    }
}
