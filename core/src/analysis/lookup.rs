//! Hashed lookup of short names (object keys, enum wire texts), built at compile time (feature
//! `fast`): a name goes to one bucket by its length and three of its bytes, and only the
//! few names of that bucket are compared. Firmware searches the packed tables linearly
//! instead: no bucket table in flash.

/// Names sorted by bucket, with where each bucket starts. `N` names, `B` buckets (a power of
/// two, at most 256).
#[derive(Debug)]
pub(super) struct NameIndex<const N: usize, const B: usize> {
    /// The names, grouped by bucket; names of one bucket keep their original order.
    names: [&'static [u8]; N],
    /// The original position of each name of `names`.
    positions: [u8; N],
    /// The index in `names` where each bucket starts; a bucket ends where the next starts.
    starts: [u8; B],
}

/// The bucket count for `n` names: the power of two at or above twice `n` (most buckets hold
/// at most one name), at most 256.
pub(super) const fn buckets_for(n: usize) -> usize {
    let b = (2 * n).next_power_of_two();
    if b > 256 { 256 } else { b }
}

/// The bucket of `name` among `buckets` (a power of two, at most 256): its length, first,
/// middle and last bytes, mixed by a multiplication whose top byte is taken.
#[inline(always)]
pub(super) const fn bucket(name: &[u8], buckets: usize) -> usize {
    let len = name.len();
    let (first, mid, last) = if len == 0 {
        (0, 0, 0)
    } else {
        (name[0], name[len / 2], name[len - 1])
    };
    let x = (len as u32 & 0xFF) | (first as u32) << 8 | (mid as u32) << 16 | (last as u32) << 24;
    ((x.wrapping_mul(0x9E37_79B1) >> 24) as usize) & (buckets - 1)
}

impl<const N: usize, const B: usize> NameIndex<N, B> {
    /// The index of `names` (`N` = `names.len()`, at most 255), evaluated at compile time.
    pub(super) const fn new(names: &[&'static [u8]]) -> Self {
        assert!(
            N == names.len() && N < 256,
            "N must be the name count, below 256"
        );
        assert!(
            B.is_power_of_two() && B <= 256,
            "B must be a power of two up to 256"
        );
        let mut index = NameIndex {
            names: [&[]; N],
            positions: [0; N],
            starts: [0; B],
        };
        // Counting sort by bucket, stable: names of a bucket keep their order.
        let mut counts = [0usize; B];
        let mut i = 0;
        while i < N {
            counts[bucket(names[i], B)] += 1;
            i += 1;
        }
        let mut next = [0usize; B];
        let mut at = 0;
        let mut b = 0;
        while b < B {
            index.starts[b] = at as u8;
            next[b] = at;
            at += counts[b];
            b += 1;
        }
        let mut i = 0;
        while i < N {
            let b = bucket(names[i], B);
            index.names[next[b]] = names[i];
            index.positions[next[b]] = i as u8;
            next[b] += 1;
            i += 1;
        }
        index
    }

    /// The names of `name`'s bucket with their original positions, in their original order:
    /// the only names that can equal `name`.
    #[inline(always)]
    pub(super) fn candidates(
        &self,
        name: &[u8],
    ) -> impl Iterator<Item = (&'static [u8], usize)> + '_ {
        let b = bucket(name, B);
        let start = self.starts.get(b).map_or(N, |&s| usize::from(s));
        let end = self.starts.get(b + 1).map_or(N, |&s| usize::from(s));
        let names = self.names.get(start..end).unwrap_or(&[]);
        let positions = self.positions.get(start..end).unwrap_or(&[]);
        names
            .iter()
            .zip(positions)
            .map(|(&n, &p)| (n, usize::from(p)))
    }

    /// The original position of the first name equal to `name`.
    #[inline(always)]
    pub(super) fn position(&self, name: &[u8]) -> Option<usize> {
        self.candidates(name)
            .find(|&(n, _)| same(n, name))
            .map(|(_, p)| p)
    }
}

/// `a == b` for short names, without a call to `memcmp`: eight bytes at a time (the last
/// word overlapping the one before), four for shorter names, bytes below that.
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let half = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_le_bytes)
    };
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    /// Names compare equal exactly when their bytes do, at every length up to a long key.
    #[test]
    fn same_is_byte_equality() {
        let base: [u8; 40] = core::array::from_fn(|i| b'a' + (i % 26) as u8);
        for n in 0..=40 {
            let a = &base[..n];
            assert!(same(a, a));
            assert!(!same(a, &base[..n.saturating_sub(1)]) || n == 0);
            for at in 0..n {
                let mut b = base;
                b[at] ^= 0x01;
                assert!(!same(a, &b[..n]), "{n} {at}");
            }
        }
    }
}
