//! What the benchmarks measure with: a run's latencies and its percentiles, and this process's memory.

use std::time::Duration;

/// One run: every latency (sorted), and how long the whole run took.
pub struct Run {
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Run {
    pub fn pct(&self, p: f64) -> Duration {
        let l = &self.latencies;
        l[((l.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(l.len() - 1)]
    }
    /// Milliseconds this run's percentile `p` lies above `base`'s; negative when it is faster (a `Duration`
    /// cannot go below zero, and panicked here when the proxied run beat the bare one).
    pub fn added_ms(&self, base: &Run, p: f64) -> f64 {
        (self.pct(p).as_secs_f64() - base.pct(p).as_secs_f64()) * 1000.0
    }
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Resident memory, in KiB.
pub struct Memory {
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

/// This process's resident set and its high-water mark, from /proc/self/status (0 where unavailable).
pub fn memory() -> Memory {
    memory_of("/proc/self/status")
}

/// The resident set and its high-water mark in a /proc status file (0 where unavailable).
pub fn memory_of(status_file: &str) -> Memory {
    let status = std::fs::read_to_string(status_file).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(ms: &[u64]) -> Run {
        Run {
            latencies: ms.iter().map(|m| Duration::from_millis(*m)).collect(),
            elapsed: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_run_faster_than_its_base_adds_negative_latency_instead_of_panicking() {
        let (slow, fast) = (run_of(&[2, 3, 4]), run_of(&[1, 2, 3]));
        assert_eq!(fast.added_ms(&slow, 0.5), -1.0);
        assert_eq!(slow.added_ms(&fast, 0.99), 1.0);
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let r = run_of(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(r.pct(0.5), Duration::from_millis(5));
        assert_eq!(r.pct(0.99), Duration::from_millis(10));
        assert_eq!(r.rate(), 10.0);
    }
}
