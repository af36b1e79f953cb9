//! A load generator: `C` keep-alive connections, each sending `N` stateless analysis requests
//! one after the other, every request with a fresh `Idempotency-Key` (a repeated key would be
//! answered from the idempotency store instead of being processed).
//!
//! The default rate limit is 60 requests per key per minute (the backend's, spec §6), so each
//! connection switches to a new API key after `--key-every` requests (default 60): the server
//! keeps its default configuration and never answers 429. Against a server started with a
//! larger `--rate-limit`, raise `--key-every` to match.
//!
//! Without `--addr` it starts a simulator with [`Config::default`] in the same process.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

pub use crate::histogram::Histogram;
use crate::{Config, Sim};

/// The quickstart request of spec §3.3.
const DEFAULT_TEXT: &str = "I feel a bit unsure about this";
/// Largest response head read.
const MAX_HEAD: usize = 16 * 1024;
/// Largest response body read.
const MAX_BODY: usize = 1024 * 1024;
/// A response that takes longer than this fails the run.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The simulator serves at most this many connections at once (`server::MAX_CONNECTIONS`).
const MAX_CONNECTIONS: usize = crate::server::MAX_CONNECTIONS;

const USAGE: &str = "\
usage: kaiko-sim-load [OPTIONS]

Sends stateless analysis requests over keep-alive connections, each with a fresh
Idempotency-Key, checks that every answer is 200 and prints requests/s and latencies.

options:
  --addr ADDR          server to load (default: a simulator with the default
                       configuration started in this process)
  --connections C      keep-alive connections, one thread each, at most 64 (default 4)
  --requests N         requests per connection (default 5000)
  --key-every K        switch to a new API key after K requests of a connection, to stay
                       within the server's per-key rate limit (default 60, the default limit)
  --text TEXT          the analysed text (default: the quickstart's)
  -h, --help           print this help
";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The server; `None` starts one in this process.
    pub addr: Option<SocketAddr>,
    /// Connections, one thread each.
    pub connections: usize,
    /// Requests per connection.
    pub requests: usize,
    /// Requests per API key on one connection.
    pub key_every: usize,
    /// The analysed text.
    pub text: String,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            addr: None,
            connections: 4,
            requests: 5000,
            key_every: 60,
            text: DEFAULT_TEXT.to_owned(),
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    /// Requests answered (any status).
    pub answered: usize,
    /// Answers whose status was not 200.
    pub not_ok: usize,
    /// The first status other than 200, if any.
    pub first_bad_status: Option<u16>,
    /// Connections the server closed, after which a new one was opened.
    pub reconnects: usize,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// Latencies of all answered requests.
    pub latencies: Histogram,
}

impl LoadReport {
    /// Answered requests per second.
    pub fn per_second(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency below which the fraction `q` (0..=1) of the requests was answered.
    pub fn quantile(&self, q: f64) -> Duration {
        self.latencies.quantile(q)
    }
}

/// Why a run failed.
#[derive(Debug)]
pub enum LoadError {
    /// The server could not be started or reached.
    Connect(io::Error),
    /// A connection failed mid-request.
    Io(io::Error),
    /// A response could not be read: what was wrong with it.
    Malformed(&'static str),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Connect(e) => write!(f, "cannot connect: {e}"),
            LoadError::Io(e) => write!(f, "connection failed: {e}"),
            LoadError::Malformed(what) => write!(f, "malformed response: {what}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Runs the load and returns its report.
pub fn run_load(opts: &LoadOptions) -> Result<LoadReport, LoadError> {
    let local = match opts.addr {
        Some(_) => None,
        None => Some(Sim::start(Config::default()).map_err(LoadError::Connect)?),
    };
    let addr = match (&local, opts.addr) {
        (Some(sim), _) => sim.addr(),
        (None, Some(a)) => a,
        (None, None) => return Err(LoadError::Malformed("no address")),
    };
    // Keys and idempotency keys unique to this run, so that a long-running server replays
    // nothing from an earlier run.
    let run_id = crate::time::unix_now().as_nanos() as u64 ^ u64::from(std::process::id());
    let start = Instant::now();
    let workers: Vec<_> = (0..opts.connections)
        .map(|c| {
            let opts = opts.clone();
            thread::spawn(move || connection(addr, &opts, run_id, c))
        })
        .collect();
    let mut report = LoadReport {
        answered: 0,
        not_ok: 0,
        first_bad_status: None,
        reconnects: 0,
        elapsed: Duration::ZERO,
        latencies: Histogram::default(),
    };
    let mut first_error = None;
    for w in workers {
        match w.join() {
            Ok(Ok(part)) => {
                report.answered += part.answered;
                report.not_ok += part.not_ok;
                report.first_bad_status = report.first_bad_status.or(part.first_bad_status);
                report.reconnects += part.reconnects;
                report.latencies.merge(&part.latencies);
            }
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(_) => first_error = first_error.or(Some(LoadError::Malformed("worker panicked"))),
        }
    }
    report.elapsed = start.elapsed();
    drop(local);
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

fn connect(addr: SocketAddr) -> Result<TcpStream, LoadError> {
    let s = TcpStream::connect(addr).map_err(LoadError::Connect)?;
    // Requests are written whole; waiting for an ACK would add up to 40 ms per request.
    s.set_nodelay(true).map_err(LoadError::Connect)?;
    s.set_read_timeout(Some(READ_TIMEOUT))
        .map_err(LoadError::Connect)?;
    s.set_write_timeout(Some(READ_TIMEOUT))
        .map_err(LoadError::Connect)?;
    Ok(s)
}

/// One connection's requests.
fn connection(
    addr: SocketAddr,
    opts: &LoadOptions,
    run_id: u64,
    conn: usize,
) -> Result<LoadReport, LoadError> {
    let body = serde_json::json!({
        "model": "emotion-v2",
        "messages": [{ "role": "user", "content": { "text": opts.text } }],
    })
    .to_string();
    let mut report = LoadReport {
        answered: 0,
        not_ok: 0,
        first_bad_status: None,
        reconnects: 0,
        elapsed: Duration::ZERO,
        latencies: Histogram::default(),
    };
    let mut stream = connect(addr)?;
    let mut reader = Reader::default();
    let key_every = opts.key_every.max(1);
    let mut request = Vec::with_capacity(512 + body.len());
    for i in 0..opts.requests {
        request.clear();
        write!(
            request,
            "POST /v2/emotions/analysis HTTP/1.1\r\nHost: {addr}\r\nx-api-key: sk_load_{run_id:x}c{conn}k{}\r\n\
             Idempotency-Key: load-{run_id:x}-{conn}-{i}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            i / key_every,
            body.len()
        )
        .map_err(LoadError::Io)?;
        let sent = Instant::now();
        stream.write_all(&request).map_err(LoadError::Io)?;
        let answer = reader.response(&mut stream)?;
        report.latencies.record(sent.elapsed());
        report.answered += 1;
        if answer.status != 200 {
            report.not_ok += 1;
            report.first_bad_status = report.first_bad_status.or(Some(answer.status));
        }
        if answer.close && i + 1 < opts.requests {
            stream = connect(addr)?;
            reader = Reader::default();
            report.reconnects += 1;
        }
    }
    Ok(report)
}

/// What the generator needs of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Answer {
    status: u16,
    /// The server announced `Connection: close`.
    close: bool,
}

/// Reads `Content-Length`-framed responses, keeping bytes read past one for the next.
#[derive(Debug, Default)]
struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    fn fill(&mut self, stream: &mut impl Read) -> Result<(), LoadError> {
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).map_err(LoadError::Io)?;
        if n == 0 {
            return Err(LoadError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        Ok(())
    }

    fn response(&mut self, stream: &mut impl Read) -> Result<Answer, LoadError> {
        let head_len = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(LoadError::Malformed("head over 16 KiB"));
            }
            self.fill(stream)?;
        };
        let (answer, body_len) = parse_head(self.buf.get(..head_len).unwrap_or(&[]))?;
        let total = head_len + body_len;
        while self.buf.len() < total {
            self.fill(stream)?;
        }
        self.buf.drain(..total);
        Ok(answer)
    }
}

/// Status, `Connection: close` and the body length of a response head.
fn parse_head(head: &[u8]) -> Result<(Answer, usize), LoadError> {
    let text = std::str::from_utf8(head).map_err(|_| LoadError::Malformed("head not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(LoadError::Malformed("bad status line"))?;
    let mut len = None;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<usize>()
                .map_err(|_| LoadError::Malformed("bad Content-Length"))?;
            len = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(LoadError::Malformed("chunked analysis response"));
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let len = len.ok_or(LoadError::Malformed("no Content-Length"))?;
    if len > MAX_BODY {
        return Err(LoadError::Malformed("body over 1 MiB"));
    }
    Ok((Answer { status, close }, len))
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<LoadOptions>, String> {
    let mut opts = LoadOptions::default();
    let mut args = args;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let count = |what: &str| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("bad {what} `{value}`: a positive integer"))
        };
        match flag.as_str() {
            "--addr" => {
                opts.addr = Some(
                    value
                        .parse()
                        .map_err(|_| format!("bad address `{value}`"))?,
                );
            }
            "--connections" => {
                opts.connections = count("connection count")?;
                if opts.connections > MAX_CONNECTIONS {
                    return Err(format!(
                        "--connections {}: the simulator serves at most {MAX_CONNECTIONS} at once",
                        opts.connections
                    ));
                }
            }
            "--requests" => opts.requests = count("request count")?,
            "--key-every" => opts.key_every = count("--key-every")?,
            "--text" => opts.text = value,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(opts))
}

/// The `kaiko-sim-load` command line; returns the exit status: 0 when every answer was 200,
/// 1 when some were not or the run failed, 2 for a usage error.
pub fn run_load_cli(args: impl Iterator<Item = String>) -> i32 {
    let opts = match parse_args(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("kaiko-sim-load: {e}\n\n{USAGE}");
            return 2;
        }
    };
    let report = match run_load(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kaiko-sim-load: {e}");
            return 1;
        }
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} keep-alive connections x {} requests: {} answered in {:.2} s, {:.0} requests/s, \
         latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {} not 200, {} reconnects",
        opts.connections,
        opts.requests,
        report.answered,
        report.elapsed.as_secs_f64(),
        report.per_second(),
        ms(report.quantile(0.50)),
        ms(report.quantile(0.99)),
        ms(report.quantile(1.0)),
        report.not_ok,
        report.reconnects,
    );
    match report.first_bad_status {
        Some(status) => {
            eprintln!(
                "kaiko-sim-load: {} answers were not 200 (first: {status})",
                report.not_ok
            );
            1
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> impl Iterator<Item = String> {
        s.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_options() {
        let o = parse_args(args(
            "--addr 127.0.0.1:9 --connections 8 --requests=10 --key-every 1000",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.addr, Some(SocketAddr::from(([127, 0, 0, 1], 9))));
        assert_eq!((o.connections, o.requests, o.key_every), (8, 10, 1000));
        assert!(parse_args(args("-h")).unwrap().is_none());
        for bad in [
            "--connections 0",
            "--connections 65",
            "--requests x",
            "--addr nowhere",
            "--bogus 1",
            "--requests",
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_responses_split_anywhere() {
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 429 Too Many Requests\r\ncontent-length: 3\r\nConnection: close\r\n\r\n{ }";
        for cut in 1..two.len() {
            let (a, b) = two.split_at(cut);
            let mut stream = io::Cursor::new(a.to_vec()).chain(io::Cursor::new(b.to_vec()));
            let mut r = Reader::default();
            let first = r.response(&mut stream).unwrap();
            let second = r.response(&mut stream).unwrap();
            assert_eq!(
                (first, second),
                (
                    Answer {
                        status: 200,
                        close: false
                    },
                    Answer {
                        status: 429,
                        close: true
                    }
                ),
                "cut at {cut}"
            );
            assert!(r.buf.is_empty());
        }
    }

    #[test]
    fn refuses_what_it_cannot_frame() {
        for (head, what) in [
            (&b"HTTP/1.1 200 OK\r\n\r\n"[..], "no Content-Length"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                "chunked analysis response",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                "bad Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
                "body over 1 MiB",
            ),
            (b"HTTP/2 200\r\n\r\n", "bad status line"),
        ] {
            match parse_head(head) {
                Err(LoadError::Malformed(w)) => assert_eq!(w, what),
                other => panic!("{other:?}"),
            }
        }
        let mut endless = io::repeat(b'x');
        assert!(matches!(
            Reader::default().response(&mut endless),
            Err(LoadError::Malformed("head over 16 KiB"))
        ));
        let mut cut = io::Cursor::new(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}".to_vec());
        assert!(matches!(
            Reader::default().response(&mut cut),
            Err(LoadError::Io(_))
        ));
    }

    #[test]
    fn rate() {
        let r = LoadReport {
            answered: 4,
            not_ok: 0,
            first_bad_status: None,
            reconnects: 0,
            elapsed: Duration::from_secs(2),
            latencies: Histogram::default(),
        };
        assert!((r.per_second() - 2.0).abs() < 1e-9);
        assert_eq!(r.quantile(0.5), Duration::ZERO);
    }
}
