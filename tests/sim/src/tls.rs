//! TLS 1.3 test servers with certificate chains made at start: a CA, leaves it signs (for a
//! host, valid until a year, or self-signed), and a loopback server presenting a chain and
//! answering every request with one small analysis. For the certificate checks of the clients'
//! TLS paths: a refused handshake leaves [`TlsServer::requests`] at zero.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority and what it signs: ECDSA P-256 ([`Authority::new`]) or RSA-2048
/// ([`Authority::new_rsa`]) keys throughout its chains.
pub struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
    rsa: bool,
}

/// A fresh key of the kind a chain uses.
fn new_key(rsa: bool) -> KeyPair {
    if !rsa {
        return KeyPair::generate().expect("a P-256 key");
    }
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("an RSA key");
    let der = key.to_pkcs8_der().expect("PKCS#8");
    KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls::pki_types::PrivatePkcs8KeyDer::from(der.as_bytes()),
        &rcgen::PKCS_RSA_SHA256,
    )
    .expect("an RSA key pair")
}

/// A leaf certificate's chain (leaf first, then the CA) and its private key (PKCS#8 DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The leaf's private key, PKCS#8 DER.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A new CA named `name`, with ECDSA P-256 keys.
    pub fn new(name: &str) -> Self {
        Self::make(name, false)
    }

    /// A new CA named `name`, with RSA-2048 keys (made at start: about a second each).
    pub fn new_rsa(name: &str) -> Self {
        Self::make(name, true)
    }

    fn make(name: &str, rsa: bool) -> Self {
        let key = new_key(rsa);
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("a self-signed CA");
        Authority { cert, key, rsa }
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for `host` (Common Name and SAN), valid 2024 to 2040.
    pub fn leaf(&self, host: &str) -> Leaf {
        self.leaf_with(host, 2040, false)
    }

    /// A leaf for `localhost` and `127.0.0.1` (Common Name `localhost`), valid 2024 to 2040:
    /// what `kaiko sim --tls` serves.
    pub fn local_leaf(&self) -> Leaf {
        let key = new_key(self.rsa);
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let mut params = CertificateParams::new(names).expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2040, 1, 1);
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a leaf");
        Leaf {
            chain: vec![cert.der().to_vec(), self.der()],
            key: key.serialize_der(),
        }
    }

    /// A leaf for `host` valid from 2024 until January 1 of `until`, signed by this CA, or by
    /// itself when `self_signed`.
    pub fn leaf_with(&self, host: &str, until: i32, self_signed: bool) -> Leaf {
        let key = new_key(self.rsa);
        let mut params = CertificateParams::new(vec![host.to_owned()]).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, host);
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let cert = if self_signed {
            params.self_signed(&key)
        } else {
            params.signed_by(&key, &self.cert, &self.key)
        }
        .expect("a leaf");
        Leaf {
            chain: vec![cert.der().to_vec(), self.der()],
            key: key.serialize_der(),
        }
    }
}

/// A TLS 1.3 server on 127.0.0.1 presenting a [`Leaf`]; answers every request with one
/// analysis (`{"emotions":{"user":{"category":"fear"}}}`), keeping the connection open.
#[derive(Debug)]
pub struct TlsServer {
    port: u16,
    requests: Arc<AtomicUsize>,
}

/// A TLS 1.3 server configuration presenting `leaf`.
pub(crate) fn server_config(leaf: &Leaf) -> std::io::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .and_then(|b| {
            b.with_no_client_auth().with_single_cert(
                leaf.chain
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone())),
            )
        })
        .map_err(std::io::Error::other)?;
    Ok(Arc::new(config))
}

impl TlsServer {
    /// Starts the server on a fresh loopback port.
    pub fn start(leaf: Leaf) -> std::io::Result<Self> {
        let config = server_config(&leaf)?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        std::thread::spawn(move || {
            while let Ok((tcp, _)) = listener.accept() {
                let (config, counter) = (Arc::clone(&config), Arc::clone(&counter));
                std::thread::spawn(move || serve(config, tcp, &counter));
            }
        });
        Ok(TlsServer { port, requests })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Requests read in full so far (after a completed handshake).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn serve(config: Arc<rustls::ServerConfig>, tcp: std::net::TcpStream, counter: &AtomicUsize) {
    let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)));
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
        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if seen.len() < end + 4 + len {
                break;
            }
            seen.drain(..end + 4 + len);
            counter.fetch_add(1, Ordering::SeqCst);
            let body = r#"{"object":"emotions.analysis","emotions":{"user":{"category":"fear"}}}"#;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if tls.write_all(response.as_bytes()).is_err() {
                return;
            }
        }
    }
}
