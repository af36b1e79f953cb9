//! The core's one random generator: it turns the caller's seed into Idempotency-Keys and
//! backoff jitter. The core has no entropy source of its own; the seed must come from the
//! device.

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit generator with one word of state, good
/// statistical quality for jitter and key material, not cryptographically secure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SplitMix64(crate::wide::Wide);

impl SplitMix64 {
    /// A generator seeded with `seed`; equal seeds give equal streams.
    pub const fn new(seed: u64) -> Self {
        SplitMix64(crate::wide::Wide::new(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut z = self.0.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0 = crate::wide::Wide::new(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `0` when `n` is 0. Multiply-high (Lemire 2019) without rejection:
    /// the bias is below `n / 2^64`, far under what jitter can notice.
    pub fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        (wide >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splitmix_reference_values() {
        // Reference output of the published C implementation seeded with 1234567.
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(r.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn below_edges() {
        let mut r = SplitMix64::new(7);
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
        for _ in 0..1000 {
            assert!(r.below(201) < 201);
        }
        let mut hits = [false; 4];
        for _ in 0..100 {
            if let Some(h) = hits.get_mut(r.below(4) as usize) {
                *h = true;
            }
        }
        assert_eq!(hits, [true; 4]);
        let _ = r.below(u64::MAX);
    }

    proptest! {
        /// `below` stays in range for every bound.
        #[test]
        fn below_in_range(seed in any::<u64>(), n in any::<u64>()) {
            let v = SplitMix64::new(seed).below(n);
            prop_assert!(v < n || (n == 0 && v == 0));
        }
    }
}
