extern crate std;

use super::*;
use crate::error::ErrorCode;
use crate::request::{ChatMessage, ChatRequest, Message};
use crate::score::Score;
use proptest::prelude::*;
use std::borrow::ToOwned;
use std::vec::Vec;

static MSGS: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

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
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
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

/// Feeds `input` in the given pieces, draining events after every piece.
fn feed(call: &mut Call<'_>, now: Instant, input: &[u8], splits: &[usize], events: &mut Vec<Event>) {
    let mut cuts: Vec<usize> = splits.iter().copied().filter(|&s| s < input.len()).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    let mut start = 0;
    for end in cuts {
        let mut piece = &input[start..end];
        while !piece.is_empty() {
            let n = call.handle_input(now, piece);
            piece = &piece[n..];
            let before = events.len();
            while let Some(e) = call.poll_event() {
                events.push(e);
            }
            assert!(n > 0 || events.len() > before || call.is_done(), "no progress");
            if call.is_done() && n == 0 {
                break;
            }
        }
        start = end;
    }
    while let Some(e) = call.poll_event() {
        events.push(e);
    }
}

/// Transmits and returns the request bytes.
fn transmit(call: &mut Call<'_>, now: Instant) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = call.poll_transmit(now, &mut buf).unwrap().expect("a request is due");
    buf[..n].to_vec()
}

fn header<'b>(req: &'b [u8], name: &str) -> Option<&'b str> {
    let text = core::str::from_utf8(req).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

fn done(events: &[Event]) -> &Result<Success, Failure> {
    match events.last() {
        Some(Event::Done(r)) => r,
        other => panic!("expected Done, got {other:?}"),
    }
}

#[test]
fn quickstart_at_every_split_point() {
    let response = ok_response(QUICKSTART);
    let mut reference: Option<Vec<Event>> = None;
    for split in 0..=response.len() {
        let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
        transmit(&mut call, t(0));
        let mut events = Vec::new();
        feed(&mut call, t(5), &response, &[split], &mut events);
        match &reference {
            None => reference = Some(events),
            Some(r) => assert_eq!(r, &events, "split at {split}"),
        }
    }
    let events = reference.unwrap();
    assert_eq!(events.len(), 2);
    let Event::Emotion(e) = &events[0] else { panic!("{:?}", events[0]) };
    assert_eq!(e.role.as_str(), "user");
    assert_eq!(e.category.as_str(), "fear");
    assert_eq!(e.intensity, Some(Score(5200)));
    assert_eq!(e.valence, Some(Score(-3500)));
    assert_eq!(e.raw[0].0.as_str(), "fear");
    let ok = done(&events).as_ref().unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.attempts, 1);
    assert_eq!(ok.rate_limit.remaining, Some(59));
    assert_eq!(ok.summary.object.as_str(), "emotions.analysis");
}

#[test]
fn byte_at_a_time_chunked() {
    let response = chunked_ok(QUICKSTART, 7);
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let mut events = Vec::new();
    let all: Vec<usize> = (1..response.len()).collect();
    feed(&mut call, t(1), &response, &all, &mut events);
    assert!(matches!(events[0], Event::Emotion(_)));
    assert!(done(&events).is_ok());
    assert!(call.keep_alive());
}

#[test]
fn retry_after_then_success_keeps_the_idempotency_key() {
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 42, t(0)).unwrap();
    let first = transmit(&mut call, t(0));
    let mut events = Vec::new();
    feed(&mut call, t(10), &error_response(429, "Retry-After: 2\r\n", ENVELOPE_429), &[], &mut events);
    let Some(Event::RetryScheduled { retry, max_retries, at, delay, cause }) = events.pop() else {
        panic!("{events:?}")
    };
    assert_eq!((retry, max_retries), (1, 3));
    assert_eq!(delay, Duration::from_secs(2), "Retry-After beats the 1 s backoff");
    assert_eq!(at, t(2010));
    let Cause::Api(e) = cause else { panic!() };
    assert_eq!(e.code, ErrorCode::TooManyRequests);
    assert_eq!(e.request_id.as_str(), "req-429");
    assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
    assert!(call.keep_alive(), "a complete error response leaves the connection usable");

    // Nothing is due before `at`.
    let mut buf = [0u8; 1024];
    assert_eq!(call.poll_transmit(t(2009), &mut buf), Ok(None));
    assert_eq!(call.poll_timeout(), Some(t(2010)));
    call.handle_timeout(t(2010));
    let second = transmit(&mut call, t(2010));
    assert_eq!(first, second, "a retry sends the same bytes");
    assert!(header(&first, "Idempotency-Key").is_some());

    feed(&mut call, t(2020), &ok_response(QUICKSTART), &[], &mut events);
    assert_eq!(done(&events).as_ref().unwrap().attempts, 2);
}

#[test]
fn four_xx_is_not_retried() {
    let body = r#"{"error":{"type":"invalid_request_error","code":"missing_field","message":"The 'messages' field is required","param":"messages","request_id":"req-7f65ab21d1"}}"#;
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let mut events = Vec::new();
    feed(&mut call, t(3), &error_response(400, "", body), &[], &mut events);
    let Err(f) = done(&events) else { panic!() };
    assert_eq!(f.stop, Stop::NotRetryable);
    assert_eq!(f.attempts, 1);
    let Cause::Api(e) = &f.cause else { panic!() };
    assert_eq!((e.status, e.code, e.param.as_str()), (400, ErrorCode::MissingField, "messages"));
    assert!(call.is_done());
    assert_eq!(call.poll_timeout(), None);
}

#[test]
fn server_errors_exhaust_with_doubling_backoff() {
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut now = t(0);
    let mut delays = Vec::new();
    let mut events = Vec::new();
    for _ in 0..4 {
        transmit(&mut call, now);
        feed(&mut call, now, &error_response(503, "", ""), &[], &mut events);
        match events.last() {
            Some(Event::RetryScheduled { at, delay, .. }) => {
                delays.push(delay.as_millis());
                now = *at;
                call.handle_timeout(now);
            }
            _ => break,
        }
    }
    assert_eq!(delays, [1000, 2000, 4000]);
    let Err(f) = done(&events) else { panic!() };
    assert_eq!((f.stop, f.attempts), (Stop::RetriesExhausted, 4));
    let Cause::Api(e) = &f.cause else { panic!() };
    assert_eq!(e.code, ErrorCode::ServiceUnavailable, "empty body: code from the status");
}

#[test]
fn retry_after_above_the_cap_stops_without_waiting() {
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let mut events = Vec::new();
    feed(&mut call, t(1), &error_response(429, "Retry-After: 3600\r\n", ENVELOPE_429), &[], &mut events);
    let Err(f) = done(&events) else { panic!() };
    assert_eq!(f.stop, Stop::WaitAboveCap { wait: Duration::from_secs(3600) });
}

#[test]
fn http_date_retry_after_against_the_date_header() {
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let extra = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nRetry-After: Sun, 06 Nov 1994 08:49:42 GMT\r\n";
    let mut events = Vec::new();
    feed(&mut call, t(0), &error_response(503, extra, ""), &[], &mut events);
    let Some(Event::RetryScheduled { delay, .. }) = events.last() else { panic!("{events:?}") };
    assert_eq!(*delay, Duration::from_secs(5));
}

#[test]
fn first_byte_timeout_retries_then_call_deadline_ends_it() {
    let mut cfg = config();
    cfg.policy.timeouts.first_byte = Duration::from_millis(100);
    cfg.policy.deadline = Some(Duration::from_millis(1500));
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    assert_eq!(call.poll_timeout(), Some(t(100)));
    call.handle_timeout(t(99));
    assert_eq!(call.poll_event(), None, "not yet");
    call.handle_timeout(t(100));
    let Some(Event::RetryScheduled { cause, at, .. }) = call.poll_event() else { panic!() };
    assert_eq!(cause, Cause::Timeout(Phase::FirstByte));
    assert!(!call.keep_alive(), "a timed-out connection is not reused");
    call.handle_timeout(at);
    transmit(&mut call, at);
    // The next backoff (2 s) would cross the 1.5 s deadline: the call stops instead.
    call.handle_timeout(at + Duration::from_millis(100));
    let Some(Event::Done(Err(f))) = call.poll_event() else { panic!() };
    assert_eq!((f.cause, f.stop), (Cause::Timeout(Phase::FirstByte), Stop::Deadline));
}

#[test]
fn reset_mid_body_retries_and_partial_results_precede_the_notice() {
    let response = ok_response(QUICKSTART);
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let mut events = Vec::new();
    feed(&mut call, t(1), &response[..response.len() - 5], &[], &mut events);
    call.handle_connection_lost(t(2), ConnectionLost::Reset);
    while let Some(e) = call.poll_event() {
        events.push(e);
    }
    assert!(matches!(events.last(), Some(Event::RetryScheduled { cause: Cause::Connection(ConnectionLost::Reset), .. })));
    assert!(!call.keep_alive());
}

#[test]
fn close_delimited_body_ends_at_close() {
    let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n".to_vec();
    response.extend_from_slice(QUICKSTART);
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let mut events = Vec::new();
    feed(&mut call, t(1), &response, &[], &mut events);
    assert!(!call.is_done());
    call.handle_connection_lost(t(1), ConnectionLost::Closed);
    while let Some(e) = call.poll_event() {
        events.push(e);
    }
    assert!(done(&events).is_ok());
    assert!(!call.keep_alive());
}

#[test]
fn connect_timeout_counts_as_an_attempt() {
    let mut cfg = config();
    cfg.policy.max_retries = 0;
    let mut call = Call::new(&cfg, Request::analyze(&MSGS), 1, t(0)).unwrap();
    call.handle_connecting(t(0));
    assert_eq!(call.poll_timeout(), Some(t(10_000)));
    call.handle_timeout(t(10_000));
    let Some(Event::Done(Err(f))) = call.poll_event() else { panic!() };
    assert_eq!((f.cause, f.stop, f.attempts), (Cause::Timeout(Phase::Connect), Stop::RetriesExhausted, 1));
}

#[test]
fn small_buffer_is_a_typed_error_with_the_size_needed() {
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    let mut small = [0u8; 16];
    let Err(BufferTooSmall { needed }) = call.poll_transmit(t(0), &mut small) else { panic!() };
    let mut exact = std::vec![0u8; needed];
    assert_eq!(call.poll_transmit(t(0), &mut exact), Ok(Some(needed)));
}

#[test]
fn invalid_requests_are_refused_before_anything_is_sent() {
    let empty: [Message<'static>; 0] = [];
    assert!(Call::new(&config(), Request::analyze(&empty), 1, t(0)).is_err());
    let long = "x".repeat(129);
    let req = Request::AnalyzeInContext { model: "emotion-v2", context_id: &long, messages: &MSGS };
    assert!(Call::new(&config(), req, 1, t(0)).is_err());
    let req = Request::ContextState { context_id: "a\r\nX-Evil: 1" };
    assert!(Call::new(&config(), req, 1, t(0)).is_err());
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
    let mut call = Call::new(&config(), Request::analyze(&MSGS), 1, t(0)).unwrap();
    transmit(&mut call, t(0));
    let mut events = Vec::new();
    feed(&mut call, t(500), &bytes, &[], &mut events);
    assert_eq!(done(&events).as_ref().unwrap().resume_at, Some(t(30_500)));
    let mut next = Call::new(&config(), Request::analyze(&MSGS), 2, t(600)).unwrap();
    next.set_not_before(t(30_500));
    let mut buf = [0u8; 1024];
    assert_eq!(next.poll_transmit(t(600), &mut buf), Ok(None));
    assert_eq!(next.poll_timeout(), Some(t(30_500)));
}

fn sse_response() -> Vec<u8> {
    let events = [
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"It's natural "}}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"to feel nervous."}}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"emotions":{"user":{"category":"fear","intensity":0.7}}}"#,
    ];
    let mut body = std::string::String::new();
    for e in events {
        body.push_str("data: ");
        body.push_str(e);
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for c in body.as_bytes().chunks(13) {
        r.extend_from_slice(std::format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

static CHAT: [ChatMessage<'static>; 1] = [ChatMessage { role: "user", content: "I am nervous about my interview tomorrow." }];

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

fn content_of(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Content(c) => Some(c.bytes.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect()
}

#[test]
fn streamed_chat_delivers_content_in_order_for_every_split() {
    let response = sse_response();
    for split in 0..=response.len() {
        let mut call = Call::new(&config(), chat_request(true), 1, t(0)).unwrap();
        transmit(&mut call, t(0));
        let mut events = Vec::new();
        feed(&mut call, t(1), &response, &[split], &mut events);
        assert_eq!(content_of(&events), b"It's natural to feel nervous.", "split {split}");
        assert!(events.iter().any(|e| matches!(e, Event::Emotion(e) if e.category.as_str() == "fear")));
        assert!(done(&events).is_ok(), "split {split}");
    }
}

proptest! {
    /// The outcome does not depend on how the response is split.
    #[test]
    fn split_invariance(mut cuts in proptest::collection::vec(0usize..600, 0..12), chunk in 1usize..40) {
        let response = chunked_ok(QUICKSTART, chunk);
        let run = |cuts: &[usize]| {
            let mut call = Call::new(&config(), Request::analyze(&MSGS), 9, t(0)).unwrap();
            transmit(&mut call, t(0));
            let mut events = Vec::new();
            feed(&mut call, t(1), &response, cuts, &mut events);
            events
        };
        cuts.sort_unstable();
        prop_assert_eq!(run(&[]), run(&cuts));
    }

    /// Whatever the server sends, the call never panics and always ends by its deadline,
    /// and every attempt carries the same Idempotency-Key.
    #[test]
    fn arbitrary_responses_end_and_share_one_key(
        responses in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..6),
        seed in any::<u64>(),
    ) {
        let mut cfg = config();
        cfg.policy.deadline = Some(Duration::from_secs(30));
        let mut call = Call::new(&cfg, Request::analyze(&MSGS), seed, t(0)).unwrap();
        let mut now = t(0);
        let mut keys = Vec::new();
        let mut events = Vec::new();
        for step in 0..200 {
            if call.is_done() { break; }
            let mut buf = [0u8; 1024];
            if let Ok(Some(n)) = call.poll_transmit(now, &mut buf) {
                keys.push(header(&buf[..n], "Idempotency-Key").unwrap().to_owned());
                let r = &responses[step % responses.len()];
                feed(&mut call, now, r, &[r.len() / 2], &mut events);
                if step % 2 == 0 { call.handle_connection_lost(now, ConnectionLost::Closed); }
            }
            while let Some(e) = call.poll_event() { events.push(e); }
            if let Some(at) = call.poll_timeout() { now = now.max(at); call.handle_timeout(now); }
            while let Some(e) = call.poll_event() { events.push(e); }
        }
        prop_assert!(call.is_done(), "call did not end");
        prop_assert!(now <= t(30_000));
        prop_assert!(keys.windows(2).all(|w| w[0] == w[1]));
    }
}
