//! Sockets: resolving, connecting under a deadline, optional TLS, and mapping I/O errors to
//! the core's [`ConnectionLost`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration as StdDuration;

use kaiko_core::call::ConnectionLost;

/// Shortest timeout ever handed to the OS: a zero timeout means "block forever" to
/// `set_read_timeout` and is an error for `connect_timeout`.
pub(crate) const MIN_TIMEOUT: StdDuration = StdDuration::from_millis(1);

/// The core's duration as std's.
pub(crate) fn to_std(d: kaiko_core::time::Duration) -> StdDuration {
    d.into()
}

/// Why a connection could not be set up.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The deadline passed first.
    TimedOut,
    /// The transport failed.
    Lost(ConnectionLost),
    /// The proxy did not open a tunnel.
    Proxy(crate::tunnel::ProxyError),
}

/// TLS settings shared by every connection of a client.
#[cfg(feature = "tls")]
pub(crate) type TlsConfig = std::sync::Arc<rustls::ClientConfig>;

/// Builds the rustls configuration: ring provider, the webpki-roots trust anchors plus
/// `extra` (DER certificates the caller trusts too), certificate verification on.
#[cfg(feature = "tls")]
pub(crate) fn tls_config(extra: &[Vec<u8>]) -> Result<TlsConfig, rustls::Error> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra {
        roots.add(rustls::pki_types::CertificateDer::from(der.clone()))?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(std::sync::Arc::new(config))
}

/// The DER certificates of a PEM text, or the text itself when it is one DER certificate.
#[cfg(feature = "tls")]
pub(crate) fn pem_certificates(text: &[u8]) -> Result<Vec<Vec<u8>>, crate::ClientError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut found = Vec::new();
    for cert in CertificateDer::pem_slice_iter(text) {
        let cert = cert.map_err(|_| crate::ClientError::TlsSetup)?;
        found.push(cert.to_vec());
    }
    if found.is_empty() {
        // Not PEM: one DER certificate (a SEQUENCE), or nothing usable.
        if text.first() != Some(&0x30) {
            return Err(crate::ClientError::TlsSetup);
        }
        found.push(text.to_vec());
    }
    Ok(found)
}

/// Without TLS support no certificate is usable.
#[cfg(not(feature = "tls"))]
pub(crate) fn pem_certificates(_text: &[u8]) -> Result<Vec<Vec<u8>>, crate::ClientError> {
    Err(crate::ClientError::TlsUnavailable)
}

/// A connected byte stream, plain or TLS, with the socket timeouts last handed to the OS
/// (each `setsockopt` is a system call: on a kept-alive connection they are set only when
/// the time left no longer fits them, see [`timeout_to_arm`]).
#[derive(Debug)]
pub(crate) struct Stream {
    io: Io,
    /// `None` until set through this stream (what the tunnel or handshake left is unknown).
    read_timeout: Option<StdDuration>,
    write_timeout: Option<StdDuration>,
}

#[derive(Debug)]
enum Io {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

/// Below this much time left the timeout is the time left itself, not a fraction of it.
const EXACT_BELOW: StdDuration = StdDuration::from_millis(8);

/// The timeout to hand the OS for a blocking read or write that must end within `left`, or
/// `None` when `armed` (the one set) already fits. A timeout set is never longer than
/// `left` (nothing blocks past its deadline; `left` below [`MIN_TIMEOUT`] counts as
/// `MIN_TIMEOUT`, the shortest the OS takes) and one kept is at least a quarter of `left`
/// (an idle wait does not wake often; the phases of a call, 35 s to the first byte and 60 s
/// to the last by default, share one). Above [`EXACT_BELOW`] seven eighths of `left` are set, so
/// that the next call, whose deadlines are as far off, keeps it. A timeout that fires before
/// the deadline is no failure: the caller reads or writes again with what is left.
pub(crate) fn timeout_to_arm(armed: Option<StdDuration>, left: StdDuration) -> Option<StdDuration> {
    let left = left.max(MIN_TIMEOUT);
    match armed {
        Some(t) if t <= left && t >= left / 4 => None,
        _ if left <= EXACT_BELOW => Some(left),
        _ => Some((left - left / 8).max(MIN_TIMEOUT)),
    }
}

impl Stream {
    pub(crate) fn plain(tcp: TcpStream) -> Self {
        Stream::new(Io::Plain(tcp))
    }

    fn new(io: Io) -> Self {
        Stream {
            io,
            read_timeout: None,
            write_timeout: None,
        }
    }

    fn tcp(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
            #[cfg(feature = "tls")]
            Io::Tls(s) => &s.sock,
        }
    }

    /// Arms the read timeout for a read that must end within `left`.
    pub(crate) fn arm_read(&mut self, left: StdDuration) -> io::Result<()> {
        if let Some(t) = timeout_to_arm(self.read_timeout, left) {
            // Forget the old value first: after a failed call the OS's is unknown.
            self.read_timeout = None;
            self.tcp().set_read_timeout(Some(t))?;
            self.read_timeout = Some(t);
        }
        Ok(())
    }

    /// Arms the read timeout for reads that may happen within a write of `left` (a TLS
    /// handshake's): any armed timeout no longer than `left` will do, as the writer goes on
    /// after one that fires early.
    pub(crate) fn cap_read(&mut self, left: StdDuration) -> io::Result<()> {
        if self.read_timeout.is_none_or(|t| t > left.max(MIN_TIMEOUT)) {
            self.read_timeout = None;
            self.arm_read(left)?;
        }
        Ok(())
    }

    /// Arms the write timeout for a write that must end within `left`.
    pub(crate) fn arm_write(&mut self, left: StdDuration) -> io::Result<()> {
        if let Some(t) = timeout_to_arm(self.write_timeout, left) {
            self.write_timeout = None;
            self.tcp().set_write_timeout(Some(t))?;
            self.write_timeout = Some(t);
        }
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Io::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.io {
            Io::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Io::Tls(s) => s.flush(),
        }
    }
}

/// `true` for the errors a timed-out blocking read or write reports (platform dependent).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The core's view of an I/O error.
pub(crate) fn lost_kind(e: &io::Error) -> ConnectionLost {
    #[cfg(feature = "tls")]
    if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        return ConnectionLost::Tls;
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectionLost::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ConnectionLost::Reset,
        io::ErrorKind::UnexpectedEof => ConnectionLost::Closed,
        _ => ConnectionLost::Io,
    }
}

/// The host as the resolver and TLS want it: an IPv6 literal without its brackets.
pub(crate) fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Resolves `host` and connects to each address in turn until one answers, all before
/// `timeout` has passed.
pub(crate) fn connect(
    host: &str,
    port: u16,
    timeout: StdDuration,
) -> Result<TcpStream, ConnectError> {
    let start = std::time::Instant::now();
    let addrs: Vec<SocketAddr> = match (bare_host(host), port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(_) => return Err(ConnectError::Lost(ConnectionLost::Dns)),
    };
    if addrs.is_empty() {
        return Err(ConnectError::Lost(ConnectionLost::Dns));
    }
    let mut last = ConnectError::Lost(ConnectionLost::Refused);
    for addr in addrs {
        let Some(left) = timeout
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
        else {
            return Err(ConnectError::TimedOut);
        };
        match TcpStream::connect_timeout(&addr, left.max(MIN_TIMEOUT)) {
            Ok(s) => {
                // Requests are written whole; Nagle would only delay the last segment.
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if is_timeout(&e) => last = ConnectError::TimedOut,
            Err(e) => last = ConnectError::Lost(lost_kind(&e)),
        }
    }
    Err(last)
}

/// Wraps `tcp` in TLS for `host` (SNI and certificate name) and completes the handshake
/// within `limit`, so that a server that fails the certificate checks is a typed
/// [`ConnectionLost::Tls`] before a byte of the request is written.
#[cfg(feature = "tls")]
pub(crate) fn wrap_tls(
    config: &TlsConfig,
    host: &str,
    mut tcp: TcpStream,
    limit: StdDuration,
) -> Result<Stream, ConnectError> {
    let name = rustls::pki_types::ServerName::try_from(bare_host(host).to_owned())
        .map_err(|_| ConnectError::Lost(ConnectionLost::Tls))?;
    let mut conn = rustls::ClientConnection::new(config.clone(), name)
        .map_err(|_| ConnectError::Lost(ConnectionLost::Tls))?;
    let limit = limit.max(MIN_TIMEOUT);
    tcp.set_read_timeout(Some(limit))
        .and_then(|()| tcp.set_write_timeout(Some(limit)))
        .map_err(|e| ConnectError::Lost(lost_kind(&e)))?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut tcp) {
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return Err(ConnectError::TimedOut),
            Err(_) => return Err(ConnectError::Lost(ConnectionLost::Tls)),
        }
    }
    Ok(Stream::new(Io::Tls(Box::new(rustls::StreamOwned::new(
        conn, tcp,
    )))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: StdDuration = StdDuration::from_millis(1);

    #[test]
    fn armed_timeout_never_exceeds_the_time_left() {
        for left_ms in [0u64, 1, 2, 7, 8, 9, 15, 16, 100, 1_000, 30_000, 3_600_000] {
            let left = MS * u32::try_from(left_ms).unwrap();
            let limit = left.max(MIN_TIMEOUT);
            for armed_ms in [
                None,
                Some(1u64),
                Some(left_ms / 2),
                Some(left_ms),
                Some(left_ms + 1),
            ] {
                let armed = armed_ms.map(|a| MS * u32::try_from(a).unwrap());
                let effective = timeout_to_arm(armed, left).or(armed).unwrap();
                assert!(effective <= limit, "{armed:?} {left:?} -> {effective:?}");
                assert!(
                    effective >= limit / 4,
                    "{armed:?} {left:?} -> {effective:?}"
                );
                assert!(!effective.is_zero());
            }
        }
    }

    #[test]
    fn armed_timeout_is_kept_across_calls_with_the_same_deadlines() {
        let left = StdDuration::from_secs(30);
        let armed = timeout_to_arm(None, left).unwrap();
        assert_eq!(armed, MS * 26_250);
        // The next call, a moment later, has the same 30 s ahead: nothing to set.
        assert_eq!(timeout_to_arm(Some(armed), left), None);
        assert_eq!(timeout_to_arm(Some(armed), left - MS * 100), None);
        // Waiting on the same deadline after it fired: shorter, never past the deadline.
        assert_eq!(
            timeout_to_arm(Some(armed), MS * 3_750),
            Some(StdDuration::from_micros(3_281_250))
        );
        assert_eq!(timeout_to_arm(Some(MS * 5), MS * 5), None);
        assert_eq!(timeout_to_arm(Some(MS * 6), MS * 5), Some(MS * 5));
        assert_eq!(timeout_to_arm(Some(MS), StdDuration::ZERO), None);
    }

    #[test]
    fn brackets_are_dropped_for_the_resolver() {
        assert_eq!(bare_host("[::1]"), "::1");
        assert_eq!(bare_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(bare_host("[x"), "[x");
    }

    #[test]
    fn io_errors_map_to_connection_lost() {
        let k = |kind| lost_kind(&io::Error::from(kind));
        assert_eq!(k(io::ErrorKind::ConnectionRefused), ConnectionLost::Refused);
        assert_eq!(k(io::ErrorKind::ConnectionReset), ConnectionLost::Reset);
        assert_eq!(k(io::ErrorKind::BrokenPipe), ConnectionLost::Reset);
        assert_eq!(k(io::ErrorKind::UnexpectedEof), ConnectionLost::Closed);
        assert_eq!(k(io::ErrorKind::Other), ConnectionLost::Io);
    }

    #[test]
    fn refused_port_is_reported() {
        // Bind then drop: the port is very likely closed right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        match connect("127.0.0.1", port, StdDuration::from_secs(2)) {
            Err(ConnectError::Lost(ConnectionLost::Refused)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unresolvable_host_is_dns() {
        match connect("no-such-host.invalid", 80, StdDuration::from_secs(5)) {
            Err(ConnectError::Lost(ConnectionLost::Dns)) => {}
            other => panic!("{other:?}"),
        }
    }
}
