//! The volatile input and output the three flash probes share, so that what differs between
//! their images is the code they measure.

/// A cell the optimiser cannot see through.
static mut INPUT: [u32; 16] = [0; 16];

/// The cell's bytes, read one word at a time through volatile loads, out of line: the value
/// stays hidden from the optimiser without a byte load per element pasted into every caller
/// (which would count the harness's code as the measured code's flash).
#[inline(never)]
pub fn input() -> [u8; 64] {
    let mut out = [0u8; 64];
    for i in 0..16 {
        // SAFETY: single-threaded; `i` < 16 stays inside the cell.
        let word = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(INPUT[i])) };
        let [b0, b1, b2, b3] = word.to_ne_bytes();
        (out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3]) = (b0, b1, b2, b3);
    }
    out
}

/// Writes a result where the optimiser must keep it.
pub fn output(value: u32) {
    // SAFETY: single-threaded; a volatile write keeps the computation that made `value`.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!(INPUT[0]), value) };
}
