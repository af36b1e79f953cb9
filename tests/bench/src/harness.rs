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
    /// 50 ms of warm-up, then 0.3 s split into 5 runs. `KAIKO_BENCH_MS` overrides the
    /// 300 ms.
    pub fn from_env() -> Self {
        let ms = std::env::var("KAIKO_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        Budget {
            warm_up: Duration::from_millis(50),
            measure: Duration::from_millis(ms),
            runs: 5,
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

/// Times `f`, whose result goes through `black_box` (as its inputs must, inside `f`).
pub fn measure<R>(budget: Budget, bytes: usize, mut f: impl FnMut() -> R) -> Measurement {
    let start = Instant::now();
    let mut n: u64 = 0;
    while n < 10 || start.elapsed() < budget.warm_up {
        black_box(f());
        n += 1;
    }
    let per_op = start.elapsed().as_nanos() as f64 / n as f64;
    let run_ns = budget.measure.as_nanos() as f64 / budget.runs.max(1) as f64;
    let iters = ((run_ns / per_op.max(1.0)) as u64).max(1);
    let mut samples: Vec<f64> = (0..budget.runs.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Measurement {
        ns: samples[samples.len() / 2],
        min: samples[0],
        max: samples[samples.len() - 1],
        iters,
        bytes,
    }
}
