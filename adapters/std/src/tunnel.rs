//! Opening a `CONNECT` tunnel through an HTTP proxy (RFC 9110 §9.3.6): send the request,
//! read the proxy's answer head, and hand back the socket, which from then on carries the
//! bytes of the connection to the API (TLS included) and is kept alive like a direct one.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration as StdDuration, Instant};

use crate::transport::{ConnectError, MIN_TIMEOUT, is_timeout, lost_kind};
use kaiko_core::call::ConnectionLost;
use kaiko_core::http::HeadParser;

/// Largest answer head accepted from a proxy, in bytes: a `200 Connection established` is
/// about 40; a refusal's headers a few hundred.
pub const MAX_ANSWER_HEAD: usize = 8 * 1024;

/// Why a proxy did not open the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy answered `CONNECT` with this status instead of 2xx: 407 when it wants
    /// credentials (or refused the ones in the proxy URL), 403 when policy forbids the host,
    /// 502/504 when it could not reach the API.
    Status(u16),
    /// The answer is not an HTTP/1.x response head of at most [`MAX_ANSWER_HEAD`] bytes:
    /// the address is probably not an HTTP proxy.
    BadAnswer,
}

impl ProxyError {
    /// Worth another attempt: a 429 or 5xx answer (the proxy or the path behind it is
    /// struggling), as for the API's own statuses.
    pub(crate) fn is_retryable(self) -> bool {
        matches!(self, ProxyError::Status(s) if kaiko_core::retry::is_retryable_status(s))
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Status(407) => {
                f.write_str("proxy answered 407: proxy authentication required or refused")
            }
            ProxyError::Status(s) => write!(f, "proxy refused the tunnel with status {s}"),
            ProxyError::BadAnswer => f.write_str("proxy answer is not an HTTP/1.x response"),
        }
    }
}

impl std::error::Error for ProxyError {}

/// The proxy's answer head, fed as it arrives: the core's split-anywhere, bounded head parser
/// (interim 1xx answers skipped, bare `\n` line ends accepted as RFC 9112 §2.2 allows),
/// of which only the status is kept.
#[derive(Debug)]
pub(crate) struct AnswerHead(HeadParser);

impl Default for AnswerHead {
    fn default() -> Self {
        AnswerHead(HeadParser::new(MAX_ANSWER_HEAD))
    }
}

impl AnswerHead {
    /// Takes bytes up to the end of the head. Returns how many of `input` belong to the head
    /// and, once the blank line that ends it was seen, the status.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<u16>), ProxyError> {
        match self.0.parse(input) {
            Ok((used, head)) => Ok((used, head.map(|h| h.status))),
            Err(_) => Err(ProxyError::BadAnswer),
        }
    }
}

/// Sends `request` (a `CONNECT`) on `tcp` and reads the answer head, all within `limit`.
/// Only the head's bytes are consumed (peeked, then read), so nothing of the tunnel's stream
/// is lost. `Ok` means the proxy answered 2xx and the socket is now the tunnel.
pub(crate) fn establish(
    tcp: &mut TcpStream,
    request: &[u8],
    limit: StdDuration,
) -> Result<(), ConnectError> {
    let start = Instant::now();
    let left = || {
        limit
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
            .map(|d| d.max(MIN_TIMEOUT))
            .ok_or(ConnectError::TimedOut)
    };
    let io_error = |e: io::Error| {
        if is_timeout(&e) {
            ConnectError::TimedOut
        } else {
            ConnectError::Lost(lost_kind(&e))
        }
    };
    tcp.set_write_timeout(Some(left()?)).map_err(io_error)?;
    tcp.write_all(request).map_err(io_error)?;
    let mut head = AnswerHead::default();
    let mut buf = [0u8; 512];
    loop {
        tcp.set_read_timeout(Some(left()?)).map_err(io_error)?;
        let n = match tcp.peek(&mut buf) {
            Ok(0) => return Err(ConnectError::Lost(ConnectionLost::Closed)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(e)),
        };
        let (used, status) = head
            .feed(buf.get(..n).unwrap_or(&[]))
            .map_err(ConnectError::Proxy)?;
        tcp.read_exact(buf.get_mut(..used).unwrap_or(&mut []))
            .map_err(io_error)?;
        match status {
            Some(s) if (200..300).contains(&s) => return Ok(()),
            Some(s) => return Err(ConnectError::Proxy(ProxyError::Status(s))),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in two pieces split at `at`; returns the head's length and status.
    fn feed_split(input: &[u8], at: usize) -> Result<Option<(usize, u16)>, ProxyError> {
        let mut head = AnswerHead::default();
        let (first, second) = input.split_at(at);
        let (used, status) = head.feed(first)?;
        if let Some(s) = status {
            return Ok(Some((used, s)));
        }
        assert_eq!(used, first.len());
        let (used2, status) = head.feed(second)?;
        Ok(status.map(|s| (used + used2, s)))
    }

    #[test]
    fn answers_parse_at_every_split_point() {
        let cases: [(&[u8], u16); 7] = [
            (b"HTTP/1.1 200 Connection established\r\n\r\n", 200),
            (b"HTTP/1.0 200\r\n\r\n", 200),
            (b"HTTP/1.1 200 OK\nProxy-Agent: test\n\n", 200),
            (
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
                407,
            ),
            (b"HTTP/1.1 502 Bad Gateway\r\nX: y\r\n\r\n", 502),
            // An interim answer is skipped; a stray empty line before the status line is
            // tolerated, as by the API's own head parser.
            (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 200),
            (b"\r\nHTTP/1.1 200 OK\r\n\r\n", 200),
        ];
        for (answer, status) in cases {
            // Bytes after the head belong to the tunnel and must not be taken.
            let mut input = answer.to_vec();
            input.extend_from_slice(b"\x16\x03\x01 tunnel bytes");
            for at in 0..=input.len() {
                assert_eq!(
                    feed_split(&input, at),
                    Ok(Some((answer.len(), status))),
                    "{} split at {at}",
                    String::from_utf8_lossy(answer)
                );
            }
        }
    }

    #[test]
    fn an_unfinished_head_asks_for_more() {
        let mut head = AnswerHead::default();
        assert_eq!(head.feed(b"HTTP/1.1 200 OK\r\n"), Ok((17, None)));
        assert_eq!(head.feed(b"X: y\r\n\r"), Ok((7, None)));
        assert_eq!(head.feed(b"\nrest"), Ok((1, Some(200))));
    }

    #[test]
    fn bad_answers_are_refused_at_every_split_point() {
        let bad: [&[u8]; 9] = [
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
            b"HTTP/2 200\r\n\r\n",
            b"HTTP/1.1 20\r\n\r\n",
            b"HTTP/1.1 2000 x\r\n\r\n",
            b"HTTP/1.1 099 x\r\n\r\n",
            b"HTTP/1.1  200\r\n\r\n",
            b"http/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
        ];
        for input in bad {
            for at in 0..=input.len() {
                assert_eq!(
                    feed_split(input, at),
                    Err(ProxyError::BadAnswer),
                    "{} split at {at}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn an_endless_head_is_refused() {
        let mut head = AnswerHead::default();
        assert_eq!(head.feed(b"HTTP/1.1 200 OK\r\n"), Ok((17, None)));
        let filler = [b'x'; 1024];
        let mut result = Ok((0, None));
        for _ in 0..9 {
            result = head.feed(&filler);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ProxyError::BadAnswer));
    }

    #[test]
    fn retryable_statuses() {
        assert!(ProxyError::Status(502).is_retryable());
        assert!(ProxyError::Status(503).is_retryable());
        assert!(!ProxyError::Status(407).is_retryable());
        assert!(!ProxyError::Status(403).is_retryable());
        assert!(!ProxyError::BadAnswer.is_retryable());
    }
}
