//! Incremental HTTP/1.1 response-head parser (RFC 9112 §4–§6, RFC 9110 §5).
//!
//! [`HeadParser`] is a byte-driven state machine: it accepts the head in any fragmentation,
//! one byte at a time included, and buffers only one header name (32 bytes, longer names are
//! of no interest) and the value of a header it keeps (64 bytes). The result never depends on
//! how the input was split, and no input makes it panic.
//!
//! Within one slice it does not go byte by byte: a reason phrase or the value of a header it
//! does not keep is skipped in one scan, and with the `fast` feature a whole header line is
//! found (line end and colon eight bytes at a time) and interpreted at once, and name and
//! value runs are copied at once. The byte steps take over at the slice's edges and for any
//! line that is not plain (a control byte, HTAB, an invalid name), so they also decide every
//! error; the tests compare both paths.
//!
//! ```text
//!            ┌──────────── interim 1xx head: skipped ◀──────────┐
//!            ▼                                                   │
//! Start ─▶ Version ─▶ Status ─▶ Reason ─CRLF─▶ LineStart ─CRLF─▶ end of head ─▶ Done
//!                                                │    ▲
//!                                                ▼    │ CRLF
//!                                               Name ─:─▶ Value
//! ```
//!
//! Why not httparse: it needs the whole head in one contiguous buffer (up to `max_head` bytes
//! of RAM); this parser needs none. Measured cost (thumbv7em-none-eabihf, opt-level "z"):
//! about 2.3 KB of code, plus 1.9 KB for [`parse_http_date`](super::parse_http_date) (`Date`,
//! `Retry-After`); the parser's state is 352 bytes on a 64-bit host, 184 of them the
//! [`ResponseHead`] being filled.
//!
//! Invariants: at most `max_head` bytes of one head are consumed before
//! [`HeadError::TooLarge`]; bytes after the final empty line are never consumed; errors are
//! sticky (every later call returns the same error until [`HeadParser::reset`]).
//!
//! ```
//! use kaiko_core::http::{Framing, HeadParser, DEFAULT_MAX_HEAD};
//! let mut p = HeadParser::new(DEFAULT_MAX_HEAD);
//! let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
//! let (n, head) = p.parse(&wire[..30]).unwrap();
//! assert_eq!((n, head), (30, None));
//! let (m, head) = p.parse(&wire[30..]).unwrap();
//! let head = head.unwrap();
//! assert_eq!((head.status, head.framing), (200, Framing::Length(2)));
//! assert_eq!(&wire[30 + m..], b"{}");
//! ```

use core::fmt;
use core::num::NonZeroU32;

use super::{ContentType, Framing, ResponseHead, RetryAfter, parse_http_date};
#[cfg(feature = "fast")]
use crate::text::copy_bytes;

/// Default bound on the bytes of one response head (status line and header lines).
pub const DEFAULT_MAX_HEAD: usize = 8 * 1024;

/// Interim (1xx) responses skipped before [`HeadError::TooManyInterim`]: a server has no reason
/// to send more than a couple, and the bound keeps a misbehaving one from stalling a call.
const MAX_INTERIM: u8 = 8;
/// Header names longer than this are none of the ones kept.
const NAME_CAP: usize = 32;
/// Values of kept headers are buffered up to this length.
const VALUE_CAP: usize = 64;

/// Why a response head was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HeadError {
    /// The head is longer than the parser's `max_head`.
    TooLarge,
    /// More interim (1xx) responses than the parser skips (8).
    TooManyInterim,
    /// The status line is not `HTTP/1.x NNN [reason]` with a status of 100–999.
    BadStatusLine,
    /// A header line is malformed: no colon, whitespace before the colon, an invalid name
    /// character, obs-fold (a line starting with whitespace) or a bare CR.
    BadHeader,
    /// `Content-Length` is not a decimal number that fits a `u64`, or has differing values.
    BadContentLength,
    /// `Transfer-Encoding` lists no coding, applies `chunked` twice, or comes in an HTTP/1.0
    /// response (RFC 9112 §6.1).
    BadTransferEncoding,
    /// A header value contains a control character (RFC 9110 §5.5).
    BadHeaderValue,
    /// `101 Switching Protocols`, which the client never asks for.
    UnexpectedSwitch,
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeadError::TooLarge => "response head too large",
            HeadError::TooManyInterim => "too many interim responses",
            HeadError::BadStatusLine => "malformed status line",
            HeadError::BadHeader => "malformed header line",
            HeadError::BadContentLength => "invalid Content-Length",
            HeadError::BadTransferEncoding => "invalid Transfer-Encoding",
            HeadError::BadHeaderValue => "control character in a header value",
            HeadError::UnexpectedSwitch => "unexpected 101 Switching Protocols",
        })
    }
}

impl core::error::Error for HeadError {}

/// The headers the parser keeps (matched on the lower-cased name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Field {
    Other,
    ContentLength,
    TransferEncoding,
    Connection,
    ContentType,
    Date,
    RetryAfter,
    RetryAfterMs,
    RateLimitLimit,
    RateLimitRemaining,
    RateLimitReset,
    RequestId,
    Deprecation,
    /// `Sunset`: deprecated, and its date is kept.
    Sunset,
    /// `Link`: the first one is kept (feature `details`).
    #[cfg(feature = "details")]
    Link,
}

const FIELDS: &[(&[u8], Field)] = &[
    (b"content-length", Field::ContentLength),
    (b"transfer-encoding", Field::TransferEncoding),
    (b"connection", Field::Connection),
    (b"content-type", Field::ContentType),
    (b"date", Field::Date),
    (b"retry-after", Field::RetryAfter),
    (b"retry-after-ms", Field::RetryAfterMs),
    (b"x-ratelimit-limit", Field::RateLimitLimit),
    (b"x-ratelimit-remaining", Field::RateLimitRemaining),
    (b"x-ratelimit-reset", Field::RateLimitReset),
    (b"x-request-id", Field::RequestId),
    (b"request-id", Field::RequestId),
    (b"x-amzn-requestid", Field::RequestId),
    (b"apigw-requestid", Field::RequestId),
    (b"deprecation", Field::Deprecation),
    (b"kaiko-deprecation", Field::Deprecation),
    (b"sunset", Field::Sunset),
    #[cfg(feature = "details")]
    (b"link", Field::Link),
];

impl Field {
    /// The field named `name`, in any case (the names above are lower-case letters and `-`,
    /// which `| 0x20` leaves as they are; no other tchar becomes one of them).
    fn from_name(name: &[u8]) -> Field {
        FIELDS
            .iter()
            .find(|(n, _)| {
                n.len() == name.len() && n.iter().zip(name).all(|(&a, &b)| a == b | 0x20)
            })
            .map_or(Field::Other, |(_, f)| *f)
    }

    /// Comma-separated lists (RFC 9110 §5.6.1), processed element by element so their total
    /// length is not bounded by the value buffer.
    fn is_list(self) -> bool {
        matches!(
            self,
            Field::ContentLength | Field::TransferEncoding | Field::Connection
        )
    }
}

/// Which line a CR ends (the LF that must follow completes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Line {
    Leading,
    Status,
    Header,
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum State {
    /// Before the status line; empty lines are skipped.
    Start,
    /// This many bytes of `HTTP/1.` matched.
    Version(u8),
    Minor,
    VersionSp,
    /// This many status digits read.
    Status(u8),
    AfterStatus,
    Reason,
    LineStart,
    Name,
    Value,
    /// Saw a CR; an LF must follow.
    Lf(Line),
    Done,
    Failed(HeadError),
}

/// Everything collected from one head; reset for each interim response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Fields {
    head: ResponseHead,
    http10: bool,
    name: [u8; NAME_CAP],
    name_len: usize,
    field: Field,
    val: [u8; VALUE_CAP],
    val_len: usize,
    val_overflow: bool,
    content_length: Option<u64>,
    te_present: bool,
    te_any: bool,
    te_chunked: u8,
    te_chunked_last: bool,
    conn_close: bool,
    conn_keep_alive: bool,
    request_id_seen: bool,
}

impl Fields {
    const NEW: Fields = Fields {
        head: ResponseHead::new(0),
        http10: false,
        name: [0; NAME_CAP],
        name_len: 0,
        field: Field::Other,
        val: [0; VALUE_CAP],
        val_len: 0,
        val_overflow: false,
        content_length: None,
        te_present: false,
        te_any: false,
        te_chunked: 0,
        te_chunked_last: false,
        conn_close: false,
        conn_keep_alive: false,
        request_id_seen: false,
    };
}

/// Incremental parser of one HTTP/1.x response head, interim 1xx responses skipped.
///
/// Call [`parse`](Self::parse) with the bytes received; it returns how many it consumed and,
/// once the final empty line of a non-1xx head was consumed, the [`ResponseHead`]. Feed the
/// rest of the input to a [`BodyDecoder`](super::BodyDecoder) built from
/// [`ResponseHead::framing`]. For the next response on the same connection, call
/// [`reset`](Self::reset).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeadParser {
    max_head: usize,
    state: State,
    seen: usize,
    interim: u8,
    f: Fields,
}

impl HeadParser {
    /// A parser that rejects heads longer than `max_head` bytes (see [`DEFAULT_MAX_HEAD`]).
    pub const fn new(max_head: usize) -> Self {
        HeadParser {
            max_head,
            state: State::Start,
            seen: 0,
            interim: 0,
            f: Fields::NEW,
        }
    }

    /// Consumes bytes of the response head. Returns how many bytes were consumed and, once the
    /// final CRLF of a non-1xx head was consumed, the head. Bytes after the head are NOT
    /// consumed. Interim 1xx responses (e.g. 100 Continue) are consumed and skipped entirely.
    /// After `Some(head)` the parser is finished (later calls consume nothing and return
    /// `None`); [`reset`](Self::reset) makes it ready for a new response.
    ///
    /// Not enough bytes yet is `Ok((input.len(), None))`, never an error.
    pub fn parse(&mut self, input: &[u8]) -> Result<(usize, Option<ResponseHead>), HeadError> {
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            match self.state {
                State::Done => return Ok((i, None)),
                State::Failed(e) => return Err(e),
                _ => {}
            }
            if self.seen >= self.max_head {
                return Err(self.fail(HeadError::TooLarge));
            }
            let room = self.max_head - self.seen;
            let rest = input.get(i..).unwrap_or(&[]);
            let bulk = self.bulk(rest.get(..room).unwrap_or(rest));
            match bulk {
                Ok(0) => {}
                Ok(n) => {
                    self.seen += n;
                    i += n;
                    continue;
                }
                Err(e) => return Err(self.fail(e)),
            }
            self.seen += 1;
            i += 1;
            match self.step(b) {
                Ok(true) => return Ok((i, Some(self.f.head))),
                Ok(false) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        match self.state {
            State::Failed(e) => Err(e),
            _ => Ok((input.len(), None)),
        }
    }

    /// In a state where plain bytes change nothing but the position.
    fn skipping(&self) -> bool {
        match self.state {
            State::Reason => true,
            State::Value => matches!(self.f.field, Field::Other | Field::Deprecation),
            _ => false,
        }
    }

    /// Bytes taken at once from `rest` (at most the room left in the head) before the byte
    /// steps: 0 for none. With the `fast` feature, a whole status line prefix or header line,
    /// or a run of name or value bytes; without it, a run of bytes that only advance the
    /// position (a reason phrase, the value of a header not kept). The byte steps take over at
    /// the slice's edges and for anything unusual, so the outcome never depends on the split.
    #[cfg(feature = "fast")]
    fn bulk(&mut self, rest: &[u8]) -> Result<usize, HeadError> {
        match self.state {
            State::LineStart => {
                // Line after line while they are whole in `rest`.
                let mut taken = 0;
                loop {
                    let n = self.header_line(rest.get(taken..).unwrap_or(&[]))?;
                    if n == 0 {
                        return Ok(taken);
                    }
                    taken += n;
                }
            }
            State::Start => self.status_prefix(rest),
            _ if self.skipping() => Ok(find_control(rest).unwrap_or(rest.len())),
            State::Name => Ok(self.name_run(rest)),
            State::Value => Ok(self.value_run(rest)),
            _ => Ok(0),
        }
    }

    /// See the `fast` version above.
    #[cfg(not(feature = "fast"))]
    fn bulk(&mut self, rest: &[u8]) -> Result<usize, HeadError> {
        if !self.skipping() {
            return Ok(0);
        }
        Ok(rest
            .iter()
            .take_while(|&&c| matches!(c, b'\t' | 0x20..=0x7e | 0x80..=0xff))
            .count())
    }

    #[cfg(feature = "fast")]
    /// `HTTP/1.x NNN` (a status of 100–999) at the start of a status line, all in `rest`:
    /// consumes those 12 bytes and leaves the rest of the line to the byte steps. 0 when
    /// `rest` holds anything else.
    fn status_prefix(&mut self, rest: &[u8]) -> Result<usize, HeadError> {
        let Some(&[h0, h1, h2, h3, h4, h5, h6, minor, sp, d0, d1, d2]) = rest.first_chunk() else {
            return Ok(0);
        };
        if [h0, h1, h2, h3, h4, h5, h6] != *b"HTTP/1."
            || !minor.is_ascii_digit()
            || sp != b' '
            || ![d0, d1, d2].iter().all(u8::is_ascii_digit)
        {
            return Ok(0);
        }
        let digit = |d: u8| u16::from(d.wrapping_sub(b'0'));
        let status = digit(d0) * 100 + digit(d1) * 10 + digit(d2);
        if status < 100 {
            return Ok(0);
        }
        self.f.http10 = minor == b'0';
        self.f.head.status = status;
        self.state = State::AfterStatus;
        Ok(12)
    }

    #[cfg(feature = "fast")]
    /// A whole header line in `rest` (name, colon, a value free of control characters, CRLF or
    /// LF), interpreted at once. 0 when `rest` does not hold one: the line is left to the byte
    /// steps, which also produce its errors.
    fn header_line(&mut self, rest: &[u8]) -> Result<usize, HeadError> {
        let Some(end) = find_control(rest) else {
            return Ok(0);
        };
        let (line, len) = match (rest.get(end), rest.get(end + 1)) {
            (Some(b'\n'), _) => (rest.get(..end).unwrap_or(&[]), end + 1),
            (Some(b'\r'), Some(b'\n')) => (rest.get(..end).unwrap_or(&[]), end + 2),
            _ => return Ok(0),
        };
        let Some(colon) = find_byte(line, b':') else {
            return Ok(0);
        };
        let name = line.get(..colon).unwrap_or(&[]);
        let value = line.get(colon.saturating_add(1)..).unwrap_or(&[]);
        let field = if name.len() > NAME_CAP {
            Field::Other
        } else {
            Field::from_name(name)
        };
        // A name equal to a kept one is made of tchar (the line has no control bytes); any
        // other is checked byte by byte.
        if name.is_empty() || field == Field::Other && !name.iter().all(|&b| is_tchar(b)) {
            return Ok(0);
        }
        let f = &mut self.f;
        f.field = field;
        if f.field == Field::TransferEncoding {
            f.te_present = true;
        }
        if f.field.is_list() {
            for element in value.split(|&b| b == b',') {
                let (v, overflow) = buffered(element);
                finish_element(f, v, overflow)?;
            }
        } else if f.field != Field::Other {
            let (v, overflow) = buffered(value);
            finish_field(f, v, overflow)?;
        }
        Ok(len)
    }

    #[cfg(feature = "fast")]
    /// The tchar bytes at the start of `rest`, pushed to the name as [`push_name`] would.
    fn name_run(&mut self, rest: &[u8]) -> usize {
        let run = rest
            .iter()
            .position(|&b| !is_tchar(b))
            .unwrap_or(rest.len());
        let f = &mut self.f;
        let room = f.name.get_mut(f.name_len..).unwrap_or(&mut []);
        for (slot, b) in room.iter_mut().zip(rest.get(..run).unwrap_or(&[])) {
            *slot = b.to_ascii_lowercase();
        }
        f.name_len = f.name_len.saturating_add(run).min(NAME_CAP + 1);
        run
    }

    #[cfg(feature = "fast")]
    /// The bytes at the start of `rest` that a kept value only buffers (no control byte,
    /// no `,` in a list), pushed as [`push_value`] would.
    fn value_run(&mut self, rest: &[u8]) -> usize {
        let mut run = rest
            .get(..find_control(rest).unwrap_or(rest.len()))
            .unwrap_or(&[]);
        if self.f.field.is_list()
            && let Some(comma) = run.iter().position(|&b| b == b',')
        {
            run = run.get(..comma).unwrap_or(&[]);
        }
        let len = run.len();
        let f = &mut self.f;
        if f.val_len == 0 {
            while let [b' ' | b'\t', rest @ ..] = run {
                run = rest;
            }
        }
        let room = f.val.get_mut(f.val_len..).unwrap_or(&mut []);
        let taken = copy_bytes(room, run);
        f.val_len += taken;
        let lost = run.get(taken..).unwrap_or(&[]);
        if lost.iter().any(|&b| b != b' ' && b != b'\t') {
            f.val_overflow = true;
        }
        len
    }

    /// Forgets everything: the parser is ready for the next response on the connection.
    pub fn reset(&mut self) {
        *self = HeadParser::new(self.max_head);
    }

    /// Bytes of the current (non-interim) head consumed so far, for diagnostics.
    pub fn bytes_seen(&self) -> usize {
        self.seen
    }

    fn fail(&mut self, e: HeadError) -> HeadError {
        self.state = State::Failed(e);
        e
    }

    /// One byte; `Ok(true)` when it completed the final head.
    fn step(&mut self, b: u8) -> Result<bool, HeadError> {
        const VERSION: &[u8; 7] = b"HTTP/1.";
        let f = &mut self.f;
        self.state = match self.state {
            State::Start => match b {
                // Robustness: empty lines before the status line are skipped (RFC 9112 §2.2).
                b'\r' => State::Lf(Line::Leading),
                b'\n' => State::Start,
                b'H' => State::Version(1),
                _ => return Err(HeadError::BadStatusLine),
            },
            State::Version(n) => match VERSION.get(usize::from(n)) {
                Some(&want) if want == b => match n + 1 {
                    7 => State::Minor,
                    n => State::Version(n),
                },
                _ => return Err(HeadError::BadStatusLine),
            },
            State::Minor => match b {
                // HTTP/1.1 and later minor versions share 1.1's rules (RFC 9110 §2.5).
                b'0'..=b'9' => {
                    f.http10 = b == b'0';
                    State::VersionSp
                }
                _ => return Err(HeadError::BadStatusLine),
            },
            State::VersionSp => match b {
                b' ' => State::Status(0),
                _ => return Err(HeadError::BadStatusLine),
            },
            State::Status(n) => match b {
                b'0'..=b'9' => {
                    let status = f
                        .head
                        .status
                        .saturating_mul(10)
                        .saturating_add(u16::from(b - b'0'));
                    f.head.status = status;
                    match n + 1 {
                        3 if status < 100 => return Err(HeadError::BadStatusLine),
                        3 => State::AfterStatus,
                        n => State::Status(n),
                    }
                }
                _ => return Err(HeadError::BadStatusLine),
            },
            // The reason phrase is optional, and so, in practice, is the SP before it.
            State::AfterStatus => match b {
                b' ' => State::Reason,
                b'\r' => State::Lf(Line::Status),
                b'\n' => State::LineStart,
                _ => return Err(HeadError::BadStatusLine),
            },
            State::Reason => match b {
                b'\r' => State::Lf(Line::Status),
                b'\n' => State::LineStart,
                _ => State::Reason,
            },
            State::LineStart => match b {
                b'\r' => State::Lf(Line::Final),
                b'\n' => return self.end_of_head(),
                _ if is_tchar(b) => {
                    f.name_len = 0;
                    push_name(f, b);
                    State::Name
                }
                // Includes SP/HTAB: obs-fold is rejected (RFC 9112 §5.2).
                _ => return Err(HeadError::BadHeader),
            },
            State::Name => match b {
                b':' => {
                    let name = f.name.get(..f.name_len).unwrap_or(&[]);
                    f.field = if f.name_len > NAME_CAP {
                        Field::Other
                    } else {
                        Field::from_name(name)
                    };
                    f.val_len = 0;
                    f.val_overflow = false;
                    if f.field == Field::TransferEncoding {
                        f.te_present = true;
                    }
                    State::Value
                }
                _ if is_tchar(b) => {
                    push_name(f, b);
                    State::Name
                }
                // Whitespace before the colon must be rejected (RFC 9112 §5.1).
                _ => return Err(HeadError::BadHeader),
            },
            State::Value => match b {
                b'\r' => State::Lf(Line::Header),
                b'\n' => {
                    finish_buffered_field(f)?;
                    State::LineStart
                }
                // RFC 9110 §5.5: CR, LF and NUL must not appear in values; other controls
                // are not field-vchar either.
                0..=0x08 | 0x0a..=0x1f | 0x7f => return Err(HeadError::BadHeaderValue),
                b',' if f.field.is_list() => {
                    finish_buffered_element(f)?;
                    State::Value
                }
                _ => {
                    if f.field != Field::Other && f.field != Field::Deprecation {
                        push_value(f, b);
                    }
                    State::Value
                }
            },
            State::Lf(line) => match (b, line) {
                (b'\n', Line::Leading) => State::Start,
                (b'\n', Line::Status) => State::LineStart,
                (b'\n', Line::Header) => {
                    finish_buffered_field(f)?;
                    State::LineStart
                }
                (b'\n', Line::Final) => return self.end_of_head(),
                (_, Line::Leading | Line::Status) => return Err(HeadError::BadStatusLine),
                (_, Line::Header | Line::Final) => return Err(HeadError::BadHeader),
            },
            State::Done | State::Failed(_) => self.state,
        };
        Ok(false)
    }

    /// The empty line ending a head: skip an interim response or settle the framing.
    fn end_of_head(&mut self) -> Result<bool, HeadError> {
        let status = self.f.head.status;
        if status == 101 {
            return Err(HeadError::UnexpectedSwitch);
        }
        if (100..200).contains(&status) {
            self.interim = self.interim.saturating_add(1);
            if self.interim > MAX_INTERIM {
                return Err(HeadError::TooManyInterim);
            }
            self.f = Fields::NEW;
            self.seen = 0;
            self.state = State::Start;
            return Ok(false);
        }
        let f = &mut self.f;
        // RFC 9112 §6.3: 204 and 304 never have content, whatever the headers say.
        let empty = status == 204 || status == 304;
        if f.te_present && !empty {
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing;
            // chunked must not be applied twice; an empty list names no coding at all.
            if f.http10 || !f.te_any || f.te_chunked > 1 {
                return Err(HeadError::BadTransferEncoding);
            }
        }
        // RFC 9112 §6.3, in order: no content; Transfer-Encoding (its final coding decides,
        // Content-Length is ignored); Content-Length; else read until close.
        f.head.framing = if empty {
            Framing::Empty
        } else if f.te_present {
            if f.te_chunked_last {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else if let Some(n) = f.content_length {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        };
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        // A close-delimited body ends the connection; TE together with CL may be smuggling
        // (RFC 9112 §6.3 item 3), so that connection is not reused either.
        f.head.keep_alive = (if f.http10 { f.conn_keep_alive } else { true })
            && !f.conn_close
            && f.head.framing != Framing::UntilClose
            && !(f.te_present && f.content_length.is_some());
        self.state = State::Done;
        Ok(true)
    }
}

fn push_name(f: &mut Fields, b: u8) {
    if let Some(slot) = f.name.get_mut(f.name_len) {
        *slot = b.to_ascii_lowercase();
    }
    f.name_len = f.name_len.saturating_add(1).min(NAME_CAP + 1);
}

/// Buffers a value byte: leading OWS skipped, bytes past the capacity dropped and noted
/// (trailing OWS past the capacity is not a loss, it would be trimmed anyway).
fn push_value(f: &mut Fields, b: u8) {
    let ows = b == b' ' || b == b'\t';
    if f.val_len == 0 && ows {
        return;
    }
    match f.val.get_mut(f.val_len) {
        Some(slot) => {
            *slot = b;
            f.val_len += 1;
        }
        None if !ows => f.val_overflow = true,
        None => {}
    }
}

/// The buffered value (or list element), trailing OWS trimmed.
fn value(val: &[u8], len: usize) -> &[u8] {
    let mut v = val.get(..len).unwrap_or(&[]);
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(feature = "fast")]
/// What the value buffer holds after `raw` (a value or list element without its line end)
/// was pushed byte by byte, trailing OWS trimmed, and whether bytes were lost: the bulk path's
/// equivalent of [`push_value`] then [`value`].
fn buffered(raw: &[u8]) -> (&[u8], bool) {
    let mut v = raw;
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    let kept = value(v, VALUE_CAP.min(v.len()));
    let overflow = value(v, v.len()).len() > VALUE_CAP;
    (kept, overflow)
}

/// [`finish_element`] on the buffered element, which it then clears.
fn finish_buffered_element(f: &mut Fields) -> Result<(), HeadError> {
    let val = f.val;
    let r = finish_element(f, value(&val, f.val_len), f.val_overflow);
    f.val_len = 0;
    f.val_overflow = false;
    r
}

/// [`finish_field`] on the buffered value.
fn finish_buffered_field(f: &mut Fields) -> Result<(), HeadError> {
    let val = f.val;
    let r = finish_field(f, value(&val, f.val_len), f.val_overflow);
    f.val_len = 0;
    f.val_overflow = false;
    r
}

/// One element of a list header (CL, TE, Connection), at a comma or the end of the line:
/// `v` with OWS trimmed, `overflow` when bytes past the value buffer were lost.
fn finish_element(f: &mut Fields, v: &[u8], overflow: bool) -> Result<(), HeadError> {
    match f.field {
        Field::ContentLength => {
            // RFC 9110 §8.6: a list of identical values may be taken as one; differing
            // values, empty elements and non-digits are errors.
            let n = if overflow { None } else { parse_u64(v) };
            match (n, f.content_length) {
                (None, _) => return Err(HeadError::BadContentLength),
                (Some(n), Some(old)) if n != old => return Err(HeadError::BadContentLength),
                (Some(n), _) => f.content_length = Some(n),
            }
        }
        // Empty list elements are ignored (RFC 9110 §5.6.1).
        Field::TransferEncoding if !v.is_empty() => {
            let chunked = !overflow && v.eq_ignore_ascii_case(b"chunked");
            f.te_any = true;
            f.te_chunked_last = chunked;
            if chunked {
                f.te_chunked = f.te_chunked.saturating_add(1);
            }
        }
        Field::Connection if !overflow => {
            if v.eq_ignore_ascii_case(b"close") {
                f.conn_close = true;
            } else if v.eq_ignore_ascii_case(b"keep-alive") {
                f.conn_keep_alive = true;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The end of a header line (`v` and `overflow` as for [`finish_element`]). Bad values of
/// informational headers are ignored: a garbled rate-limit header never fails a response.
fn finish_field(f: &mut Fields, v: &[u8], overflow: bool) -> Result<(), HeadError> {
    if f.field.is_list() {
        return finish_element(f, v, overflow);
    }
    let head = &mut f.head;
    match f.field {
        Field::ContentType => head.content_type = content_type(v, overflow),
        Field::Date if !overflow => {
            if let Some(t) = parse_http_date(v) {
                head.date = Some(t);
            }
        }
        // RFC 9110 §10.2.3: delta-seconds or an HTTP-date.
        Field::RetryAfter if !overflow => {
            if let Some(s) = parse_u64_saturating(v) {
                head.retry_after = Some(RetryAfter::Seconds(u32::try_from(s).unwrap_or(u32::MAX)));
            } else if let Some(t) = parse_http_date(v) {
                head.retry_after = Some(RetryAfter::Date(t));
            }
        }
        Field::RetryAfterMs if !overflow => {
            if let Some(ms) = parse_u64_saturating(v) {
                head.retry_after_ms = Some(ms);
            }
        }
        Field::RateLimitLimit if !overflow => {
            if let Some(n) = parse_u64(v).and_then(|n| u32::try_from(n).ok()) {
                head.rate_limit.limit = Some(n);
            }
        }
        Field::RateLimitRemaining if !overflow => {
            if let Some(n) = parse_u64(v).and_then(|n| u32::try_from(n).ok()) {
                head.rate_limit.remaining = Some(n);
            }
        }
        Field::RateLimitReset if !overflow => {
            if let Some(n) = parse_u64(v) {
                head.rate_limit.reset = Some(n);
            }
        }
        Field::RequestId if !f.request_id_seen && !v.is_empty() => {
            f.request_id_seen = true;
            head.request_id.push_bytes(v);
            if overflow {
                head.request_id.mark_truncated();
            }
        }
        Field::Deprecation => head.deprecated = true,
        // RFC 8594 §3: an HTTP-date; a value that is not one still marks the deprecation.
        #[cfg(feature = "details")]
        Field::Link if head.link.is_empty() && !v.is_empty() => {
            head.link.push_bytes(v);
            if overflow {
                head.link.mark_truncated();
            }
        }
        Field::Sunset => {
            head.deprecated = true;
            if !overflow {
                let date = parse_http_date(v).and_then(|t| u32::try_from(t).ok());
                head.sunset = date.and_then(NonZeroU32::new).or(head.sunset);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The media type before any parameters, case-insensitively (RFC 9110 §8.3.1). A value
/// longer than the buffer is still classified if its parameters start within it.
fn content_type(v: &[u8], overflow: bool) -> ContentType {
    let semicolon = v.iter().position(|&b| b == b';');
    let Some(end) = semicolon.or(if overflow { None } else { Some(v.len()) }) else {
        return ContentType::Other;
    };
    let mut t = v.get(..end).unwrap_or(&[]);
    while let [rest @ .., b' ' | b'\t'] = t {
        t = rest;
    }
    let ends_json = t.len() > 5
        && t.get(t.len() - 5..)
            .is_some_and(|s| s.eq_ignore_ascii_case(b"+json"));
    if t.eq_ignore_ascii_case(b"application/json") || (ends_json && t.contains(&b'/')) {
        ContentType::Json
    } else if t.eq_ignore_ascii_case(b"text/event-stream") {
        ContentType::EventStream
    } else if t.eq_ignore_ascii_case(b"text/html") {
        ContentType::Html
    } else {
        ContentType::Other
    }
}

/// Decimal digits only; `None` when empty, not digits, or over `u64::MAX`.
fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Decimal digits only; saturates at `u64::MAX`.
fn parse_u64_saturating(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, &b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(feature = "fast")]
/// The index of the first control character (below 0x20, HTAB included) or DEL in `s`: the
/// end of a run of bytes that may appear inside a reason phrase or a field value and end
/// nothing (RFC 9110 §5.5, RFC 9112 §4). A run stopped by an HTAB is resumed by the caller.
///
/// Eight bytes at a time: a byte `b` is flagged when `b - 0x20` borrows (`b < 0x20`) or
/// `b ^ 0x7f` is zero. A borrow only flags bytes above a flagged one, so the lowest flag is
/// the first such byte.
fn find_control(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let x = u64::from_le_bytes(bytes);
        let del = x ^ (ONES * 0x7f);
        let flags = (x.wrapping_sub(ONES * 0x20) & !x | del.wrapping_sub(ONES) & !del) & HIGH;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| b < 0x20 || b == 0x7f)
        .map(|p| at + p)
}

#[cfg(feature = "fast")]
/// The index of the first `needle` in `s`, eight bytes at a time (a zero byte of
/// `word ^ needle` flagged as in [`find_control`]).
fn find_byte(s: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let x = u64::from_le_bytes(bytes) ^ (ONES * u64::from(needle));
        let flags = x.wrapping_sub(ONES) & !x & HIGH;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&b| b == needle).map(|p| at + p)
}

/// tchar (RFC 9110 §5.6.2): one bit per ASCII byte.
fn is_tchar(b: u8) -> bool {
    const fn table() -> [u64; 2] {
        let mut t = [0u64; 2];
        let mut b = 0;
        while b < 128 {
            let c = b as u8;
            if c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-'
                )
                || matches!(c, b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
            {
                t[b / 64] |= 1 << (b % 64);
            }
            b += 1;
        }
        t
    }
    const TCHAR: [u64; 2] = table();
    TCHAR
        .get(usize::from(b >> 6))
        .is_some_and(|w| w >> (b & 63) & 1 != 0)
}

#[cfg(test)]
mod tests;
