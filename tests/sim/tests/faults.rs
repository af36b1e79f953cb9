//! Each fault's effect on the wire, and its effect on idempotency.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use common::*;
use kaiko_sim::{Config, Fault, RetryAfterValue, Sim, SimHandle};

fn sim_with(faults: Vec<Fault>) -> SimHandle {
    Sim::start(Config {
        faults,
        ..Config::default()
    })
    .expect("start")
}

fn keyed(sim: &SimHandle, key: &str) -> Resp {
    call(
        sim,
        "POST",
        "/v2/emotions/analysis",
        &[("Idempotency-Key", key)],
        FEAR,
    )
}

/// Sends the fear analysis with an idempotency key and returns the connection.
fn send_keyed(sim: &SimHandle, key: &str) -> Client {
    let mut c = Client::connect(sim.addr());
    c.send(
        "POST",
        "/v2/emotions/analysis",
        &[("x-api-key", KEY), ("Idempotency-Key", key)],
        FEAR.as_bytes(),
    );
    c
}

#[test]
fn faults_are_taken_in_order_then_normal_service_resumes() {
    let sim = sim_with(vec![Fault::Status {
        status: 503,
        retry_after: Some(RetryAfterValue::Seconds(2)),
    }]);
    sim.push_faults([
        Fault::Status {
            status: 500,
            retry_after: None,
        },
        Fault::Status {
            status: 429,
            retry_after: Some(RetryAfterValue::HttpDate { secs_from_now: 5 }),
        },
    ]);
    assert_eq!(sim.pending_faults(), 3);
    let r = keyed(&sim, "k1");
    r.error(503, "server_error", "service_unavailable");
    assert_eq!(r.header("Retry-After"), Some("2"));
    assert!(r.header("X-RateLimit-Limit").is_some());
    let r = keyed(&sim, "k1");
    r.error(500, "server_error", "internal");
    assert!(r.header("Retry-After").is_none());
    let r = keyed(&sim, "k1");
    r.error(429, "rate_limit_error", "too_many_requests");
    let date = r.header("Retry-After").unwrap();
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
    // Injected errors are not processed, so the key's first real attempt is.
    assert_eq!(sim.ledger().processed("k1"), 0);
    let r = keyed(&sim, "k1");
    assert_eq!(r.status, 200);
    assert!(r.header("Idempotent-Replayed").is_none());
    assert_eq!(sim.ledger().processed("k1"), 1);
    assert_eq!(sim.pending_faults(), 0);
}

#[test]
fn proxy_and_backend_error_shapes() {
    let sim = sim_with(vec![
        Fault::Html { status: 502 },
        Fault::FlatError { status: 500 },
        Fault::StatusError { status: 500 },
        Fault::Empty { status: 503 },
    ]);
    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 502);
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("<title>502 Bad Gateway</title>"));

    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 500);
    let v = r.json();
    assert!(v["message"].is_string() && v.get("error").is_none(), "{v}");

    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["status"], "error");
    assert!(v["message"].is_string());

    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 503);
    assert_eq!(r.header("Content-Length"), Some("0"));
    assert!(r.body.is_empty());
    assert_eq!(sim.ledger().total_processed(), 0);
}

#[test]
fn odd_chunks_decode_to_the_same_json() {
    let sim = sim_with(vec![Fault::OddChunks]);
    let odd = post(&sim, "/v2/emotions/analysis", FEAR);
    let plain = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(odd.status, 200);
    assert_eq!(odd.header("Transfer-Encoding"), Some("chunked"));
    assert!(odd.header("Content-Length").is_none());
    let raw = String::from_utf8_lossy(&odd.raw_body);
    assert!(raw.starts_with("1;sim-ext=\"odd\"\r\n{\r\n7\r\n"), "{raw}");
    assert!(raw.contains("\r\nB\r\n"), "upper-case hex size");
    assert_eq!(
        odd.trailers,
        vec![("X-Sim-Trailer".to_owned(), "done".to_owned())]
    );
    assert_eq!(odd.json(), plain.json());
}

#[test]
fn odd_chunks_on_a_stream() {
    let sim = sim_with(vec![Fault::OddChunks]);
    let body = r#"{"model":"gpt-4","emotion_model":"emotion-v2","stream":true,"messages":[{"role":"user","content":"I am so happy"}]}"#;
    let r = post(&sim, "/v2/chat/completions", body);
    assert_eq!(r.header("Content-Type"), Some("text/event-stream"));
    assert!(r.text().ends_with("data: [DONE]\n\n"));
}

#[test]
fn drip_takes_at_least_n_times_per_byte() {
    let per_byte = Duration::from_millis(2);
    let sim = sim_with(vec![Fault::Drip { per_byte }]);
    let start = Instant::now();
    let r = get(&sim, "/v2/emotions");
    let took = start.elapsed();
    assert_eq!(r.status, 200);
    let n = (r.head.len() + r.raw_body.len()) as u32;
    assert!(took >= per_byte * (n - 1), "{took:?} for {n} bytes");
    assert!(r.json()["message"].is_string());
}

#[test]
fn stall_before_the_head() {
    let d = Duration::from_millis(300);
    let sim = sim_with(vec![Fault::Stall {
        after_head: false,
        duration: d,
    }]);
    let start = Instant::now();
    let r = get(&sim, "/v2/emotions");
    assert!(start.elapsed() >= d);
    assert_eq!(r.status, 200);
}

#[test]
fn stall_after_the_head() {
    let d = Duration::from_millis(800);
    let sim = sim_with(vec![Fault::Stall {
        after_head: true,
        duration: d,
    }]);
    let start = Instant::now();
    let mut c = Client::connect(sim.addr());
    c.send(
        "POST",
        "/v2/emotions/analysis",
        &[
            ("x-api-key", KEY),
            ("Idempotency-Key", "stall"),
            ("Connection", "close"),
        ],
        FEAR.as_bytes(),
    );
    let head = c.read_head().unwrap();
    let head_at = start.elapsed();
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    assert!(head_at < d, "head after {head_at:?}");
    // Processed before the stall: a retry now is a replay.
    assert_eq!(sim.ledger().processed("stall"), 1);
    let (body, _) = c.read_to_end();
    assert!(start.elapsed() >= d);
    assert!(body.ends_with(b"}"));
}

#[test]
fn reset_mid_head_is_not_processed() {
    let sim = sim_with(vec![Fault::ResetMidHead]);
    let mut c = send_keyed(&sim, "rmh");
    let (bytes, err) = c.read_to_end();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("\r\n\r\n"), "{text}");
    if let Some(e) = err {
        assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    }
    assert_eq!(sim.ledger().processed("rmh"), 0);
    let r = keyed(&sim, "rmh");
    assert_eq!(r.status, 200);
    assert!(r.header("Idempotent-Replayed").is_none());
    assert_eq!(sim.ledger().processed("rmh"), 1);
}

#[test]
fn reset_mid_body_stores_the_result() {
    let sim = sim_with(vec![Fault::ResetMidBody]);
    let mut c = send_keyed(&sim, "rmb");
    let (bytes, err) = c.read_to_end();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(e) = &err {
        assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    }
    let r = keyed(&sim, "rmb");
    assert_eq!(r.header("Idempotent-Replayed"), Some("true"));
    let whole = String::from_utf8_lossy(&r.body).into_owned();
    // The head and a strict prefix of the body arrived before the reset.
    let (head, body) = text.split_once("\r\n\r\n").expect("head before the reset");
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    assert!(
        body.len() < whole.len() && whole.starts_with(body),
        "{body}"
    );
    assert!(!body.is_empty());
    assert_eq!(sim.ledger().processed("rmb"), 1);
    assert_eq!(sim.ledger().replayed("rmb"), 1);
}

#[test]
fn reset_after_processing_then_replay() {
    let sim = sim_with(vec![Fault::ResetAfterProcessing]);
    let mut c = send_keyed(&sim, "rap");
    let (bytes, err) = c.read_to_end();
    assert!(bytes.is_empty());
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    assert_eq!(sim.ledger().processed("rap"), 1);
    let r = keyed(&sim, "rap");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(r.json()["emotions"]["user"]["category"], "fear");
    let l = sim.ledger();
    assert_eq!(
        (l.processed("rap"), l.replayed("rap"), l.max_processed()),
        (1, 1, 1)
    );
}

#[test]
fn reset_after_processing_without_key_processes_twice() {
    let sim = sim_with(vec![Fault::ResetAfterProcessing]);
    let mut c = Client::connect(sim.addr());
    c.send(
        "POST",
        "/v2/emotions/analysis",
        &[("x-api-key", KEY)],
        FEAR.as_bytes(),
    );
    let _ = c.read_to_end();
    assert_eq!(post(&sim, "/v2/emotions/analysis", FEAR).status, 200);
    assert_eq!(
        sim.ledger().processed_without_key("/v2/emotions/analysis"),
        2
    );
}

#[test]
fn malformed_head() {
    let sim = sim_with(vec![Fault::MalformedHead]);
    let mut c = send_keyed(&sim, "mh");
    let (bytes, _) = c.read_to_end();
    assert!(bytes.starts_with(b"HTTP/1.1 2O0 "), "{bytes:?}");
    assert!(bytes.contains(&0x01));
    assert_eq!(sim.ledger().processed("mh"), 0);
}

#[test]
fn close_without_response() {
    let sim = sim_with(vec![Fault::CloseWithoutResponse]);
    let mut c = send_keyed(&sim, "cwr");
    let (bytes, err) = c.read_to_end();
    assert!(bytes.is_empty());
    assert!(err.is_none(), "clean close, got {err:?}");
    assert_eq!(sim.ledger().processed("cwr"), 0);
    assert_eq!(sim.requests_received(), 1);
}

#[test]
fn interim_100_precedes_the_response() {
    let sim = sim_with(vec![Fault::Interim100]);
    let mut c = send_keyed(&sim, "i100");
    let r = c.read_response().unwrap();
    assert_eq!(r.interim, vec![100]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["object"], "emotions.analysis");
}

#[test]
fn stop_is_prompt_even_with_a_stalled_connection() {
    let sim = sim_with(vec![Fault::Stall {
        after_head: false,
        duration: Duration::from_secs(30),
    }]);
    let mut c = Client::connect(sim.addr());
    c.send("GET", "/v2/emotions", &[("x-api-key", KEY)], b"");
    let idle = Client::connect(sim.addr());
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    sim.stop();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    drop(idle);
}

#[test]
fn the_binary_serves_and_parses_faults() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaiko-sim"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--rate-limit",
            "5",
            "--fault",
            "flat:500",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("kaiko-sim listening on http://")
        .unwrap_or_else(|| panic!("{line}"));
    let addr = url.strip_suffix("/v2").unwrap().parse().unwrap();
    let mut c = Client::connect(addr);
    let r = c.request("GET", "/v2/emotions", &[("x-api-key", KEY)], b"");
    assert_eq!(r.status, 500);
    let r = c.request("GET", "/v2/emotions", &[("x-api-key", KEY)], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-RateLimit-Limit"), Some("5"));
    child.kill().unwrap();
    child.wait().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_kaiko-sim"))
        .args(["--fault", "bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_retry_during_a_stall_is_processed_once() {
    let sim = sim_with(vec![Fault::Stall {
        after_head: false,
        duration: Duration::from_millis(600),
    }]);
    // The first attempt gives up; the stalled request has not reached the application.
    let first = send_keyed(&sim, "st");
    std::thread::sleep(Duration::from_millis(100));
    drop(first);
    let r = keyed(&sim, "st");
    assert_eq!(r.status, 200);
    assert!(r.header("Idempotent-Replayed").is_none());
    // When the stall ends, the abandoned request finds the key completed and replays.
    let start = Instant::now();
    while sim.ledger().replayed("st") == 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let l = sim.ledger();
    assert_eq!((l.processed("st"), l.replayed("st")), (1, 1));
}
