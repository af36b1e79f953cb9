//! The adapter against kaiko-sim over real loopback TCP (tokio sockets through
//! `embedded-io-adapters`, embassy-time's std driver).

use std::time::{Duration as StdDuration, Instant as StdInstant};

use embedded_io_adapters::tokio_1::FromTokio;
use kaiko_core::analysis::Emotion;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Cause, Config, ConnectionLost, Event, Phase, Refused, Retry};
use kaiko_core::error::ErrorCode;
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::retry::Stop;
use kaiko_core::time::Duration;
use kaiko_embassy::{Client, Connect, Error};
use kaiko_sim::hostile::{Endless, Silent, drops_idle_during_backoff};
use kaiko_sim::{Config as SimConfig, Fault, RetryAfterValue, Sim};

mod common;

use common::Tokio;

/// [`Tokio`] that counts the connections it opens: for checking that a refused call never
/// connected.
#[derive(Default)]
struct Counting(std::cell::Cell<usize>);

impl Connect for Counting {
    type Conn<'c> = FromTokio<tokio::net::TcpStream>;

    async fn connect(&self, host: &str, port: u16) -> Result<Self::Conn<'_>, ConnectionLost> {
        self.0.set(self.0.get() + 1);
        Tokio.connect(host, port).await
    }
}

/// An owned copy of an [`Event`] (events borrow from the call).
#[allow(clippy::large_enum_variant)] // test-only copies, one per event
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Emotion(Box<Emotion>),
    Content(String),
    Retry(Retry),
    /// A list element of a decoder another crate of the workspace enables (a chat choice, ...).
    Element,
}

impl Seen {
    fn of(event: Event<'_>) -> Seen {
        match event {
            Event::Emotion(e) => Seen::Emotion(Box::new(e.clone())),
            Event::Content(c) => Seen::Content(c.to_owned()),
            Event::RetryScheduled(r) => Seen::Retry(*r),
            _ => Seen::Element,
        }
    }
}

const MESSAGES: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

/// A config with short waits so failures cost little wall time.
fn config(url: &str, key: &'static str) -> Config<'static> {
    let url: &'static str = Box::leak(url.to_owned().into_boxed_str());
    let mut config = Config::new(ApiKey::new(key).unwrap(), BaseUrl::parse(url).unwrap());
    config.policy.base_delay = Duration::from_millis(20);
    config.policy.max_jitter = Duration::from_millis(5);
    config.policy.timeouts.first_byte = Duration::from_millis(400);
    config.policy.timeouts.response = Duration::from_millis(800);
    config
}

async fn call_once(
    config: Config<'static>,
) -> (Result<kaiko_core::call::Success, Error>, Vec<Seen>) {
    call_with(config, Request::analyze(&MESSAGES)).await
}

async fn call_with(
    config: Config<'static>,
    request: Request<'_>,
) -> (Result<kaiko_core::call::Success, Error>, Vec<Seen>) {
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config, &Tokio, &mut tx, &mut rx);
    let mut events = Vec::new();
    let result = client.call(request, 7, |e| events.push(Seen::of(e))).await;
    (result, events)
}

fn api_failure(
    result: &Result<kaiko_core::call::Success, Error>,
) -> (u16, ErrorCode, Stop, u8, bool) {
    match result {
        Err(Error::Failed(f)) => match &f.cause {
            Cause::Api(e) => (
                e.status,
                e.code,
                f.stop,
                f.attempts,
                !e.request_id.as_str().is_empty(),
            ),
            other => panic!("expected an API error, got {other:?}"),
        },
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn success() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (result, events) = call_once(config(&sim.base_url(), "kaiko_test_abc")).await;
    let ok = result.unwrap();
    assert_eq!((ok.status, ok.attempts), (200, 1));
    assert!(
        matches!(events.last(), Some(Seen::Emotion(_))),
        "{events:?}"
    );
    assert_eq!(sim.requests_received(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn error_rows_are_not_retried() {
    let sim = Sim::start(SimConfig {
        revoked_keys: vec!["kaiko_test_revoked".into()],
        accepted_keys: Some(vec!["kaiko_test_good".into(), "kaiko_test_revoked".into()]),
        ..SimConfig::default()
    })
    .unwrap();
    let (r403, _) = call_once(config(&sim.base_url(), "kaiko_test_revoked")).await;
    assert_eq!(
        api_failure(&r403),
        (403, ErrorCode::KeyRevoked, Stop::NotRetryable, 1, true)
    );
    let (r401, _) = call_once(config(&sim.base_url(), "kaiko_test_other")).await;
    assert_eq!(
        api_failure(&r401),
        (401, ErrorCode::InvalidApiKey, Stop::NotRetryable, 1, true)
    );
    sim.push_fault(Fault::Status {
        status: 500,
        retry_after: None,
    });
    sim.push_fault(Fault::Status {
        status: 503,
        retry_after: None,
    });
    sim.push_fault(Fault::Status {
        status: 500,
        retry_after: None,
    });
    sim.push_fault(Fault::Status {
        status: 503,
        retry_after: None,
    });
    let (r5xx, events) = call_once(config(&sim.base_url(), "kaiko_test_good")).await;
    assert_eq!(
        api_failure(&r5xx),
        (
            503,
            ErrorCode::ServiceUnavailable,
            Stop::RetriesExhausted,
            4,
            true
        )
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Seen::Retry(_)))
            .count(),
        3
    );
}

#[tokio::test(flavor = "current_thread")]
async fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(RetryAfterValue::Seconds(1)),
    });
    let mut cfg = config(&sim.base_url(), "kaiko_test_abc");
    // The injected 429 also says `X-RateLimit-Remaining: 0` until the end of the sim's 60 s
    // window; honouring that would exceed the Retry-After cap. Here Retry-After alone counts.
    cfg.policy.respect_rate_limit = false;
    let started = StdInstant::now();
    let (result, events) = call_once(cfg).await;
    let ok = result.unwrap();
    assert_eq!(ok.attempts, 2);
    assert!(
        started.elapsed() >= StdDuration::from_millis(990),
        "waited {:?}",
        started.elapsed()
    );
    assert!(
        matches!(events.first(), Some(Seen::Retry(Retry { cause: Cause::Api(e), .. })) if e.status == 429)
    );
    // The 429 left the connection open: the retry went over it.
    assert_eq!(sim.connections_accepted(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn stall_times_out() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(Fault::Stall {
        after_head: false,
        duration: StdDuration::from_secs(3),
    });
    let mut cfg = config(&sim.base_url(), "kaiko_test_abc");
    cfg.policy.max_retries = 0;
    let started = StdInstant::now();
    let (result, _) = call_once(cfg).await;
    match result {
        Err(Error::Failed(f)) => assert_eq!(f.cause, Cause::Timeout(Phase::FirstByte)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= StdDuration::from_millis(390) && took < StdDuration::from_secs(2),
        "took {took:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn stall_then_retry_succeeds() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(Fault::Stall {
        after_head: true,
        duration: StdDuration::from_secs(3),
    });
    let (result, events) = call_once(config(&sim.base_url(), "kaiko_test_abc")).await;
    assert_eq!(result.unwrap().attempts, 2);
    assert!(matches!(
        events.first(),
        Some(Seen::Retry(Retry {
            cause: Cause::Timeout(Phase::Response),
            ..
        }))
    ));
    assert_eq!(sim.connections_accepted(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn reset_mid_body_is_retried() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(Fault::ResetMidBody);
    let (result, events) = call_once(config(&sim.base_url(), "kaiko_test_abc")).await;
    assert_eq!(result.unwrap().attempts, 2);
    assert!(matches!(
        events.first(),
        Some(Seen::Retry(Retry {
            cause: Cause::Connection(_) | Cause::Protocol(_),
            ..
        }))
    ));
    // Both attempts carried one Idempotency-Key: processed at most once.
    assert!(sim.ledger().max_processed() <= 1);
}

#[tokio::test(flavor = "current_thread")]
async fn keep_alive_and_transparent_reconnect() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(
        config(&sim.base_url(), "kaiko_test_abc"),
        &Tokio,
        &mut tx,
        &mut rx,
    );
    for seed in 1..=3 {
        assert_eq!(
            client
                .call(Request::analyze(&MESSAGES), seed, |_| {})
                .await
                .unwrap()
                .attempts,
            1
        );
    }
    assert_eq!(sim.connections_accepted(), 1);
    assert!(client.is_connected());
    // The server drops the kept connection without answering: the request goes out again on
    // a fresh connection and the call does not count a failed attempt.
    sim.push_fault(Fault::CloseWithoutResponse);
    let ok = client
        .call(Request::analyze(&MESSAGES), 9, |_| {})
        .await
        .unwrap();
    assert_eq!(ok.attempts, 1);
    assert_eq!(sim.connections_accepted(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn future_sizes() {
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let cfg = config("http://127.0.0.1:9/v2", "kaiko_test_abc");
    let mut client = Client::new(cfg, &Tokio, &mut tx, &mut rx);
    let call = client.call(Request::analyze(&MESSAGES), 1, |_| {});
    let call_size = core::mem::size_of_val(&call);
    drop(call);
    let mut c = kaiko_core::call::Call::new(
        &cfg,
        Request::analyze(&MESSAGES),
        1,
        kaiko_core::time::Instant::ZERO,
    )
    .unwrap();
    let (mut t2, mut r2) = ([0u8; 64], [0u8; 64]);
    let mut io = Some(FromTokio::new(tokio::io::empty()));
    let mut on_event = |_: Event<'_>| {};
    let drive = kaiko_embassy::drive(&mut c, &mut io, &mut t2, &mut r2, &mut on_event);
    let drive_size = core::mem::size_of_val(&drive);
    drop(drive);
    let call_value = core::mem::size_of::<kaiko_core::call::Call<'static>>();
    println!(
        "size_of Client::call future = {call_size} B, drive future = {drive_size} B, Call = {call_value} B (x86_64, this connector)"
    );
    assert!(call_size < 8 * 1024 && drive_size < 4 * 1024);
}

/// The response deadline of [`tight`], in milliseconds.
const RESPONSE_MS: u128 = 1000;

/// No retries, a 1 s response deadline.
fn tight(url: &str) -> Config<'static> {
    let mut cfg = config(url, "kaiko_test_hostile");
    cfg.policy.max_retries = 0;
    cfg.policy.timeouts.first_byte = Duration::from_secs(1);
    cfg.policy.timeouts.response = Duration::from_millis(RESPONSE_MS as u64);
    cfg
}

/// The call ended at `deadline_ms`, within 10 %.
fn assert_ends_at(started: StdInstant, deadline_ms: u128) {
    let took = started.elapsed().as_millis();
    let (low, high) = (deadline_ms * 9 / 10, deadline_ms * 11 / 10);
    assert!(
        (low..=high).contains(&took),
        "the call took {took} ms, deadline {deadline_ms} ms"
    );
}

fn failure_cause(result: &Result<kaiko_core::call::Success, Error>) -> Cause {
    match result {
        Err(Error::Failed(f)) => f.cause,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn hostile_servers_end_at_the_response_deadline() {
    for (name, server) in [
        ("never pausing chunked", Endless::never_pausing_chunked()),
        ("huge Content-Length", Endless::huge_content_length()),
        ("endless emotion items", Endless::endless_items()),
    ] {
        let server = server.unwrap();
        let started = StdInstant::now();
        let (result, events) = call_once(tight(server.base_url())).await;
        assert_eq!(
            failure_cause(&result),
            Cause::Timeout(Phase::Response),
            "{name}"
        );
        assert_ends_at(started, RESPONSE_MS);
        if name == "endless emotion items" {
            // Items are handed over one at a time; the client keeps none of them.
            assert!(events.len() > 256, "{name}: {} items", events.len());
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn endless_sse_comments_end_at_the_response_deadline() {
    let server = Endless::sse_comments().unwrap();
    let messages = [kaiko_core::request::ChatMessage::user("hi")];
    let chat = kaiko_core::request::ChatRequest {
        stream: true,
        ..kaiko_core::request::ChatRequest::new("gpt-4o-mini", &messages)
    };
    let started = StdInstant::now();
    let (result, events) = call_with(tight(server.base_url()), Request::chat(chat)).await;
    assert_eq!(failure_cause(&result), Cause::Timeout(Phase::Response));
    assert_ends_at(started, RESPONSE_MS);
    assert!(events.is_empty(), "{events:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn idle_connection_dropped_during_a_backoff_costs_no_attempt() {
    let (url, server) = drops_idle_during_backoff().unwrap();
    let mut cfg = config(&url, "kaiko_test_hostile");
    cfg.policy.max_retries = 1;
    cfg.policy.base_delay = Duration::from_millis(300);
    cfg.policy.max_jitter = Duration::from_millis(0);
    let (result, events) = call_once(cfg).await;
    // One retry allowed: only the core's free resend on the dead reused connection can make
    // the retry succeed.
    assert_eq!(result.unwrap().attempts, 2);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Seen::Retry(_)))
            .count(),
        1
    );
    let reused = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert!(reused, "the retry did not try the kept connection first");
}

/// One call through a [`Counting`] connector: its result and the connections it opened.
async fn call_counting(
    config: Config<'static>,
) -> (Result<kaiko_core::call::Success, Error>, usize) {
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let connector = Counting::default();
    let mut client = Client::new(config, &connector, &mut tx, &mut rx);
    let mut events = 0;
    let result = client
        .call(Request::analyze(&MESSAGES), 7, |_| events += 1)
        .await;
    assert_eq!(events, 0, "a refused call reported events");
    assert!(!client.is_connected());
    drop(client);
    (result, connector.0.get())
}

#[tokio::test(flavor = "current_thread")]
async fn https_base_url_without_tls_is_refused_before_a_byte_is_sent() {
    let silent = Silent::start().unwrap();
    let url = format!("https://127.0.0.1:{}/v2", silent.port());
    let (result, connects) = call_counting(config(&url, "kaiko_test_abc")).await;
    assert_eq!(result.unwrap_err(), Error::TlsRequired);
    assert_eq!(connects, 0, "a connection was opened");
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    assert_eq!(silent.bytes_received(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn clear_text_key_to_a_remote_host_is_refused() {
    // TEST-NET-1: never contacted, the refusal comes first.
    let (result, connects) = call_counting(config("http://192.0.2.1:9/v2", "kaiko_test_abc")).await;
    assert_eq!(result.unwrap_err(), Error::Refused(Refused::CleartextKey));
    assert_eq!(connects, 0, "a connection was opened");
}

/// A keep-alive server that answers one request per connection with a 200 and then, after
/// 50 ms of idle, closes the connection as a server's idle timeout would: with a FIN after
/// which it still reads (`full_close == false`, so a request written to the dead connection
/// is seen), or by dropping the socket (the client's write meets a reset). Returns the base
/// URL and a handle whose result is (connections accepted, requests that arrived on a
/// connection after the server closed its side).
fn closes_idle_connections(
    full_close: bool,
    connections: usize,
) -> (String, std::thread::JoinHandle<(usize, usize)>) {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let body =
            "{\"object\":\"emotions.analysis\",\"emotions\":{\"user\":{\"category\":\"joy\"}}}";
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (mut accepted, mut late) = (0, 0);
        while accepted < connections {
            let Ok((mut s, _)) = listener.accept() else {
                break;
            };
            accepted += 1;
            s.set_read_timeout(Some(StdDuration::from_secs(5))).ok();
            if !kaiko_sim::hostile::read_request(&mut s) {
                continue;
            }
            let _ = s.write_all(response.as_bytes());
            std::thread::sleep(StdDuration::from_millis(50));
            if !full_close {
                let _ = s.shutdown(std::net::Shutdown::Write);
                s.set_read_timeout(Some(StdDuration::from_secs(2))).ok();
                if kaiko_sim::hostile::read_request(&mut s) {
                    late += 1;
                }
            }
        }
        (accepted, late)
    });
    (url, server)
}

#[tokio::test(flavor = "current_thread")]
async fn kept_connection_closed_while_idle_is_replaced_without_an_attempt() {
    for full_close in [false, true] {
        let (url, server) = closes_idle_connections(full_close, 2);
        let mut cfg = config(&url, "kaiko_test_abc");
        // No retry at all: only the free resend on a dead kept connection can save the call.
        cfg.policy.max_retries = 0;
        let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
        let connector = Counting::default();
        let mut client = Client::new(cfg, &connector, &mut tx, &mut rx);
        let first = client
            .call(Request::analyze(&MESSAGES), 1, |_| {})
            .await
            .unwrap();
        assert_eq!((first.status, first.attempts), (200, 1));
        assert!(client.is_connected(), "the first connection was not kept");
        // The server's idle timeout passes.
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        let (mut retries, mut emotions) = (0, 0);
        let second = client
            .call(Request::analyze(&MESSAGES), 2, |e| match e {
                Event::RetryScheduled(_) => retries += 1,
                Event::Emotion(_) => emotions += 1,
                _ => {}
            })
            .await
            .unwrap();
        assert_eq!(
            (second.status, second.attempts, retries, emotions),
            (200, 1, 0, 1),
            "full close: {full_close}"
        );
        drop(client);
        assert_eq!(connector.0.get(), 2, "full close: {full_close}");
        let (accepted, late) = tokio::task::spawn_blocking(move || server.join().unwrap())
            .await
            .unwrap();
        assert_eq!(accepted, 2, "full close: {full_close}");
        if !full_close {
            assert_eq!(
                late, 1,
                "the second call did not try the kept connection first"
            );
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn rate_limit_exhausted_makes_the_next_call_wait() {
    // One request per 2 s window: the first success says `X-RateLimit-Remaining: 0`.
    let sim = Sim::start(SimConfig {
        rate_limit: 1,
        rate_window: StdDuration::from_secs(2),
        ..SimConfig::default()
    })
    .unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(
        config(&sim.base_url(), "kaiko_test_abc"),
        &Tokio,
        &mut tx,
        &mut rx,
    );
    let first = client
        .call(Request::analyze(&MESSAGES), 1, |_| {})
        .await
        .unwrap();
    let resume_at = first
        .resume_at
        .expect("resume_at from the exhausted window");
    let started = StdInstant::now();
    let mut retries = 0;
    let second = client
        .call(Request::analyze(&MESSAGES), 2, |e| {
            if matches!(e, Event::RetryScheduled(_)) {
                retries += 1;
            }
        })
        .await
        .unwrap();
    // Without waiting, the second call would have met a 429 and retried.
    assert_eq!((second.attempts, retries), (1, 0));
    assert!(
        embassy_time::Instant::now() >= resume_at.into(),
        "the second call started before resume_at"
    );
    assert!(started.elapsed() >= StdDuration::from_millis(200));
}
