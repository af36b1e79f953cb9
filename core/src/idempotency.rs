//! `Idempotency-Key` values (spec §2).
//!
//! The core has no entropy source. [`IdempotencyKey::from_seed`] turns a caller-supplied seed
//! into a UUIDv4-formatted key; the seed must come from the device's own entropy (a hardware
//! RNG, `getrandom`), because the same seed always gives the same key and two calls that share
//! a key may be treated by the server as one. The generator is [`SplitMix64`].
//!
//! ```
//! use kaiko_core::idempotency::IdempotencyKey;
//!
//! let key = IdempotencyKey::from_seed(0x5eed);
//! assert_eq!(key.as_str().len(), 36);
//! assert_eq!(key, IdempotencyKey::from_seed(0x5eed));
//! assert_eq!(IdempotencyKey::parse("7f65ab21d1-test-123").unwrap().as_str(), "7f65ab21d1-test-123");
//! ```

use core::fmt;

use crate::rng::SplitMix64;

/// Longest caller-supplied key in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;

/// Length of a generated key: a UUID in its 8-4-4-4-12 text form.
const UUID_LEN: usize = 36;

/// Why a caller-supplied idempotency key is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum IdempotencyKeyError {
    /// The key is empty.
    Empty,
    /// The key is longer than [`MAX_IDEMPOTENCY_KEY_LEN`] bytes.
    TooLong,
    /// The key holds a byte outside visible ASCII (`0x21..=0x7E`).
    InvalidByte,
}

impl fmt::Display for IdempotencyKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdempotencyKeyError::Empty => "idempotency key is empty",
            IdempotencyKeyError::TooLong => "idempotency key is longer than 64 bytes",
            IdempotencyKeyError::InvalidByte => {
                "idempotency key holds a byte outside visible ASCII"
            }
        })
    }
}

impl core::error::Error for IdempotencyKeyError {}

/// An `Idempotency-Key` header value: 1 to 64 visible ASCII bytes, stored inline. One logical
/// call sends the same key on every attempt (spec §7).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Bytes past `len` are always zero, so the derived equality compares the keys.
    buf: [u8; MAX_IDEMPOTENCY_KEY_LEN],
    len: u8,
}

impl IdempotencyKey {
    /// A random UUIDv4-formatted key (RFC 9562 §5.4, lowercase) from 128 bits of a
    /// [`SplitMix64`] stream seeded with `seed`. The seed must come from device entropy: the
    /// same seed gives the same key.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let (hi, lo) = (rng.next_u64(), rng.next_u64());
        // The 128 bits as four big-endian words (32-bit arithmetic only). Version 4 in the high
        // nibble of octet 6, variant 0b10 in the top bits of octet 8.
        let mut words = [
            (hi >> 32) as u32,
            (hi as u32 & !0xF000) | 0x4000,
            ((lo >> 32) as u32 & 0x3FFF_FFFF) | 0x8000_0000,
            lo as u32,
        ];
        let mut key = IdempotencyKey {
            buf: [0; MAX_IDEMPOTENCY_KEY_LEN],
            len: UUID_LEN as u8,
        };
        // One pass over the text from its end: the 8-4-4-4-12 groups have dashes at 8, 13, 18
        // and 23, and every other byte is the next nibble of the words, least significant
        // first, each shifted out of its word.
        let mut nibbles = 32usize;
        if let Some(text) = key.buf.get_mut(..UUID_LEN) {
            for (at, d) in text.iter_mut().enumerate().rev() {
                *d = if matches!(at, 8 | 13 | 18 | 23) {
                    b'-'
                } else {
                    nibbles = nibbles.wrapping_sub(1);
                    let word = &mut words[(nibbles >> 3) & 3];
                    let nibble = (*word & 0xF) as u8;
                    *word >>= 4;
                    // Without a branch (random nibbles would mispredict half of them): past
                    // 9, `(nibble + 6) >> 4` is 1 and adds the 39 from after `'9'` to `'a'`.
                    b'0' + nibble + ((nibble + 6) >> 4) * (b'a' - b'9' - 1)
                };
            }
        }
        key
    }

    /// A caller-supplied key: 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] visible ASCII bytes
    /// (`0x21..=0x7E`), e.g. the docs' `7f65ab21d1-test-123`.
    pub fn parse(s: &str) -> Result<Self, IdempotencyKeyError> {
        let bytes = s.as_bytes();
        if bytes.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if bytes.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(IdempotencyKeyError::TooLong);
        }
        if !bytes.iter().all(|b| (0x21..=0x7E).contains(b)) {
            return Err(IdempotencyKeyError::InvalidByte);
        }
        let mut key = IdempotencyKey {
            buf: [0; MAX_IDEMPOTENCY_KEY_LEN],
            len: bytes.len() as u8,
        };
        for (dst, src) in key.buf.iter_mut().zip(bytes) {
            *dst = *src;
        }
        Ok(key)
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..usize::from(self.len)).unwrap_or(&[]);
        // Only ASCII is ever stored, so this never falls back.
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdempotencyKey")
            .field(&self.as_str())
            .finish()
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for IdempotencyKey {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "IdempotencyKey({=str})", self.as_str())
    }
}

/// A fresh seed from the operating system's entropy (feature `std`): std's `RandomState`
/// keys, mixed with the time and a process-wide counter so two calls never share one.
#[cfg(feature = "std")]
pub fn os_seed() -> u64 {
    use core::hash::{BuildHasher, Hasher};
    use core::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::format;

    #[test]
    fn uuid_shape() {
        let k = IdempotencyKey::from_seed(0);
        let s = k.as_str();
        assert_eq!(s.len(), 36);
        for (i, c) in s.char_indices() {
            if matches!(i, 8 | 13 | 18 | 23) {
                assert_eq!(c, '-', "{s}");
            } else {
                assert!(matches!(c, '0'..='9' | 'a'..='f'), "{s}");
            }
        }
        assert_eq!(s.as_bytes()[14], b'4', "{s}");
        assert!(matches!(s.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{s}");
        assert_eq!(format!("{k:?}"), format!("IdempotencyKey({s:?})"));
        assert_eq!(format!("{k}"), s);
        assert_ne!(IdempotencyKey::from_seed(1), k);
    }

    #[test]
    fn keys_follow_the_splitmix_stream() {
        // The first two outputs of the seeded stream, big-endian, version and variant set.
        for (seed, want) in [
            (0, "e220a839-7b1d-4daf-ae78-9e6aa1b965f4"),
            (0x5eed, "09f1fd9d-03f0-49b4-9532-74161bbf8475"),
            (u64::MAX, "e4d97177-1b65-4c20-a99f-f867dbf682c9"),
        ] {
            assert_eq!(IdempotencyKey::from_seed(seed).as_str(), want);
        }
    }

    #[test]
    fn parse_rules() {
        assert_eq!(IdempotencyKey::parse(""), Err(IdempotencyKeyError::Empty));
        let long = "a".repeat(65);
        assert_eq!(
            IdempotencyKey::parse(&long),
            Err(IdempotencyKeyError::TooLong)
        );
        assert_eq!(
            IdempotencyKey::parse(&long[..64]).unwrap().as_str(),
            &long[..64]
        );
        for bad in ["a b", "a\r\n", "\x7f", "é"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdempotencyKeyError::InvalidByte),
                "{bad:?}"
            );
        }
        assert_eq!(
            IdempotencyKey::parse("x").unwrap(),
            IdempotencyKey::parse("x").unwrap()
        );
    }

    proptest! {
        /// Generated keys are valid UUIDv4 text, parse back, and depend only on the seed.
        #[test]
        fn generated_keys_round_trip(seed in any::<u64>()) {
            let k = IdempotencyKey::from_seed(seed);
            prop_assert_eq!(IdempotencyKey::parse(k.as_str()), Ok(k));
            prop_assert_eq!(k, IdempotencyKey::from_seed(seed));
            prop_assert_eq!(k.as_str().as_bytes().get(14), Some(&b'4'));
        }

        /// `parse` never panics and keeps accepted keys exactly.
        #[test]
        fn parse_never_panics(s in "\\PC{0,70}") {
            if let Ok(k) = IdempotencyKey::parse(&s) {
                prop_assert_eq!(k.as_str(), s.as_str());
            }
        }
    }
}
