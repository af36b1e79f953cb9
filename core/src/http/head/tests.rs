extern crate std;

use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::http::RateLimit;

/// Feeds `parts` in order (each remainder passed again) and returns the bytes consumed and
/// the head. A second parser is fed the same parts through `parse_in_place` and must answer
/// the same at every call.
fn run(max: usize, parts: &[&[u8]]) -> Result<(usize, Option<ResponseHead>), HeadError> {
    let mut p = HeadParser::new(max);
    let mut lent = HeadParser::new(max);
    let mut total = 0;
    for part in parts {
        let result = p.parse(part);
        let lent_result = lent.parse_in_place(part).map(|(n, h)| (n, h.copied()));
        assert_eq!(lent_result, result, "parse_in_place answers as parse does");
        let (n, head) = result?;
        assert!(n <= part.len());
        total += n;
        if let Some(head) = head {
            assert_eq!(
                p.parse(&part[n..]),
                Ok((0, None)),
                "finished parser consumes nothing"
            );
            return Ok((total, Some(head)));
        }
        assert_eq!(n, part.len(), "an unfinished parser consumes everything");
    }
    Ok((total, None))
}

/// The same result for the whole input, every split into two, and byte at a time.
fn parse_all(wire: &[u8]) -> Result<(usize, Option<ResponseHead>), HeadError> {
    let whole = run(DEFAULT_MAX_HEAD, &[wire]);
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(run(DEFAULT_MAX_HEAD, &[a, b]), whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(run(DEFAULT_MAX_HEAD, &bytes), whole, "byte at a time");
    whole
}

/// Parses a fixture that is a complete head followed by `BODY`.
fn head(wire: &[u8]) -> ResponseHead {
    let (n, head) = parse_all(wire).unwrap();
    assert_eq!(&wire[n..], b"BODY", "stops right after the head");
    head.unwrap()
}

fn err(wire: &[u8]) -> HeadError {
    parse_all(wire).unwrap_err()
}

#[test]
fn typical_json_response() {
    let h = head(
        b"HTTP/1.1 200 OK\r\n\
          Date: Wed, 25 Nov 2026 15:00:00 GMT\r\n\
          Content-Type: application/json; charset=utf-8\r\n\
          Content-Length: 123\r\n\
          Connection: keep-alive\r\n\
          apigw-requestid: Vx3Q8gT1oAMEbKw=\r\n\
          X-RateLimit-Limit: 60\r\n\
          X-RateLimit-Remaining: 59\r\n\
          X-RateLimit-Reset: 1735862400\r\n\
          Access-Control-Allow-Origin: *\r\n\
          \r\nBODY",
    );
    let mut want = ResponseHead::new(200);
    want.framing = Framing::Length(123);
    want.content_type = ContentType::Json;
    want.date = Some(1_795_618_800);
    want.request_id.push_bytes(b"Vx3Q8gT1oAMEbKw=");
    want.rate_limit = RateLimit {
        limit: Some(60),
        remaining: Some(59),
        reset: Some(1_735_862_400),
    };
    assert_eq!(h, want);
}

#[test]
fn rate_limited_chunked_after_interim_responses_with_bare_lf() {
    let h = head(
        b"HTTP/1.1 100 Continue\r\n\r\n\
          HTTP/1.1 102 Processing\nX-Request-Id: not-this-one\n\n\
          HTTP/1.1 429 Too Many Requests\n\
          transfer-encoding: chunked\n\
          CONTENT-TYPE: application/problem+json\n\
          Retry-After: 60\n\
          retry-after-ms: 59500\n\
          x-request-id: req-7f65ab21d1\n\
          request-id: second-is-ignored\n\
          \nBODY",
    );
    let mut want = ResponseHead::new(429);
    want.framing = Framing::Chunked;
    want.content_type = ContentType::Json;
    want.retry_after = Some(RetryAfter::Seconds(60));
    want.retry_after_ms = Some(59_500);
    want.request_id.push_bytes(b"req-7f65ab21d1");
    assert_eq!(h, want);
}

#[test]
fn event_stream_and_other_media_types() {
    for (ct, want) in [
        (&b"text/event-stream"[..], ContentType::EventStream),
        (
            b"Text/Event-Stream ; charset=utf-8",
            ContentType::EventStream,
        ),
        (b"text/html;charset=UTF-8", ContentType::Html),
        (b"application/vnd.api+json", ContentType::Json),
        (b"APPLICATION/JSON", ContentType::Json),
        (b"+json", ContentType::Other),
        (b"application/jsonx", ContentType::Other),
        (b"text/plain", ContentType::Other),
        (b"", ContentType::Other),
    ] {
        let mut wire = Vec::from(&b"HTTP/1.1 200 OK\r\nContent-Type: "[..]);
        wire.extend_from_slice(ct);
        wire.extend_from_slice(b"\r\n\r\nBODY");
        assert_eq!(
            head(&wire).content_type,
            want,
            "{:?}",
            core::str::from_utf8(ct)
        );
    }
    assert_eq!(
        head(b"HTTP/1.1 200 OK\r\n\r\nBODY").content_type,
        ContentType::Missing
    );
    // A long value is still classified when its parameters start within the buffer.
    let mut wire = Vec::from(&b"HTTP/1.1 200 OK\r\nContent-Type: application/json; p="[..]);
    wire.resize(wire.len() + 100, b'x');
    wire.extend_from_slice(b"\r\n\r\nBODY");
    assert_eq!(head(&wire).content_type, ContentType::Json);
}

#[test]
fn framing_per_rfc_9112_section_6_3() {
    let cases: &[(&[u8], Framing, bool)] = &[
        (b"HTTP/1.1 200 OK\r\n\r\nBODY", Framing::UntilClose, false),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nBODY", Framing::Length(0), true),
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nBODY", Framing::Empty, true),
        (b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nBODY", Framing::Empty, true),
        // Transfer-Encoding overrides Content-Length; that connection is not reused.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nBODY", Framing::Chunked, false),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nBODY", Framing::Chunked, false),
        // The final coding decides.
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nBODY", Framing::Chunked, true),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: ,CHUNKED ,\r\n\r\nBODY", Framing::Chunked, true),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nBODY", Framing::UntilClose, false),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\nBODY", Framing::UntilClose, false),
        // Identical Content-Length values are one value (RFC 9110 §8.6).
        (b"HTTP/1.1 200 OK\r\nContent-Length: 7, 7,7\r\nContent-Length: 007\r\n\r\nBODY", Framing::Length(7), true),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nBODY", Framing::Length(u64::MAX), true),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), false),
        (b"HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), false),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), false),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), true),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nBODY", Framing::UntilClose, false),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), false),
        (b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), false),
        // Later minor versions follow 1.1.
        (b"HTTP/1.2 200 OK\r\nContent-Length: 1\r\n\r\nBODY", Framing::Length(1), true),
    ];
    for (wire, framing, keep_alive) in cases {
        let h = head(wire);
        assert_eq!(
            (h.framing, h.keep_alive),
            (*framing, *keep_alive),
            "{:?}",
            core::str::from_utf8(wire)
        );
    }
}

#[test]
fn status_lines() {
    assert_eq!(head(b"HTTP/1.1 503\r\n\r\nBODY").status, 503);
    assert_eq!(head(b"HTTP/1.1 404 \r\n\r\nBODY").status, 404);
    assert_eq!(
        head(b"HTTP/1.1 999 \xff\x01 any\tthing\r\n\r\nBODY").status,
        999
    );
    assert_eq!(head(b"\r\n\nHTTP/1.1 200 OK\r\n\r\nBODY").status, 200);
    for bad in [
        &b"HTTP/2 200 OK\r\n\r\n"[..],
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"HTTP/1.x 200 OK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 99 OK\r\n\r\n",
        b"HTTP/1.1 099 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 20a OK\r\n\r\n",
        b"HTTP/1.1 200OK\r\n\r\n",
        b"HTTP/1.1 200 OK\rX\r\n\r\n",
        b"\rHTTP/1.1 200 OK\r\n\r\n",
        b" HTTP/1.1 200 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
    ] {
        assert_eq!(
            err(bad),
            HeadError::BadStatusLine,
            "{:?}",
            core::str::from_utf8(bad)
        );
    }
}

#[test]
fn malformed_header_lines() {
    for (bad, e) in [
        (
            &b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n"[..],
            HeadError::BadHeader,
        ),
        (
            b"HTTP/1.1 200 OK\r\nA: b\r\n\tcontinued\r\n\r\n",
            HeadError::BadHeader,
        ),
        (b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", HeadError::BadHeader),
        (b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", HeadError::BadHeader),
        (b"HTTP/1.1 200 OK\r\n: v\r\n\r\n", HeadError::BadHeader),
        (
            b"HTTP/1.1 200 OK\r\nBad(name): v\r\n\r\n",
            HeadError::BadHeader,
        ),
        (b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", HeadError::BadHeader),
        (b"HTTP/1.1 200 OK\r\n\rX", HeadError::BadHeader),
        (
            b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
            HeadError::BadHeaderValue,
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\x1bb\r\n\r\n",
            HeadError::BadHeaderValue,
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: \x7f\r\n\r\n",
            HeadError::BadHeaderValue,
        ),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
            HeadError::UnexpectedSwitch,
        ),
    ] {
        assert_eq!(err(bad), e, "{:?}", core::str::from_utf8(bad));
    }
}

#[test]
fn bad_framing_headers_are_errors() {
    for (bad, e) in [
        (
            &b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"[..],
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n",
            HeadError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            HeadError::BadTransferEncoding,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding:  \r\n\r\n",
            HeadError::BadTransferEncoding,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n",
            HeadError::BadTransferEncoding,
        ),
        (
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            HeadError::BadTransferEncoding,
        ),
    ] {
        assert_eq!(err(bad), e, "{:?}", core::str::from_utf8(bad));
    }
    // A long Content-Length list is an error, not a truncation.
    let mut wire = Vec::from(&b"HTTP/1.1 200 OK\r\nContent-Length: "[..]);
    wire.resize(wire.len() + 70, b'1');
    wire.extend_from_slice(b"\r\n\r\n");
    assert_eq!(err(&wire), HeadError::BadContentLength);
}

#[test]
fn garbled_informational_headers_are_ignored() {
    let h = head(
        b"HTTP/1.1 503 Service Unavailable\r\n\
          Date: yesterday\r\n\
          Retry-After: soon\r\n\
          retry-after-ms: 1.5\r\n\
          X-RateLimit-Limit: 4294967296\r\n\
          X-RateLimit-Remaining: -1\r\n\
          X-RateLimit-Reset: 12:00\r\n\
          Content-Length: 0\r\n\
          \r\nBODY",
    );
    let mut want = ResponseHead::new(503);
    want.framing = Framing::Length(0);
    assert_eq!(h, want);
}

#[test]
fn retry_after_forms() {
    let h = head(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nBODY",
    );
    assert_eq!(h.retry_after, Some(RetryAfter::Date(784_111_777)));
    let h =
        head(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 99999999999999999999999\r\n\r\nBODY");
    assert_eq!(h.retry_after, Some(RetryAfter::Seconds(u32::MAX)));
    let h = head(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After:\t 120 \t\r\n\r\nBODY");
    assert_eq!(h.retry_after, Some(RetryAfter::Seconds(120)));
}

/// Unix seconds are kept in 32 bits: past 2106 a time to wait for saturates (still above any
/// retry cap), a reference date is not kept.
#[test]
fn dates_past_32_bits() {
    let h = head(
        b"HTTP/1.1 429 Too Many Requests\r\nDate: Fri, 31 Dec 9999 23:59:59 GMT\r\n\
          Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\nX-RateLimit-Reset: 253402300799\r\n\
          Sunset: Fri, 31 Dec 9999 23:59:59 GMT\r\n\r\nBODY",
    );
    assert_eq!(h.date, None);
    assert_eq!(h.retry_after, Some(RetryAfter::Date(u32::MAX)));
    assert_eq!(h.rate_limit.reset, Some(u32::MAX));
    assert_eq!(h.sunset, None);
    assert!(h.deprecated);
}

#[test]
fn deprecation_headers() {
    assert!(head(b"HTTP/1.1 200 OK\r\nDeprecation: true\r\n\r\nBODY").deprecated);
    assert!(head(b"HTTP/1.1 200 OK\r\nKaiko-Deprecation: 2025-12-01\r\n\r\nBODY").deprecated);
    // A Sunset date (RFC 8594) announces the removal: worth the same warning.
    assert!(
        head(b"HTTP/1.1 200 OK\r\nSunset: Tue, 31 Mar 2026 00:00:00 GMT\r\n\r\nBODY").deprecated
    );
    assert!(!head(b"HTTP/1.1 200 OK\r\nLinks: x\r\n\r\nBODY").deprecated);
}

#[cfg(feature = "details")]
#[test]
fn the_first_link_is_kept() {
    let h = head(
        b"HTTP/1.1 200 OK\r\nLink: <https://example.com/migrate>; rel=\"sunset\"\r\n\
          Link: <https://example.com/other>\r\n\r\nBODY",
    );
    assert_eq!(
        h.link.as_str(),
        "<https://example.com/migrate>; rel=\"sunset\""
    );
    assert!(!h.link.is_truncated());
    // Longer than the value buffer: the start, marked truncated.
    let long = std::format!(
        "HTTP/1.1 200 OK\r\nLink: <https://example.com/{}>\r\n\r\nBODY",
        "a".repeat(100)
    );
    let h = head(long.as_bytes());
    assert!(h.link.as_str().starts_with("<https://example.com/aaa"));
    assert!(h.link.is_truncated());
}

#[test]
fn sunset_date_is_kept() {
    let h = head(b"HTTP/1.1 200 OK\r\nSunset: Tue, 31 Mar 2026 00:00:00 GMT\r\n\r\nBODY");
    assert_eq!(
        (h.deprecated, h.sunset),
        (true, NonZeroU32::new(1_774_915_200))
    );
    // Not an HTTP-date: still a deprecation, no date.
    let h = head(b"HTTP/1.1 200 OK\r\nSunset: soon\r\n\r\nBODY");
    assert_eq!((h.deprecated, h.sunset), (true, None));
    // A later bad value does not erase an earlier date.
    let h =
        head(b"HTTP/1.1 200 OK\r\nSunset: Sun, 06 Nov 1994 08:49:37 GMT\r\nSunset: x\r\n\r\nBODY");
    assert_eq!(h.sunset, NonZeroU32::new(784_111_777));
    assert_eq!(head(b"HTTP/1.1 200 OK\r\n\r\nBODY").sunset, None);
}

#[test]
fn request_id_is_truncated_and_long_names_are_skipped() {
    let mut wire = Vec::from(&b"HTTP/1.1 200 OK\r\nX-"[..]);
    wire.resize(wire.len() + 40, b'a');
    wire.extend_from_slice(b"-x-request-id: nope\r\nx-amzn-RequestId: ");
    let id: String = (0..100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    wire.extend_from_slice(id.as_bytes());
    wire.extend_from_slice(b"  \r\n\r\nBODY");
    let h = head(&wire);
    assert_eq!(h.request_id.as_str(), &id[..64]);
    assert!(h.request_id.is_truncated());

    // Exactly the capacity, followed by trailing whitespace: nothing was lost.
    let mut wire = Vec::from(&b"HTTP/1.1 200 OK\r\nx-request-id: "[..]);
    wire.extend_from_slice(&id.as_bytes()[..64]);
    wire.extend_from_slice(b" \t \r\n\r\nBODY");
    let h = head(&wire);
    assert_eq!(h.request_id.as_str(), &id[..64]);
    assert!(!h.request_id.is_truncated());
}

#[test]
fn head_size_is_bounded_per_head() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    let exact = wire.len();
    assert!(run(exact, &[wire]).unwrap().1.is_some());
    assert_eq!(run(exact - 1, &[wire]), Err(HeadError::TooLarge));
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(run(exact - 1, &bytes), Err(HeadError::TooLarge));

    // Interim heads count separately: each fits, the total does not need to.
    let mut two = Vec::from(&b"HTTP/1.1 100 Continue\r\nX: 01234567\r\n\r\n"[..]);
    assert_eq!(two.len(), exact);
    two.extend_from_slice(wire);
    assert!(run(exact, &[&two]).unwrap().1.is_some());

    let mut p = HeadParser::new(DEFAULT_MAX_HEAD);
    assert!(p.parse(&two).unwrap().1.is_some());
    assert_eq!(p.bytes_seen(), exact);
}

#[test]
fn interim_responses_are_bounded() {
    let mut wire = Vec::new();
    for _ in 0..MAX_INTERIM {
        wire.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(
        run(DEFAULT_MAX_HEAD, &[&wire]).unwrap().1.map(|h| h.status),
        Some(200)
    );
    let mut wire = Vec::new();
    for _ in 0..=MAX_INTERIM {
        wire.extend_from_slice(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
    }
    wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(
        run(DEFAULT_MAX_HEAD, &[&wire]),
        Err(HeadError::TooManyInterim)
    );
}

#[test]
fn errors_are_sticky_and_reset_starts_over() {
    let mut p = HeadParser::new(DEFAULT_MAX_HEAD);
    assert_eq!(
        p.parse(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n"),
        Err(HeadError::BadHeader)
    );
    assert_eq!(p.parse(b"\r\n"), Err(HeadError::BadHeader));
    assert_eq!(p.parse(b""), Err(HeadError::BadHeader));
    p.reset();
    let two = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
    let (n, h) = p.parse(two).unwrap();
    assert_eq!(h.map(|h| h.status), Some(200));
    p.reset();
    let (m, h) = p.parse(&two[n + 2..]).unwrap();
    assert_eq!(n + 2 + m, two.len());
    assert_eq!(h.map(|h| (h.status, h.keep_alive)), Some((404, false)));
}

// --- property tests ---

/// One generated header: its name, its value, and what it contributes.
#[derive(Debug, Clone)]
enum Hdr {
    ContentLength(u64),
    Chunked,
    Close,
    KeepAlive,
    Type(usize),
    Limit(u32),
    Remaining(u32),
    Reset(u64),
    RetryAfter(u32),
    RequestId(String),
    Deprecation,
    Sunset(usize),
    Junk(String, String),
}

/// `Sunset` values and the Unix seconds they name.
const SUNSETS: [(&str, u32); 3] = [
    ("Tue, 31 Mar 2026 00:00:00 GMT", 1_774_915_200),
    ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
    ("Fri, 01 Jan 2038 23:59:59 GMT", 2_146_003_199),
];

const TYPES: [(&str, ContentType); 4] = [
    ("application/json; charset=utf-8", ContentType::Json),
    ("text/event-stream", ContentType::EventStream),
    ("text/html", ContentType::Html),
    ("text/plain", ContentType::Other),
];

impl Hdr {
    fn render(&self) -> (String, String) {
        let (n, v) = match self {
            Hdr::ContentLength(n) => ("Content-Length", std::format!("{n}")),
            Hdr::Chunked => ("Transfer-Encoding", "chunked".into()),
            Hdr::Close => ("Connection", "close".into()),
            Hdr::KeepAlive => ("Connection", "keep-alive".into()),
            Hdr::Type(i) => ("Content-Type", TYPES[*i].0.into()),
            Hdr::Limit(n) => ("X-RateLimit-Limit", std::format!("{n}")),
            Hdr::Remaining(n) => ("X-RateLimit-Remaining", std::format!("{n}")),
            Hdr::Reset(n) => ("X-RateLimit-Reset", std::format!("{n}")),
            Hdr::RetryAfter(n) => ("Retry-After", std::format!("{n}")),
            Hdr::RequestId(s) => ("X-Request-Id", s.clone()),
            Hdr::Deprecation => ("Deprecation", "true".into()),
            Hdr::Sunset(i) => ("Sunset", SUNSETS[*i].0.into()),
            Hdr::Junk(n, v) => return (n.clone(), v.clone()),
        };
        (n.into(), v)
    }
}

fn hdr() -> impl Strategy<Value = Hdr> {
    prop_oneof![
        any::<u64>().prop_map(Hdr::ContentLength),
        Just(Hdr::Chunked),
        Just(Hdr::Close),
        Just(Hdr::KeepAlive),
        (0..TYPES.len()).prop_map(Hdr::Type),
        any::<u32>().prop_map(Hdr::Limit),
        any::<u32>().prop_map(Hdr::Remaining),
        any::<u64>().prop_map(Hdr::Reset),
        any::<u32>().prop_map(Hdr::RetryAfter),
        "[A-Za-z0-9=/+-]{1,80}".prop_map(Hdr::RequestId),
        Just(Hdr::Deprecation),
        (0..SUNSETS.len()).prop_map(Hdr::Sunset),
        ("X-[A-Za-z-]{1,40}", "[ -~]{0,90}").prop_map(|(n, v)| Hdr::Junk(n, v.trim().into())),
    ]
}

/// What the parser must produce for these headers (RFC 9112 §6.3, §9.3).
fn expected(http10: bool, status: u16, hdrs: &[Hdr]) -> ResponseHead {
    let mut h = ResponseHead::new(status);
    let (mut cl, mut te, mut close, mut ka, mut id_seen) = (None, false, false, false, false);
    for x in hdrs {
        match x {
            Hdr::ContentLength(n) => cl = Some(*n),
            Hdr::Chunked => te = true,
            Hdr::Close => close = true,
            Hdr::KeepAlive => ka = true,
            Hdr::Type(i) => h.content_type = TYPES[*i].1,
            Hdr::Limit(n) => h.rate_limit.limit = Some(*n),
            Hdr::Remaining(n) => h.rate_limit.remaining = Some(*n),
            // Past 32 bits (2106) a reset saturates.
            Hdr::Reset(n) => h.rate_limit.reset = Some(u32::try_from(*n).unwrap_or(u32::MAX)),
            Hdr::RetryAfter(n) => h.retry_after = Some(RetryAfter::Seconds(*n)),
            Hdr::RequestId(s) if !id_seen => {
                id_seen = true;
                h.request_id.push_bytes(s.as_bytes());
            }
            Hdr::Deprecation => h.deprecated = true,
            Hdr::Sunset(i) => {
                h.deprecated = true;
                h.sunset = NonZeroU32::new(SUNSETS[*i].1);
            }
            _ => {}
        }
    }
    h.framing = match (status, te, cl) {
        (204 | 304, _, _) => Framing::Empty,
        (_, true, _) => Framing::Chunked,
        (_, false, Some(n)) => Framing::Length(n),
        _ => Framing::UntilClose,
    };
    h.keep_alive =
        (!http10 || ka) && !close && h.framing != Framing::UntilClose && !(te && cl.is_some());
    h
}

/// Renders a header name in one of several casings.
fn case(name: &str, mode: u8) -> String {
    match mode % 4 {
        0 => name.into(),
        1 => name.to_ascii_lowercase(),
        2 => name.to_ascii_uppercase(),
        _ => name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
    }
}

fn split_at_cuts<'a>(wire: &'a [u8], cuts: &[proptest::sample::Index]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut last = 0;
    for c in cuts {
        parts.push(&wire[last..c]);
        last = c;
    }
    parts.push(&wire[last..]);
    parts
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        prefix in 0usize..4,
        tail in proptest::collection::vec(any::<u8>(), 0..300),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
        max in 0usize..400,
    ) {
        let prefixes: [&[u8]; 4] = [b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 ", b"HTTP/1.1 200 OK\r\nContent-Length: "];
        let mut wire = Vec::from(prefixes[prefix]);
        wire.extend_from_slice(&tail);
        let parts = split_at_cuts(&wire, &cuts);
        let whole = run(max, &[&wire]);
        prop_assert_eq!(run(max, &parts), whole);
    }

    #[test]
    fn generated_heads_parse_the_same_for_any_split(
        http10 in any::<bool>(),
        status in prop::sample::select(&[200u16, 201, 204, 304, 400, 401, 404, 429, 500, 503][..]),
        interim in 0usize..3,
        hdrs in proptest::collection::vec(hdr(), 0..14).prop_shuffle(),
        style in proptest::collection::vec((any::<u8>(), 0usize..3, 0usize..3, any::<bool>()), 14),
        crlf in any::<bool>(),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
    ) {
        // Keep the generated head valid: one Content-Length value, no TE in HTTP/1.0.
        let mut hdrs = hdrs;
        let first_cl = hdrs.iter().find_map(|h| if let Hdr::ContentLength(n) = h { Some(*n) } else { None });
        for h in &mut hdrs {
            if let (Hdr::ContentLength(n), Some(first)) = (&mut *h, first_cl) {
                *n = first;
            }
        }
        let mut seen_te = false;
        hdrs.retain(|h| match h {
            Hdr::Chunked if http10 || seen_te => false,
            Hdr::Chunked => { seen_te = true; true }
            _ => true,
        });
        let eol = if crlf { "\r\n" } else { "\n" };
        let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let mut wire = String::new();
        for _ in 0..interim {
            wire += &std::format!("HTTP/1.1 100 Continue{eol}X-Request-Id: interim{eol}{eol}");
        }
        wire += &std::format!("{version} {status} Reason Phrase{eol}");
        for (h, (mode, pre, post, tab)) in hdrs.iter().zip(&style) {
            let (name, value) = h.render();
            let ws = if *tab { "\t" } else { " " };
            wire += &std::format!("{}:{}{}{}{eol}", case(&name, *mode), ws.repeat(*pre), value, ws.repeat(*post));
        }
        wire += eol;
        wire += "BODY";
        let wire = wire.as_bytes();
        let want = expected(http10, status, &hdrs);
        let parts = split_at_cuts(wire, &cuts);
        let (n, got) = run(DEFAULT_MAX_HEAD, &parts).unwrap();
        prop_assert_eq!(got, Some(want));
        prop_assert_eq!(&wire[n..], b"BODY");
    }
}

/// Header names the bulk path treats differently: kept single values, lists, unkept, invalid,
/// longer than the name buffer, obs-fold (a line starting with whitespace).
const LINE_NAMES: [&[u8]; 19] = [
    b"Content-Length",
    b"transfer-encoding",
    b"Connection",
    b"Content-Type",
    b"Date",
    b"Retry-After",
    b"retry-after-ms",
    b"X-RateLimit-Limit",
    b"X-Request-Id",
    b"Deprecation",
    b"Sunset",
    b"Vary",
    b"Bad Name",
    b"",
    b"X-A-Header-Name-Longer-Than-The-Buffer",
    b" folded",
    b"\tfolded",
    b"X_Odd.Token!Name",
    b"X-Obs\x80Text",
];

/// A head of `lines` (name index, value), each ended by CRLF or LF.
fn head_of_lines(lines: &[(usize, Vec<u8>)], crlf: bool) -> Vec<u8> {
    let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in lines {
        wire.extend_from_slice(LINE_NAMES[*name]);
        wire.push(b':');
        wire.extend_from_slice(value);
        wire.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
    wire.extend_from_slice(b"\r\nBODY");
    wire
}

/// Value bytes: OWS, commas, controls, bare CRs and LFs, colons, UTF-8.
/// Bytes of 0x80 and above whose low seven bits are HTAB, a control or DEL are obs-text.
const VALUE_BYTES: &[u8] = b"a0 ,\t\x01\x7f\r\n:;x\xc3\x89\x9f\xff";

proptest! {
    /// Whole header lines taken at once give what the byte steps give, for values with OWS,
    /// commas, controls, bare CRs and more bytes than the value buffer holds.
    #[test]
    fn whole_lines_parse_as_byte_steps_do(
        lines in proptest::collection::vec(
            (0..LINE_NAMES.len(), proptest::collection::vec(prop::sample::select(VALUE_BYTES), 0..90)),
            0..8,
        ),
        crlf in any::<bool>(),
        max in 40usize..400,
    ) {
        let wire = head_of_lines(&lines, crlf);
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(run(max, &[&wire]), run(max, &bytes));
    }

    /// A line cut anywhere (inside its name, its value, a list element, its CRLF, before the
    /// colon of a long name) continues in the next piece as if it had been whole: pieces of
    /// any size and arbitrary cuts give what one slice gives, errors and `TooLarge` included.
    #[test]
    fn lines_cut_anywhere_parse_as_whole_lines_do(
        lines in proptest::collection::vec(
            (0..LINE_NAMES.len(), proptest::collection::vec(prop::sample::select(VALUE_BYTES), 0..90)),
            0..8,
        ),
        crlf in any::<bool>(),
        max in 40usize..400,
        piece in 1usize..80,
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
    ) {
        let wire = head_of_lines(&lines, crlf);
        let whole = run(max, &[&wire]);
        let pieces: Vec<&[u8]> = wire.chunks(piece).collect();
        prop_assert_eq!(run(max, &pieces), whole, "pieces of {}", piece);
        prop_assert_eq!(run(max, &split_at_cuts(&wire, &cuts)), whole);
    }
}

/// A realistic head cut at every pair of points: every line is cut in every place twice, so a
/// line also continues across three pieces.
#[test]
fn typical_head_cut_at_every_pair_of_points() {
    let wire: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
          Date: Wed, 25 Nov 2026 15:00:00 GMT\r\n\
          Content-Type: application/json\r\n\
          Content-Length: 12, 12\r\n\
          Connection: keep-alive\r\n\
          X-Request-Id: \t req-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-too-long \r\n\
          Retry-After: 7\r\n\
          X-RateLimit-Reset: 1735862400\r\n\
          Access-Control-Allow-Credentials: true\r\n\
          Vary: Origin\r\n\
          \r\nBODY";
    let whole = run(DEFAULT_MAX_HEAD, &[wire]);
    let (_, Some(h)) = whole.unwrap() else {
        panic!("a complete head");
    };
    assert_eq!(
        (h.status, h.framing, h.retry_after),
        (429, Framing::Length(12), Some(RetryAfter::Seconds(7)))
    );
    assert!(h.request_id.is_truncated());
    for i in 0..=wire.len() {
        for j in i..=wire.len() {
            let parts = [&wire[..i], &wire[i..j], &wire[j..]];
            assert_eq!(run(DEFAULT_MAX_HEAD, &parts), whole, "cut at {i} and {j}");
        }
    }
}

/// Errors found in a line that continues across pieces are the ones found in one slice.
#[test]
fn errors_in_lines_cut_anywhere() {
    for (bad, e) in [
        (&b"HTTP/1.1 200 OK\r\nX-Long-Name-Of-Forty-Bytes-Or-So-Here: a\r\n folded\r\n\r\n"[..], HeadError::BadHeader),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10, 11\r\n\r\n", HeadError::BadContentLength),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1111111111111111111111111111111111111111111111111111111111111111111111\r\n\r\n", HeadError::BadContentLength),
        (b"HTTP/1.1 200 OK\r\nX-Request-Id: abc\rdef\r\n\r\n", HeadError::BadHeader),
        (b"HTTP/1.1 200 OK\r\nVary: Origin\x00\r\n\r\n", HeadError::BadHeaderValue),
        (b"HTTP/1.1 200 OK\r\nContent-Type : text/html\r\n\r\n", HeadError::BadHeader),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", HeadError::BadTransferEncoding),
    ] {
        assert_eq!(err(bad), e, "{:?}", core::str::from_utf8(bad));
        for i in 0..=bad.len() {
            for j in i..=bad.len() {
                let parts = [&bad[..i], &bad[i..j], &bad[j..]];
                assert_eq!(run(DEFAULT_MAX_HEAD, &parts), Err(e), "cut at {i} and {j}");
            }
        }
    }
    // Too long: the bound is hit inside a line that continues across pieces.
    let wire = b"HTTP/1.1 200 OK\r\nX-Request-Id: 0123456789abcdef\r\nVary: Origin\r\n\r\n";
    for max in [20, 30, 40, wire.len() - 3] {
        for piece in 1..wire.len() {
            let pieces: Vec<&[u8]> = wire.chunks(piece).collect();
            assert_eq!(
                run(max, &pieces),
                Err(HeadError::TooLarge),
                "max {max}, pieces of {piece}"
            );
        }
    }
}

/// The word-at-a-time value scan flags exactly the bytes the byte steps reject in a value,
/// whatever their neighbours (no borrow or carry reaches the next byte).
#[cfg(feature = "fast")]
#[test]
fn value_control_flags_are_exact_per_byte() {
    let rejected = |b: u8| (b < 0x20 && b != b'\t') || b == 0x7f;
    for b in 0..=u8::MAX {
        for fill in [0x00, b'\t', b' ', b'a', 0x7f, 0x80, 0x89, 0xff] {
            for at in 0..8 {
                let mut word = [fill; 8];
                word[at] = b;
                let flags = control_except_tab_flags(u64::from_le_bytes(word));
                for (i, &c) in word.iter().enumerate() {
                    let flagged = flags >> (8 * i + 7) & 1 == 1;
                    assert_eq!(flagged, rejected(c), "byte {c:#04x} at {i} of {word:02x?}");
                }
            }
        }
    }
}

/// Every kept name with any one byte replaced by any other is looked up as a plain
/// case-insensitive compare finds it, whatever word of the name the byte is in.
#[cfg(feature = "fast")]
#[test]
fn names_with_one_byte_changed_are_looked_up_exactly() {
    let reference = |name: &[u8]| {
        FIELDS
            .iter()
            .find(|(kept, _)| kept.eq_ignore_ascii_case(name))
            .map_or(Field::Other, |&(_, field)| field)
    };
    for &(kept, _) in FIELDS {
        for at in 0..kept.len() {
            for b in 0..=u8::MAX {
                let mut name = kept.to_vec();
                name[at] = b;
                assert_eq!(Field::from_name(&name), reference(&name), "{name:?}");
            }
        }
    }
}

/// A name cut anywhere is looked up from its two parts as it is whole, in any case; names
/// one byte off are none of the kept ones.
#[cfg(feature = "fast")]
#[test]
fn names_split_in_two_are_looked_up_as_whole_names() {
    for &(kept, field) in FIELDS {
        let upper = kept.to_ascii_uppercase();
        let mut off = kept.to_vec();
        off[kept.len() / 2] ^= 0x01;
        let longer = [kept, b"s"].concat();
        for (name, want) in [
            (kept, field),
            (&upper[..], field),
            (&off[..], Field::Other),
            (&longer[..], Field::Other),
            (&kept[..kept.len() - 1], Field::Other),
        ] {
            assert_eq!(Field::from_name(name), want, "{name:?}");
            for at in 0..=name.len() {
                let (a, b) = name.split_at(at);
                assert_eq!(Field::from_split_name(a, b), want, "{a:?} + {b:?}");
            }
        }
    }
}

/// The whole-name tchar check agrees with the byte steps' for every byte at every place.
#[cfg(feature = "fast")]
#[test]
fn token_check_agrees_with_the_byte_steps() {
    let name = b"X-Custom_Header.Name~42";
    for b in 0..=u8::MAX {
        assert_eq!(is_token(&[b]), is_tchar(b), "{b:#04x}");
        for at in 0..name.len() {
            let mut n = name.to_vec();
            n[at] = b;
            assert_eq!(is_token(&n), is_tchar(b), "{b:#04x} at {at}");
        }
    }
}

/// A control byte where a kept name has a letter or `-` (CR is `-` with the 0x20 bit
/// cleared) makes no kept name: the line is malformed, at every split.
#[test]
fn control_bytes_in_kept_names_are_malformed_lines() {
    for wire in [
        &b"HTTP/1.1 200 OK\r\nContent\rLength: 5\r\n\r\nBODY"[..],
        b"HTTP/1.1 200 OK\r\nx\rratelimit\rlimit: 5\r\n\r\nBODY",
        b"HTTP/1.1 200 OK\r\nDa\x14e: Wed, 15 Jan 2025 10:30:00 GMT\r\n\r\nBODY",
        b"HTTP/1.1 200 OK\r\nConnection\x00: close\r\n\r\nBODY",
        b"HTTP/1.1 200 OK\r\nContent-Length 5\r\nVary: Origin\r\n\r\nBODY",
    ] {
        assert_eq!(err(wire), HeadError::BadHeader, "{:?}", wire.escape_ascii());
    }
}

/// The values compared in any case (list tokens, media types) are matched as
/// `eq_ignore_ascii_case` matches them, with any one byte replaced by any other, in upper
/// case, and one byte shorter or longer.
#[test]
fn folded_compares_agree_with_eq_ignore_ascii_case() {
    let words: [&[u8]; 7] = [
        b"chunked",
        b"close",
        b"keep-alive",
        b"+json",
        b"application/json",
        b"text/event-stream",
        b"text/html",
    ];
    for lower in words {
        let mut values = vec![
            lower.to_ascii_uppercase(),
            lower[1..].to_vec(),
            [lower, b"s"].concat(),
        ];
        for at in 0..lower.len() {
            for b in 0..=u8::MAX {
                let mut v = lower.to_vec();
                v[at] = b;
                values.push(v);
            }
        }
        for v in values {
            assert_eq!(is_folded(&v, lower), v.eq_ignore_ascii_case(lower), "{v:?}");
        }
    }
}

/// Each field reads its value only as what it holds: digits are no date, a date is no
/// number, and a value cut at the buffer is neither.
#[test]
fn values_are_read_only_as_their_field_holds() {
    let h = head(
        b"HTTP/1.1 200 OK\r\nDate: 1736937060\r\nSunset: 1736937060\r\n\
          X-RateLimit-Limit: 007\r\nX-RateLimit-Remaining: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
          retry-after-ms: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nBODY",
    );
    assert_eq!(h.date, None);
    assert_eq!((h.deprecated, h.sunset), (true, None));
    assert_eq!(h.rate_limit.limit, Some(7));
    assert_eq!(h.rate_limit.remaining, None);
    assert_eq!(h.retry_after_ms, None);
    let mut wire = Vec::from(&b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120"[..]);
    wire.resize(wire.len() + 70, b' ');
    wire.extend_from_slice(b"x\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT");
    wire.resize(wire.len() + 70, b' ');
    wire.extend_from_slice(b"x\r\n\r\nBODY");
    let h = head(&wire);
    assert_eq!((h.retry_after, h.date), (None, None));
}
