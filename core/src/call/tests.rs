extern crate std;

use super::*;
use crate::analysis::Category;
use crate::error::ErrorCode;
use crate::request::{ChatMessage, ChatRequest, Message};
use crate::score::Score;
use proptest::prelude::*;
use std::borrow::ToOwned;
use std::string::{String, ToString};
use std::vec::Vec;

static MSGS: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

/// A config that outlives every call of a test (a call borrows its config).
fn leaked(config: Config<'static>) -> &'static Config<'static> {
    std::boxed::Box::leak(std::boxed::Box::new(config))
}

fn config() -> Config<'static> {
    let key = ApiKey::new("kaiko_test_0123456789").unwrap();
    let mut c = Config::new(key, BaseUrl::parse("http://127.0.0.1:8080/v2").unwrap());
    c.policy.max_jitter = Duration::ZERO;
    c
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

const QUICKSTART: &[u8] = br#"{"object":"emotions.analysis","model":"emotion-v2","emotions":{"user":{"text":"I feel a bit unsure about this","category":"fear","intensity":0.52,"intensityLevel":"subtle","valence":-0.35,"arousal":0.45,"complexity":"simple","wonderIndex":0.20,"discoveryLevel":"normal","raw":{"fear":0.52,"sadness":0.21,"joy":0.09,"anger":0.08,"love":0.05,"surprise":0.05}}}}"#;

fn ok_response(body: &[u8]) -> Vec<u8> {
    let mut r = std::format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-RateLimit-Limit: 60\r\nX-RateLimit-Remaining: 59\r\nX-RateLimit-Reset: 1735862400\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn chunked_ok(body: &[u8], size: usize) -> Vec<u8> {
    let mut r =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for c in body.chunks(size) {
        r.extend_from_slice(std::format!("{:x};ext=1\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    r
}

fn error_response(status: u16, extra: &str, body: &str) -> Vec<u8> {
    std::format!(
        "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const ENVELOPE_429: &str = r#"{"error":{"type":"rate_limit_error","code":"too_many_requests","message":"Rate limit exceeded","request_id":"req-429"}}"#;

/// What the call reported, owned so runs can be compared.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // test bookkeeping, sizes do not matter
enum Seen {
    Emotion(Emotion),
    Content(String),
    Retry(Retry),
    /// A list element (features `choices`, `trajectory`, …), as its debug form.
    #[allow(dead_code)]
    Element(String),
    Close,
    Done(Result<Success, Failure>),
}

/// The next thing the call wants that is not an event (events and closes are recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect(Instant),
    Transmit(Instant),
    Receive(Instant),
    Sleep(Instant),
    Done,
}

fn next(call: &mut Call<'_>, now: Instant, seen: &mut Vec<Seen>) -> Step {
    for _ in 0..10_000 {
        match call.poll_action(now) {
            Action::Event(Event::Emotion(e)) => seen.push(Seen::Emotion(e.clone())),
            Action::Event(Event::Content(c)) => seen.push(Seen::Content(c.to_owned())),
            Action::Event(Event::RetryScheduled(r)) => seen.push(Seen::Retry(*r)),
            #[allow(unreachable_patterns)]
            Action::Event(other) => seen.push(Seen::Element(std::format!("{other:?}"))),
            Action::Close => seen.push(Seen::Close),
            Action::Done(r) => {
                if !matches!(seen.last(), Some(Seen::Done(_))) {
                    seen.push(Seen::Done(r.cloned().map_err(|f| *f)));
                }
                return Step::Done;
            }
            Action::Connect { deadline } => return Step::Connect(deadline),
            Action::Transmit { deadline } => return Step::Transmit(deadline),
            Action::Receive { deadline } => return Step::Receive(deadline),
            Action::Sleep { until } => return Step::Sleep(until),
        }
    }
    panic!("poll_action never settles: {seen:?}");
}

/// Connects (fresh unless `reused`) and sends; returns the request bytes.
fn send(call: &mut Call<'_>, now: Instant, reused: bool, seen: &mut Vec<Seen>) -> Vec<u8> {
    if let Step::Connect(_) = next(call, now, seen) {
        call.handle_connected(now, reused).unwrap();
    }
    assert!(
        matches!(next(call, now, seen), Step::Transmit(_)),
        "{seen:?}"
    );
    let mut buf = [0u8; 1024];
    let n = call.poll_transmit(now, &mut buf).unwrap();
    call.handle_transmitted(now).unwrap();
    buf[..n].to_vec()
}

/// Feeds `input` cut at `splits`, taking every event in between; stops when the call no
/// longer reads.
fn feed(call: &mut Call<'_>, now: Instant, input: &[u8], splits: &[usize], seen: &mut Vec<Seen>) {
    let mut cuts: Vec<usize> = splits
        .iter()
        .copied()
        .filter(|&s| s < input.len())
        .collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    let mut start = 0;
    for end in cuts {
        let mut piece = &input[start..end];
        while !piece.is_empty() {
            if !matches!(next(call, now, seen), Step::Receive(_)) {
                return;
            }
            let n = call.handle_input(now, piece).unwrap();
            piece = &piece[n..];
        }
        start = end;
    }
    next(call, now, seen);
}

fn header<'b>(req: &'b [u8], name: &str) -> Option<&'b str> {
    let text = core::str::from_utf8(req).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

fn done(seen: &[Seen]) -> &Result<Success, Failure> {
    match seen.last() {
        Some(Seen::Done(r)) => r,
        other => panic!("expected Done, got {other:?}"),
    }
}

fn last_retry(seen: &[Seen]) -> Retry {
    match seen.iter().rev().find(|s| matches!(s, Seen::Retry(_))) {
        Some(Seen::Retry(r)) => *r,
        _ => panic!("no retry in {seen:?}"),
    }
}

fn analyze_call(seed: u64) -> Call<'static> {
    Call::new(leaked(config()), Request::analyze(&MSGS), seed, t(0)).unwrap()
}

#[test]
fn sizes_stay_small() {
    // The budgets CI enforces on thumbv7em are tighter; on a 64-bit host pointers double.
    assert!(core::mem::size_of::<Event<'_>>() <= 24);
    assert!(core::mem::size_of::<Action<'_>>() <= 32);
}

#[test]
fn quickstart_at_every_split_point() {
    let response = ok_response(QUICKSTART);
    let mut reference: Option<Vec<Seen>> = None;
    for split in 0..=response.len() {
        let mut call = analyze_call(1);
        let mut seen = Vec::new();
        send(&mut call, t(0), false, &mut seen);
        feed(&mut call, t(5), &response, &[split], &mut seen);
        match &reference {
            None => reference = Some(seen),
            Some(r) => assert_eq!(r, &seen, "split at {split}"),
        }
    }
    let seen = reference.unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let Seen::Emotion(e) = &seen[0] else {
        panic!("{:?}", seen[0])
    };
    assert_eq!(e.role.as_str(), "user");
    assert_eq!(e.category, Some(Category::Fear));
    assert_eq!(e.intensity, Some(Score(5200)));
    assert_eq!(e.valence, Some(Score(-3500)));
    assert_eq!(e.raw.iter().next(), Some((Category::Fear, Score(5200))));
    assert_eq!(e.raw.len(), 6);
    let ok = done(&seen).as_ref().unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.attempts, 1);
    assert_eq!(ok.rate_limit.remaining, Some(59));
    assert_eq!(ok.summary.object.as_str(), "emotions.analysis");
}

#[test]
fn byte_at_a_time_chunked_keeps_the_connection() {
    let response = chunked_ok(QUICKSTART, 7);
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    let all: Vec<usize> = (1..response.len()).collect();
    feed(&mut call, t(1), &response, &all, &mut seen);
    assert!(matches!(seen[0], Seen::Emotion(_)));
    assert!(done(&seen).is_ok());
    assert!(!seen.contains(&Seen::Close), "keep-alive: {seen:?}");
}

#[test]
fn retry_after_then_success_keeps_the_idempotency_key_and_the_connection() {
    let mut call = analyze_call(42);
    let mut seen = Vec::new();
    let first = send(&mut call, t(0), false, &mut seen);
    feed(
        &mut call,
        t(10),
        &error_response(429, "Retry-After: 2\r\n", ENVELOPE_429),
        &[],
        &mut seen,
    );
    let r = last_retry(&seen);
    assert_eq!((r.retry, r.max_retries), (1, 3));
    assert_eq!(r.delay, Duration::from_secs(2), "Retry-After beats 1 s");
    assert_eq!(r.at, t(2010));
    let Cause::Api(e) = r.cause else { panic!() };
    assert_eq!(e.code, ErrorCode::TooManyRequests);
    assert_eq!(e.request_id.as_str(), "req-429");
    assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
    assert!(!seen.contains(&Seen::Close), "a complete error keeps it");

    // Nothing is due before `at`; then the kept connection carries the retry directly.
    assert_eq!(next(&mut call, t(2009), &mut seen), Step::Sleep(t(2010)));
    let mut buf = [0u8; 1024];
    assert_eq!(
        call.poll_transmit(t(2009), &mut buf),
        Err(TransmitError::Order(OrderError::Unexpected))
    );
    assert!(matches!(
        next(&mut call, t(2010), &mut seen),
        Step::Transmit(_)
    ));
    let second = send(&mut call, t(2010), true, &mut seen);
    assert_eq!(first, second, "a retry sends the same bytes");
    assert!(header(&first, "Idempotency-Key").is_some());
    assert_eq!(
        call.set_idempotency_key(IdempotencyKey::from_seed(7)),
        Err(OrderError::Started)
    );
    feed(&mut call, t(2020), &ok_response(QUICKSTART), &[], &mut seen);
    assert_eq!(done(&seen).as_ref().unwrap().attempts, 2);
}

#[test]
fn a_retry_reports_nothing_of_the_failed_attempt_s_head() {
    let mut call = analyze_call(42);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    let first = error_response(
        429,
        "Retry-After: 1\r\nX-Request-Id: req-first\r\nDeprecation: true\r\n",
        ENVELOPE_429,
    );
    feed(&mut call, t(10), &first, &[], &mut seen);
    assert_eq!(last_retry(&seen).at, t(1010));
    assert!(matches!(
        next(&mut call, t(1010), &mut seen),
        Step::Transmit(_)
    ));
    send(&mut call, t(1010), true, &mut seen);
    feed(&mut call, t(1020), &ok_response(QUICKSTART), &[], &mut seen);
    let success = done(&seen).as_ref().unwrap();
    assert_eq!(success.attempts, 2);
    assert_eq!(
        success.request_id.as_str(),
        "",
        "the second response has none"
    );
    assert!(!success.deprecated);
    assert_eq!(success.rate_limit.remaining, Some(59));
}

#[test]
fn four_xx_is_not_retried() {
    let body = r#"{"error":{"type":"invalid_request_error","code":"missing_field","message":"The 'messages' field is required","param":"messages","request_id":"req-7f65ab21d1"}}"#;
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    feed(
        &mut call,
        t(3),
        &error_response(400, "", body),
        &[],
        &mut seen,
    );
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(f.stop, Stop::NotRetryable);
    assert_eq!(f.attempts, 1);
    let Cause::Api(e) = &f.cause else { panic!() };
    assert_eq!(
        (e.status, e.code, e.param.as_str()),
        (400, ErrorCode::MissingField, "messages")
    );
    assert!(call.is_done());
    assert_eq!(call.cancel(t(4)), Err(OrderError::Finished));
    assert_eq!(call.handle_input(t(4), b"x"), Err(OrderError::Finished));
}

#[test]
fn server_errors_exhaust_with_doubling_backoff() {
    let mut call = analyze_call(1);
    let mut now = t(0);
    let mut delays = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        send(&mut call, now, true, &mut seen);
        feed(&mut call, now, &error_response(503, "", ""), &[], &mut seen);
        match seen.last() {
            Some(Seen::Retry(r)) => {
                delays.push(r.delay.as_millis());
                now = r.at;
            }
            _ => break,
        }
    }
    assert_eq!(delays, [1000, 2000, 4000]);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!((f.stop, f.attempts), (Stop::RetriesExhausted, 4));
    let Cause::Api(e) = &f.cause else { panic!() };
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
}

#[test]
fn retry_after_above_the_cap_stops_without_waiting() {
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    feed(
        &mut call,
        t(1),
        &error_response(429, "Retry-After: 3600\r\n", ENVELOPE_429),
        &[],
        &mut seen,
    );
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(
        f.stop,
        Stop::WaitAboveCap {
            wait: Duration::from_secs(3600)
        }
    );
}

#[test]
fn http_date_retry_after_against_the_date_header() {
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    let extra =
        "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nRetry-After: Sun, 06 Nov 1994 08:49:42 GMT\r\n";
    feed(
        &mut call,
        t(0),
        &error_response(503, extra, ""),
        &[],
        &mut seen,
    );
    assert_eq!(last_retry(&seen).delay, Duration::from_secs(5));
}

#[test]
fn first_byte_timeout_retries_then_call_deadline_ends_it() {
    let mut cfg = config();
    cfg.policy.timeouts.first_byte = Duration::from_millis(100);
    cfg.policy.deadline = Some(Duration::from_millis(1500));
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    assert_eq!(next(&mut call, t(99), &mut seen), Step::Receive(t(100)));
    assert!(seen.is_empty());
    let step = next(&mut call, t(100), &mut seen);
    assert_eq!(seen[0], Seen::Close, "a timed-out connection is not reused");
    let r = last_retry(&seen);
    assert_eq!(r.cause, Cause::Timeout(Phase::FirstByte));
    assert_eq!(step, Step::Sleep(r.at));
    send(&mut call, r.at, false, &mut seen);
    // The next backoff (2 s) would cross the 1.5 s deadline: the call stops instead.
    next(&mut call, r.at + Duration::from_millis(100), &mut seen);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(
        (f.cause, f.stop),
        (Cause::Timeout(Phase::FirstByte), Stop::Deadline)
    );
}

#[test]
fn a_server_that_never_pauses_is_stopped_by_handle_input_alone() {
    // An endless chunked body arriving faster than any read could time out: only the
    // deadline checks inside `handle_input` can end it.
    let mut cfg = config();
    cfg.policy.max_retries = 0;
    cfg.policy.timeouts.response = Duration::from_millis(1000);
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[    \r\n";
    assert_eq!(call.handle_input(t(1), head), Ok(head.len()));
    let chunk = b"5\r\n     \r\n";
    let mut now = 1;
    while !call.is_done() {
        now += 1;
        let used = call.handle_input(t(now), chunk).unwrap();
        assert_eq!(used, chunk.len());
        assert!(now <= 1001, "still reading at {now} ms");
    }
    assert_eq!(now, 1000);
    next(&mut call, t(now), &mut seen);
    assert_eq!(seen[0], Seen::Close);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(f.cause, Cause::Timeout(Phase::Response));
}

#[test]
fn endless_stream_of_items_ends_at_the_deadline_in_bounded_memory() {
    let mut cfg = config();
    cfg.policy.max_retries = 0;
    cfg.policy.deadline = Some(Duration::from_millis(500));
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{\"emotions\":[";
    call.handle_input(t(1), head).unwrap();
    let item = br#"{"category":"joy"},"#;
    let mut items = 0u32;
    let mut now = 1;
    loop {
        now += 1;
        let mut rest: &[u8] = item;
        while !rest.is_empty() && !call.is_done() {
            let used = call.handle_input(t(now), rest).unwrap();
            rest = &rest[used..];
            if let Action::Event(Event::Emotion(_)) = call.poll_action(t(now)) {
                items += 1;
            }
        }
        if call.is_done() {
            break;
        }
    }
    assert!(items > 400);
    assert_eq!(now, 500);
    let step = next(&mut call, t(now), &mut seen);
    assert_eq!(step, Step::Done);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(
        (f.cause, f.stop),
        (Cause::Timeout(Phase::Call), Stop::Deadline)
    );
}

#[test]
fn a_dead_kept_connection_is_replaced_without_counting_an_attempt() {
    for lost_while_writing in [true, false] {
        let mut cfg = config();
        cfg.policy.max_retries = 0;
        let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
        let mut seen = Vec::new();
        assert!(matches!(next(&mut call, t(0), &mut seen), Step::Connect(_)));
        call.handle_connected(t(0), true).unwrap();
        let mut buf = [0u8; 1024];
        let first = call.poll_transmit(t(0), &mut buf).unwrap();
        if !lost_while_writing {
            call.handle_transmitted(t(0)).unwrap();
        }
        call.handle_connection_lost(t(1), ConnectionLost::Closed);
        // Straight back to a fresh connection, no backoff, no retry notice.
        assert!(matches!(next(&mut call, t(1), &mut seen), Step::Connect(_)));
        assert!(seen.is_empty(), "{seen:?}");
        assert_eq!(call.attempts(), 0);
        call.handle_connected(t(1), false).unwrap();
        let again = send_after_connect(&mut call, t(1));
        assert_eq!(first, again.len());
        feed(&mut call, t(2), &ok_response(QUICKSTART), &[], &mut seen);
        assert_eq!(done(&seen).as_ref().unwrap().attempts, 1);
    }
}

fn send_after_connect(call: &mut Call<'_>, now: Instant) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = call.poll_transmit(now, &mut buf).unwrap();
    call.handle_transmitted(now).unwrap();
    buf[..n].to_vec()
}

#[test]
fn the_free_resend_happens_once_and_never_on_a_fresh_connection() {
    let mut cfg = config();
    cfg.policy.max_retries = 0;
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), true, &mut seen);
    call.handle_connection_lost(t(1), ConnectionLost::Reset);
    send(&mut call, t(1), false, &mut seen);
    call.handle_connection_lost(t(2), ConnectionLost::Reset);
    next(&mut call, t(2), &mut seen);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(
        (f.cause, f.attempts),
        (Cause::Connection(ConnectionLost::Reset), 1)
    );
}

#[test]
fn reset_mid_body_retries_and_partial_results_precede_the_notice() {
    let response = ok_response(QUICKSTART);
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    feed(
        &mut call,
        t(1),
        &response[..response.len() - 2],
        &[],
        &mut seen,
    );
    call.handle_connection_lost(t(2), ConnectionLost::Reset);
    next(&mut call, t(2), &mut seen);
    assert!(matches!(seen[0], Seen::Emotion(_)));
    assert_eq!(
        last_retry(&seen).cause,
        Cause::Connection(ConnectionLost::Reset)
    );
    assert!(
        !seen.contains(&Seen::Close),
        "already gone: nothing to close"
    );
}

#[test]
fn close_delimited_body_ends_at_close() {
    let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n".to_vec();
    response.extend_from_slice(QUICKSTART);
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    feed(&mut call, t(1), &response, &[], &mut seen);
    assert!(!call.is_done());
    call.handle_connection_lost(t(1), ConnectionLost::Closed);
    next(&mut call, t(1), &mut seen);
    assert!(done(&seen).is_ok());
}

#[test]
fn connect_timeout_counts_as_an_attempt() {
    let mut cfg = config();
    cfg.policy.max_retries = 0;
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    assert_eq!(next(&mut call, t(0), &mut seen), Step::Connect(t(10_000)));
    next(&mut call, t(10_000), &mut seen);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!(
        (f.cause, f.stop, f.attempts),
        (Cause::Timeout(Phase::Connect), Stop::RetriesExhausted, 1)
    );
    assert_eq!(
        call.handle_connected(t(10_001), false),
        Err(OrderError::Finished)
    );
}

#[test]
fn small_buffer_is_a_typed_error_with_the_size_needed() {
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    next(&mut call, t(0), &mut seen);
    call.handle_connected(t(0), false).unwrap();
    let mut small = [0u8; 16];
    let Err(TransmitError::BufferTooSmall { needed }) = call.poll_transmit(t(0), &mut small) else {
        panic!()
    };
    let mut exact = std::vec![0u8; needed];
    assert_eq!(call.poll_transmit(t(0), &mut exact), Ok(needed));
    assert_eq!(
        call.poll_transmit(t(0), &mut exact),
        Err(TransmitError::Order(OrderError::Unexpected)),
        "a second transmit before handle_transmitted is refused"
    );
}

#[test]
fn out_of_order_calls_are_typed() {
    let mut call = analyze_call(1);
    assert_eq!(call.handle_transmitted(t(0)), Err(OrderError::Unexpected));
    assert_eq!(
        call.handle_input(t(0), b"HTTP"),
        Err(OrderError::Unexpected)
    );
    assert_eq!(
        call.handle_connected(t(0), false),
        Err(OrderError::Unexpected)
    );
    call.set_idempotency_key(IdempotencyKey::parse("my-key-1").unwrap())
        .unwrap();
    call.set_not_before(t(5)).unwrap();
    let mut seen = Vec::new();
    assert_eq!(next(&mut call, t(0), &mut seen), Step::Sleep(t(5)));
    let req = send(&mut call, t(5), false, &mut seen);
    assert_eq!(header(&req, "Idempotency-Key"), Some("my-key-1"));
    assert_eq!(call.set_not_before(t(9)), Err(OrderError::Started));
}

#[test]
fn cancel_ends_the_call_and_closes_a_busy_connection() {
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    call.cancel(t(1)).unwrap();
    assert_eq!(next(&mut call, t(1), &mut seen), Step::Done);
    assert_eq!(seen[0], Seen::Close);
    let Err(f) = done(&seen) else { panic!() };
    assert_eq!((f.cause, f.stop), (Cause::Cancelled, Stop::Cancelled));
    assert_eq!(call.outcome().map(|r| r.is_err()), Some(true));
}

#[test]
fn invalid_requests_are_refused_before_anything_is_sent() {
    let empty: [Message<'static>; 0] = [];
    assert!(Call::new(leaked(config()), Request::analyze(&empty), 1, t(0)).is_err());
    let long = "x".repeat(129);
    let req = Request::AnalyzeInContext {
        model: "emotion-v2",
        context_id: &long,
        messages: &MSGS,
    };
    assert!(Call::new(leaked(config()), req, 1, t(0)).is_err());
    let req = Request::ContextState {
        context_id: "a\r\nX-Evil: 1",
    };
    assert!(Call::new(leaked(config()), req, 1, t(0)).is_err());
}

#[test]
fn the_key_never_goes_in_clear_text_to_another_host_unless_allowed() {
    let key = ApiKey::new("kaiko_live_secret").unwrap();
    let remote = Config::new(key, BaseUrl::parse("http://10.77.0.1:8787/v2").unwrap());
    assert_eq!(
        Call::new(&remote, Request::analyze(&MSGS), 1, t(0)).unwrap_err(),
        Refused::CleartextKey
    );
    assert!(
        Call::new(
            &remote.allow_cleartext_key(),
            Request::analyze(&MSGS),
            1,
            t(0)
        )
        .is_ok()
    );
    let tls = Config::new(key, BaseUrl::parse("https://10.77.0.1/v2").unwrap());
    assert!(Call::new(&tls, Request::analyze(&MSGS), 1, t(0)).is_ok());
}

#[test]
fn rate_limit_exhausted_sets_resume_at() {
    let body = QUICKSTART;
    let response = std::format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 784111807\r\n\r\n",
        body.len()
    );
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(body);
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    feed(&mut call, t(500), &bytes, &[], &mut seen);
    assert_eq!(done(&seen).as_ref().unwrap().resume_at, Some(t(30_500)));
    let mut next_call = Call::new(leaked(config()), Request::analyze(&MSGS), 2, t(600)).unwrap();
    next_call.set_not_before(t(30_500)).unwrap();
    assert_eq!(
        next(&mut next_call, t(600), &mut seen),
        Step::Sleep(t(30_500))
    );
}

#[test]
fn bytes_after_the_response_spoil_the_connection() {
    let mut response = ok_response(QUICKSTART);
    response.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    let mut call = analyze_call(1);
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    feed(&mut call, t(1), &response, &[], &mut seen);
    assert!(done(&seen).is_ok());
    assert!(seen.contains(&Seen::Close), "{seen:?}");
}

fn sse_response() -> Vec<u8> {
    let events = [
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"It's natural "}}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"to feel nervous."}}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"emotions":{"user":{"category":"fear","intensity":0.7}}}"#,
    ];
    let mut body = String::new();
    for e in events {
        body.push_str("data: ");
        body.push_str(e);
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    let mut r =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for c in body.as_bytes().chunks(13) {
        r.extend_from_slice(std::format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

static CHAT: [ChatMessage<'static>; 1] = [ChatMessage {
    role: "user",
    content: "I am nervous about my interview tomorrow.",
}];

fn chat_request(stream: bool) -> Request<'static> {
    Request::ChatCompletion(ChatRequest {
        model: "gpt-4o-mini",
        emotion_model: "emotion-v2",
        context_id: None,
        messages: &CHAT,
        temperature: None,
        max_tokens: None,
        stream,
    })
}

fn content_of(seen: &[Seen]) -> String {
    seen.iter()
        .filter_map(|e| match e {
            Seen::Content(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn streamed_chat_delivers_content_in_order_for_every_split() {
    let response = sse_response();
    for split in 0..=response.len() {
        let mut call = Call::new(leaked(config()), chat_request(true), 1, t(0)).unwrap();
        let mut seen = Vec::new();
        send(&mut call, t(0), false, &mut seen);
        feed(&mut call, t(1), &response, &[split], &mut seen);
        assert_eq!(
            content_of(&seen),
            "It's natural to feel nervous.",
            "split {split}"
        );
        assert!(
            seen.iter()
                .any(|e| matches!(e, Seen::Emotion(e) if e.category == Some(Category::Fear)))
        );
        assert!(done(&seen).is_ok(), "split {split}");
    }
}

#[test]
fn content_pieces_never_split_a_character() {
    // 3-byte characters never line up with the 64-byte pieces.
    let text: String = "€".repeat(100);
    let body = std::format!(
        r#"{{"object":"chat.completion","choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}]}}"#
    );
    let response = ok_response(body.as_bytes());
    let mut reference = None;
    for split in (0..response.len()).step_by(7) {
        let mut call = Call::new(leaked(config()), chat_request(false), 1, t(0)).unwrap();
        let mut seen = Vec::new();
        send(&mut call, t(0), false, &mut seen);
        feed(&mut call, t(1), &response, &[split, split + 1], &mut seen);
        for s in &seen {
            if let Seen::Content(c) = s {
                assert!(!c.is_empty() && c.len() <= crate::analysis::CHUNK_CAP);
            }
        }
        assert_eq!(content_of(&seen), text);
        match &reference {
            None => reference = Some(seen),
            Some(r) => assert_eq!(r, &seen, "pieces depend on the split at {split}"),
        }
    }
}

proptest! {
    /// The outcome does not depend on how the response is split.
    #[test]
    fn split_invariance(mut cuts in proptest::collection::vec(0usize..600, 0..12), chunk in 1usize..40) {
        let response = chunked_ok(QUICKSTART, chunk);
        let run = |cuts: &[usize]| {
            let mut call = analyze_call(9);
            let mut seen = Vec::new();
            send(&mut call, t(0), false, &mut seen);
            feed(&mut call, t(1), &response, cuts, &mut seen);
            seen
        };
        cuts.sort_unstable();
        prop_assert_eq!(run(&[]), run(&cuts));
    }

    /// Whatever the server sends and however the driver's connections fail, the call never
    /// panics, always ends by its deadline, and every attempt carries the same key.
    #[test]
    fn arbitrary_responses_end_and_share_one_key(
        responses in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..6),
        seed in any::<u64>(),
        reuse in any::<bool>(),
    ) {
        let mut cfg = config();
        cfg.policy.deadline = Some(Duration::from_secs(30));
        let mut call = Call::new(&cfg, Request::analyze(&MSGS), seed, t(0)).unwrap();
        let mut now = t(0);
        let mut keys = Vec::new();
        let mut seen = Vec::new();
        let mut open = reuse;
        for step in 0..400 {
            match next(&mut call, now, &mut seen) {
                Step::Done => break,
                Step::Connect(_) => {
                    call.handle_connected(now, open).unwrap();
                    open = true;
                }
                Step::Transmit(_) => {
                    let mut buf = [0u8; 1024];
                    let n = call.poll_transmit(now, &mut buf).unwrap();
                    keys.push(header(&buf[..n], "Idempotency-Key").unwrap().to_owned());
                    call.handle_transmitted(now).unwrap();
                }
                Step::Receive(deadline) => {
                    let r = &responses[step % responses.len()];
                    feed(&mut call, now, r, &[r.len() / 2], &mut seen);
                    if step % 3 == 0 {
                        call.handle_connection_lost(now, ConnectionLost::Closed);
                        open = false;
                    } else if matches!(next(&mut call, now, &mut seen), Step::Receive(_)) {
                        now = now.max(deadline);
                    }
                }
                Step::Sleep(until) => now = now.max(until),
            }
            if seen.last() == Some(&Seen::Close) { open = false; }
        }
        prop_assert!(call.is_done(), "call did not end");
        prop_assert!(now <= t(30_000));
        prop_assert!(keys.windows(2).all(|w| w[0] == w[1]));
    }
}

/// The failures that leave a sent request without an answer the client may act on.
/// Makes the attempt in flight fail.
type Fault = fn(&mut Call<'static>, &mut Vec<Seen>);

fn unanswered_failures() -> [(&'static str, Fault); 4] {
    [
        ("first-byte timeout", |call, seen| {
            next(call, t(100_000), seen);
        }),
        ("reset before the head", |call, _| {
            call.handle_connection_lost(t(5), ConnectionLost::Reset)
        }),
        ("malformed head", |call, seen| {
            feed(call, t(5), b"HTTP/1.1 2x0 OK\r\n\r\n", &[], seen)
        }),
        ("200 cut mid-body", |call, seen| {
            let r = ok_response(br#"{"choices":[{"message":{"content":"hi"}}]}"#);
            feed(call, t(5), &r[..r.len() - 5], &[], seen);
            call.handle_connection_lost(t(6), ConnectionLost::Reset);
        }),
    ]
}

#[test]
fn a_sent_chat_completion_is_not_sent_again_without_a_status() {
    for (what, fail) in unanswered_failures() {
        let call_cfg = leaked(config());
        let mut call = Call::new(call_cfg, chat_request(false), 1, t(0)).unwrap();
        let mut seen = Vec::new();
        send(&mut call, t(0), false, &mut seen);
        fail(&mut call, &mut seen);
        next(&mut call, t(100_001), &mut seen);
        let Err(f) = done(&seen) else {
            panic!("{what}: {seen:?}")
        };
        assert_eq!(
            (f.stop, f.sent, f.attempts),
            (Stop::Unanswered, true, 1),
            "{what}"
        );
        assert!(!seen.iter().any(|s| matches!(s, Seen::Retry(_))), "{what}");
        assert!(f.to_string().contains("not sent again"), "{what}: {f}");
    }
}

#[test]
fn analysis_and_an_explicit_choice_retry_a_sent_request() {
    for (what, fail) in unanswered_failures() {
        for (request, per_call) in [
            (Request::analyze(&MSGS), None),
            (chat_request(false), Some(Unanswered::Retry)),
        ] {
            let mut call = Call::new(leaked(config()), request, 1, t(0)).unwrap();
            if let Some(u) = per_call {
                call.set_unanswered(u).unwrap();
            }
            let mut seen = Vec::new();
            send(&mut call, t(0), false, &mut seen);
            fail(&mut call, &mut seen);
            next(&mut call, t(100_001), &mut seen);
            let r = last_retry(&seen);
            assert!(r.sent, "{what}");
        }
    }
}

#[test]
fn a_chat_completion_is_retried_on_429_and_5xx_and_before_it_was_sent() {
    // A status came back: the server says it did not (or cannot) serve it.
    for status in [429u16, 503] {
        let mut call = Call::new(leaked(config()), chat_request(false), 1, t(0)).unwrap();
        let mut seen = Vec::new();
        send(&mut call, t(0), false, &mut seen);
        feed(
            &mut call,
            t(5),
            &error_response(status, "", "{}"),
            &[],
            &mut seen,
        );
        next(&mut call, t(6), &mut seen);
        assert!(last_retry(&seen).sent, "{status}");
    }
    // Lost while writing: the request never arrived whole.
    let mut call = Call::new(leaked(config()), chat_request(false), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    assert!(matches!(next(&mut call, t(0), &mut seen), Step::Connect(_)));
    call.handle_connected(t(0), false).unwrap();
    let _ = call.poll_transmit(t(0), &mut [0u8; 1024]).unwrap();
    call.handle_connection_lost(t(1), ConnectionLost::Reset);
    next(&mut call, t(2), &mut seen);
    assert!(!last_retry(&seen).sent);
    // Connect failures of a later attempt do not inherit the earlier attempt's `sent`.
    let mut cfg = config();
    cfg.policy.max_retries = 1;
    let mut call = Call::new(leaked(cfg), chat_request(false), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    let closing = error_response(503, "Connection: close\r\n", "{}");
    feed(&mut call, t(5), &closing, &[], &mut seen);
    let Step::Sleep(at) = next(&mut call, t(6), &mut seen) else {
        panic!("{seen:?}")
    };
    assert!(matches!(next(&mut call, at, &mut seen), Step::Connect(_)));
    call.handle_connection_lost(at, ConnectionLost::Refused);
    next(&mut call, at, &mut seen);
    let Err(f) = done(&seen) else {
        panic!("{seen:?}")
    };
    assert_eq!((f.stop, f.sent), (Stop::RetriesExhausted, false));
}

#[test]
fn a_sent_chat_completion_on_a_kept_connection_gets_no_free_resend() {
    let mut call = Call::new(leaked(config()), chat_request(false), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), true, &mut seen);
    call.handle_connection_lost(t(1), ConnectionLost::Closed);
    next(&mut call, t(1), &mut seen);
    let Err(f) = done(&seen) else {
        panic!("{seen:?}")
    };
    assert_eq!((f.stop, f.attempts), (Stop::Unanswered, 1));
    // Lost while still writing: the free resend stays.
    let mut call = Call::new(leaked(config()), chat_request(false), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    assert!(matches!(next(&mut call, t(0), &mut seen), Step::Connect(_)));
    call.handle_connected(t(0), true).unwrap();
    let _ = call.poll_transmit(t(0), &mut [0u8; 1024]).unwrap();
    call.handle_connection_lost(t(1), ConnectionLost::Closed);
    assert!(matches!(next(&mut call, t(1), &mut seen), Step::Connect(_)));
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn the_unanswered_choice_is_fixed_once_the_call_started() {
    let mut call = Call::new(leaked(config()), chat_request(false), 1, t(0)).unwrap();
    let mut seen = Vec::new();
    send(&mut call, t(0), false, &mut seen);
    assert_eq!(
        call.set_unanswered(Unanswered::Retry),
        Err(OrderError::Started)
    );
}

/// List elements come through the call as events in body order, whatever the split.
#[cfg(all(feature = "growth", feature = "beliefs"))]
#[test]
fn list_elements_are_events_of_the_call() {
    let body = br#"{"object":"emotions.analysis","emotions":{"user":{"category":"joy"}},
"growth":{"dimensions":[{"dimension":"regulation"},{"dimension":"awareness"}]},
"beliefs":{"beliefs":[{"type":"value","content":"Family comes first"}]}}"#;
    let response = ok_response(body);
    let run = |splits: &[usize]| {
        let mut call = analyze_call(1);
        let mut seen = Vec::new();
        send(&mut call, t(0), false, &mut seen);
        feed(&mut call, t(1), &response, splits, &mut seen);
        next(&mut call, t(1), &mut seen);
        seen
    };
    let want = run(&[]);
    let names: Vec<&str> = want
        .iter()
        .map(|s| match s {
            Seen::Emotion(_) => "emotion",
            Seen::Element(e) if e.starts_with("Dimension") => "dimension",
            Seen::Element(e) if e.starts_with("Belief") => "belief",
            Seen::Done(Ok(_)) => "done",
            _ => "other",
        })
        .collect();
    assert_eq!(
        names,
        ["emotion", "dimension", "dimension", "belief", "done"]
    );
    for cut in 0..response.len() {
        assert_eq!(run(&[cut]), want, "cut at {cut}");
    }
}
