//! Name tables stored packed: every name's length in one array and the names one after the
//! other in one text, instead of a slice (pointer and length) per name. Built at compile time
//! by [`append`]; searched by one shared out-of-line loop.

/// Copies `bytes` into `out` from `at` and returns the position after them: the one step of
/// every packed table built at compile time.
pub(crate) const fn append(out: &mut [u8], mut at: usize, bytes: &[u8]) -> usize {
    let mut j = 0;
    while j < bytes.len() {
        out[at] = bytes[j];
        at += 1;
        j += 1;
    }
    at
}

/// The position of `name` among names stored as their `lens` and their bytes one after the
/// other in `text`. One search shared by every open enum: a table of slices would cost a
/// pointer and a length per name, and a search per enum its own copy of the loop.
#[inline(never)]
pub(crate) fn packed_position(lens: &[u8], text: &str, name: &[u8]) -> Option<usize> {
    let mut at = 0;
    for (i, &len) in lens.iter().enumerate() {
        let end = at + usize::from(len);
        if text.as_bytes().get(at..end) == Some(name) {
            return Some(i);
        }
        at = end;
    }
    None
}

/// The name at position `i` of names stored as in [`packed_position`] (empty past the end).
#[inline(never)]
pub(crate) fn packed_name<'t>(lens: &[u8], text: &'t str, i: usize) -> &'t str {
    let at: usize = lens.iter().take(i).map(|&len| usize::from(len)).sum();
    let len = lens.get(i).map_or(0, |&len| usize::from(len));
    text.get(at..at + len).unwrap_or("")
}
