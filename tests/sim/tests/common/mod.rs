//! A tiny raw HTTP/1.1 client for the tests: exact bytes out, exact framing in.

#![allow(dead_code, unreachable_pub)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use kaiko_sim::SimHandle;
use serde_json::Value;

pub const KEY: &str = "kaiko_test_sim";

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub headers: Vec<(String, String)>,
    /// Decoded body (chunked framing removed).
    pub body: Vec<u8>,
    /// Raw bytes after the head, as received.
    pub raw_body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
    pub interim: Vec<u16>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the documented error envelope and returns it.
    pub fn error(&self, status: u16, kind: &str, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        let e = &v["error"];
        assert_eq!(e["type"], kind, "{v}");
        assert_eq!(e["code"], code, "{v}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        let rid = e["request_id"].as_str().expect("request_id");
        assert!(is_request_id(rid), "{rid}");
        assert_eq!(self.header("x-request-id"), Some(rid));
        e.clone()
    }
}

pub fn is_request_id(s: &str) -> bool {
    s.len() == 14
        && s.starts_with("req-")
        && s[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A client connection.
#[derive(Debug)]
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: sim\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes);
    }

    /// Reads more bytes into the buffer; Ok(0) at EOF.
    pub fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads until EOF or error; returns all bytes and the error, if any.
    pub fn read_to_end(&mut self) -> (Vec<u8>, Option<io::Error>) {
        loop {
            match self.fill() {
                Ok(0) => return (std::mem::take(&mut self.buf), None),
                Ok(_) => {}
                Err(e) => return (std::mem::take(&mut self.buf), Some(e)),
            }
        }
    }

    fn find(&self, from: usize, needle: &[u8]) -> Option<usize> {
        self.buf
            .get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    }

    /// Reads one head (through CRLF CRLF) and returns it.
    pub fn read_head(&mut self) -> io::Result<String> {
        loop {
            if let Some(i) = self.find(0, b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..i + 4).collect();
                return Ok(String::from_utf8_lossy(&head).into_owned());
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF in head"));
            }
        }
    }

    fn take_line(&mut self, raw: &mut Vec<u8>) -> io::Result<String> {
        loop {
            if let Some(i) = self.find(0, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                raw.extend_from_slice(&line);
                return Ok(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "EOF in chunk line",
                ));
            }
        }
    }

    fn take(&mut self, n: usize, raw: &mut Vec<u8>) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF in body"));
            }
        }
        let out: Vec<u8> = self.buf.drain(..n).collect();
        raw.extend_from_slice(&out);
        Ok(out)
    }

    /// Reads one complete response (1xx skipped and recorded).
    pub fn read_response(&mut self) -> io::Result<Resp> {
        let mut interim = Vec::new();
        let (status, head) = loop {
            let head = self.read_head()?;
            let status: u16 = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, head.clone()))?;
            if (100..200).contains(&status) {
                interim.push(status);
                continue;
            }
            break (status, head);
        };
        let headers: Vec<(String, String)> = head
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once(':').expect("header colon");
                (k.to_owned(), v.trim().to_owned())
            })
            .collect();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let mut raw = Vec::new();
        let mut body = Vec::new();
        let mut trailers = Vec::new();
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let line = self.take_line(&mut raw)?;
                let size = line.split(';').next().unwrap_or("").trim();
                let n = usize::from_str_radix(size, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, line.clone()))?;
                if n == 0 {
                    loop {
                        let t = self.take_line(&mut raw)?;
                        if t.is_empty() {
                            break;
                        }
                        let (k, v) = t.split_once(':').expect("trailer colon");
                        trailers.push((k.to_owned(), v.trim().to_owned()));
                    }
                    break;
                }
                body.extend(self.take(n, &mut raw)?);
                let crlf = self.take(2, &mut raw)?;
                assert_eq!(crlf, b"\r\n");
            }
        } else if let Some(len) = get("content-length") {
            let n: usize = len.parse().expect("content-length");
            body = self.take(n, &mut raw)?;
        } else if status == 204 || status == 304 {
        } else {
            let (rest, err) = self.read_to_end();
            if let Some(e) = err {
                return Err(e);
            }
            raw.extend_from_slice(&rest);
            body = rest;
        }
        Ok(Resp {
            status,
            head,
            headers,
            body,
            raw_body: raw,
            trailers,
            interim,
        })
    }

    /// Sends a request and reads the response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        self.send(method, path, headers, body);
        self.read_response().expect("response")
    }

    /// Whether the server closed the connection (EOF or reset with nothing more to read).
    pub fn is_closed(&mut self) -> bool {
        matches!(self.fill(), Ok(0) | Err(_))
    }
}

/// One request on a fresh connection with the test key.
pub fn call(sim: &SimHandle, method: &str, path: &str, extra: &[(&str, &str)], body: &str) -> Resp {
    let mut headers = vec![("x-api-key", KEY), ("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    Client::connect(sim.addr()).request(method, path, &headers, body.as_bytes())
}

pub fn post(sim: &SimHandle, path: &str, body: &str) -> Resp {
    call(sim, "POST", path, &[], body)
}

pub fn get(sim: &SimHandle, path: &str) -> Resp {
    call(sim, "GET", path, &[], "")
}

pub const FEAR: &str = r#"{"model":"emotion-v2","messages":[{"role":"user","content":{"text":"I feel a bit unsure about this"}}]}"#;

/// A key of the backend's `sk_<env>_…` shape (its authorizer refuses others).
pub const BACKEND_KEY: &str = "sk_test_sim0123456789abcdefABCDEF012345";

/// One request on a fresh connection with the backend-shaped key.
pub fn backend_call(
    sim: &SimHandle,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut headers = vec![
        ("x-api-key", BACKEND_KEY),
        ("Content-Type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    Client::connect(sim.addr()).request(method, path, &headers, body.as_bytes())
}
