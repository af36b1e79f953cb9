//! Transport faults: stalls against deadlines, resets, malformed heads, odd framing, and
//! connection reuse across closes.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration as StdDuration;

use common::{client, client_with, direct_client, policy, run, sim};
use kaiko_core::call::{ConnectionLost, Phase, ProtocolError};
use kaiko_core::request::Message;
use kaiko_core::time::Duration;
use kaiko_sim::Fault;
use kaiko_std::{Cause, Client, Policy, Request, Stop, Timeouts};

fn no_retries() -> Policy {
    Policy {
        max_retries: 0,
        ..policy()
    }
}

fn analyze(c: &mut Client, text: &str) -> common::Run {
    run(c, Request::analyze(&[Message::user(text)]))
}

#[test]
fn stall_before_the_head_ends_at_the_first_byte_deadline() {
    let sim = sim();
    sim.push_fault(Fault::Stall {
        after_head: false,
        duration: StdDuration::from_secs(3),
    });
    let timeouts = Timeouts {
        first_byte: Duration::from_millis(300),
        ..policy().timeouts
    };
    let mut c = client_with(
        &sim,
        Policy {
            timeouts,
            ..no_retries()
        },
    );
    let r = analyze(&mut c, "hi");
    let f = r.failure();
    assert_eq!(f.cause, Cause::Timeout(Phase::FirstByte));
    assert!(
        (300..1500).contains(&r.elapsed_ms),
        "elapsed {} ms",
        r.elapsed_ms
    );
}

#[test]
fn stall_ends_at_the_call_deadline() {
    let sim = sim();
    sim.push_fault(Fault::Stall {
        after_head: false,
        duration: StdDuration::from_secs(4),
    });
    let p = policy();
    let timeouts = Timeouts {
        first_byte: Duration::from_secs(30),
        response: Duration::from_secs(30),
        ..p.timeouts
    };
    let mut c = client_with(
        &sim,
        Policy {
            timeouts,
            deadline: Some(Duration::from_millis(500)),
            ..p
        },
    );
    let r = analyze(&mut c, "hi");
    let f = r.failure();
    assert_eq!(
        (f.cause, f.stop),
        (Cause::Timeout(Phase::Call), Stop::Deadline)
    );
    assert!(
        (500..1500).contains(&r.elapsed_ms),
        "elapsed {} ms, not the 4 s stall",
        r.elapsed_ms
    );
}

#[test]
fn stall_after_the_head_ends_at_the_response_deadline() {
    let sim = sim();
    sim.push_fault(Fault::Stall {
        after_head: true,
        duration: StdDuration::from_secs(3),
    });
    let timeouts = Timeouts {
        response: Duration::from_millis(400),
        ..policy().timeouts
    };
    let mut c = client_with(
        &sim,
        Policy {
            timeouts,
            ..no_retries()
        },
    );
    let r = analyze(&mut c, "hi");
    assert_eq!(r.failure().cause, Cause::Timeout(Phase::Response));
    assert!(
        (400..1500).contains(&r.elapsed_ms),
        "elapsed {} ms",
        r.elapsed_ms
    );
}

#[test]
fn reset_mid_head_is_a_connection_failure_then_retried() {
    let sim = sim();
    sim.push_fault(Fault::ResetMidHead);
    let mut c = client_with(&sim, no_retries());
    let r = analyze(&mut c, "hi");
    assert!(
        matches!(
            r.failure().cause,
            Cause::Connection(ConnectionLost::Reset | ConnectionLost::Closed)
        ),
        "{:?}",
        r.failure()
    );
    sim.push_fault(Fault::ResetMidHead);
    let mut c = client(&sim);
    assert_eq!(analyze(&mut c, "hi").ok().attempts, 2);
}

#[test]
fn reset_mid_body_without_retries_fails_typed() {
    let sim = sim();
    sim.push_fault(Fault::ResetMidBody);
    let mut c = client_with(&sim, no_retries());
    let r = analyze(&mut c, "hi");
    assert!(
        matches!(
            r.failure().cause,
            Cause::Connection(ConnectionLost::Reset | ConnectionLost::Closed)
                | Cause::Protocol(ProtocolError::Body(_))
        ),
        "{:?}",
        r.failure()
    );
}

#[test]
fn malformed_head_is_a_protocol_error_and_the_client_recovers() {
    let sim = sim();
    sim.push_fault(Fault::MalformedHead);
    let mut c = client_with(&sim, no_retries());
    let r = analyze(&mut c, "hi");
    assert!(
        matches!(r.failure().cause, Cause::Protocol(ProtocolError::Head(_))),
        "{:?}",
        r.failure()
    );
    // The spoiled connection is not reused.
    assert_eq!(analyze(&mut c, "hi").ok().status, 200);
    assert_eq!(c.connections_opened(), 2);
}

#[test]
fn odd_chunks_drip_and_interim_100_give_the_normal_result() {
    let sim = sim();
    let mut c = client(&sim);
    let text = "I am so happy and a little scared";
    let normal = analyze(&mut c, text).emotions();
    for fault in [
        Fault::OddChunks,
        Fault::Drip {
            per_byte: StdDuration::from_micros(200),
        },
        Fault::Interim100,
    ] {
        sim.push_fault(fault);
        let r = analyze(&mut c, text);
        assert_eq!(r.ok().attempts, 1, "{fault:?}");
        assert_eq!(r.emotions(), normal, "{fault:?}");
    }
}

#[test]
fn close_without_response_on_a_fresh_connection_is_retried() {
    let sim = sim();
    sim.push_fault(Fault::CloseWithoutResponse);
    let mut c = client(&sim);
    let r = analyze(&mut c, "hi");
    assert_eq!(r.ok().attempts, 2);
    assert_eq!(r.retries()[0].2, Cause::Connection(ConnectionLost::Closed));
}

#[test]
fn refused_connection_is_typed() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = direct_client(
        "kaiko_test_x",
        &format!("http://127.0.0.1:{port}/v2"),
        no_retries(),
    );
    let r = analyze(&mut c, "hi");
    assert_eq!(
        r.failure().cause,
        Cause::Connection(ConnectionLost::Refused)
    );
}

const BODY: &str = r#"{"object":"emotions.analysis","model":"emotion-v2","emotions":{"user":{"category":"joy","intensity":0.5}}}"#;

/// A one-response-per-connection server: answers each connection's first request, with
/// `Connection: close` when `announce`, then closes it.
fn closing_server(announce: bool, connections: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            s.set_read_timeout(Some(StdDuration::from_secs(5))).unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            // Head, then Content-Length bytes of body.
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head_end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            let head = String::from_utf8_lossy(&req[..head_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while req.len() < head_end + len {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let close = if announce {
                "Connection: close\r\n"
            } else {
                ""
            };
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{close}\r\n{BODY}",
                BODY.len()
            );
            s.write_all(resp.as_bytes()).unwrap();
            // Give the client time to read, then close as an idle server would.
            std::thread::sleep(StdDuration::from_millis(50));
        }
    });
    (url, handle)
}

#[test]
fn connection_close_makes_the_next_call_reconnect() {
    let (url, server) = closing_server(true, 2);
    let mut c = direct_client("kaiko_test_x", &url, no_retries());
    for _ in 0..2 {
        assert_eq!(analyze(&mut c, "hi").ok().attempts, 1);
    }
    assert_eq!(c.connections_opened(), 2);
    server.join().unwrap();
}

#[test]
fn idle_close_of_a_reused_connection_is_reconnected_transparently() {
    let (url, server) = closing_server(false, 2);
    let mut c = direct_client("kaiko_test_x", &url, no_retries());
    assert_eq!(analyze(&mut c, "hi").ok().attempts, 1);
    std::thread::sleep(StdDuration::from_millis(150));
    // The kept connection was closed by the server; with no retries allowed, only the
    // transparent resend can make this succeed.
    let r = analyze(&mut c, "hi");
    assert_eq!(r.ok().attempts, 1);
    assert!(r.retries().is_empty());
    assert_eq!(c.connections_opened(), 2);
    server.join().unwrap();
}
