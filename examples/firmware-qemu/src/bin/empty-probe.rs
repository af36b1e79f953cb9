//! The runtime alone (vector table, reset handler, panic handler) and the same volatile
//! input/output as `size-probe` and `peer-probe`: their sizes minus this one are what the
//! client code costs.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[path = "../probe_io.rs"]
mod probe_io;
use probe_io::{input, output};

#[entry]
fn main() -> ! {
    let v = input();
    output(u32::from(v[1]));
    loop {
        cortex_m::asm::wfi()
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::asm::udf()
}
