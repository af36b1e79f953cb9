//! `process-compare [CALLS] [PAIRS]`: CPU and peak memory per keep-alive analysis call of
//! kaiko-std against ureq 3 + serde_json, each side in its own process, against a kaiko-sim
//! started here for each run (rate limit lifted, so every call is processed; every call sends
//! a fresh Idempotency-Key, so none is a replay, which is checked in the server's ledger).
//!
//! The sides run as pairs, in alternating order, CALLS calls each (default 20000), PAIRS pairs
//! (default 7). Each run goes through `/usr/bin/time` (GNU time: user and system CPU, peak
//! RSS from the kernel's rusage); the clients also report their on-CPU time from
//! `/proc/self/schedstat`, finer than the 10 ms rusage steps `/usr/bin/time` prints. Prints
//! every run, the medians, and the median of the per-pair ratios kaiko/ureq.
//!
//! Where the processes run matters on a virtual machine: with client and server on two CPUs,
//! every request and every response wakes the other CPU, and the cost of that wake-up falls
//! on the sender's CPU time, the same for both clients. `taskset -c 0 process-compare` runs
//! everything on one CPU, where it is a context switch: closer to what a client pays when its
//! server is another machine. The header line says which CPUs were allowed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// What one client run measured.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    user_s: f64,
    sys_s: f64,
    peak_rss_kib: u64,
    cpu_ns: u64,
    wall_s: f64,
}

impl Run {
    fn cpu_us_per_call(&self, calls: u32) -> f64 {
        (self.user_s + self.sys_s) * 1e6 / f64::from(calls)
    }

    fn sched_us_per_call(&self, calls: u32) -> f64 {
        self.cpu_ns as f64 / 1e3 / f64::from(calls)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `bin BASE CALLS` under `/usr/bin/time`; `Err` with what went wrong.
fn run(bin: &Path, base: &str, calls: u32, scratch: &Path) -> Result<Run, String> {
    let start = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%U %S %M")
        .arg("-o")
        .arg(scratch)
        .arg(bin)
        .arg(base)
        .arg(calls.to_string())
        .output()
        .map_err(|e| format!("/usr/bin/time {}: {e}", bin.display()))?;
    let wall_s = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let time = std::fs::read_to_string(scratch).map_err(|e| e.to_string())?;
    let fields: Vec<&str> = time
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let [user, sys, rss] = fields[..] else {
        return Err(format!("unexpected /usr/bin/time output: {time:?}"));
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let cpu_ns = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cpu_ns "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(Run {
        user_s: user.parse().map_err(|_| format!("user time {user:?}"))?,
        sys_s: sys.parse().map_err(|_| format!("system time {sys:?}"))?,
        peak_rss_kib: rss.parse().map_err(|_| format!("peak RSS {rss:?}"))?,
        cpu_ns,
        wall_s,
    })
}

/// The CPUs this process (and so the server's threads and the clients it starts) may run on,
/// as `/proc/self/status` lists them: `taskset -c 0 process-compare` puts client and server
/// on one CPU, where a wake-up is a context switch and not an interrupt to another CPU.
fn allowed_cpus() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "(unknown)".to_owned())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let calls: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20000);
    let pairs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let dir: PathBuf = match std::env::current_exe() {
        Ok(exe) => exe.parent().map(Path::to_path_buf).unwrap_or_default(),
        Err(e) => {
            eprintln!("process-compare: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sides = [
        ("kaiko-std", dir.join("kaiko-client")),
        ("ureq + serde_json", dir.join("ureq-client")),
    ];
    let scratch = std::env::temp_dir().join(format!("process-compare-{}.time", std::process::id()));
    println!(
        "{calls} keep-alive analysis calls per run, each run against a fresh kaiko-sim, {pairs} \
         pairs, order alternating; client and server may run on CPUs {}\n",
        allowed_cpus()
    );
    println!(
        "| pair | side | user s | sys s | CPU µs/call (rusage) | on-CPU µs/call (schedstat) | peak RSS KiB | wall s |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut results: Vec<[Run; 2]> = Vec::new();
    for pair in 0..pairs {
        let order: [usize; 2] = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut runs = [Run::default(); 2];
        for side in order {
            let (name, bin) = &sides[side];
            // A fresh server per run: its idempotency ledger grows with every call, and a
            // slower server must not fall on whichever side runs later.
            let sim = match kaiko_sim::Sim::start(kaiko_sim::Config {
                rate_limit: u32::MAX,
                // The ledger must remember every call's key to show none was a replay.
                capacity: usize::try_from(calls)
                    .unwrap_or(usize::MAX)
                    .max(kaiko_sim::Config::default().capacity),
                ..kaiko_sim::Config::default()
            }) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("process-compare: cannot start the simulator: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let r = match run(bin, &sim.base_url(), calls, &scratch) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("process-compare: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let processed = sim.ledger().total_processed();
            if processed != calls {
                eprintln!(
                    "process-compare: {name} made {processed} processed calls, not {calls} \
                     (replays or failures)"
                );
                return ExitCode::FAILURE;
            }
            println!(
                "| {} | {name} | {:.2} | {:.2} | {:.1} | {:.1} | {} | {:.2} |",
                pair + 1,
                r.user_s,
                r.sys_s,
                r.cpu_us_per_call(calls),
                r.sched_us_per_call(calls),
                r.peak_rss_kib,
                r.wall_s
            );
            runs[side] = r;
        }
        results.push(runs);
    }
    let _ = std::fs::remove_file(&scratch);
    let side_median = |side: usize, f: &dyn Fn(&Run) -> f64| {
        median(results.iter().map(|r| f(&r[side])).collect())
    };
    println!();
    println!(
        "| side | median CPU µs/call (rusage) | median on-CPU µs/call (schedstat) | median peak RSS KiB |"
    );
    println!("|---|---:|---:|---:|");
    for (side, (name, _)) in sides.iter().enumerate() {
        println!(
            "| {name} | {:.1} | {:.1} | {:.0} |",
            side_median(side, &|r| r.cpu_us_per_call(calls)),
            side_median(side, &|r| r.sched_us_per_call(calls)),
            side_median(side, &|r| r.peak_rss_kib as f64),
        );
    }
    let ratio =
        |f: &dyn Fn(&Run) -> f64| median(results.iter().map(|r| f(&r[0]) / f(&r[1])).collect());
    println!(
        "\nmedian of the per-pair ratios kaiko/ureq: CPU per call {:.2} (rusage), {:.2} (schedstat); peak RSS {:.2}",
        ratio(&|r| r.user_s + r.sys_s),
        ratio(&|r| r.cpu_ns as f64),
        ratio(&|r| r.peak_rss_kib as f64),
    );
    ExitCode::SUCCESS
}
