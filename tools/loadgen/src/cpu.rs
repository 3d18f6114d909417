//! CPU time per process group over a window, read from Linux `/proc` (nothing on other
//! systems). On a small machine the load generator, the services and Postgres share the
//! cores, and this shows which of them used them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The groups reported, by the process name (`comm`, at most 15 bytes) that selects them.
const GROUPS: [(&str, &str); 5] = [
    ("gateway", "gateway"),
    ("trade-ledger", "trade-ledger"),
    ("postgres", "postgres"),
    ("nats-server", "nats"),
    ("loadgen", "loadgen"),
];

/// Counters at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// user + system ticks per group, summed over its processes.
    ticks: BTreeMap<&'static str, u64>,
    /// Busy and total ticks of the whole machine (all cores) from `/proc/stat`.
    machine_busy: u64,
    machine_total: u64,
}

/// CPU used during a window.
#[derive(Debug, Clone, Default)]
pub struct CpuUsage {
    /// Per group, in percent of one core (200 % = two cores fully busy).
    pub groups: Vec<(&'static str, f64)>,
    /// The whole machine, in percent of all its cores.
    pub machine_busy_percent: f64,
    /// Everything outside the groups (other programs, the kernel's own threads), in percent
    /// of one core like the groups.
    pub other_percent: f64,
}

/// Reads the counters now, or `None` where `/proc` is missing.
pub fn snapshot() -> Option<Snapshot> {
    let (machine_busy, machine_total) = machine_ticks()?;
    let mut ticks: BTreeMap<&'static str, u64> = GROUPS.iter().map(|(_, label)| (*label, 0)).collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        // A process may exit between listing and reading: skip it.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        if let Some((comm, used)) = process_ticks(&stat)
            && let Some((_, label)) = GROUPS.iter().find(|(process, _)| *process == comm)
        {
            *ticks.entry(label).or_default() += used;
        }
    }
    Some(Snapshot { ticks, machine_busy, machine_total })
}

/// The usage between two snapshots.
pub fn usage(before: &Snapshot, after: &Snapshot) -> CpuUsage {
    // Process and machine times are both in USER_HZ ticks; the machine's total over all
    // cores, divided by the core count, is the window's wall time in ticks.
    let wall_ticks = {
        let total = after.machine_total.saturating_sub(before.machine_total) as f64;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
        total / cores
    };
    let percent = |ticks: u64| if wall_ticks > 0.0 { ticks as f64 * 100.0 / wall_ticks } else { 0.0 };
    let groups: Vec<(&'static str, f64)> = after
        .ticks
        .iter()
        .map(|(label, after_ticks)| {
            let before_ticks = before.ticks.get(label).copied().unwrap_or(0);
            // Processes that exited in between make a group shrink: count that as nothing.
            (*label, percent(after_ticks.saturating_sub(before_ticks)))
        })
        .collect();
    let busy_ticks = after.machine_busy.saturating_sub(before.machine_busy);
    let total = after.machine_total.saturating_sub(before.machine_total) as f64;
    let machine_busy_percent = if total > 0.0 { busy_ticks as f64 * 100.0 / total } else { 0.0 };
    let grouped: f64 = groups.iter().map(|(_, percent): &(&str, f64)| percent).sum();
    let other_percent = (percent(busy_ticks) - grouped).max(0.0);
    CpuUsage { groups, machine_busy_percent, other_percent }
}

/// Waits until the machine is at most `max_busy_percent` busy over one second, for at most
/// `limit`: a run should not share the cores with the tail of the previous one (the ledger's
/// outbox relay, for one, wakes once per committed event long after a burst). Returns how
/// long it waited and the last reading; immediately `None` without `/proc`.
pub async fn wait_until_quiet(max_busy_percent: f64, limit: Duration) -> Option<(Duration, CpuUsage)> {
    let start = Instant::now();
    loop {
        let before = snapshot()?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let reading = usage(&before, &snapshot()?);
        if reading.machine_busy_percent <= max_busy_percent || start.elapsed() >= limit {
            return Some((start.elapsed(), reading));
        }
    }
}

/// `(comm, utime + stime)` of one `/proc/<pid>/stat` line.
fn process_ticks(stat: &str) -> Option<(&str, u64)> {
    // comm is in parentheses and may itself contain spaces or ')': split at the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// `(busy, total)` ticks of all cores from the first line of `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let values: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest times are already in user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_time_of_a_stat_line() {
        let line = "4242 (trade-ledger) S 1 4242 4242 0 -1 4194560 1200 0 0 0 350 75 0 0 20 0 9 0 123 0 0";
        assert_eq!(process_ticks(line), Some(("trade-ledger", 425)));
        let odd = "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 0 0";
        assert_eq!(process_ticks(odd), Some(("a (b) c", 11)));
    }
}
