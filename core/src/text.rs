//! [`Text`]: a fixed-capacity UTF-8 string that truncates instead of failing.
//!
//! Invariant: [`Text::as_str`] is always valid UTF-8 and never longer than `N` bytes. Bytes
//! pushed past the capacity are dropped and [`Text::is_truncated`] becomes `true`; a character
//! cut in half by the capacity is dropped whole, so truncation always lands on a UTF-8 boundary.
//! The length is a `u8` (capacities are at most 255 bytes, checked at compile time) and the
//! bytes past it are always zero, so two texts that show the same string compare equal.

use core::fmt;

/// A string of at most `N` bytes that keeps what fits and remembers whether anything was lost.
#[derive(Clone, Copy)]
pub struct Text<const N: usize>(TextBuf<[u8; N]>);

/// The storage of a [`Text`]: the counters first, so that a `&mut TextBuf<[u8; N]>` coerces to
/// a `&mut AnyText`, one pointer and the capacity. The work is done on that unsized form: one
/// copy of each routine in the image for every capacity, and a text chosen at run time among
/// texts of different capacities is a plain reference.
#[derive(Clone, Copy)]
pub(crate) struct TextBuf<B: ?Sized> {
    len: u8,
    truncated: bool,
    buf: B,
}

/// A [`Text`] of any capacity.
pub(crate) type AnyText = TextBuf<[u8]>;

impl<const N: usize> PartialEq for Text<N> {
    /// Equal when the visible strings and the truncation flags are equal.
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() && self.0.truncated == other.0.truncated
    }
}

impl<const N: usize> Eq for Text<N> {}

// The methods that pass the work on are always inlined: calling the shared routine directly
// costs no more than calling a per-capacity copy of the method.
impl<const N: usize> Text<N> {
    /// An empty text.
    pub const fn new() -> Self {
        const { assert!(N <= u8::MAX as usize, "Text capacity above 255 bytes") };
        Text(TextBuf {
            len: 0,
            truncated: false,
            buf: [0; N],
        })
    }

    /// A text holding as much of `s` as fits.
    pub fn from_str_truncating(s: &str) -> Self {
        let mut t = Self::new();
        t.push_bytes(s.as_bytes());
        t
    }

    /// This text as an [`AnyText`].
    pub(crate) fn any(&mut self) -> &mut AnyText {
        &mut self.0
    }

    /// Appends bytes (UTF-8, possibly a fragment of a longer string). What does not fit is
    /// dropped and the text is marked truncated.
    #[inline(always)]
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.any().push_bytes(bytes);
    }

    /// Marks the text as truncated (the source said there was more than was kept).
    pub fn mark_truncated(&mut self) {
        self.0.truncated = true;
    }

    /// Empties the text.
    #[inline(always)]
    pub fn clear(&mut self) {
        self.any().clear();
    }

    /// The longest valid UTF-8 prefix of what was pushed.
    #[inline(always)]
    pub fn as_str(&self) -> &str {
        let any: &AnyText = &self.0;
        any.as_str()
    }

    /// The bytes pushed, as they are (possibly not UTF-8, unlike [`Text::as_str`]).
    #[cfg(feature = "fast")]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.buf.get(..usize::from(self.0.len)).unwrap_or(&[])
    }

    /// `true` when bytes were dropped (capacity reached) or the text was marked truncated.
    pub const fn is_truncated(&self) -> bool {
        self.0.truncated
    }

    /// `true` when nothing was kept.
    pub const fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Case-sensitive comparison with `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        self.as_str() == s
    }
}

// Never inlined: the optimiser would otherwise paste them back into every call site.
impl AnyText {
    /// Appends `bytes` after the first `len` bytes, keeping what fits.
    #[inline(never)]
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        let used = usize::from(self.len);
        let copied = copy_bytes(self.buf.get_mut(used..).unwrap_or(&mut []), bytes);
        // `used + copied <= N <= 255`.
        self.len = (used + copied) as u8;
        if copied < bytes.len() {
            self.truncated = true;
        }
    }

    /// Zeroes the first `len` bytes (the tail past `len` is always zero) and the counters.
    #[inline(never)]
    pub(crate) fn clear(&mut self) {
        if let Some(used) = self.buf.get_mut(..usize::from(self.len)) {
            used.fill(0);
        }
        self.len = 0;
        self.truncated = false;
    }

    /// The longest valid UTF-8 prefix of what was pushed.
    #[inline(never)]
    fn as_str(&self) -> &str {
        let bytes = self.buf.get(..usize::from(self.len)).unwrap_or(&[]);
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
            }
        }
    }
}

/// Copies as many bytes as both slices hold and returns how many. Unlike
/// `copy_from_slice`, whose length check the optimiser cannot always remove, it has no panic
/// path.
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) -> usize {
    // A counted loop the optimiser turns into memcpy; `copy_from_slice`'s length check
    // survives wherever its implementation is not inlined (opt-level "z" outlines it).
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
    dst.len().min(src.len())
}

/// [`copy_bytes`] for the short pieces of requests and header lines: up to 64 bytes are
/// copied as two overlapping fixed-size words, inline, rather than through a `memcpy` call
/// each.
#[cfg(feature = "fast")]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) -> usize {
    fn words<const N: usize>(dst: &mut [u8], src: &[u8]) -> bool {
        let tail = src.len().saturating_sub(N);
        let (Some(&first), Some(&last)) = (
            src.first_chunk::<N>(),
            src.get(tail..).and_then(<[u8]>::first_chunk::<N>),
        ) else {
            return false;
        };
        match dst.first_chunk_mut::<N>() {
            Some(d) => *d = first,
            None => return false,
        }
        match dst.get_mut(tail..).and_then(<[u8]>::first_chunk_mut::<N>) {
            Some(d) => *d = last,
            None => return false,
        }
        true
    }
    let n = dst.len().min(src.len());
    let (Some(dst), Some(src)) = (dst.get_mut(..n), src.get(..n)) else {
        return 0;
    };
    let done = match n {
        4..=7 => words::<4>(dst, src),
        8..=16 => words::<8>(dst, src),
        17..=32 => words::<16>(dst, src),
        33..=64 => words::<32>(dst, src),
        _ => false,
    };
    if !done {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
    n
}

/// `buf.copy_within(from..end, to)` for `to <= from <= end <= buf.len()`, and nothing
/// otherwise: the bounds are checked here, visibly, so no panic path remains.
pub(crate) fn move_down(buf: &mut [u8], from: usize, end: usize, to: usize) {
    if to > from {
        return;
    }
    // Byte by byte (the buffers are at most a few dozen bytes): every index is checked.
    for i in from..end {
        if let Some(&b) = buf.get(i)
            && let Some(d) = buf.get_mut(i - (from - to))
        {
            *d = b;
        }
    }
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)?;
        if self.0.truncated {
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

        /// Texts showing the same string compare equal, however they were filled and reused.
        #[test]
        fn equality_follows_the_visible_string(a in "\\PC{0,20}", b in "\\PC{0,20}", c in "\\PC{0,8}") {
            let mut reused = Text::<16>::from_str_truncating(&a);
            reused.clear();
            reused.push_bytes(c.as_bytes());
            let fresh = Text::<16>::from_str_truncating(&c);
            prop_assert_eq!(reused, fresh);
            let x = Text::<16>::from_str_truncating(&a);
            let y = Text::<16>::from_str_truncating(&b);
            prop_assert_eq!(x == y, x.as_str() == y.as_str() && x.is_truncated() == y.is_truncated());
        }
    }
}
