//! A `u64` stored as two 32-bit words.
//!
//! On 32-bit targets a `u64` field makes its struct 8-aligned, and copying or clearing such a
//! struct links the 8-aligned memory routines (`__aeabi_memcpy8`, `__aeabi_memclr8`) beside
//! the 4-aligned ones every program has: ~330 B of flash on thumbv7em. Kept as two words, the
//! value is the same `u64` in every API; only its storage is split.

use core::cmp::Ordering;
use core::fmt;

/// A `u64` with 4-byte alignment.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Wide {
    hi: u32,
    lo: u32,
}

impl Wide {
    pub(crate) const MAX: Wide = Wide::new(u64::MAX);

    pub(crate) const fn new(v: u64) -> Wide {
        Wide {
            hi: (v >> 32) as u32,
            lo: v as u32,
        }
    }

    pub(crate) const fn get(self) -> u64 {
        (self.hi as u64) << 32 | self.lo as u64
    }
}

// Compared as one `u64` (a compare and a subtract with carry), not field by field.
impl Ord for Wide {
    fn cmp(&self, other: &Self) -> Ordering {
        self.get().cmp(&other.get())
    }
}

impl PartialOrd for Wide {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Wide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Wide {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=u64}", self.get())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::Wide;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips_and_orders_as_u64(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(Wide::new(a).get(), a);
            prop_assert_eq!(Wide::new(a).cmp(&Wide::new(b)), a.cmp(&b));
            prop_assert_eq!(std::format!("{:?}", Wide::new(a)), std::format!("{a:?}"));
        }
    }

    #[test]
    fn is_four_aligned() {
        assert_eq!(core::mem::align_of::<Wide>(), 4);
    }
}
