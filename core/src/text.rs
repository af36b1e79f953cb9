//! [`Text`]: a fixed-capacity UTF-8 string that truncates instead of failing.
//!
//! Invariant: [`Text::as_str`] is always valid UTF-8 and never longer than `N` bytes. Bytes
//! pushed past the capacity are dropped and [`Text::is_truncated`] becomes `true`; a character
//! cut in half by the capacity is dropped whole, so truncation always lands on a UTF-8 boundary.

use core::fmt;

/// A string of at most `N` bytes that keeps what fits and remembers whether anything was lost.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Text<N> {
    /// An empty text.
    pub const fn new() -> Self {
        Text {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// A text holding as much of `s` as fits.
    pub fn from_str_truncating(s: &str) -> Self {
        let mut t = Self::new();
        t.push_bytes(s.as_bytes());
        t
    }

    /// Appends bytes (UTF-8, possibly a fragment of a longer string). What does not fit is
    /// dropped and the text is marked truncated.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        let room = N - self.len;
        let take = bytes.len().min(room);
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + take),
            bytes.get(..take),
        ) {
            self.len += copy_bytes(dst, src);
        }
        if take < bytes.len() {
            self.truncated = true;
        }
    }

    /// Marks the text as truncated (the source said there was more than was kept).
    pub fn mark_truncated(&mut self) {
        self.truncated = true;
    }

    /// Empties the text.
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }

    /// The longest valid UTF-8 prefix of what was pushed.
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
            }
        }
    }

    /// `true` when bytes were dropped (capacity reached) or the text was marked truncated.
    pub const fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// `true` when nothing was kept.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Case-sensitive comparison with `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        self.as_str() == s
    }
}

/// Copies as many bytes as both slices hold and returns how many. Unlike
/// `copy_from_slice`, whose length check the optimiser cannot always remove, it has no panic
/// path.
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    // Both halves are exactly `n` long, visibly so to the optimiser: a plain memcpy.
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    n
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Text<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_what_fits_and_flags_the_rest() {
        let mut t = Text::<5>::new();
        t.push_bytes(b"abc");
        t.push_bytes(b"def");
        assert_eq!(t.as_str(), "abcde");
        assert!(t.is_truncated());
    }

    #[test]
    fn never_splits_a_character() {
        // "é" is two bytes; only its first byte fits.
        let t = Text::<4>::from_str_truncating("abcé");
        assert_eq!(t.as_str(), "abc");
        assert!(t.is_truncated());
    }

    proptest! {
        /// Truncation is UTF-8 safe, a prefix of the input, and flagged exactly when bytes were lost.
        #[test]
        fn truncation_is_utf8_safe(s in "\\PC{0,40}", cut in 0usize..48) {
            let mut t = Text::<16>::new();
            let (a, b) = s.as_bytes().split_at(cut.min(s.len()));
            t.push_bytes(a);
            t.push_bytes(b);
            prop_assert!(s.starts_with(t.as_str()));
            prop_assert!(t.as_str().len() <= 16);
            prop_assert_eq!(t.is_truncated(), s.len() > 16);
            if s.len() <= 16 { prop_assert_eq!(t.as_str(), s.as_str()); }
            else { prop_assert!(t.as_str().len() > 16 - 4); }
        }
    }
}
