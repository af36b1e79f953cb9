//! kaiko-std's certificate checks against a TLS 1.3 server on loopback, with a chain made at
//! test start: accepted once its CA is trusted; refused with no extra CA (webpki roots only),
//! another CA, the wrong host name, an expired certificate and a self-signed leaf, each a
//! typed TLS failure with no request read by the server.
#![cfg(feature = "tls")]

use kaiko_core::call::ConnectionLost;
use kaiko_core::time::Duration;
use kaiko_sim::tls::{Authority, Leaf, TlsServer};
use kaiko_std::{CallError, Cause, Client, ClientError, Policy, Stop};

fn client(server: &TlsServer, host: &str) -> Client {
    let policy = Policy {
        max_retries: 0,
        ..Policy::DEFAULT
    };
    let mut policy = policy;
    policy.timeouts.connect = Duration::from_secs(5);
    // Direct, whatever proxy the environment names (tests/proxy.rs covers tunnels).
    Client::builder("kaiko_test_tls")
        .base_url(&format!("https://{host}:{}/v2", server.port()))
        .without_proxy()
        .policy(policy)
        .build()
        .unwrap()
}

fn refused(mut c: Client, server: &TlsServer, what: &str) {
    match c.analyze("hi", None, None, |_| {}) {
        Err(CallError::Failed(f)) => {
            assert_eq!(f.cause, Cause::Connection(ConnectionLost::Tls), "{what}");
            assert_eq!(f.stop, Stop::RetriesExhausted, "{what}");
        }
        other => panic!("{what}: expected a TLS failure, got {other:?}"),
    }
    assert_eq!(server.requests(), 0, "{what}: a request reached the server");
}

#[test]
fn a_trusted_ca_is_accepted_in_der_and_pem() {
    let ca = Authority::new("kaiko test CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let mut c = client(&server, "localhost")
        .with_root_certificate(&ca.der())
        .unwrap();
    let a = c.analyze("hi", None, None, |_| {}).unwrap();
    assert_eq!((a.success.status, a.emotions.len()), (200, 1));
    let mut c = client(&server, "localhost")
        .with_root_certificates_pem(ca.pem().as_bytes())
        .unwrap();
    assert_eq!(
        c.analyze("hi", None, None, |_| {}).unwrap().success.status,
        200
    );
    // The same through the builder.
    for builder in [
        Client::builder("kaiko_test_tls").root_certificate(&ca.der()),
        Client::builder("kaiko_test_tls").root_certificates_pem(ca.pem().as_bytes()),
    ] {
        let mut c = builder
            .base_url(&format!("https://localhost:{}/v2", server.port()))
            .without_proxy()
            .build()
            .unwrap();
        assert_eq!(
            c.analyze("hi", None, None, |_| {}).unwrap().success.status,
            200
        );
    }
    // 127.0.0.1 is not the certificate's name.
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let c = client(&server, "127.0.0.1")
        .with_root_certificate(&ca.der())
        .unwrap();
    refused(c, &server, "an IP address the certificate does not name");
}

#[test]
fn every_bad_chain_is_refused_before_the_request() {
    let ca = Authority::new("kaiko test CA");
    let other = Authority::new("another CA");
    let cases: [(&str, Leaf, Option<Vec<u8>>); 5] = [
        (
            "no extra CA (webpki roots only)",
            ca.leaf("localhost"),
            None,
        ),
        ("another CA", ca.leaf("localhost"), Some(other.der())),
        (
            "the wrong host name",
            ca.leaf("api.example.com"),
            Some(ca.der()),
        ),
        (
            "an expired certificate",
            ca.leaf_with("localhost", 2025, false),
            Some(ca.der()),
        ),
        (
            "a self-signed leaf",
            ca.leaf_with("localhost", 2040, true),
            Some(ca.der()),
        ),
    ];
    for (what, leaf, anchor) in cases {
        let server = TlsServer::start(leaf).unwrap();
        let mut c = client(&server, "localhost");
        if let Some(der) = anchor {
            c = c.with_root_certificate(&der).unwrap();
        }
        refused(c, &server, what);
    }
}

#[test]
fn unusable_certificates_are_a_setup_error() {
    let server = TlsServer::start(Authority::new("x").leaf("localhost")).unwrap();
    assert_eq!(
        client(&server, "localhost")
            .with_root_certificates_pem(b"not a certificate")
            .unwrap_err(),
        ClientError::TlsSetup
    );
}

#[test]
fn an_rsa_chain_is_checked_the_same_way() {
    let ca = Authority::new_rsa("kaiko test RSA CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let mut c = client(&server, "localhost")
        .with_root_certificate(&ca.der())
        .unwrap();
    assert_eq!(
        c.analyze("hi", None, None, |_| {}).unwrap().success.status,
        200
    );
    let other = Authority::new_rsa("another RSA CA");
    let server = TlsServer::start(ca.leaf("localhost")).unwrap();
    let c = client(&server, "localhost")
        .with_root_certificate(&other.der())
        .unwrap();
    refused(c, &server, "an RSA chain to another CA");
}

#[test]
fn the_simulator_over_https_end_to_end() {
    let ca = Authority::new("kaiko-sim CA");
    let sim = kaiko_sim::Sim::start(kaiko_sim::Config {
        tls: Some(ca.local_leaf()),
        ..kaiko_sim::Config::default()
    })
    .unwrap();
    assert!(sim.is_tls() && sim.base_url().starts_with("https://localhost:"));
    for url in [
        sim.base_url(),
        format!("https://127.0.0.1:{}/v2", sim.addr().port()),
    ] {
        let mut c = Client::builder("kaiko_test_tls")
            .base_url(&url)
            .without_proxy()
            .build()
            .unwrap()
            .with_root_certificate(&ca.der())
            .unwrap();
        let a = c
            .analyze("I feel a bit unsure about this", None, None, |_| {})
            .unwrap();
        assert_eq!(a.emotions.len(), 1, "{url}");
    }
    assert_eq!(sim.requests_received(), 2);
    // Without the CA nothing reaches the simulator.
    let mut c = Client::builder("kaiko_test_tls")
        .base_url(&sim.base_url())
        .without_proxy()
        .build()
        .unwrap()
        .policy(Policy {
            max_retries: 0,
            ..Policy::DEFAULT
        });
    assert!(matches!(
        c.analyze("hi", None, None, |_| {}),
        Err(CallError::Failed(f)) if f.cause == Cause::Connection(ConnectionLost::Tls)
    ));
    assert_eq!(sim.requests_received(), 2);
}
