//! `wrk` as the load generator, when it is installed: an HTTP benchmarking tool written in C costs far less per
//! request than the benchmark's own client (reqwest tasks in the same process), which caps nginx at about a third of
//! what it serves. `twinport bench dataplane` runs the direct, nginx and data-plane rows again with it, so the ratio
//! to nginx is measured as an operator would measure it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// What one `wrk` run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkRun {
    pub requests_per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Responses other than 2xx or 3xx, and socket errors: a row with any is not a measurement of successes.
    pub failures: u64,
}

/// The `wrk` binary on the PATH, if any.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("wrk"))
        .find(|p| p.is_file())
}

/// Runs `wrk` against `url` with `connections` kept-alive connections for `seconds`, with `header` if given; on
/// the CPUs `cpus` only when some are given (through `taskset`, where installed).
pub fn run(
    wrk: &PathBuf,
    url: &str,
    header: Option<&str>,
    connections: usize,
    seconds: u64,
    cpus: &[usize],
) -> anyhow::Result<WrkRun> {
    let taskset = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("taskset"))
        .find(|p| p.is_file());
    let mut command = match (&taskset, cpus) {
        (Some(taskset), [_, ..]) => {
            let list: Vec<String> = cpus.iter().map(usize::to_string).collect();
            let mut c = Command::new(taskset);
            c.arg("-c").arg(list.join(",")).arg(wrk);
            c
        }
        _ => Command::new(wrk),
    };
    command
        .arg("-t2")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency");
    if let Some(h) = header {
        command.arg("-H").arg(h);
    }
    let output = command.arg(url).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        anyhow::bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse(&text).ok_or_else(|| anyhow::anyhow!("cannot read wrk's report:\n{text}"))
}

/// Reads `Requests/sec`, the 50 % and 99 % latencies, and the failures out of `wrk --latency`'s report.
fn parse(report: &str) -> Option<WrkRun> {
    let mut rps = None;
    let (mut p50, mut p99) = (None, None);
    let mut failures = 0;
    for line in report.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => rps = n.parse().ok(),
            ["50%", t] => p50 = duration(t),
            ["99%", t] => p99 = duration(t),
            ["Non-2xx", "or", "3xx", "responses:", n] => failures += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                failures += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    Some(WrkRun {
        requests_per_second: rps?,
        p50: p50?,
        p99: p99?,
        failures,
    })
}

/// `172.00us`, `1.23ms`, `2.01s`.
fn duration(text: &str) -> Option<Duration> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        return None;
    };
    let value: f64 = number.parse().ok()?;
    Duration::try_from_secs_f64(value * scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrk_report_is_read_with_its_failures() {
        let report = "Running 2s test @ http://127.0.0.1:1/\n  2 threads and 16 connections\n  Latency Distribution\n     50%  172.00us\n     75%  217.00us\n     90%    1.20ms\n     99%    2.50ms\n  140000 requests in 2.00s, 150MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec:  70123.45\nTransfer/sec:     75MB\n";
        let run = parse(report).unwrap();
        assert_eq!(run.requests_per_second, 70123.45);
        assert_eq!(run.p50, Duration::from_micros(172));
        assert_eq!(run.p99, Duration::from_micros(2500));
        assert_eq!(run.failures, 7);
        assert!(parse("no report").is_none());
    }
}
