//! Arbitrary bytes as a chunked body: never a panic, consumed counts stay in bounds.
#![no_main]
use kaiko_core::http::{BodyDecoder, Framing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::Chunked, Framing::Length(40), Framing::UntilClose] {
        let mut d = BodyDecoder::new(framing);
        let mut rest = data;
        while !rest.is_empty() {
            match d.decode(rest) {
                Ok(out) => {
                    assert!(out.consumed <= rest.len());
                    rest = &rest[out.consumed..];
                    if out.consumed == 0 || out.done {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = d.finish_on_close();
    }
});
