//! TLS certificate checks of `tls::call_tls` against a TLS 1.3 server on loopback, with a chain
//! made at test start: the right CA is accepted; no CA, another CA, the wrong host name, an
//! expired certificate and a self-signed leaf are each refused with a typed TLS failure, and
//! the server never receives a request (not a byte of it, key included).
#![cfg(feature = "tls")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_tls::{Aes128GcmSha256, TlsClock};
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Cause, Config, ConnectionLost, Success};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::retry::Stop;
use kaiko_core::time::Duration;
use kaiko_embassy::tls::{RECORD_BUFFER, TlsBuffers, Trust, call_tls};
use kaiko_embassy::{Connect, Error};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Tokio;

impl Connect for Tokio {
    type Conn<'c> = FromTokio<tokio::net::TcpStream>;

    async fn connect(&self, host: &str, port: u16) -> Result<Self::Conn<'_>, ConnectionLost> {
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|_| ConnectionLost::Refused)?;
        Ok(FromTokio::new(stream))
    }
}

/// The system clock, as a firmware's RTC or SNTP time would be.
struct SystemClock;

impl TlsClock for SystemClock {
    fn now() -> Option<u64> {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.ok().map(|d| d.as_secs())
    }
}

/// A CA and what it signs.
struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Authority {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Authority { cert, key }
    }

    fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// A leaf for `host`, signed by this CA (or by itself when `self_signed`), valid from
    /// 2024 until `until` (a year).
    fn leaf(&self, host: &str, self_signed: bool) -> (Vec<Vec<u8>>, Vec<u8>) {
        self.leaf_until(host, self_signed, 2040)
    }

    fn leaf_until(&self, host: &str, self_signed: bool, until: i32) -> (Vec<Vec<u8>>, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, host);
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let cert = if self_signed {
            params.self_signed(&key).unwrap()
        } else {
            params.signed_by(&key, &self.cert, &self.key).unwrap()
        };
        (vec![cert.der().to_vec(), self.der()], key.serialize_der())
    }
}

/// A TLS 1.3 server on 127.0.0.1 presenting `chain`; answers every request with a small JSON
/// success. Returns its port and the count of requests it read.
fn server(chain: Vec<Vec<u8>>, key: Vec<u8>) -> (u16, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            chain.into_iter().map(CertificateDer::from).collect(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    std::thread::spawn(move || {
        while let Ok((tcp, _)) = listener.accept() {
            let (config, counter) = (Arc::clone(&config), Arc::clone(&counter));
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n @ 1..) = tls.read(&mut buf) else {
                        return;
                    };
                    seen.extend_from_slice(&buf[..n]);
                    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap_or(0));
                    if seen.len() < end + 4 + len {
                        continue;
                    }
                    seen.drain(..end + 4 + len);
                    counter.fetch_add(1, Ordering::SeqCst);
                    let body =
                        r#"{"object":"emotions.analysis","emotions":{"user":{"category":"fear"}}}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tls.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, requests)
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

fn assert_refused(result: Result<Success, Error>, requests: &AtomicUsize, what: &str) {
    match result {
        Err(Error::Failed(f)) => {
            assert_eq!(f.cause, Cause::Connection(ConnectionLost::Tls), "{what}");
            assert_eq!(f.stop, Stop::RetriesExhausted, "{what}");
        }
        other => panic!("{what}: expected a TLS failure, got {other:?}"),
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "{what}: a request reached the server"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_right_ca_is_accepted() {
    let ca = Authority::new("kaiko test CA");
    let (chain, key) = ca.leaf("localhost", false);
    let (port, requests) = server(chain, key);
    let ok = call::<SystemClock>("localhost", port, Trust::Ca(&ca.der()))
        .await
        .unwrap();
    assert_eq!((ok.status, ok.attempts), (200, 1));
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn every_bad_chain_is_refused_before_the_request() {
    let ca = Authority::new("kaiko test CA");
    let other = Authority::new("another CA");

    let (chain, key) = ca.leaf("localhost", false);
    let (port, requests) = server(chain, key);
    let result = call::<SystemClock>("localhost", port, Trust::Ca(&other.der())).await;
    assert_refused(result, &requests, "another CA");

    let (chain, key) = ca.leaf("api.example.com", false);
    let (port, requests) = server(chain, key);
    let result = call::<SystemClock>("localhost", port, Trust::Ca(&ca.der())).await;
    assert_refused(result, &requests, "the wrong host name");

    let (chain, key) = ca.leaf_until("localhost", false, 2025);
    let (port, requests) = server(chain, key);
    let result = call::<SystemClock>("localhost", port, Trust::Ca(&ca.der())).await;
    assert_refused(result, &requests, "an expired certificate");

    let (chain, key) = ca.leaf("localhost", true);
    let (port, requests) = server(chain, key);
    let result = call::<SystemClock>("localhost", port, Trust::Ca(&ca.der())).await;
    assert_refused(result, &requests, "a self-signed leaf");

    // Garbage as the CA: refused, not a panic.
    let (chain, key) = ca.leaf("localhost", false);
    let (port, requests) = server(chain, key);
    let result = call::<SystemClock>("localhost", port, Trust::Ca(b"not a certificate")).await;
    assert_refused(result, &requests, "an unparsable CA");
}

#[tokio::test(flavor = "current_thread")]
async fn skipping_the_checks_needs_the_dangerous_name() {
    let ca = Authority::new("kaiko test CA");
    let (chain, key) = ca.leaf("api.example.com", true);
    let (port, requests) = server(chain, key);
    let ok = call::<SystemClock>("localhost", port, Trust::DangerNoVerification)
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}
