//! Seeds of the per-call `Idempotency-Key`, without a system call per call
//! ([`kaiko_core::idempotency::os_seed`] asks the OS for the process id each time).

use std::hash::{BuildHasher, Hasher};

/// One client's seed sequence: a counter hashed with SipHash under keys std drew from the
/// OS's random source, over a base from [`os_seed`](kaiko_core::idempotency::os_seed). Two
/// clients (of one process or of two) hash under different keys and bases.
pub(crate) struct Seeds {
    keys: std::hash::RandomState,
    base: u64,
    count: u64,
}

impl Seeds {
    pub(crate) fn new() -> Self {
        Seeds {
            keys: std::hash::RandomState::new(),
            base: kaiko_core::idempotency::os_seed(),
            count: 0,
        }
    }

    /// The seed of the next call: each differs from the others.
    pub(crate) fn next_seed(&mut self) -> u64 {
        self.count = self.count.wrapping_add(1);
        let mut h = self.keys.build_hasher();
        h.write_u64(self.base);
        h.write_u64(self.count);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiko_core::idempotency::IdempotencyKey;

    #[test]
    fn seeds_and_keys_do_not_repeat() {
        let mut a = Seeds::new();
        let mut b = Seeds::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(a.next_seed()));
            assert!(seen.insert(b.next_seed()));
        }
        let k1 = IdempotencyKey::from_seed(a.next_seed());
        let k2 = IdempotencyKey::from_seed(a.next_seed());
        assert_ne!(k1.as_str(), k2.as_str());
    }
}
