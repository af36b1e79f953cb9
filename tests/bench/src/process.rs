//! What the two client processes of `process-compare` share: the request, the arguments, and
//! how each reports its peak memory.

/// The key every call sends (the simulator accepts any non-empty key).
pub const KEY: &str = "kaiko_test_0123456789abcdef";

/// The text every analysis call sends: the quickstart's (spec §3.3).
pub const ANALYSIS_TEXT: &str = "I feel a bit unsure about this";

/// `BASE_URL N` from the command line.
pub fn args() -> Option<(String, u32)> {
    let mut a = std::env::args().skip(1);
    let base = a.next()?;
    let n = a.next()?.parse().ok()?;
    Some((base, n))
}

/// Prints `peak_rss_kib N`, the process's peak resident set (`VmHWM` of `/proc/self/status`),
/// and `cpu_ns N`, the time it ran on a CPU, user and system (`/proc/self/schedstat`, in ns:
/// finer than the 10 ms of rusage as `/usr/bin/time` prints it).
pub fn print_usage() {
    let schedstat = std::fs::read_to_string("/proc/self/schedstat").unwrap_or_default();
    match schedstat.split_whitespace().next() {
        Some(ns) => println!("cpu_ns {ns}"),
        None => println!("cpu_ns unknown"),
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    match kib {
        Some(kib) => println!("peak_rss_kib {kib}"),
        None => println!("peak_rss_kib unknown"),
    }
}

/// A fresh `Idempotency-Key` per call: a per-process prefix (time and process id) and the
/// call's number.
#[derive(Debug)]
pub struct Keys {
    prefix: u64,
    next: u64,
}

impl Keys {
    /// Keys unlikely to repeat across processes.
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Keys {
            prefix: nanos ^ (u64::from(std::process::id()) << 32),
            next: 0,
        }
    }

    /// The next key.
    pub fn next_key(&mut self) -> String {
        self.next += 1;
        format!("{:016x}-{}", self.prefix, self.next)
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new()
    }
}
