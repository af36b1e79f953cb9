//! The byte writer under the request writer: it counts every byte and stores those that fit.
//!
//! Counting over an empty buffer gives the exact length of a request, so one writer serves
//! both passes (count, then write) and the two can never disagree.

use super::pieces::Piece;
use crate::score::Score;

/// Hex digits, upper case; `| 0x20` makes one lower case (digits have that bit already).
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The bytes a path segment keeps as they are, one bit each: `unreserved`, `sub-delims`, `:`
/// and `@` (RFC 3986 §3.3; `&` to `.` is `&'()*+,-.`).
const SEGMENT_KEEPS: [u8; 16] = {
    let mut set = [0u8; 16];
    let mut b = 0u8;
    while b < 128 {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'$' | b'&'..=b'.' | b':' | b';' | b'=' | b'@' | b'_' | b'~'
            )
        {
            set[(b >> 3) as usize] |= 1 << (b & 7);
        }
        b += 1;
    }
    set
};

pub(super) struct Sink<'o> {
    out: &'o mut [u8],
    /// Bytes written so far, or counted once `out` is full (saturating).
    pub(super) len: usize,
}

impl<'o> Sink<'o> {
    pub(super) fn new(out: &'o mut [u8]) -> Self {
        Sink { out, len: 0 }
    }

    pub(super) fn counting() -> Sink<'static> {
        Sink {
            out: &mut [],
            len: 0,
        }
    }

    /// `b`, in one piece: one bounds check and one copy.
    #[cfg_attr(feature = "fast", inline(always))]
    pub(super) fn bytes(&mut self, b: &[u8]) {
        let end = self.len.saturating_add(b.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            copy_short(dst, b);
        }
        self.len = end;
    }

    #[cfg_attr(feature = "fast", inline(always))]
    pub(super) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A constant piece of the request.
    #[cfg_attr(feature = "fast", inline(always))]
    pub(super) fn piece(&mut self, p: Piece) {
        self.bytes(p.bytes());
    }

    #[cfg_attr(feature = "fast", inline(always))]
    pub(super) fn byte(&mut self, b: u8) {
        self.bytes(&[b]);
    }

    /// Decimal digits of `v`, without `core::fmt` (and in 32 bits: no 64-bit division
    /// routine on 32-bit targets).
    pub(super) fn uint(&mut self, mut v: u32) {
        let mut buf = [0u8; 10];
        let mut start = buf.len();
        for slot in buf.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            start = start.saturating_sub(1);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.bytes(buf.get(start..).unwrap_or(&[]));
    }

    /// A [`Score`] as the shortest decimal: `0.7`, `1`, `0.05`, `-1.25`.
    pub(super) fn decimal(&mut self, s: Score) {
        if s.0 < 0 {
            self.byte(b'-');
        }
        let a = s.0.unsigned_abs();
        let scale = Score::SCALE.unsigned_abs();
        self.uint(a / scale);
        let mut frac = a % scale;
        if frac != 0 {
            self.byte(b'.');
        }
        // The leading decimal, then the rest shifted up one place, until nothing is left.
        while frac != 0 {
            self.byte(b'0' + (frac / (scale / 10)) as u8);
            frac = frac % (scale / 10) * 10;
        }
    }

    /// `key` as it is, then `value` as a JSON string (RFC 8259 §7): `"` `\` and control
    /// bytes escaped, the rest as is. Runs of plain bytes are copied whole.
    pub(super) fn field(&mut self, key: Piece, value: &str) {
        self.piece(key);
        self.byte(b'"');
        let mut rest = value.as_bytes();
        loop {
            let run = crate::json::string_run(rest);
            let Some((plain, tail)) = rest.split_at_checked(run) else {
                break;
            };
            self.bytes(plain);
            let Some((&b, tail)) = tail.split_first() else {
                break;
            };
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x08 => b'b',
                0x0C => b'f',
                _ => 0,
            };
            if short != 0 {
                self.bytes(&[b'\\', short]);
            } else {
                let hex = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0') | 0x20;
                self.bytes(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0x0F)]);
            }
            rest = tail;
        }
        self.byte(b'"');
    }

    /// One path segment (RFC 3986 §3.3): unreserved, sub-delims, `:` and `@` as is, every
    /// other byte as `%XX`. A segment of only dots is encoded too, so that it is not taken
    /// as a `.`/`..` segment and removed (RFC 3986 §5.2.4).
    pub(super) fn path_segment(&mut self, s: &str) {
        let dots = !s.is_empty() && s.bytes().all(|b| b == b'.');
        for b in s.bytes() {
            let keep = SEGMENT_KEEPS
                .get(usize::from(b >> 3))
                .is_some_and(|set| set >> (b & 7) & 1 != 0);
            if keep && !dots {
                self.byte(b);
            } else {
                let hex = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0');
                self.bytes(&[b'%', hex(b >> 4), hex(b & 0x0F)]);
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for slices of equal length.
#[cfg(not(feature = "fast"))]
pub(super) fn copy_short(dst: &mut [u8], src: &[u8]) {
    crate::text::copy_bytes(dst, src);
}

/// `dst.copy_from_slice(src)` for slices of equal length. Most pieces of a request are a few
/// bytes long: copied inline, not through a `memcpy` call each.
#[cfg(feature = "fast")]
pub(super) fn copy_short(dst: &mut [u8], src: &[u8]) {
    crate::text::copy_short(dst, src);
}
