//! What the benchmark measures besides the runner's own latency samples: percentiles, CPU
//! time from `/proc` (this process, the ledger's with `--ledger`, and Postgres when it runs on
//! this machine), peak memory, and a count of the runner's warnings and errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat` (fixed at 100 by the kernel's
/// user-space ABI, whatever the kernel's own tick rate).
const TICKS_PER_SECOND: f64 = 100.0;

/// The nearest-rank percentiles of a set of samples.
#[derive(Clone, Copy, Debug)]
pub struct Percentiles {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// The slowest.
    pub max: Duration,
    /// Their sum.
    pub total: Duration,
}

impl Percentiles {
    /// `None` without samples.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let max = *sorted.last()?;
        let rank = |quantile: f64| {
            let rank = (quantile * sorted.len() as f64).ceil() as usize;
            sorted[rank.clamp(1, sorted.len()) - 1]
        };
        Some(Self { count: sorted.len(), p50: rank(0.50), p99: rank(0.99), max, total: sorted.iter().sum() })
    }

    /// The mean.
    pub fn mean(&self) -> Duration {
        self.total / u32::try_from(self.count).unwrap_or(u32::MAX).max(1)
    }
}

/// CPU counters at one instant.
#[derive(Clone, Copy, Debug)]
pub struct CpuMark {
    at: Instant,
    process_ticks: u64,
    /// Every `postgres` process on this machine (`None`: none is visible, e.g. in a container).
    postgres_ticks: Option<u64>,
    /// The whole machine's busy time, all cores (`/proc/stat`).
    machine_ticks: Option<u64>,
    /// The ledger's child process (`--ledger`), so that its share is told apart.
    ledger: Option<u32>,
    ledger_ticks: Option<u64>,
}

/// CPU used over a window, in cores (1.0 = one core busy the whole window).
#[derive(Clone, Copy, Debug)]
pub struct CpuUsed {
    /// The window.
    pub wall: Duration,
    /// This process: the runner, plus the benchmark's publisher.
    pub process: f64,
    /// Postgres, every backend of it.
    pub postgres: Option<f64>,
    /// The ledger's process, with `--ledger` (its database work is in Postgres' figure).
    pub ledger: Option<f64>,
    /// Everything else on the machine (NATS, other programs, the kernel's own threads): the
    /// machine's busy time minus the ones above. Anything large here skews the figures.
    pub others: Option<f64>,
}

impl CpuMark {
    /// The counters now; `ledger`: the ledger child's process id, when there is one.
    pub fn now(ledger: Option<u32>) -> Self {
        let process_ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|stat| ticks(&stat)).unwrap_or(0);
        let ledger_ticks =
            ledger.and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()).and_then(|s| ticks(&s));
        Self {
            at: Instant::now(),
            process_ticks,
            postgres_ticks: postgres_ticks(),
            machine_ticks: machine_ticks(),
            ledger,
            ledger_ticks,
        }
    }

    /// What was used since `self`.
    pub fn used(&self) -> CpuUsed {
        let now = Self::now(self.ledger);
        let wall = now.at - self.at;
        let cores = |ticks: u64| ticks as f64 / TICKS_PER_SECOND / wall.as_secs_f64().max(1e-9);
        let between = |before: Option<u64>, after: Option<u64>| {
            before.zip(after).map(|(before, after)| cores(after.saturating_sub(before)))
        };
        let process = cores(now.process_ticks.saturating_sub(self.process_ticks));
        let postgres = between(self.postgres_ticks, now.postgres_ticks);
        let ledger = between(self.ledger_ticks, now.ledger_ticks);
        let machine = between(self.machine_ticks, now.machine_ticks);
        let known = process + postgres.unwrap_or(0.0) + ledger.unwrap_or(0.0);
        let others = machine.map(|machine| (machine - known).max(0.0));
        CpuUsed { wall, process, postgres, ledger, others }
    }
}

/// user + system ticks from a `/proc/<pid>/stat` line (fields 14 and 15; the name before them
/// may hold spaces, so fields are counted after its closing parenthesis).
fn ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Busy ticks of all cores: the first line of `/proc/stat` without idle and iowait.
fn machine_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).take(8).filter_map(|field| field.parse().ok()).collect();
    let idle = fields.get(3)? + fields.get(4)?;
    Some(fields.iter().sum::<u64>() - idle)
}

fn postgres_ticks() -> Option<u64> {
    let mut total = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|name| name.bytes().all(|byte| byte.is_ascii_digit())) else { continue };
        // A process may end between the listing and the read: skip it.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        if stat.contains("(postgres)") {
            *total.get_or_insert(0) += ticks(&stat).unwrap_or(0);
        }
    }
    total
}

/// The peak resident memory of this process (`VmHWM`), in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// How many warnings and errors the runner logged.
#[derive(Clone, Debug, Default)]
pub struct LogCounts {
    warnings: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
}

impl LogCounts {
    /// Warnings and errors so far.
    pub fn get(&self) -> (usize, usize) {
        (self.warnings.load(Ordering::Relaxed), self.errors.load(Ordering::Relaxed))
    }
}

impl<S: Subscriber> Layer<S> for LogCounts {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        match *event.metadata().level() {
            Level::WARN => self.warnings.fetch_add(1, Ordering::Relaxed),
            Level::ERROR => self.errors.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}

/// Logs to stderr at `warn` (`RUST_LOG` overrides it), counting warnings and errors.
pub fn init_logging() -> LogCounts {
    let counts = LogCounts::default();
    // An empty RUST_LOG counts as unset (it would leave only the NATS client's ceiling).
    let level = std::env::var("RUST_LOG").ok().filter(|level| !level.trim().is_empty());
    let level = level.unwrap_or_else(|| "warn".to_string());
    let _already_installed = tracing_subscriber::registry()
        // Not `platform::telemetry::filter`: its NATS "ceiling" directive turns the client's
        // DEBUG lines on under a `warn` filter.
        .with(tracing_subscriber::EnvFilter::new(level))
        .with(platform::telemetry::no_nats_payloads())
        .with(tracing_subscriber::fmt::layer().compact().with_writer(std::io::stderr))
        .with(counts.clone())
        .try_init();
    counts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let p = Percentiles::of(&samples).unwrap();
        assert_eq!(
            (p.p50, p.p99, p.max),
            (Duration::from_millis(50), Duration::from_millis(99), Duration::from_millis(100))
        );
        assert_eq!(p.mean(), Duration::from_micros(50_500));
        assert!(Percentiles::of(&[]).is_none());
    }

    #[test]
    fn cpu_ticks_are_read_after_the_process_name() {
        let stat = "42 (tokio runtime) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 100 0 0";
        assert_eq!(ticks(stat), Some(280));
    }
}
