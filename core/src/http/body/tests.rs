extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// Runs a decoder over `parts` (fed in order, each remainder passed again) and returns the
/// payload, whether it finished, and the bytes left over after the body.
fn run(framing: Framing, parts: &[&[u8]]) -> Result<(Vec<u8>, bool, Vec<u8>), BodyError> {
    let mut d = BodyDecoder::new(framing);
    let mut payload = Vec::new();
    let mut rest = Vec::new();
    for part in parts {
        let mut input = *part;
        loop {
            if d.is_done() {
                rest.extend_from_slice(input);
                break;
            }
            let out = d.decode(input)?;
            assert!(out.consumed <= input.len());
            assert_eq!(out.done, d.is_done());
            payload.extend_from_slice(out.data);
            input = &input[out.consumed..];
            if input.is_empty() {
                break;
            }
            assert!(out.consumed > 0 || out.done, "no progress");
        }
    }
    Ok((payload, d.is_done(), rest))
}

/// Every split into two parts, and byte at a time, gives the same result as one piece.
fn all_splits(framing: Framing, wire: &[u8]) -> Result<(Vec<u8>, bool, Vec<u8>), BodyError> {
    let whole = run(framing, &[wire]);
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(run(framing, &[a, b]), whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(run(framing, &bytes), whole, "byte at a time");
    whole
}

const CHUNKED: &[(&[u8], &[u8])] = &[
    (b"5\r\nHello\r\n7\r\n, world\r\n0\r\n\r\nNEXT", b"Hello, world"),
    (b"0\r\n\r\nNEXT", b""),
    // Upper/lower hex, leading zeros, extensions with tokens and quoted strings, BWS.
    (
        b"000A;name=value;q=\"a;b\\\"c\"\r\n0123456789\r\nb ; x = \"y\" \r\nhello world\r\n0;last\r\n\r\nNEXT",
        b"0123456789hello world",
    ),
    // Trailer fields are skipped.
    (b"3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum: 1234\r\n\r\nNEXT", b"abc"),
    // Bare LF line endings (RFC 9112 §2.2).
    (b"3\nabc\n2\nde\n0\nTrailer: x\n\nNEXT", b"abcde"),
    (b"1F\r\n{\"data\":\"0123456789abcdef0123\"}\r\n0\r\n\r\n", b"{\"data\":\"0123456789abcdef0123\"}"),
];

#[test]
fn chunked_bodies_at_every_split_point() {
    for (wire, payload) in CHUNKED {
        let (got, done, rest) = all_splits(Framing::Chunked, wire).unwrap();
        assert_eq!(got, *payload);
        assert!(done);
        let tail: &[u8] = if wire.ends_with(b"NEXT") {
            b"NEXT"
        } else {
            b""
        };
        assert_eq!(rest, tail);
    }
}

#[test]
fn content_length_stops_at_the_end() {
    let (got, done, rest) = all_splits(Framing::Length(5), b"HelloHTTP/1.1 200").unwrap();
    assert_eq!(
        (got.as_slice(), done, rest.as_slice()),
        (&b"Hello"[..], true, &b"HTTP/1.1 200"[..])
    );
    let (got, done, _) = all_splits(Framing::Length(10), b"Hello").unwrap();
    assert_eq!((got.as_slice(), done), (&b"Hello"[..], false));
}

#[test]
fn empty_bodies_are_done_before_any_byte() {
    for framing in [Framing::Empty, Framing::Length(0)] {
        let mut d = BodyDecoder::new(framing);
        assert!(d.is_done());
        let out = d.decode(b"HTTP/1.1").unwrap();
        assert_eq!(
            out,
            Decoded {
                consumed: 0,
                data: b"",
                done: true
            }
        );
        assert_eq!(d.finish_on_close(), Ok(()));
    }
}

#[test]
fn until_close_takes_everything_and_ends_on_close() {
    let (got, done, _) = all_splits(Framing::UntilClose, b"all of it\r\n0\r\n\r\n").unwrap();
    assert_eq!(
        (got.as_slice(), done),
        (&b"all of it\r\n0\r\n\r\n"[..], false)
    );
    let mut d = BodyDecoder::new(Framing::UntilClose);
    assert_eq!(d.decode(b"x").unwrap().data, b"x");
    assert_eq!(d.finish_on_close(), Ok(()));
    assert!(d.is_done());
}

#[test]
fn close_before_the_end_is_truncation() {
    let mut d = BodyDecoder::new(Framing::Length(3));
    assert_eq!(d.decode(b"ab").unwrap().data, b"ab");
    assert_eq!(d.finish_on_close(), Err(BodyError::Truncated));
    assert_eq!(d.decode(b"c"), Err(BodyError::Truncated));

    // A chunked body missing only its final CRLF is still truncated.
    let mut d = BodyDecoder::new(Framing::Chunked);
    let out = d.decode(b"1\r\na\r\n0\r\n").unwrap();
    let out2 = d.decode(&b"1\r\na\r\n0\r\n"[out.consumed..]).unwrap();
    assert!(!out2.done);
    assert_eq!(d.finish_on_close(), Err(BodyError::Truncated));
}

#[test]
fn malformed_chunk_sizes() {
    for (wire, err) in [
        (&b"\r\n"[..], BodyError::BadChunkSize),
        (b"g\r\n", BodyError::BadChunkSize),
        (b"-1\r\n", BodyError::BadChunkSize),
        (b"0x10\r\n", BodyError::BadChunkSize),
        (b"5 5\r\n", BodyError::BadChunkSize),
        (b"5\rX", BodyError::BadChunkSize),
        (b"5;a=\"b\rc\"\r\n", BodyError::BadChunkSize),
        (b"10000000000000000\r\n", BodyError::ChunkSizeTooLarge),
        (b"FFFFFFFFFFFFFFFFF\r\n", BodyError::ChunkSizeTooLarge),
        (
            b"000000000000000000000000000000001\r\n",
            BodyError::ChunkSizeTooLarge,
        ),
        (b"3\r\nabcX", BodyError::BadChunkTerminator),
        (b"3\r\nabc\rX", BodyError::BadChunkTerminator),
        (b"0\r\nField: a\rb\r\n\r\n", BodyError::BadTrailer),
    ] {
        assert_eq!(
            all_splits(Framing::Chunked, wire),
            Err(err),
            "{:?}",
            core::str::from_utf8(wire)
        );
    }
    // The largest size that fits is accepted.
    let mut d = BodyDecoder::new(Framing::Chunked);
    assert_eq!(d.decode(b"FFFFFFFFFFFFFFFF\r\nab").unwrap().data, b"ab");
}

#[test]
fn bounded_extensions_and_trailers() {
    let mut wire = Vec::from(&b"1;"[..]);
    wire.resize(wire.len() + 1100, b'x');
    assert_eq!(
        run(Framing::Chunked, &[&wire]),
        Err(BodyError::ExtensionTooLarge)
    );
    let mut wire = Vec::from(&b"0\r\n"[..]);
    for _ in 0..300 {
        wire.extend_from_slice(b"X-Pad: 0123456789\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    assert_eq!(
        run(Framing::Chunked, &[&wire]),
        Err(BodyError::TrailersTooLarge)
    );
}

#[test]
fn errors_are_sticky() {
    let mut d = BodyDecoder::new(Framing::Chunked);
    assert_eq!(d.decode(b"z"), Err(BodyError::BadChunkSize));
    assert_eq!(d.decode(b"1\r\na\r\n"), Err(BodyError::BadChunkSize));
    assert_eq!(d.decode(b""), Err(BodyError::BadChunkSize));
    assert_eq!(d.finish_on_close(), Err(BodyError::BadChunkSize));
}

/// Encodes `payload` as chunks of the given sizes (the last size repeats), with an
/// extension on every other chunk and a trailer.
fn encode(payload: &[u8], sizes: &[usize], upper: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = payload;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i)
            .or(sizes.last())
            .copied()
            .unwrap_or(1)
            .clamp(1, rest.len());
        let size = if upper {
            std::format!("{n:X}")
        } else {
            std::format!("{n:x}")
        };
        out.extend_from_slice(size.as_bytes());
        if i % 2 == 1 {
            out.extend_from_slice(b";ext=\"v;\\\"x\"");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        i += 1;
    }
    out.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    out
}

proptest! {
    #[test]
    fn chunked_payload_survives_any_chunking_and_split(
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..300, 1..8),
        upper in any::<bool>(),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
    ) {
        let wire = encode(&payload, &sizes, upper);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut last = 0;
        for c in cuts {
            parts.push(&wire[last..c]);
            last = c;
        }
        parts.push(&wire[last..]);
        let (got, done, rest) = run(Framing::Chunked, &parts).unwrap();
        prop_assert_eq!(got, payload);
        prop_assert!(done);
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic(wire in proptest::collection::vec(any::<u8>(), 0..200), cut in 0usize..200) {
        let cut = cut.min(wire.len());
        for framing in [Framing::Chunked, Framing::Length(50), Framing::UntilClose] {
            let _ = run(framing, &[&wire[..cut], &wire[cut..]]);
        }
    }
}
