//! What a process costs, read from /proc: peak and current resident memory, and CPU time.

use std::time::Duration;

/// Peak resident set size (VmHWM) in bytes, or 0 when the process is gone.
pub fn peak_rss(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:") * 1024
}

/// Current resident set size (VmRSS) in bytes.
pub fn rss(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:") * 1024
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// User plus system CPU time the process has used.
pub fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return Duration::ZERO };
    // The command name may contain spaces; the fields after it are space-separated.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return Duration::ZERO };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.0}Mi", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        // Current first: the peak only grows, so it is read second (other tests allocate too).
        let current = rss(pid);
        let peak = peak_rss(pid);
        assert!(current > 0 && peak >= current, "current {current}, peak {peak}");
        assert_eq!(peak_rss(u32::MAX), 0);
        assert_eq!(mib(3 * 1024 * 1024), "3Mi");
        let _ = cpu_time(pid);
    }
}
