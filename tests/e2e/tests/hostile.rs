//! Hostile servers: responses that never pause, never end, or never stop sending items. Every
//! call still ends at its deadline, in bounded memory. The whole test process runs under an
//! address-space limit, so a regression that grows memory fails here instead of taking the
//! machine down.

mod common;

use std::time::{Duration as StdDuration, Instant as StdInstant};

use common::{Seen, policy};
use kaiko_core::call::Phase;
use kaiko_core::request::{ChatMessage, ChatRequest, Message};
use kaiko_core::time::Duration;
use kaiko_sim::hostile::{Endless, drops_idle_during_backoff};
use kaiko_std::{CallError, Cause, Client, MAX_EMOTIONS, Policy, Request, Timeouts};

/// 4 GiB of address space: far above what a bounded call needs, far below the machine.
fn limit_memory() {
    const LIMIT: u64 = 4 << 30;
    rlimit::setrlimit(rlimit::Resource::AS, LIMIT, LIMIT).expect("address-space limit");
}

/// The response deadline of [`tight`].
const RESPONSE_MS: u128 = 1000;
/// The whole-call deadline of [`tight`].
const CALL_MS: u128 = 2500;

/// Short deadlines: the response may take 1 s, the whole call 2.5 s.
fn tight(max_retries: u8) -> Policy {
    Policy {
        max_retries,
        base_delay: Duration::from_millis(10),
        max_jitter: Duration::from_millis(0),
        deadline: Some(Duration::from_millis(CALL_MS as u64)),
        timeouts: Timeouts {
            connect: Duration::from_secs(1),
            first_byte: Duration::from_secs(1),
            response: Duration::from_millis(RESPONSE_MS as u64),
        },
        ..policy()
    }
}

fn client(url: &str, policy: Policy) -> Client {
    common::direct_client("kaiko_test_hostile", url, policy)
}

fn analyze_run(c: &mut Client) -> common::Run {
    common::run(c, Request::analyze(&[Message::user("hi")]))
}

/// The call ended at `deadline_ms`, within 10 %.
fn assert_ends_at(elapsed_ms: u128, deadline_ms: u128) {
    let (low, high) = (deadline_ms * 9 / 10, deadline_ms * 11 / 10);
    assert!(
        (low..=high).contains(&elapsed_ms),
        "the call took {elapsed_ms} ms, deadline {deadline_ms} ms"
    );
}

#[test]
fn never_pausing_chunked_body_ends_at_the_response_deadline() {
    limit_memory();
    // A JSON string that never closes, in 16-byte chunks, as fast as the socket takes them.
    let server = Endless::never_pausing_chunked().unwrap();
    let mut c = client(server.base_url(), tight(0));
    let r = analyze_run(&mut c);
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert_ends_at(r.elapsed_ms, RESPONSE_MS);
}

#[test]
fn endless_body_under_a_huge_content_length_ends_at_the_response_deadline() {
    limit_memory();
    let server = Endless::huge_content_length().unwrap();
    let mut c = client(server.base_url(), tight(0));
    let r = analyze_run(&mut c);
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert_ends_at(r.elapsed_ms, RESPONSE_MS);
}

#[test]
fn endless_sse_comments_end_at_the_response_deadline() {
    limit_memory();
    let server = Endless::sse_comments().unwrap();
    let mut c = client(server.base_url(), tight(0));
    let messages = [ChatMessage::user("hi")];
    let request = ChatRequest {
        stream: true,
        ..ChatRequest::new("gpt-4o-mini", &messages)
    };
    let r = common::run(&mut c, Request::chat(request));
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert_ends_at(r.elapsed_ms, RESPONSE_MS);
}

#[test]
fn never_pausing_server_with_retries_ends_at_the_call_deadline() {
    limit_memory();
    let server = Endless::never_pausing_chunked().unwrap();
    // Each attempt ends at 1 s; the third is cut by the 2.5 s call deadline.
    let mut c = client(server.base_url(), tight(5));
    let r = analyze_run(&mut c);
    let f = r.failure();
    assert!(matches!(f.cause, Cause::Timeout(Phase::Call)), "{f:?}");
    assert_eq!(f.attempts, 3, "{f:?}");
    assert_ends_at(r.elapsed_ms, CALL_MS);
}

#[test]
fn endless_emotion_items_are_refused_in_bounded_memory() {
    limit_memory();
    let server = Endless::endless_items().unwrap();
    let mut c = client(server.base_url(), tight(0));
    let started = StdInstant::now();
    let mut seen = 0usize;
    let err = c
        .analyze("hi", None, None, |e| {
            if matches!(Seen::of(e), Seen::Emotion(_)) {
                seen += 1;
            }
        })
        .unwrap_err();
    assert_eq!(
        err,
        CallError::TooManyItems {
            limit: MAX_EMOTIONS
        }
    );
    assert_eq!(seen, MAX_EMOTIONS);
    // Refused as soon as the limit is passed, long before any deadline.
    assert!(started.elapsed() < StdDuration::from_millis(500));
    // The cancelled call's connection was not kept: the next call opens a fresh one.
    assert_eq!(c.connections_opened(), 1);
}

#[test]
fn endless_items_through_call_are_streamed_not_kept() {
    limit_memory();
    let server = Endless::endless_items().unwrap();
    let mut c = client(server.base_url(), tight(0));
    let started = StdInstant::now();
    let mut items = 0u64;
    let err = c
        .call(Request::analyze(&[Message::user("hi")]), |e| {
            if matches!(e, kaiko_std::Event::Emotion(_)) {
                items += 1;
            }
        })
        .unwrap_err();
    match err {
        CallError::Failed(f) => assert_eq!(f.cause, Cause::Timeout(Phase::Response)),
        other => panic!("{other:?}"),
    }
    assert!(items > MAX_EMOTIONS as u64, "only {items} items");
    assert_ends_at(started.elapsed().as_millis(), RESPONSE_MS);
}

#[test]
fn idle_connection_dropped_during_a_backoff_costs_no_attempt() {
    limit_memory();
    let (url, server) = drops_idle_during_backoff().unwrap();
    let policy = Policy {
        base_delay: Duration::from_millis(300),
        ..tight(1)
    };
    let mut c = client(&url, policy);
    let r = analyze_run(&mut c);
    // One retry allowed: only the core's free resend on the dead reused connection can make
    // the retry succeed.
    let s = r.ok();
    assert_eq!(s.attempts, 2);
    assert_eq!(r.retries().len(), 1);
    assert_eq!(r.emotions().len(), 1);
    assert_eq!(c.connections_opened(), 2);
    assert!(
        server.join().unwrap(),
        "the retry did not try the kept connection first"
    );
}
