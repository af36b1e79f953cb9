//! A small timing harness: warm-up, an iteration count calibrated to the time budget, the
//! median of several timed runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long one case is measured, warm-up excluded, and how many runs that time is split
/// into.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Warm-up before calibration.
    pub warm_up: Duration,
    /// Time of all timed runs of one case together.
    pub measure: Duration,
    /// Timed runs; the median is reported.
    pub runs: usize,
}

impl Budget {
    /// 50 ms of warm-up, then 0.3 s split into 11 runs. `KAIKO_BENCH_MS` overrides the
    /// 300 ms.
    pub fn from_env() -> Self {
        let ms = std::env::var("KAIKO_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        Budget {
            warm_up: Duration::from_millis(50),
            measure: Duration::from_millis(ms),
            runs: 11,
        }
    }
}

/// One measured case.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// Median nanoseconds per operation.
    pub ns: f64,
    /// Fastest run, ns per operation.
    pub min: f64,
    /// Slowest run, ns per operation.
    pub max: f64,
    /// Iterations per run.
    pub iters: u64,
    /// Bytes one operation processes (input parsed or output written).
    pub bytes: usize,
}

impl Measurement {
    /// Throughput in MB/s (10^6 bytes per second).
    pub fn mb_per_s(&self) -> f64 {
        if self.ns > 0.0 {
            self.bytes as f64 * 1_000.0 / self.ns
        } else {
            0.0
        }
    }

    /// (slowest − fastest) / median, in percent: how noisy the runs were.
    pub fn spread_pct(&self) -> f64 {
        if self.ns > 0.0 {
            (self.max - self.min) * 100.0 / self.ns
        } else {
            0.0
        }
    }
}

/// A case ready to time: runs the operation the given number of times.
pub type Case<'a> = Box<dyn FnMut(u64) + 'a>;

/// Wraps an operation as a [`Case`]; its result goes through `black_box` (as its inputs
/// must, inside `f`).
pub fn case<'a, R>(mut f: impl FnMut() -> R + 'a) -> Case<'a> {
    Box::new(move |n| {
        for _ in 0..n {
            black_box(f());
        }
    })
}

fn timed(c: &mut Case<'_>, n: u64) -> f64 {
    let t = Instant::now();
    c(n);
    t.elapsed().as_nanos() as f64 / n.max(1) as f64
}

/// Times a group of cases that are compared with each other. Each is warmed up and given an
/// iteration count that fills `budget.measure / budget.runs`; then the runs are interleaved
/// (run 1 of every case, run 2 of every case, …) so that load from other processes on the
/// machine falls on all of them alike. `bytes[i]` is what one operation of case `i` processes.
pub fn measure_group(budget: Budget, cases: Vec<(usize, Case<'_>)>) -> Vec<Measurement> {
    let runs = budget.runs.max(1);
    let run_ns = budget.measure.as_nanos() as f64 / runs as f64;
    let mut cases: Vec<(usize, u64, Case<'_>)> = cases
        .into_iter()
        .map(|(bytes, mut c)| {
            let start = Instant::now();
            let mut n: u64 = 0;
            while n < 10 || start.elapsed() < budget.warm_up {
                c(1);
                n += 1;
            }
            let per_op = start.elapsed().as_nanos() as f64 / n as f64;
            let iters = ((run_ns / per_op.max(1.0)) as u64).max(1);
            (bytes, iters, c)
        })
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); cases.len()];
    for _ in 0..runs {
        for ((_, iters, c), s) in cases.iter_mut().zip(samples.iter_mut()) {
            s.push(timed(c, *iters));
        }
    }
    cases
        .iter()
        .zip(samples.iter_mut())
        .map(|((bytes, iters, _), s)| {
            s.sort_by(f64::total_cmp);
            Measurement {
                ns: s[s.len() / 2],
                min: s[0],
                max: s[s.len() - 1],
                iters: *iters,
                bytes: *bytes,
            }
        })
        .collect()
}
