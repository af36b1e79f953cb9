//! Latencies in bounded memory, however many requests a load run sends.

use std::time::Duration;

/// Buckets of 1 µs below this many microseconds (10 ms).
const FINE: usize = 10_000;
/// Buckets of 1 ms from 10 ms up to this many milliseconds (10 s).
const COARSE_MS: usize = 10_000;

/// A latency histogram: exact to 1 µs below 10 ms, to 1 ms up to 10 s, one bucket above,
/// and the largest value kept exactly. About 160 KB whatever the number of samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    fine: Vec<u64>,
    coarse: Vec<u64>,
    /// Samples of 10 s or more.
    over: u64,
    count: u64,
    max: Duration,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            fine: vec![0; FINE],
            coarse: vec![0; COARSE_MS],
            over: 0,
            count: 0,
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros();
        let ms = d.as_millis();
        let slot = if us < FINE as u128 {
            self.fine.get_mut(us as usize)
        } else if ms < COARSE_MS as u128 {
            self.coarse.get_mut(ms as usize)
        } else {
            Some(&mut self.over)
        };
        if let Some(n) = slot {
            *n += 1;
        }
        self.count += 1;
        self.max = self.max.max(d);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.fine.iter_mut().zip(&other.fine) {
            *a += b;
        }
        for (a, b) in self.coarse.iter_mut().zip(&other.coarse) {
            *a += b;
        }
        self.over += other.over;
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest sample.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The smallest bucket bound below which the fraction `q` (0..=1) of the samples lies:
    /// the sample of rank ⌈q·count⌉, rounded down to its bucket. `q = 1` gives the maximum.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((self.count as f64 * q.clamp(0.0, 1.0)).ceil() as u64).clamp(1, self.count);
        if rank == self.count {
            return self.max;
        }
        let mut seen = 0;
        for (us, n) in self.fine.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_micros(us as u64);
            }
        }
        for (ms, n) in self.coarse.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_millis(ms as u64);
            }
        }
        // The overflow bucket's lower bound.
        Duration::from_millis(COARSE_MS as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_in_every_range() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), Duration::ZERO);
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Duration::from_millis(50));
        assert_eq!(h.quantile(0.99), Duration::from_millis(99));
        assert_eq!(h.quantile(1.0), Duration::from_millis(100));

        let mut fine = Histogram::default();
        for us in [3, 1, 2, 9_999] {
            fine.record(Duration::from_micros(us) + Duration::from_nanos(500));
        }
        assert_eq!(fine.quantile(0.25), Duration::from_micros(1));
        assert_eq!(fine.quantile(0.75), Duration::from_micros(3));
        assert_eq!(fine.max(), Duration::from_nanos(9_999_500));

        let mut slow = Histogram::default();
        slow.record(Duration::from_secs(3600));
        slow.record(Duration::from_secs(11));
        slow.record(Duration::from_micros(5));
        assert_eq!(
            slow.quantile(0.5),
            Duration::from_secs(10),
            "the overflow's bound"
        );
        assert_eq!(slow.quantile(1.0), Duration::from_secs(3600));

        h.merge(&slow);
        assert_eq!(h.count(), 103);
        assert_eq!(h.max(), Duration::from_secs(3600));
        assert_eq!(h.quantile(0.005), Duration::from_micros(5));
        assert_eq!(h.quantile(0.01), Duration::from_millis(1));
    }
}
