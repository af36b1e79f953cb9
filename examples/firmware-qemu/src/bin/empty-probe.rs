//! The runtime alone (vector table, reset handler, panic handler) and the same volatile
//! input/output as `size-probe` and `peer-probe`: their sizes minus this one are what the
//! client code costs.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

static mut INPUT: [u32; 16] = [0; 16];

/// The same out-of-line reader as `size-probe`'s.
#[inline(never)]
fn input() -> [u8; 64] {
    let mut out = [0u8; 64];
    for i in 0..16 {
        // SAFETY: single-threaded; `i` < 16 stays inside the cell.
        let word = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(INPUT[i])) };
        let [b0, b1, b2, b3] = word.to_ne_bytes();
        (out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3]) = (b0, b1, b2, b3);
    }
    out
}

#[entry]
fn main() -> ! {
    let v = input();
    // SAFETY: single-threaded; a volatile write keeps the optimiser from removing the read.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!(INPUT[0]), u32::from(v[1])) };
    loop {
        cortex_m::asm::wfi()
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::asm::udf()
}
