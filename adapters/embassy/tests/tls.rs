//! TLS certificate checks of `tls::call_tls` against a TLS 1.3 server on loopback, with a chain
//! made at test start: the right CA is accepted; no CA, another CA, the wrong host name, an
//! expired certificate and a self-signed leaf are each refused with a typed TLS failure, and
//! the server never receives a request (not a byte of it, key included).
#![cfg(feature = "tls")]

use embedded_tls::{Aes128GcmSha256, TlsClock};
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Cause, Config, ConnectionLost, Success};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::retry::Stop;
use kaiko_core::time::Duration;
use kaiko_embassy::Error;
use kaiko_embassy::tls::{RECORD_BUFFER, TlsBuffers, Trust, call_tls};
use kaiko_sim::tls::{Authority, TlsServer};

mod common;

use common::Tokio;

/// The system clock, as a firmware's RTC or SNTP time would be.
struct SystemClock;

impl TlsClock for SystemClock {
    fn now() -> Option<u64> {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.ok().map(|d| d.as_secs())
    }
}

const MESSAGES: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

async fn call<Clk: TlsClock>(host: &str, port: u16, trust: Trust<'_>) -> Result<Success, Error> {
    let url = format!("https://{host}:{port}/v2");
    let mut config = Config::new(
        ApiKey::new("kaiko_test_tls").unwrap(),
        BaseUrl::parse(&url).unwrap(),
    );
    config.policy.max_retries = 0;
    config.policy.timeouts.connect = Duration::from_secs(5);
    let (mut read, mut write) = (vec![0u8; RECORD_BUFFER], vec![0u8; 4096]);
    let mut tls = TlsBuffers {
        read: &mut read,
        write: &mut write,
    };
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    call_tls::<_, Aes128GcmSha256, _, Clk>(
        &Tokio,
        &config,
        Request::analyze(&MESSAGES),
        7,
        &mut tls,
        trust,
        || rand_core::OsRng,
        &mut tx,
        &mut rx,
        |_| {},
    )
    .await
}

fn assert_refused(result: Result<Success, Error>, server: &TlsServer, what: &str) {
    match result {
        Err(Error::Failed(f)) => {
            assert_eq!(f.cause, Cause::Connection(ConnectionLost::Tls), "{what}");
            assert_eq!(f.stop, Stop::RetriesExhausted, "{what}");
        }
        other => panic!("{what}: expected a TLS failure, got {other:?}"),
    }
    assert_eq!(server.requests(), 0, "{what}: a request reached the server");
}

#[tokio::test(flavor = "current_thread")]
async fn the_right_ca_is_accepted() {
    let ca = Authority::new("kaiko test CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let ok = call::<SystemClock>("localhost", server.port(), Trust::Ca(&ca.der()))
        .await
        .unwrap();
    assert_eq!((ok.status, ok.attempts), (200, 1));
    assert_eq!(server.requests(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn every_bad_chain_is_refused_before_the_request() {
    let ca = Authority::new("kaiko test CA");
    let other = Authority::new("another CA");
    let cases: [(&str, kaiko_sim::tls::Leaf, Vec<u8>); 5] = [
        ("another CA", ca.leaf("localhost"), other.der()),
        ("the wrong host name", ca.leaf("api.example.com"), ca.der()),
        (
            "an expired certificate",
            ca.leaf_with("localhost", 2025, false),
            ca.der(),
        ),
        (
            "a self-signed leaf",
            ca.leaf_with("localhost", 2040, true),
            ca.der(),
        ),
        (
            "an unparsable CA",
            ca.leaf("localhost"),
            b"not a certificate".to_vec(),
        ),
    ];
    for (what, leaf, anchor) in cases {
        let server = TlsServer::start(leaf).unwrap();
        let result = call::<SystemClock>("localhost", server.port(), Trust::Ca(&anchor)).await;
        assert_refused(result, &server, what);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn skipping_the_checks_needs_the_dangerous_name() {
    let ca = Authority::new("kaiko test CA");
    let server = TlsServer::start(ca.leaf_with("api.example.com", 2040, true)).unwrap();
    let ok = call::<SystemClock>("localhost", server.port(), Trust::DangerNoVerification)
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(server.requests(), 1);
}

#[cfg(feature = "tls-rsa")]
#[tokio::test(flavor = "current_thread")]
async fn an_rsa_chain_is_checked_with_the_rsa_feature() {
    let ca = Authority::new_rsa("kaiko test RSA CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let ok = call::<SystemClock>("localhost", server.port(), Trust::Ca(&ca.der()))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    let other = Authority::new_rsa("another RSA CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let result = call::<SystemClock>("localhost", server.port(), Trust::Ca(&other.der())).await;
    assert_refused(result, &server, "an RSA chain to another CA");
}

#[cfg(not(feature = "tls-rsa"))]
#[tokio::test(flavor = "current_thread")]
async fn an_rsa_chain_is_refused_without_the_rsa_feature() {
    let ca = Authority::new_rsa("kaiko test RSA CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let result = call::<SystemClock>("localhost", server.port(), Trust::Ca(&ca.der())).await;
    assert_refused(result, &server, "an RSA chain without the rsa feature");
}

#[tokio::test(flavor = "current_thread")]
async fn the_simulator_over_https_end_to_end() {
    let ca = Authority::new("kaiko-sim CA");
    let sim = kaiko_sim::Sim::start(kaiko_sim::Config {
        tls: Some(ca.local_leaf()),
        ..kaiko_sim::Config::default()
    })
    .unwrap();
    let port = sim.addr().port();
    let ok = call::<SystemClock>("localhost", port, Trust::Ca(&ca.der()))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    let tls_failure = |r: &Result<Success, Error>| matches!(r, Err(Error::Failed(f)) if f.cause == Cause::Connection(ConnectionLost::Tls));
    let other = Authority::new("another CA");
    let result = call::<SystemClock>("localhost", port, Trust::Ca(&other.der())).await;
    assert!(tls_failure(&result), "{result:?}");
    // embedded-tls compares the host with the Common Name (`localhost`), not the SAN list,
    // so the IP address the certificate also names is refused.
    let result = call::<SystemClock>("127.0.0.1", port, Trust::Ca(&ca.der())).await;
    assert!(tls_failure(&result), "{result:?}");
    assert_eq!(sim.requests_received(), 1);
}

/// The typed operations over TLS: one client, two calls, each with its own session.
#[tokio::test(flavor = "current_thread")]
async fn typed_operations_over_tls() {
    use kaiko_embassy::tls::TlsClient;
    use kaiko_embassy::{Api, Collected};

    let ca = Authority::new("kaiko test CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let url = format!("https://localhost:{}/v2", server.port());
    let mut config = Config::new(
        ApiKey::new("kaiko_test_tls").unwrap(),
        BaseUrl::parse(&url).unwrap(),
    );
    config.policy.max_retries = 0;
    config.policy.timeouts.connect = Duration::from_secs(5);
    let (mut read, mut write) = (vec![0u8; RECORD_BUFFER], vec![0u8; 4096]);
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let der = ca.der();
    let mut client = TlsClient::<_, Aes128GcmSha256, _, SystemClock, _>::new(
        &Tokio,
        config,
        TlsBuffers {
            read: &mut read,
            write: &mut write,
        },
        Trust::Ca(&der),
        || rand_core::OsRng,
        &mut tx,
        &mut rx,
    );
    let mut emotions: [kaiko_core::analysis::Emotion; 2] = Default::default();
    let mut content = [0u8; 64];
    let mut out = Collected::new(&mut emotions, &mut content);
    let ok = client
        .analyze("I feel a bit unsure about this", None, None, 1, |e| {
            out.on_event(e)
        })
        .await
        .unwrap();
    assert_eq!((ok.status, out.emotions().len()), (200, 1));
    out.clear();
    let ok = client
        .analyze("again", Some("ctx"), Some("m-1"), 2, |e| out.on_event(e))
        .await
        .unwrap();
    assert_eq!((ok.status, out.emotions().len()), (200, 1));
    assert_eq!(server.requests(), 2);
}
