//! kaiko-std through an HTTP proxy: a small `CONNECT` proxy on loopback, written here, counts
//! tunnels, keeps each request head it was sent and every byte the client sent through it,
//! and relays to the simulator, plain and over TLS. Also: a proxy that refuses (407, 502, not
//! a proxy at all) is a typed error with nothing reaching the simulator; a caller's
//! `Idempotency-Key` is on every attempt; the `User-Agent` is the builder's.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use kaiko_core::time::Duration;
use kaiko_sim::{Fault, Sim};
use kaiko_std::{CallError, Client, ClientBuilder, IdempotencyKeyError, Policy, ProxyError};

const KEY: &str = "kaiko_test_proxy";

/// What the proxy does with a `CONNECT`.
#[derive(Clone, Copy)]
enum Mode {
    /// Opens the tunnel and relays.
    Tunnel,
    /// [`Mode::Tunnel`], with a longer answer written a few bytes at a time.
    DripTunnel,
    /// Sends these bytes instead and closes.
    Answer(&'static str),
    /// Reads the request and never answers.
    Silent,
}

#[derive(Default)]
struct Seen {
    /// Request heads the proxy read, one per connection.
    heads: Mutex<Vec<String>>,
    /// Every byte clients sent through a tunnel.
    upstream: Mutex<Vec<u8>>,
    tunnels: AtomicUsize,
}

struct TestProxy {
    port: u16,
    seen: Arc<Seen>,
}

impl TestProxy {
    fn start(mode: Mode) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let shared = seen.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let seen = shared.clone();
                thread::spawn(move || serve(conn, mode, &seen));
            }
        });
        TestProxy { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tunnels(&self) -> usize {
        self.seen.tunnels.load(Ordering::SeqCst)
    }

    fn heads(&self) -> Vec<String> {
        self.seen.heads.lock().unwrap().clone()
    }

    fn upstream(&self) -> String {
        String::from_utf8_lossy(&self.seen.upstream.lock().unwrap()).into_owned()
    }
}

/// One proxy connection: read the head byte by byte (so no tunnel byte is taken), answer,
/// relay.
fn serve(mut client: TcpStream, mode: Mode, seen: &Seen) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    seen.heads.lock().unwrap().push(head.clone());
    let target = match (mode, head.strip_prefix("CONNECT ")) {
        (Mode::Answer(answer), _) => {
            let _ = client.write_all(answer.as_bytes());
            return;
        }
        (Mode::Silent, _) => {
            // Holds the connection open until the client gives up.
            let _ = client.read(&mut byte);
            return;
        }
        (Mode::Tunnel | Mode::DripTunnel, Some(rest)) => {
            rest.split(' ').next().unwrap_or("").to_owned()
        }
        (Mode::Tunnel | Mode::DripTunnel, None) => {
            let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
            return;
        }
    };
    let Ok(server) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    seen.tunnels.fetch_add(1, Ordering::SeqCst);
    if let Mode::DripTunnel = mode {
        let answer = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: drip\r\n\r\n";
        for piece in answer.chunks(3) {
            client.write_all(piece).unwrap();
            thread::sleep(std::time::Duration::from_millis(2));
        }
    } else {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
    }
    let (mut from_client, mut to_server) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    thread::scope(|s| {
        s.spawn(|| {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = from_client.read(&mut buf) {
                seen.upstream.lock().unwrap().extend_from_slice(&buf[..n]);
                if to_server.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to_server.shutdown(Shutdown::Write);
        });
        let (mut from_server, mut to_client) = (server, client);
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
}

fn quick_policy(max_retries: u8) -> Policy {
    let mut policy = Policy {
        max_retries,
        base_delay: Duration::from_millis(5),
        max_jitter: Duration::from_millis(1),
        ..Policy::DEFAULT
    };
    policy.timeouts.connect = Duration::from_secs(5);
    policy
}

fn through(proxy: &TestProxy, base_url: &str) -> ClientBuilder {
    Client::builder(KEY)
        .base_url(base_url)
        .proxy(&proxy.url())
        .policy(quick_policy(3))
}

#[test]
fn plain_calls_share_one_tunnel() {
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    let proxy = TestProxy::start(Mode::Tunnel);
    let mut client = through(&proxy, &sim.base_url())
        .user_agent("proxy-test/1.0")
        .build()
        .unwrap();
    for _ in 0..2 {
        let a = client
            .analyze("I feel a bit unsure", None, None, |_| {})
            .unwrap();
        assert_eq!((a.success.status, a.emotions.len()), (200, 1));
    }
    // Keep-alive: the second call reused the tunnel.
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(client.connections_opened(), 1);
    assert_eq!(
        (sim.connections_accepted(), sim.requests_received()),
        (1, 2)
    );
    let target = format!("127.0.0.1:{}", sim.addr().port());
    assert_eq!(
        proxy.heads(),
        [format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
        )]
    );
    // Inside the tunnel: the API request itself, with the builder's User-Agent.
    let upstream = proxy.upstream();
    assert_eq!(
        upstream
            .matches("POST /v2/emotions/analysis HTTP/1.1")
            .count(),
        2
    );
    assert_eq!(
        upstream
            .matches("\r\nUser-Agent: proxy-test/1.0\r\n")
            .count(),
        2
    );
}

#[test]
fn an_answer_in_small_pieces_is_read_to_its_end_only() {
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    let proxy = TestProxy::start(Mode::DripTunnel);
    let mut client = through(&proxy, &sim.base_url()).build().unwrap();
    for _ in 0..2 {
        let a = client.analyze("hi", None, None, |_| {}).unwrap();
        assert_eq!(a.emotions.len(), 1);
    }
    assert_eq!((proxy.tunnels(), sim.requests_received()), (1, 2));
}

#[cfg(feature = "tls")]
#[test]
fn tls_runs_end_to_end_through_the_tunnel() {
    use kaiko_sim::tls::Authority;
    let ca = Authority::new("kaiko proxy test CA");
    let sim = Sim::start(kaiko_sim::Config {
        tls: Some(ca.local_leaf()),
        ..kaiko_sim::Config::default()
    })
    .unwrap();
    let proxy = TestProxy::start(Mode::Tunnel);
    let mut client = through(&proxy, &sim.base_url())
        .root_certificate(&ca.der())
        .build()
        .unwrap();
    for _ in 0..2 {
        let a = client
            .analyze("I feel a bit unsure", None, None, |_| {})
            .unwrap();
        assert_eq!(a.emotions.len(), 1);
    }
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(client.connections_opened(), 1);
    assert_eq!(
        (sim.connections_accepted(), sim.requests_received()),
        (1, 2)
    );
    // The proxy is asked for the real host name, which TLS then checks.
    let target = format!("localhost:{}", sim.addr().port());
    assert!(proxy.heads()[0].starts_with(&format!("CONNECT {target} HTTP/1.1\r\n")));
    // The proxy relays only ciphertext: neither the key nor the request line.
    let upstream = proxy.upstream();
    assert!(
        !upstream.contains(KEY) && !upstream.contains("POST"),
        "{upstream}"
    );
    // A TLS handshake record starts the tunnel.
    assert!(upstream.as_bytes().starts_with(&[0x16, 0x03]));
}

#[test]
fn a_407_is_typed_and_nothing_reaches_the_api() {
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    let proxy = TestProxy::start(Mode::Answer(
        "HTTP/1.1 407 Proxy Authentication Required\r\n\
         Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
    ));
    let url = format!("http://user:s3cr%40t@127.0.0.1:{}", proxy.port);
    let mut client = Client::builder(KEY)
        .base_url(&sim.base_url())
        .proxy(&url)
        .policy(quick_policy(3))
        .build()
        .unwrap();
    let err = client.analyze("hi", None, None, |_| {}).unwrap_err();
    assert_eq!(err, CallError::Proxy(ProxyError::Status(407)));
    assert!(err.to_string().contains("407"), "{err}");
    // Not retried: the same credentials would get the same answer.
    assert_eq!(proxy.heads().len(), 1);
    assert_eq!(
        (sim.connections_accepted(), sim.requests_received()),
        (0, 0)
    );
    // The credentials went to the proxy (percent-decoded), and nowhere else.
    assert!(
        proxy.heads()[0].contains("\r\nProxy-Authorization: Basic dXNlcjpzM2NyQHQ=\r\n"),
        "{:?}",
        proxy.heads()
    );
    for text in [format!("{client:?}"), format!("{err:?}"), err.to_string()] {
        assert!(
            !text.contains("s3cr") && !text.contains("dXNlcjpzM2NyQHQ"),
            "{text}"
        );
    }
}

#[test]
fn a_502_is_retried_then_typed() {
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    let proxy = TestProxy::start(Mode::Answer("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    let mut client = through(&proxy, &sim.base_url())
        .policy(quick_policy(2))
        .build()
        .unwrap();
    let mut retries = 0;
    let err = client
        .analyze("hi", None, None, |e| {
            retries += usize::from(matches!(e, kaiko_std::Event::RetryScheduled(_)));
        })
        .unwrap_err();
    assert_eq!(err, CallError::Proxy(ProxyError::Status(502)));
    assert_eq!((retries, proxy.heads().len()), (2, 3));
    assert_eq!(sim.connections_accepted(), 0);
}

#[test]
fn something_that_is_not_a_proxy_is_a_bad_answer() {
    let proxy = TestProxy::start(Mode::Answer("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    let mut client = through(&proxy, "http://127.0.0.1:9/v2").build().unwrap();
    assert_eq!(
        client.analyze("hi", None, None, |_| {}).unwrap_err(),
        CallError::Proxy(ProxyError::BadAnswer)
    );
    assert_eq!(proxy.heads().len(), 1);
}

#[test]
fn a_silent_proxy_ends_at_the_connect_deadline() {
    let proxy = TestProxy::start(Mode::Silent);
    let mut policy = quick_policy(0);
    policy.timeouts.connect = Duration::from_millis(300);
    let mut client = through(&proxy, "http://127.0.0.1:9/v2")
        .policy(policy)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.analyze("hi", None, None, |_| {}).unwrap_err();
    let took = started.elapsed();
    match err {
        CallError::Failed(f) => assert_eq!(
            f.cause,
            kaiko_std::Cause::Timeout(kaiko_core::call::Phase::Connect)
        ),
        other => panic!("{other:?}"),
    }
    assert!(took < std::time::Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_remote_proxy_counts_as_clear_text_for_http() {
    // 192.0.2.1 is TEST-NET-1: never reached, the call must stop before connecting.
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    let mut client = Client::builder(KEY)
        .base_url(&sim.base_url())
        .proxy("http://192.0.2.1:3128")
        .build()
        .unwrap();
    assert_eq!(
        client.analyze("hi", None, None, |_| {}).unwrap_err(),
        CallError::CleartextKey
    );
    assert_eq!(client.connections_opened(), 0);
}

/// Lines `Idempotency-Key: …` of the bytes a client sent, values only.
fn idempotency_keys(upstream: &str) -> Vec<&str> {
    upstream
        .split("\r\n")
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("idempotency-key")
                .then_some(value.trim())
        })
        .collect()
}

#[test]
fn the_callers_idempotency_key_is_on_every_attempt() {
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    // A 503 (not processed), then a reset after processing (stored), then the replay.
    sim.push_faults([
        Fault::Status {
            status: 503,
            retry_after: None,
        },
        Fault::ResetAfterProcessing,
    ]);
    let proxy = TestProxy::start(Mode::Tunnel);
    let mut client = through(&proxy, &sim.base_url()).build().unwrap();
    let a = client
        .with_idempotency_key("job-42:analysis")
        .analyze("I feel a bit unsure", None, None, |_| {})
        .unwrap();
    assert_eq!(a.success.status, 200);
    // Three requests went out (the resend after the reset on a kept-alive connection is not
    // counted as an attempt by the core), each with the caller's key.
    assert_eq!(idempotency_keys(&proxy.upstream()), ["job-42:analysis"; 3]);
    let ledger = sim.ledger();
    assert_eq!(ledger.processed("job-42:analysis"), 1);
    assert_eq!(ledger.replayed("job-42:analysis"), 1);
    assert_eq!(ledger.max_processed(), 1);

    // The key was for that call only: the next one gets a fresh random key.
    client.analyze("again", None, None, |_| {}).unwrap();
    let keys = idempotency_keys(&proxy.upstream()).len();
    let upstream = proxy.upstream();
    let last = idempotency_keys(&upstream)[keys - 1];
    assert_ne!(last, "job-42:analysis");
    assert_eq!(last.len(), 36, "{last}");
}

#[test]
fn an_unusable_idempotency_key_is_refused_before_sending() {
    let sim = Sim::start(kaiko_sim::Config::default()).unwrap();
    let mut client = Client::builder(KEY)
        .base_url(&sim.base_url())
        .without_proxy()
        .build()
        .unwrap();
    let long = "k".repeat(65);
    for (key, want) in [
        ("", IdempotencyKeyError::Empty),
        ("two words", IdempotencyKeyError::InvalidByte),
        ("line\r\nX-Evil: 1", IdempotencyKeyError::InvalidByte),
        (long.as_str(), IdempotencyKeyError::TooLong),
    ] {
        assert_eq!(
            client
                .with_idempotency_key(key)
                .analyze("hi", None, None, |_| {})
                .unwrap_err(),
            CallError::IdempotencyKey(want),
            "{key:?}"
        );
    }
    assert_eq!(
        (sim.connections_accepted(), client.connections_opened()),
        (0, 0)
    );
    // A refused key is gone too: the next call runs with a random one.
    client.analyze("hi", None, None, |_| {}).unwrap();
}
