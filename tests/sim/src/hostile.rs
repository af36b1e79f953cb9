//! Hostile servers for client tests: responses that never pause, never end, or never stop
//! sending items, and a server that drops an idle keep-alive connection while the client
//! backs off. Each binds a loopback port of its own and serves from background threads.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an endless server keeps sending at most, as a safety net for a broken client.
const SAFETY_NET: Duration = Duration::from_secs(20);

/// Head of a chunked JSON response.
pub const CHUNKED_JSON: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
/// Head of a chunked event stream.
pub const CHUNKED_SSE: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
/// Head announcing a body far longer than any deadline allows to read.
pub const HUGE_LENGTH_JSON: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n";

/// `s` as one chunk of a chunked body.
pub fn chunk(s: &str) -> String {
    format!("{:x}\r\n{s}\r\n", s.len())
}

/// Reads one request (head and `Content-Length` body); `false` if the client went away.
pub fn read_request(s: &mut TcpStream) -> bool {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while req.len() < head_end + len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// A server that answers every request with `head` and `first`, then repeats `piece` as fast
/// as the client takes it, until the client closes.
#[derive(Debug)]
pub struct Endless {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl Endless {
    /// Starts the server on a fresh loopback port.
    pub fn start(head: &'static str, first: String, piece: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/v2", listener.local_addr()?);
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        std::thread::spawn(move || {
            let started = Instant::now();
            while let Ok((mut s, _)) = listener.accept() {
                let (first, piece, counter) = (first.clone(), piece.clone(), Arc::clone(&counter));
                std::thread::spawn(move || {
                    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    if !read_request(&mut s) {
                        return;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = s.write_all(head.as_bytes());
                    let _ = s.write_all(first.as_bytes());
                    let block = piece.repeat((8192 / piece.len().max(1)).max(1));
                    while started.elapsed() < SAFETY_NET {
                        if s.write_all(block.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(Endless { url, requests })
    }

    /// A JSON string that never closes, in 16-byte chunks.
    pub fn never_pausing_chunked() -> std::io::Result<Self> {
        Self::start(
            CHUNKED_JSON,
            chunk("{\"object\":\"emotions.analysis\",\"pad\":\"aaa"),
            chunk("aaaaaaaaaaaaaaaa"),
        )
    }

    /// An array that never closes, under a `Content-Length` of 100 GB.
    pub fn huge_content_length() -> std::io::Result<Self> {
        Self::start(
            HUGE_LENGTH_JSON,
            "{\"object\":\"emotions.analysis\",\"pad\":[".to_owned(),
            "0,".to_owned(),
        )
    }

    /// An event stream of comments only.
    pub fn sse_comments() -> std::io::Result<Self> {
        Self::start(CHUNKED_SSE, String::new(), chunk(": keep-alive\n\n"))
    }

    /// A batch response whose `emotions` array never ends.
    pub fn endless_items() -> std::io::Result<Self> {
        Self::start(
            CHUNKED_JSON,
            chunk("{\"object\":\"emotions.batch\",\"emotions\":["),
            chunk("{\"category\":\"joy\",\"intensity\":0.5},"),
        )
    }

    /// The base URL, `http://127.0.0.1:PORT/v2`.
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// Requests received in full so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A server whose first connection answers 503 (keep-alive) and is closed 50 ms later, while
/// the client backs off; the second connection answers 200 with one emotion item. Returns the
/// base URL and a handle whose result says whether the client wrote its retry to the closed
/// connection first (it should: it cannot know the connection is gone until it reads).
pub fn drops_idle_during_backoff() -> std::io::Result<(String, JoinHandle<bool>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/v2", listener.local_addr()?);
    let server = std::thread::spawn(move || {
        let busy = "{\"error\":{\"type\":\"api_error\",\"code\":\"service_unavailable\",\"message\":\"busy\"}}";
        let ok =
            "{\"object\":\"emotions.analysis\",\"emotions\":{\"user\":{\"category\":\"joy\"}}}";
        let mut reused = false;
        for (status, body) in [("503 Service Unavailable", busy), ("200 OK", ok)] {
            let Ok((mut s, _)) = listener.accept() else {
                return reused;
            };
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            if !read_request(&mut s) {
                return reused;
            }
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(response.as_bytes());
            if status.starts_with("503") {
                // Idle for 50 ms, then closed as a server's idle timeout would; what the
                // client still writes to it is read and noted.
                std::thread::sleep(Duration::from_millis(50));
                let _ = s.shutdown(std::net::Shutdown::Write);
                s.set_read_timeout(Some(Duration::from_secs(2))).ok();
                reused = read_request(&mut s);
            }
        }
        reused
    });
    Ok((url, server))
}

/// A loopback listener that counts the bytes it receives and never answers: for checking
/// that a refused call sent nothing.
#[derive(Debug)]
pub struct Silent {
    port: u16,
    bytes: Arc<AtomicUsize>,
}

impl Silent {
    /// Starts the listener on a fresh loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let bytes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&bytes);
        std::thread::spawn(move || {
            while let Ok((mut s, _)) = listener.accept() {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = s.read(&mut buf) {
                        counter.fetch_add(n, Ordering::SeqCst);
                    }
                });
            }
        });
        Ok(Silent { port, bytes })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Bytes received so far, over all connections.
    pub fn bytes_received(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }
}
