//! Arbitrary bytes as a response head, fed in two pieces at a fuzzer-chosen point:
//! never a panic, and the same result as feeding it whole.
#![no_main]
use kaiko_core::http::HeadParser;
use libfuzzer_sys::fuzz_target;

fn parse(
    pieces: &[&[u8]],
) -> Option<Result<(usize, Option<kaiko_core::http::ResponseHead>), kaiko_core::http::HeadError>> {
    let mut p = HeadParser::new(1024);
    let mut total = 0;
    for piece in pieces {
        let mut rest = *piece;
        while !rest.is_empty() {
            match p.parse(rest) {
                Ok((n, Some(h))) => return Some(Ok((total + n, Some(h)))),
                Ok((n, None)) => {
                    total += n;
                    rest = &rest[n..];
                    if n == 0 {
                        break;
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, bytes)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(bytes.len());
    let whole = parse(&[bytes]);
    let split = parse(&[&bytes[..cut], &bytes[cut..]]);
    assert_eq!(whole, split);
});
