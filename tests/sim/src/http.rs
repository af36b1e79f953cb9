//! HTTP/1.1 on a blocking socket: bounded request reading (RFC 9112) and response writing
//! in the normal and the faulted shapes.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Largest request head accepted; a larger one gets 431 (RFC 6585 §5).
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// A request whose head and body were read.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// Request target as sent (path and query).
    pub(crate) target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) minor: u8,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// First value of a header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    pub(crate) fn keep_alive(&self) -> bool {
        let tokens = |v: &str, t: &str| v.split(',').any(|x| x.trim().eq_ignore_ascii_case(t));
        let conn = self.header("connection").unwrap_or("");
        if self.minor == 0 {
            tokens(conn, "keep-alive")
        } else {
            !tokens(conn, "close")
        }
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed, went idle, or the server is stopping: close without a response.
    Gone,
    /// Answer with this status, code and message, then close.
    Reject {
        status: u16,
        code: &'static str,
        message: String,
    },
}

/// A connection: the stream plus bytes read past the previous request.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) stream: Stream,
    buf: Vec<u8>,
}

/// A connection's byte stream: plain TCP, or TLS over it (`kaiko sim --tls`).
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Plain(_) => "Plain",
            Stream::Tls(_) => "Tls",
        })
    }
}

impl Stream {
    /// The TCP socket underneath (for shutdowns and resets).
    pub(crate) fn into_tcp(self) -> TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl Conn {
    pub(crate) fn new(stream: Stream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads more bytes; `Ok(0)` at EOF. `keep_going` is asked on every poll tick and may
    /// end the wait (idle timeout, server stop).
    fn fill(&mut self, keep_going: &mut dyn FnMut() -> bool) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if !keep_going() {
                        return Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one request. `max_body` bounds Content-Length; `keep_going` is polled while
    /// waiting for bytes.
    pub(crate) fn read_request(
        &mut self,
        max_body: usize,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<Request, ReadError> {
        let head_end = loop {
            // RFC 9112 §2.2: empty lines before the request line are ignored.
            let blank = self
                .buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.buf.drain(..blank);
            if let Some(i) = head_end(&self.buf) {
                break i;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(reject(
                    431,
                    "request_header_fields_too_large",
                    "Request head exceeds 16384 bytes",
                ));
            }
            match self.fill(keep_going) {
                Ok(0) | Err(_) => return Err(ReadError::Gone),
                Ok(_) => {}
            }
        };
        if head_end > MAX_HEAD {
            return Err(reject(
                431,
                "request_header_fields_too_large",
                "Request head exceeds 16384 bytes",
            ));
        }
        let head: Vec<u8> = self.buf.drain(..head_end).collect();
        let mut req = parse_head(&head)?;

        if req.header("transfer-encoding").is_some() {
            // RFC 9112 §6.3 lets a server refuse a body it cannot frame; 411 asks for a length.
            return Err(reject(
                411,
                "length_required",
                "Request bodies must carry Content-Length",
            ));
        }
        let len = content_length(&req)?;
        if len > max_body {
            return Err(reject(
                413,
                "payload_too_large",
                format!("Request body exceeds maximum size of {max_body} bytes"),
            ));
        }
        let expects = req
            .header("expect")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
        if expects && req.minor == 1 && self.buf.len() < len {
            // RFC 9110 §10.1.1: tell the client to go on sending the body.
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        while self.buf.len() < len {
            match self.fill(keep_going) {
                Ok(0) | Err(_) => return Err(ReadError::Gone),
                Ok(_) => {}
            }
        }
        req.body = self.buf.drain(..len).collect();
        Ok(req)
    }
}

fn reject(status: u16, code: &'static str, message: impl Into<String>) -> ReadError {
    ReadError::Reject {
        status,
        code,
        message: message.into(),
    }
}

fn bad(message: &str) -> ReadError {
    reject(400, "bad_request", message)
}

/// The end of the head: just past the first empty line, CRLF or bare LF (RFC 9112 §2.2
/// lets a recipient accept a bare LF as a line terminator).
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let at = from + buf.get(from..)?.iter().position(|&b| b == b'\n')?;
        match (buf.get(at + 1), buf.get(at + 2)) {
            (Some(b'\n'), _) => return Some(at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(at + 3),
            _ => from = at + 1,
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses a request head ending in CRLF CRLF (RFC 9112 §3, §5).
fn parse_head(head: &[u8]) -> Result<Request, ReadError> {
    let end = head.len()
        - head
            .iter()
            .rev()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
    let text = head.get(..end).unwrap_or(head);
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let line = lines.next().unwrap_or(&[]);
    let line = std::str::from_utf8(line).map_err(|_| bad("Request line is not ASCII"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("Malformed request line"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(bad("Malformed method"));
    }
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad("Malformed request target"));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => {
            return Err(reject(
                505,
                "http_version_not_supported",
                "Only HTTP/1.0 and HTTP/1.1",
            ));
        }
    };
    let mut headers = Vec::new();
    for l in lines {
        if l.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            // RFC 9112 §5.2: obsolete line folding may be rejected with 400.
            return Err(bad("Obsolete line folding"));
        }
        let colon = l
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| bad("Header without colon"))?;
        let (name, value) = l.split_at(colon);
        let value = value.get(1..).unwrap_or(&[]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(bad("Malformed header name"));
        }
        if value.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(bad("Control byte in header value"));
        }
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value)
                .trim_matches([' ', '\t'])
                .to_owned(),
        ));
    }
    if minor == 1 && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        // RFC 9112 §3.2: a 1.1 request without Host gets 400.
        return Err(bad("Missing Host header"));
    }
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        minor,
        headers,
        body: Vec::new(),
    })
}

/// The body length (RFC 9112 §6.3): absent → 0; differing or invalid values → 400.
fn content_length(req: &Request) -> Result<usize, ReadError> {
    let mut len: Option<usize> = None;
    for (_, v) in req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        for part in v.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("Invalid Content-Length"));
            }
            let n: usize = part.parse().unwrap_or(usize::MAX);
            if len.is_some_and(|l| l != n) {
                return Err(bad("Conflicting Content-Length"));
            }
            len = Some(n);
        }
    }
    Ok(len.unwrap_or(0))
}

/// A response before framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Fields except framing (`Content-Length`, `Transfer-Encoding`) and `Connection`.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
}

/// How the body is framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// With Content-Length.
    Full(Vec<u8>),
    /// Chunked, one chunk per piece (server-sent events).
    Chunked(Vec<Vec<u8>>),
}

/// Reason phrases for the statuses the sim writes; others get a generic one.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Chunk sizes of [`crate::Fault::OddChunks`], cycled.
const ODD_SIZES: [usize; 8] = [1, 7, 3, 11, 2, 5, 13, 4];

/// Whether a status forbids a body (RFC 9110 §6.4.1).
fn bodiless(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

impl Response {
    /// All body bytes, unframed.
    pub(crate) fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::Full(b) => b.clone(),
            Body::Chunked(pieces) => pieces.concat(),
        }
    }

    fn head(&self, framing: &str, close: bool) -> Vec<u8> {
        let mut h = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        h.push_str(framing);
        if close {
            h.push_str("Connection: close\r\n");
        }
        h.push_str("\r\n");
        h.into_bytes()
    }

    /// Head and framed body as written normally.
    pub(crate) fn wire(&self, close: bool) -> (Vec<u8>, Vec<u8>) {
        match &self.body {
            Body::Full(b) if bodiless(self.status) => (self.head("", close), b.clone()),
            Body::Full(b) => (
                self.head(&format!("Content-Length: {}\r\n", b.len()), close),
                b.clone(),
            ),
            Body::Chunked(pieces) => {
                let mut body = Vec::new();
                for p in pieces.iter().filter(|p| !p.is_empty()) {
                    body.extend_from_slice(format!("{:x}\r\n", p.len()).as_bytes());
                    body.extend_from_slice(p);
                    body.extend_from_slice(b"\r\n");
                }
                body.extend_from_slice(b"0\r\n\r\n");
                (self.head("Transfer-Encoding: chunked\r\n", close), body)
            }
        }
    }

    /// Head and body chunked with odd sizes, chunk extensions and a trailer
    /// (RFC 9112 §7.1.1, §7.1.2).
    pub(crate) fn wire_odd_chunks(&self, close: bool) -> (Vec<u8>, Vec<u8>) {
        let all = self.body_bytes();
        let mut body = Vec::new();
        let mut rest = all.as_slice();
        let mut i = 0usize;
        while !rest.is_empty() {
            let n = ODD_SIZES
                .get(i % ODD_SIZES.len())
                .copied()
                .unwrap_or(1)
                .min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            if i.is_multiple_of(2) {
                body.extend_from_slice(format!("{n:x};sim-ext=\"odd\"\r\n").as_bytes());
            } else {
                body.extend_from_slice(format!("{n:X}\r\n").as_bytes());
            }
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
            rest = tail;
            i += 1;
        }
        body.extend_from_slice(b"0;last\r\nX-Sim-Trailer: done\r\n\r\n");
        let head = self.head(
            "Transfer-Encoding: chunked\r\nTrailer: X-Sim-Trailer\r\n",
            close,
        );
        (head, body)
    }
}

/// Sets SO_LINGER 0 so that closing sends RST instead of FIN, then drops the socket.
pub(crate) fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_head() {
        let r = parse_head(
            b"POST /v2/emotions/analysis?x=1 HTTP/1.1\r\nHost: a\r\nX-Api-Key:  k \r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path(), "/v2/emotions/analysis");
        assert_eq!(r.header("x-api-key"), Some("k"));
        assert!(r.keep_alive());
    }

    #[test]
    fn finds_the_end_of_the_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\nBODY"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r"), None);
        let r = parse_head(b"GET /v2/emotions HTTP/1.1\nHost: a\nx-api-key: k\n\n").unwrap();
        assert_eq!(r.header("x-api-key"), Some("k"));
    }

    #[test]
    fn rejects_bad_heads() {
        for head in [
            &b"GET /\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
            b"GET nopath HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            assert!(matches!(
                parse_head(head),
                Err(ReadError::Reject { status: 400, .. })
            ));
        }
        assert!(matches!(
            parse_head(b"GET / HTTP/2.0\r\n\r\n"),
            Err(ReadError::Reject { status: 505, .. })
        ));
    }

    #[test]
    fn odd_chunks_carry_the_whole_body() {
        let r = Response {
            status: 200,
            headers: vec![],
            body: Body::Full(b"{\"hello\":\"world, in odd pieces\"}".to_vec()),
        };
        let (_, body) = r.wire_odd_chunks(false);
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with("1;sim-ext=\"odd\"\r\n{\r\n7\r\n\"hello\"\r\n"));
        assert!(text.ends_with("0;last\r\nX-Sim-Trailer: done\r\n\r\n"));
    }
}
