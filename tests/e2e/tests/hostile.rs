//! Hostile servers: responses that never pause, never end, or never stop sending items. Every
//! call still ends at its deadline, in bounded memory. The whole test process runs under an
//! address-space limit, so a regression that grows memory fails here instead of taking the
//! machine down.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use common::{Seen, policy};
use kaiko_core::call::Phase;
use kaiko_core::request::{ChatMessage, ChatRequest, Message};
use kaiko_core::time::Duration;
use kaiko_std::{CallError, Cause, Client, MAX_EMOTIONS, Policy, Request, Timeouts};

/// 4 GiB of address space: far above what a bounded call needs, far below the machine.
fn limit_memory() {
    const LIMIT: u64 = 4 << 30;
    rlimit::setrlimit(rlimit::Resource::AS, LIMIT, LIMIT).expect("address-space limit");
}

/// Short deadlines: the response may take 600 ms, the whole call 1.5 s.
fn tight(max_retries: u8) -> Policy {
    Policy {
        max_retries,
        base_delay: Duration::from_millis(10),
        deadline: Some(Duration::from_millis(1500)),
        timeouts: Timeouts {
            connect: Duration::from_secs(1),
            first_byte: Duration::from_secs(1),
            response: Duration::from_millis(600),
        },
        ..policy()
    }
}

/// Reads one request (head and `Content-Length` body); `false` if the client went away.
fn read_request(s: &mut TcpStream) -> bool {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while req.len() < head_end + len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// `s` as one chunk of a chunked body.
fn chunk(s: &str) -> String {
    format!("{:x}\r\n{s}\r\n", s.len())
}

/// A server that answers every request with `head`, then `piece` as fast as the client takes
/// it, forever (until the client closes, or 20 s pass as a safety net). Returns the base URL.
fn endless_server(head: &'static str, first: String, piece: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let started = StdInstant::now();
        while let Ok((mut s, _)) = listener.accept() {
            let (first, piece) = (first.clone(), piece.clone());
            std::thread::spawn(move || {
                s.set_read_timeout(Some(StdDuration::from_secs(5))).ok();
                if !read_request(&mut s) {
                    return;
                }
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(first.as_bytes());
                let block = piece.repeat((8192 / piece.len()).max(1));
                while started.elapsed() < StdDuration::from_secs(20) {
                    if s.write_all(block.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn client(url: &str, policy: Policy) -> Client {
    Client::with_base_url("kaiko_test_hostile", url)
        .unwrap()
        .policy(policy)
}

fn analyze_run(c: &mut Client) -> common::Run {
    common::run(c, Request::analyze(&[Message::user("hi")]))
}

fn assert_ends_in(r: &common::Run, max_ms: u128) {
    assert!(
        r.elapsed_ms < max_ms,
        "the call took {} ms (limit {max_ms})",
        r.elapsed_ms
    );
}

const CHUNKED: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn never_pausing_chunked_body_ends_at_the_response_deadline() {
    limit_memory();
    // A JSON string that never closes, in 16-byte chunks, as fast as the socket takes them.
    let url = endless_server(
        CHUNKED,
        chunk("{\"object\":\"emotions.analysis\",\"pad\":\"aaa"),
        chunk("aaaaaaaaaaaaaaaa"),
    );
    let mut c = client(&url, tight(0));
    let r = analyze_run(&mut c);
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert!(r.elapsed_ms >= 500, "ended early: {} ms", r.elapsed_ms);
    assert_ends_in(&r, 1400);
}

#[test]
fn endless_body_under_a_huge_content_length_ends_at_the_response_deadline() {
    limit_memory();
    let url = endless_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n",
        "{\"object\":\"emotions.analysis\",\"pad\":[".to_owned(),
        "0,".to_owned(),
    );
    let mut c = client(&url, tight(0));
    let r = analyze_run(&mut c);
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert_ends_in(&r, 1400);
}

#[test]
fn endless_sse_comments_end_at_the_response_deadline() {
    limit_memory();
    let url = endless_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        String::new(),
        chunk(": keep-alive\n\n"),
    );
    let mut c = client(&url, tight(0));
    let messages = [ChatMessage::user("hi")];
    let request = ChatRequest {
        stream: true,
        ..ChatRequest::new("gpt-4o-mini", &messages)
    };
    let r = common::run(&mut c, Request::chat(request));
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert_ends_in(&r, 1400);
}

#[test]
fn never_pausing_server_with_retries_ends_at_the_call_deadline() {
    limit_memory();
    let url = endless_server(
        CHUNKED,
        chunk("{\"object\":\"emotions.analysis\",\"pad\":\"aaa"),
        chunk("aaaaaaaaaaaaaaaa"),
    );
    // Each attempt ends at 600 ms; the third would outlive the 1.5 s call deadline.
    let mut c = client(&url, tight(5));
    let r = analyze_run(&mut c);
    let f = r.failure();
    assert!(
        matches!(
            f.cause,
            Cause::Timeout(Phase::Call) | Cause::Timeout(Phase::Response)
        ),
        "{f:?}"
    );
    assert!(f.attempts >= 2, "{f:?}");
    assert_ends_in(&r, 2200);
}

#[test]
fn endless_emotion_items_are_refused_in_bounded_memory() {
    limit_memory();
    let url = endless_server(
        CHUNKED,
        chunk("{\"object\":\"emotions.batch\",\"emotions\":["),
        chunk("{\"category\":\"joy\",\"intensity\":0.5},"),
    );
    let mut c = client(&url, tight(0));
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
    assert!(started.elapsed() < StdDuration::from_millis(1400));
    // The cancelled call's connection was not kept: the next call opens a fresh one.
    assert_eq!(c.connections_opened(), 1);
}

#[test]
fn endless_items_through_call_are_streamed_not_kept() {
    limit_memory();
    let url = endless_server(
        CHUNKED,
        chunk("{\"object\":\"emotions.batch\",\"emotions\":["),
        chunk("{\"category\":\"joy\",\"intensity\":0.5},"),
    );
    let mut c = client(&url, tight(0));
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
    assert!(items > u64::from(MAX_EMOTIONS as u32), "only {items} items");
    assert!(started.elapsed() < StdDuration::from_millis(1400));
}
