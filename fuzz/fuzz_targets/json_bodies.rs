//! Arbitrary bytes as success and error bodies: never a panic, never a stall.
#![no_main]
use kaiko_core::analysis::SuccessParser;
use kaiko_core::error::ErrorBody;
use kaiko_core::http::ResponseHead;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut e = ErrorBody::new();
    e.feed(data);
    let _ = e.finish(&ResponseHead::new(500));

    let mut p = SuccessParser::new();
    let mut rest = data;
    while !rest.is_empty() {
        match p.feed(rest) {
            Ok((n, out)) => {
                assert!(n <= rest.len());
                assert!(n > 0 || out.is_some(), "the parser must make progress");
                rest = &rest[n..];
            }
            Err(_) => return,
        }
    }
    for _ in 0..4 {
        if !matches!(p.finish(), Ok(Some(_))) {
            break;
        }
    }
});
