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

/// The call ended at `deadline_ms`, within 10 %.
fn assert_ends_at(elapsed_ms: u128, deadline_ms: u128) {
    let (low, high) = (deadline_ms * 9 / 10, deadline_ms * 11 / 10);
    assert!(
        (low..=high).contains(&elapsed_ms),
        "the call took {elapsed_ms} ms, deadline {deadline_ms} ms"
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
    assert_ends_at(r.elapsed_ms, RESPONSE_MS);
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
    assert_ends_at(r.elapsed_ms, RESPONSE_MS);
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
    assert_ends_at(r.elapsed_ms, RESPONSE_MS);
}

#[test]
fn never_pausing_server_with_retries_ends_at_the_call_deadline() {
    limit_memory();
    let url = endless_server(
        CHUNKED,
        chunk("{\"object\":\"emotions.analysis\",\"pad\":\"aaa"),
        chunk("aaaaaaaaaaaaaaaa"),
    );
    // Each attempt ends at 1 s; the third is cut by the 2.5 s call deadline.
    let mut c = client(&url, tight(5));
    let r = analyze_run(&mut c);
    let f = r.failure();
    assert!(matches!(f.cause, Cause::Timeout(Phase::Call)), "{f:?}");
    assert_eq!(f.attempts, 3, "{f:?}");
    assert_ends_at(r.elapsed_ms, CALL_MS);
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
    // Refused as soon as the limit is passed, long before any deadline.
    assert!(started.elapsed() < StdDuration::from_millis(500));
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
    assert!(items > MAX_EMOTIONS as u64, "only {items} items");
    assert_ends_at(started.elapsed().as_millis(), RESPONSE_MS);
}

/// A server whose first connection answers 503 and is then closed while the client backs
/// off; the second answers 200. Returns the base URL and, once the server is done, whether
/// the client tried the closed connection again (it should: it cannot know until it reads).
fn drops_idle_during_backoff() -> (String, std::thread::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let mut reused = false;
        let busy = "{\"error\":{\"type\":\"api_error\",\"code\":\"service_unavailable\",\"message\":\"busy\"}}";
        let ok =
            "{\"object\":\"emotions.analysis\",\"emotions\":{\"user\":{\"category\":\"joy\"}}}";
        for (status, body) in [("503 Service Unavailable", busy), ("200 OK", ok)] {
            let Ok((mut s, _)) = listener.accept() else {
                return reused;
            };
            s.set_read_timeout(Some(StdDuration::from_secs(5))).ok();
            if !read_request(&mut s) {
                return reused;
            }
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(response.as_bytes());
            if status.starts_with("503") {
                // Idle for 50 ms (the client backs off for 300), then closed as a server's
                // idle timeout would; what the client still writes to it is read and noted.
                std::thread::sleep(StdDuration::from_millis(50));
                let _ = s.shutdown(std::net::Shutdown::Write);
                s.set_read_timeout(Some(StdDuration::from_secs(2))).ok();
                reused = read_request(&mut s);
            }
        }
        reused
    });
    (url, server)
}

#[test]
fn idle_connection_dropped_during_a_backoff_costs_no_attempt() {
    limit_memory();
    let (url, server) = drops_idle_during_backoff();
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
