//! [`Score`]: fixed-point numbers parsed from JSON text, with no float code on the firmware path.

use core::fmt;

/// A decimal number in units of 1/10 000 (four fractional digits), e.g. `0.52` is `Score(5200)`.
///
/// Parsed from JSON number text by [`Score::parse`]: digits beyond the fourth fractional one
/// are truncated toward zero; values beyond ±214 748.3647 saturate symmetrically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Score(pub i32);

impl Score {
    /// Units per 1.0.
    pub const SCALE: i32 = 10_000;

    /// Parses a JSON number (`-0.35`, `1`, `5.2e-1`, `1E2`). Returns `None` for anything that
    /// is not a JSON number.
    pub fn parse(text: &[u8]) -> Option<Score> {
        #[cfg(feature = "fast")]
        if let Some(score) = Self::parse_plain(text) {
            return Some(score);
        }
        Self::parse_any(text)
    }

    /// [`Score::parse`] for the common shape `-?d{1,5}(.d+)?`, in one pass with no saturation
    /// (at most nine digits are kept, so the value fits); `None` for any other text, which
    /// [`Score::parse_any`] then reads. One to four fractional digits are read at once.
    #[cfg(feature = "fast")]
    #[inline]
    fn parse_plain(text: &[u8]) -> Option<Score> {
        let (neg, rest) = match text.split_first() {
            Some((b'-', r)) => (true, r),
            _ => (false, text),
        };
        let digit = |i: usize| {
            rest.get(i)
                .filter(|c| c.is_ascii_digit())
                .map(|&c| c - b'0')
        };
        let mut v: i32 = 0;
        let mut i = 0;
        while let Some(d) = digit(i) {
            if i == 5 {
                return None;
            }
            v = v * 10 + i32::from(d);
            i += 1;
        }
        if i == 0 {
            return None;
        }
        let mut scale = Self::SCALE;
        if rest.get(i) == Some(&b'.') {
            i += 1;
            if let Some(frac) = Self::four_places(text, rest.len() - i) {
                let magnitude = v * Self::SCALE + frac;
                return Some(Score(if neg { -magnitude } else { magnitude }));
            }
            let start = i;
            while let Some(d) = digit(i) {
                if scale > 1 {
                    scale /= 10;
                    v = v * 10 + i32::from(d);
                }
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        if i != rest.len() {
            return None;
        }
        let magnitude = v * scale;
        Some(Score(if neg { -magnitude } else { magnitude }))
    }

    /// The last `places` bytes of `text` (one to four) as fractional digits, in units of
    /// 1/10 000 (`7` of `0.7` is 7 000): one load of the last four bytes, checked and summed
    /// as four byte lanes. `None` when they are not all digits, or `text` is shorter than
    /// four bytes (the digit loop reads those).
    #[cfg(feature = "fast")]
    #[inline(always)]
    fn four_places(text: &[u8], places: usize) -> Option<i32> {
        if !(1..=4).contains(&places) {
            return None;
        }
        let last = text.get(text.len().checked_sub(4)?..)?;
        let word = u32::from_le_bytes(<[u8; 4]>::try_from(last).ok()?);
        // The digits in the low lanes, first digit lowest; the lanes above are zero.
        let drop = 8 * (4 - places as u32);
        let x = word >> drop;
        let lanes = u32::MAX >> drop;
        let (high, zeros) = (0xF0F0_F0F0 & lanes, 0x3030_3030 & lanes);
        // Every lane is `0x30..=0x39`: high nibble 3, and adding 6 leaves it 3 (the first
        // test bounds each lane to `0x3F`, so the addition carries into no other lane).
        if x & high != zeros || (x + (0x0606_0606 & lanes)) & high != zeros {
            return None;
        }
        let d = x - zeros;
        // Lane 0 becomes d0·10 + d1, lane 2 d2·10 + d3 (each at most 99).
        let pairs = d * 10 + (d >> 8);
        Some(((pairs & 0xFF) * 100 + ((pairs >> 16) & 0xFF)) as i32)
    }

    /// [`Score::parse`] for any text.
    fn parse_any(text: &[u8]) -> Option<Score> {
        let (neg, rest) = match text.split_first() {
            Some((b'-', r)) => (true, r),
            _ => (false, text),
        };
        // The grammar and the digit counts; the exponent starts at `i`.
        let (mut digits, mut frac_digits, mut seen_dot) = (0i32, 0i32, false);
        let mut i = 0;
        while let Some(&c) = rest.get(i) {
            match c {
                b'0'..=b'9' => {
                    digits = digits.saturating_add(1);
                    if seen_dot {
                        frac_digits = frac_digits.saturating_add(1);
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                b'e' | b'E' => break,
                _ => return None,
            }
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        let mantissa = rest.get(..i).unwrap_or(&[]);
        let mut exp: i32 = 0;
        if let Some(e) = rest.get(i + 1..).filter(|_| i < rest.len()) {
            let (eneg, exp_digits) = match e.split_first() {
                Some((b'-', d)) => (true, d),
                Some((b'+', d)) => (false, d),
                _ => (false, e),
            };
            if exp_digits.is_empty() {
                return None;
            }
            for &c in exp_digits {
                if !c.is_ascii_digit() {
                    return None;
                }
                exp = exp.saturating_mul(10).saturating_add(i32::from(c - b'0'));
            }
            if eneg {
                exp = -exp;
            }
        }
        // value × 10^4 = (mantissa digits as an integer) × 10^shift. A negative shift drops
        // that many trailing digits (fractional digits past the fourth, without an exponent),
        // which truncates toward zero exactly as a division would, without a 64-bit division
        // routine on 32-bit targets. The magnitude saturates: anything at or above `i32::MAX`
        // ends as `i32::MAX`, so 32 bits are enough.
        let shift = exp.saturating_sub(frac_digits).saturating_add(4);
        let keep = digits.saturating_add(shift.min(0));
        // The kept digits, then as many zeros as the shift asks for (20 saturate anything).
        let kept = mantissa
            .iter()
            .filter(|c| c.is_ascii_digit())
            .take(keep.max(0) as usize)
            .map(|d| d - b'0');
        let zeros = core::iter::repeat_n(0, shift.clamp(0, 20) as usize);
        let mut v: u32 = 0;
        for d in kept.chain(zeros) {
            v = v.saturating_mul(10).saturating_add(u32::from(d));
        }
        // Symmetric range, so negating a parsed score never overflows.
        let magnitude = v.min(i32::MAX as u32) as i32;
        Some(Score(if neg { -magnitude } else { magnitude }))
    }

    /// The value in thousandths, rounded toward zero (handy for integer-only displays).
    pub const fn as_milli(self) -> i32 {
        self.0 / 10
    }
}

impl fmt::Display for Score {
    /// Writes the value with exactly two decimals, e.g. `-0.35`, truncating further digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let sign = if v < 0 { "-" } else { "" };
        let a = v.unsigned_abs();
        write!(f, "{}{}.{:02}", sign, a / 10_000, (a % 10_000) / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_spec_numbers() {
        assert_eq!(Score::parse(b"0.52"), Some(Score(5200)));
        assert_eq!(Score::parse(b"-0.35"), Some(Score(-3500)));
        assert_eq!(Score::parse(b"0.0008"), Some(Score(8)));
        assert_eq!(Score::parse(b"0.00005"), Some(Score(0)));
        assert_eq!(Score::parse(b"1"), Some(Score(10_000)));
        assert_eq!(Score::parse(b"5.2e-1"), Some(Score(5200)));
        assert_eq!(Score::parse(b"1E2"), Some(Score(1_000_000)));
        assert_eq!(Score::parse(b"1e+0"), Some(Score(10_000)));
        assert_eq!(Score::parse(b"1e999999999999"), Some(Score(i32::MAX)));
        assert_eq!(Score::parse(b"-1e999"), Some(Score(-i32::MAX)));
        assert_eq!(
            Score::parse(b"99999999999999999999999"),
            Some(Score(i32::MAX))
        );
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in [&b""[..], b"-", b"abc", b"1e", b"1.2.3", b"1ex", b"\"1\""] {
            assert_eq!(Score::parse(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn displays_two_decimals() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(Score(5200).to_string(), "0.52");
        assert_eq!(Score(-3500).to_string(), "-0.35");
        assert_eq!(Score(8).to_string(), "0.00");
    }

    proptest! {
        /// Any decimal with up to four fractional digits parses exactly.
        #[test]
        fn exact_for_four_decimals(int in -200_000i64..200_000, frac in 0u32..10_000) {
            extern crate std;
            let text = std::format!("{}{}.{:04}", if int < 0 { "-" } else { "" }, int.abs(), frac);
            let want = (int.abs() * 10_000 + i64::from(frac)) * if int < 0 { -1 } else { 1 };
            prop_assert_eq!(Score::parse(text.as_bytes()), Some(Score(want as i32)));
        }

        /// With an exponent and more than four fractional digits, the result is the exact
        /// value × 10^4 truncated toward zero (reference computed with i128 division).
        #[test]
        fn exponents_truncate_like_division(
            mant in 0u64..10_000_000_000, frac in 0u32..9, exp in -8i32..8, neg in any::<bool>(),
        ) {
            extern crate std;
            let digits = std::format!("{:0width$}", mant, width = frac as usize + 1);
            let (int, fr) = digits.split_at(digits.len() - frac as usize);
            let text = std::format!("{}{}{}{}e{}", if neg { "-" } else { "" }, int,
                                    if frac > 0 { "." } else { "" }, fr, exp);
            let shift = exp - frac as i32 + 4;
            let v = i128::from(mant);
            let scaled = if shift >= 0 { v * 10i128.pow(shift as u32) } else { v / 10i128.pow((-shift) as u32) };
            let want = scaled.clamp(0, i128::from(i32::MAX)) as i32;
            prop_assert_eq!(Score::parse(text.as_bytes()), Some(Score(if neg { -want } else { want })), "{}", text);
        }

        /// The one-pass reading of common numbers agrees with the general one, on number-like
        /// text of every shape.
        #[test]
        fn common_shapes_agree(text in "-?[0-9]{0,7}(\\.[0-9]{0,7})?([eE][+-]?[0-9]{0,2})?") {
            prop_assert_eq!(Score::parse(text.as_bytes()), Score::parse_any(text.as_bytes()), "{}", text);
        }

        /// Short fractions, read four places at once, agree with the general reading and
        /// with the exact value, whatever digits and signs they hold.
        #[test]
        fn short_fractions_agree(int in 0u32..100_000, frac in "[0-9]{1,4}", neg in any::<bool>()) {
            extern crate std;
            let text = std::format!("{}{}.{}", if neg { "-" } else { "" }, int, frac);
            let places = std::format!("{:0<4}", frac).parse::<i64>().unwrap();
            let want = (i64::from(int) * 10_000 + places) as i32;
            prop_assert_eq!(Score::parse(text.as_bytes()), Some(Score(if neg { -want } else { want })), "{}", text);
            prop_assert_eq!(Score::parse(text.as_bytes()), Score::parse_any(text.as_bytes()), "{}", text);
        }

        /// Any bytes in the fractional places are read exactly as the general reading reads
        /// them (a lane that is not a digit rejects the fast path).
        #[test]
        fn odd_bytes_after_the_dot_agree(int in "-?[0-9]{1,3}", tail in proptest::collection::vec(any::<u8>(), 0..6)) {
            let mut text = int.into_bytes();
            text.push(b'.');
            text.extend_from_slice(&tail);
            prop_assert_eq!(Score::parse(&text), Score::parse_any(&text), "{:?}", text);
        }

        /// Fractional digits past the fourth are truncated toward zero, without an exponent.
        #[test]
        fn extra_fraction_digits_truncate(int in 0i64..200_000, frac in "[0-9]{5,9}", neg in any::<bool>()) {
            extern crate std;
            let text = std::format!("{}{}.{}", if neg { "-" } else { "" }, int, frac);
            let want = (int * 10_000 + frac[..4].parse::<i64>().unwrap()) as i32;
            prop_assert_eq!(Score::parse(text.as_bytes()), Some(Score(if neg { -want } else { want })), "{}", text);
        }

        /// Arbitrary bytes never panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            let _ = Score::parse(&bytes);
        }
    }
}
