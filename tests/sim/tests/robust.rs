//! The server survives hostile input and stays bounded.

mod common;

use std::io::Write;
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use kaiko_sim::{Config, Sim};

/// xorshift64*: deterministic test input without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_requests_never_panic_the_server() {
    let panics = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&panics);
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        p.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));

    let sim = Sim::start(Config {
        max_body: 4096,
        ..Config::default()
    })
    .unwrap();
    let bodies = [
        FEAR.to_owned(),
        r#"{"model":"gpt-4","emotion_model":"emotion-v2","stream":true,"context_id":"c","messages":[{"role":"user","content":"so happy!"}]}"#.to_owned(),
        r#"{"model":"emotion-v2","messages":[{"externalId":"m","content":{"text":"I am not afraid"}}]}"#.to_owned(),
    ];
    let paths = [
        "/v2/emotions/analysis",
        "/v2/chat/completions",
        "/v2/emotions/c%41/analysis",
        "/v2/emotions/batch-analysis",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let body = &bodies[round % bodies.len()];
        let path = paths[round % paths.len()];
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: s\r\nx-api-key: {KEY}\r\nIdempotency-Key: k{}\r\nContent-Length: {}\r\n\r\n{body}",
            rng.below(4),
            body.len()
        )
        .into_bytes();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(req.len());
            match rng.below(4) {
                0 => req[at] = rng.next() as u8,
                1 => req.insert(at, b"\r\n:%{}\"\x00\xff9"[rng.below(10)]),
                2 => {
                    req.remove(at);
                }
                _ => req.truncate(at.max(1)),
            }
        }
        let mut c = Client::connect(sim.addr());
        c.stream.write_all(&req).unwrap();
        let _ = c.stream.shutdown(Shutdown::Write);
        let (bytes, _) = c.read_to_end();
        if !bytes.is_empty() {
            assert!(bytes.starts_with(b"HTTP/1.1 "), "round {round}: {bytes:?}");
        }
    }
    // Still serving, and nothing panicked on any thread.
    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 200);
    assert_eq!(sim.connections_accepted(), 301);
    drop(sim);
    assert_eq!(panics.load(Ordering::SeqCst), 0);
}

#[test]
fn bare_lf_heads_and_leading_blank_lines_are_accepted() {
    let sim = Sim::start(Config::default()).unwrap();
    let mut c = Client::connect(sim.addr());
    c.send_raw(format!("\r\nGET /v2/emotions HTTP/1.1\nHost: s\nx-api-key: {KEY}\n\n").as_bytes());
    assert_eq!(c.read_response().unwrap().status, 200);
}

#[test]
fn idle_connections_are_shed_so_others_are_served() {
    // A slowloris client: 500 connections that never send a request, against a limit of 64.
    let sim = Sim::start(Config::default()).unwrap();
    let idle: Vec<Client> = (0..500).map(|_| Client::connect(sim.addr())).collect();
    let mut c = Client::connect(sim.addr());
    let r = c.request("GET", "/v2/emotions", &[("x-api-key", KEY)], b"");
    assert_eq!(r.status, 200);
    assert!(
        sim.connections_shed() >= 500 - 64,
        "shed {}",
        sim.connections_shed()
    );
    // The longest-waiting connections went first: the oldest idle one is closed.
    let mut idle = idle;
    assert!(idle[0].is_closed());
}

#[test]
fn connections_beyond_the_limit_get_503_only_when_all_are_busy() {
    // Every request takes 1.5 s, so 64 requests in flight fill the server.
    let sim = Sim::start(Config {
        latency: Duration::from_millis(1500),
        rate_limit: 1000,
        ..Config::default()
    })
    .unwrap();
    let busy: Vec<Client> = (0..64)
        .map(|_| {
            let mut c = Client::connect(sim.addr());
            let headers = [("x-api-key", KEY), ("Content-Type", "application/json")];
            c.send("POST", "/v2/emotions/analysis", &headers, FEAR.as_bytes());
            c
        })
        .collect();
    // Let every request arrive and start.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = Client::connect(sim.addr());
    let r = extra.read_response().unwrap();
    r.error(503, "server_error", "service_unavailable");
    assert!(extra.is_closed());
    assert_eq!(sim.connections_shed(), 0, "nothing was idle");
    for mut c in busy {
        assert_eq!(c.read_response().unwrap().status, 200);
    }
}
