//! Arbitrary bytes as an event stream: never a panic, always progress.
#![no_main]
use kaiko_core::stream::SseDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = SseDecoder::new();
    let mut rest = data;
    while !rest.is_empty() {
        match d.next(rest) {
            Ok((n, item)) => {
                assert!(n <= rest.len());
                if n == 0 && item.is_none() {
                    break;
                }
                rest = &rest[n..];
            }
            Err(_) => return,
        }
    }
    let _ = d.finish();
});
