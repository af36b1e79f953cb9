//! The runtime alone (vector table, reset handler, panic handler) and the same volatile
//! input/output as `size-probe` and `peer-probe`: their sizes minus this one are what the
//! client code costs.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

static mut INPUT: [u8; 64] = [0; 64];

#[entry]
fn main() -> ! {
    // SAFETY: single-threaded; volatile accesses keep the optimiser from removing them.
    let v = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(INPUT)) };
    // SAFETY: see above.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!(INPUT[0]), v[1]) };
    loop {
        cortex_m::asm::wfi()
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::asm::udf()
}
