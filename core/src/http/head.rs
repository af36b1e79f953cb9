//! Incremental HTTP/1.1 response-head parser (RFC 9112 §4–§6, RFC 9110 §5).
//!
//! [`HeadParser`] is a byte-driven state machine: it accepts the head in any fragmentation,
//! one byte at a time included, and buffers only the header line being read, in one 64-byte
//! buffer: its name until the colon (32 bytes: longer names are of no interest), then its
//! value if the header is kept. The result never depends on how the input was split, and no
//! input makes it panic.
//!
//! It does not go byte by byte: a reason phrase or the value of a header it does not keep is
//! skipped in one scan. With the `fast` feature, header lines are taken whole (colon and line
//! end found eight bytes at a time, kept names by one hash lookup and compare) and
//! interpreted in place; a line cut by the end of a slice continues in the next one the same
//! way, its name or value appended to the buffer and an unkept value skipped in one scan.
//! The byte steps take over for anything that is not plain (a control byte, an invalid name
//! byte, a CR at a slice's end), so they also decide every error; the tests compare both
//! paths at every split.
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
//! of RAM); this parser needs none. Measured cost (thumbv7em-none-eabihf, opt-level "z",
//! without `fast`): about 2.2 KB of code, plus 0.7 KB for
//! [`parse_http_date`](super::parse_http_date) (`Date`, `Retry-After`, `Sunset`); the
//! parser's state is 280 bytes there (288 on a 64-bit host), 176 of them the
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

use super::{ContentType, Framing, RateLimit, ResponseHead, RetryAfter, parse_http_date};

/// Default bound on the bytes of one response head (status line and header lines).
pub const DEFAULT_MAX_HEAD: usize = 8 * 1024;

/// Interim (1xx) responses skipped before [`HeadError::TooManyInterim`]: a server has no reason
/// to send more than a couple, and the bound keeps a misbehaving one from stalling a call.
const MAX_INTERIM: u8 = 8;
/// Header names longer than this are none of the ones kept.
const NAME_CAP: usize = 32;
/// Values of kept headers are buffered up to this length.
const VALUE_CAP: usize = 64;
/// With the `fast` feature, fewer bytes than this left in a slice go to the byte steps
/// (measured: pieces of 1 to 4 bytes parse fastest so).
#[cfg(feature = "fast")]
const SHORT_RUN: usize = 4;

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

/// The headers the parser keeps (matched on the name in any case).
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

/// The kept names, lower-case. Only the tables built from it below are in the image: the
/// names one after the other, without pointers or lengths, and a hash table of their indices.
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

/// [`FIELDS`]' names one after the other.
const NAMES: [u8; names_len()] = names();
/// Where each name starts in [`NAMES`], and where the last one ends.
const STARTS: [u8; FIELDS.len() + 1] = starts();
/// [`FIELDS`]' fields.
const KINDS: [Field; FIELDS.len()] = kinds();
/// The index in [`FIELDS`] of the name in each [`slot`], `u8::MAX` for none.
const SLOTS: [u8; 32] = slots();

/// Where a name of `len` bytes starting with `first` and ending with `penult` and one more
/// byte goes in [`SLOTS`], in any case. No two kept names share a slot (checked when the
/// table is built), so one comparison tells whether a name is kept.
const fn slot(len: usize, first: u8, penult: u8) -> usize {
    (len + 6 * (first | 0x20) as usize + (penult | 0x20) as usize) % 32
}

const fn names_len() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        n += FIELDS[i].0.len();
        i += 1;
    }
    n
}

const fn names() -> [u8; names_len()] {
    let mut out = [0; names_len()];
    let mut at = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        at = crate::packed::append(&mut out, at, FIELDS[i].0);
        i += 1;
    }
    out
}

const fn starts() -> [u8; FIELDS.len() + 1] {
    assert!(names_len() <= u8::MAX as usize);
    let mut out = [0; FIELDS.len() + 1];
    let mut i = 0;
    while i < FIELDS.len() {
        // None longer than the name buffer, none shorter than the word compare needs.
        assert!(FIELDS[i].0.len() <= NAME_CAP && FIELDS[i].0.len() >= 4);
        out[i + 1] = out[i] + FIELDS[i].0.len() as u8;
        i += 1;
    }
    out
}

const fn kinds() -> [Field; FIELDS.len()] {
    let mut out = [Field::Other; FIELDS.len()];
    let mut i = 0;
    while i < FIELDS.len() {
        out[i] = FIELDS[i].1;
        i += 1;
    }
    out
}

const fn slots() -> [u8; 32] {
    let mut out = [u8::MAX; 32];
    let mut i = 0;
    while i < FIELDS.len() {
        let name = FIELDS[i].0;
        let at = slot(name.len(), name[0], name[name.len() - 2]);
        assert!(out[at] == u8::MAX, "two kept names share a slot");
        out[at] = i as u8;
        i += 1;
    }
    out
}

impl Field {
    /// The field named `name` (in the input), compared eight bytes at a time.
    #[cfg(feature = "fast")]
    fn from_name(name: &[u8]) -> Field {
        Self::lookup(name, eq_folded)
    }

    /// The field named `a` then `b` (in the input), each part compared eight bytes at a time.
    #[cfg(feature = "fast")]
    fn from_split_name(a: &[u8], b: &[u8]) -> Field {
        let n = a.len() + b.len();
        let first = a.first().or(b.first());
        let penult = match b.len() {
            0 => a.len().checked_sub(2).and_then(|i| a.get(i)),
            1 => a.last(),
            _ => b.get(b.len() - 2),
        };
        let (Some(&first), Some(&penult)) = (first, penult) else {
            return Field::Other;
        };
        let Some((kept, kind)) = Self::kept(n, first, penult) else {
            return Field::Other;
        };
        match kept.split_at_checked(a.len()) {
            Some((ka, kb)) if eq_folded(ka, a) && eq_folded(kb, b) => kind,
            _ => Field::Other,
        }
    }

    /// The field named `name` just written to the line buffer, compared byte by byte: a wide
    /// load of bytes stored a few at a time stalls until they are written.
    fn from_buffered_name(name: &[u8]) -> Field {
        Self::lookup(name, |kept, name| {
            kept.iter().zip(name).all(|(&a, &b)| a == b | 0x20)
        })
    }

    /// The field named `name`, in any case (the names are lower-case letters and `-`, which
    /// `| 0x20` leaves as they are; no other tchar becomes one of them): the one kept name in
    /// its slot, if `eq` says it is `name`.
    fn lookup(name: &[u8], eq: impl Fn(&[u8], &[u8]) -> bool) -> Field {
        let [first, .., penult, _] = *name else {
            return Field::Other;
        };
        match Self::kept(name.len(), first, penult) {
            Some((kept, kind)) if eq(kept, name) => kind,
            _ => Field::Other,
        }
    }

    /// The one kept name of `len` bytes in the slot of its first and last-but-one byte, and
    /// its field; `None` when no kept name has that slot and length.
    #[inline(always)]
    fn kept(len: usize, first: u8, penult: u8) -> Option<(&'static [u8], Field)> {
        let i = usize::from(SLOTS[slot(len, first, penult)]);
        let (Some(&start), Some(&end), Some(&kind)) =
            (STARTS.get(i), STARTS.get(i + 1), KINDS.get(i))
        else {
            return None;
        };
        let kept = NAMES.get(usize::from(start)..usize::from(end))?;
        (kept.len() == len).then_some((kept, kind))
    }

    /// Comma-separated lists (RFC 9110 §5.6.1), processed element by element so their total
    /// length is not bounded by the value buffer.
    fn is_list(self) -> bool {
        matches!(
            self,
            Field::ContentLength | Field::TransferEncoding | Field::Connection
        )
    }

    /// Whether the value is interpreted (buffered), not only the header's presence.
    fn keeps_value(self) -> bool {
        !matches!(self, Field::Other | Field::Deprecation)
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

/// A head before its first byte is read. Framing and keep-alive are settled at the end of the
/// head: zeros until then, which are cheaper to write. Built field by field (a `const` would
/// be copied whole from flash).
pub(crate) const fn blank_head() -> ResponseHead {
    ResponseHead {
        framing: Framing::Empty,
        keep_alive: false,
        ..ResponseHead::new(0)
    }
}

/// Makes `head` a [`blank_head`] (out of line: one copy of the clearing for every caller).
/// Field by field, the texts emptied in place: their bytes past the length are zero already,
/// so only what was used is cleared, not the whole 8-aligned head.
#[inline(never)]
pub(crate) fn clear_head(head: &mut ResponseHead) {
    // Destructured: a new field of the head is a compile error here until it is cleared.
    let ResponseHead {
        status,
        framing,
        keep_alive,
        content_type,
        date,
        retry_after,
        retry_after_ms,
        rate_limit,
        request_id,
        deprecated,
        sunset,
        #[cfg(feature = "details")]
        link,
    } = head;
    *status = 0;
    *framing = Framing::Empty;
    *keep_alive = false;
    *content_type = ContentType::Missing;
    *date = None;
    *retry_after = None;
    *retry_after_ms = None;
    *rate_limit = RateLimit {
        limit: None,
        remaining: None,
        reset: None,
    };
    request_id.clear();
    *deprecated = false;
    *sunset = None;
    #[cfg(feature = "details")]
    link.clear();
}

/// What one head's headers said about its framing and connection, beyond the
/// [`ResponseHead`] itself; reset for each interim response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Fields {
    content_length: Option<u64>,
    http10: bool,
    te_present: bool,
    te_any: bool,
    te_chunked: u8,
    te_chunked_last: bool,
    conn_close: bool,
    conn_keep_alive: bool,
    request_id_seen: bool,
}

impl Fields {
    /// Built field by field (a `const` would be copied whole from flash).
    const fn new() -> Fields {
        Fields {
            content_length: None,
            http10: false,
            te_present: false,
            te_any: false,
            te_chunked: 0,
            te_chunked_last: false,
            conn_close: false,
            conn_keep_alive: false,
            request_id_seen: false,
        }
    }
}

/// The header line being read: its name until the colon, then which field it is and its
/// value (or the current list element). One buffer serves both, as the name is not needed
/// once the field is known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct LineBuf {
    buf: [u8; VALUE_CAP],
    /// Bytes of the name (up to `NAME_CAP + 1`: longer names are none of the kept ones), then
    /// of the value.
    len: u8,
    /// Value bytes past the buffer were lost.
    overflow: bool,
    field: Field,
}

impl LineBuf {
    /// A name byte (names are matched in any case, so it is stored as it is). A byte past
    /// `NAME_CAP` may be stored too: such a name is none of the kept ones anyway.
    fn push_name(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
        }
        if usize::from(self.len) <= NAME_CAP {
            self.len += 1;
        }
    }

    /// [`push_name`](Self::push_name) for each byte of `name`, copied at once.
    #[cfg(feature = "fast")]
    fn append_name(&mut self, name: &[u8]) {
        let len = usize::from(self.len);
        let room = self.buf.get_mut(len..NAME_CAP).unwrap_or(&mut []);
        crate::text::copy_short(room, name);
        // At most `NAME_CAP + 1`.
        self.len = len.saturating_add(name.len()).min(NAME_CAP + 1) as u8;
    }

    /// The field the buffered name names.
    fn name_field(&self) -> Field {
        let len = usize::from(self.len);
        match self.buf.get(..len) {
            Some(name) if len <= NAME_CAP => Field::from_buffered_name(name),
            _ => Field::Other,
        }
    }

    /// The colon after the name: the buffer now holds the value of `field`.
    fn begin_value(&mut self, f: &mut Fields, field: Field) {
        self.field = field;
        if field == Field::TransferEncoding {
            f.te_present = true;
        }
        self.len = 0;
        self.overflow = false;
    }

    /// Buffers a value byte: leading OWS skipped, bytes past the capacity dropped and noted
    /// (trailing OWS past the capacity is not a loss, it would be trimmed anyway).
    fn push_value(&mut self, b: u8) {
        let ows = b == b' ' || b == b'\t';
        if self.len == 0 && ows {
            return;
        }
        match self.buf.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None if !ows => self.overflow = true,
            None => {}
        }
    }

    /// [`push_value`](Self::push_value) for each byte of `bytes`, copied at once.
    #[cfg(feature = "fast")]
    fn push_run(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if self.len == 0 {
            while let [b' ' | b'\t', rest @ ..] = bytes {
                bytes = rest;
            }
        }
        let room = self.buf.get_mut(usize::from(self.len)..).unwrap_or(&mut []);
        let taken = crate::text::copy_short(room, bytes);
        // `taken` fits the 64-byte buffer.
        self.len = self.len.saturating_add(taken as u8);
        let lost = bytes.get(taken..).unwrap_or(&[]);
        if lost.iter().any(|&b| b != b' ' && b != b'\t') {
            self.overflow = true;
        }
    }

    /// Ends the buffered value (`element`: the list element) and hands it to
    /// [`finish_element`] or [`finish_field`]; the buffer is then empty.
    fn finish(
        &mut self,
        f: &mut Fields,
        head: &mut ResponseHead,
        element: bool,
    ) -> Result<(), HeadError> {
        let v = value(&self.buf, self.len);
        let r = finish_value(f, head, self.field, v, self.overflow, element);
        self.len = 0;
        self.overflow = false;
        r
    }

    /// [`finish`](Self::finish) with `last` as the value's final bytes. Bytes that end the
    /// value where it started are interpreted in place, not copied.
    #[cfg(feature = "fast")]
    #[inline(always)]
    fn finish_with(
        &mut self,
        f: &mut Fields,
        head: &mut ResponseHead,
        last: &[u8],
        element: bool,
    ) -> Result<(), HeadError> {
        if self.len == 0 {
            // Nothing buffered (so nothing lost either): the buffer stays as it is.
            let (v, overflow) = buffered(last);
            return finish_value(f, head, self.field, v, overflow, element);
        }
        self.push_run(last);
        self.finish(f, head, element)
    }

    /// Value bytes free of control characters other than HTAB (`ends`: the line ends right
    /// after them): list elements finished at each comma, the rest buffered or finished.
    #[cfg(feature = "fast")]
    // Inlined, as are `value_run`, `finish_with`, `finish_value` and `finish_field` with
    // `fast`: a call to each for every line cost more time than the shared code saves
    // (measured).
    #[inline(always)]
    fn value_bytes(
        &mut self,
        f: &mut Fields,
        head: &mut ResponseHead,
        run: &[u8],
        ends: bool,
    ) -> Result<(), HeadError> {
        if !self.field.keeps_value() {
            // Only the presence of `Deprecation` counts.
            return if ends && self.field != Field::Other {
                self.finish(f, head, false)
            } else {
                Ok(())
            };
        }
        let mut run = run;
        if self.field.is_list() {
            while let Some(comma) = find_byte(run, b',') {
                let (element, rest) = run.split_at_checked(comma).unwrap_or((run, &[]));
                self.finish_with(f, head, element, true)?;
                run = rest.get(1..).unwrap_or(&[]);
            }
        }
        if ends {
            self.finish_with(f, head, run, false)
        } else {
            self.push_run(run);
            Ok(())
        }
    }
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
    reader: HeadReader,
    head: ResponseHead,
}

impl HeadParser {
    /// A parser that rejects heads longer than `max_head` bytes (see [`DEFAULT_MAX_HEAD`]).
    pub const fn new(max_head: usize) -> Self {
        HeadParser {
            reader: HeadReader::new(max_head),
            head: blank_head(),
        }
    }

    /// Consumes bytes of the response head. Returns how many bytes were consumed and, once the
    /// final CRLF of a non-1xx head was consumed, the head. Bytes after the head are NOT
    /// consumed. Interim 1xx responses (e.g. 100 Continue) are consumed and skipped entirely.
    /// After `Some(head)` the parser is finished (later calls consume nothing and return
    /// `None`); [`reset`](Self::reset) makes it ready for a new response.
    ///
    /// Not enough bytes yet is `Ok((input.len(), None))`, never an error.
    // Inlined: the head is copied once, straight to where the caller keeps it.
    #[inline]
    pub fn parse(&mut self, input: &[u8]) -> Result<(usize, Option<ResponseHead>), HeadError> {
        let (n, head) = self.parse_in_place(input)?;
        Ok((n, head.copied()))
    }

    /// [`parse`](Self::parse), the finished head lent instead of copied out: the caller
    /// copies what it keeps, once, where it keeps it. The head stays in the parser until
    /// [`reset`](Self::reset).
    pub fn parse_in_place(
        &mut self,
        input: &[u8],
    ) -> Result<(usize, Option<&ResponseHead>), HeadError> {
        let (n, done) = self.reader.parse_into(&mut self.head, input)?;
        Ok((n, done.then_some(&self.head)))
    }

    /// Forgets everything: the parser is ready for the next response on the connection.
    pub fn reset(&mut self) {
        *self = HeadParser::new(self.reader.max_head);
    }

    /// Bytes of the current (non-interim) head consumed so far, for diagnostics.
    pub fn bytes_seen(&self) -> usize {
        self.reader.seen
    }
}

/// [`HeadParser`] without the head it fills: the head is the caller's, so that a call keeps
/// one head for the whole response instead of copying it out of the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct HeadReader {
    max_head: usize,
    seen: usize,
    state: State,
    interim: u8,
    f: Fields,
    line: LineBuf,
}

impl HeadReader {
    /// A reader that rejects heads longer than `max_head` bytes; the head it fills must start
    /// as [`blank_head`].
    pub(crate) const fn new(max_head: usize) -> Self {
        HeadReader {
            max_head,
            seen: 0,
            state: State::Start,
            interim: 0,
            f: Fields::new(),
            line: LineBuf {
                buf: [0; VALUE_CAP],
                len: 0,
                overflow: false,
                field: Field::Other,
            },
        }
    }

    /// [`HeadParser::parse`], filling `head` in place: bytes consumed, and whether they
    /// completed the head.
    pub(crate) fn parse_into(
        &mut self,
        head: &mut ResponseHead,
        input: &[u8],
    ) -> Result<(usize, bool), HeadError> {
        match self.consume(head, input) {
            Ok(r) => Ok(r),
            Err(e) => {
                // Sticky: every later call returns it.
                self.state = State::Failed(e);
                Err(e)
            }
        }
    }

    /// [`parse_into`](Self::parse_into) before a failure is made sticky.
    fn consume(
        &mut self,
        head: &mut ResponseHead,
        input: &[u8],
    ) -> Result<(usize, bool), HeadError> {
        let mut i = 0;
        loop {
            match self.state {
                State::Done => return Ok((i, false)),
                State::Failed(e) => return Err(e),
                _ => {}
            }
            let rest = input.get(i..).unwrap_or(&[]);
            if rest.is_empty() {
                return Ok((input.len(), false));
            }
            if self.seen >= self.max_head {
                return Err(HeadError::TooLarge);
            }
            let room = self.max_head - self.seen;
            let rest = rest.get(..room).unwrap_or(rest);
            let n = self.bulk(head, rest)?;
            self.seen += n;
            i += n;
            // The byte the bulk path left, if any: the byte steps decide it.
            let Some(&b) = rest.get(n) else {
                continue;
            };
            self.seen += 1;
            i += 1;
            if self.step(head, b)? {
                return Ok((i, true));
            }
        }
    }

    /// Bytes taken at once from the start of `rest` (at most the room left in the head) before
    /// the byte steps take the next one: without the `fast` feature, a run of bytes that only
    /// advance the position (a reason phrase, the value of a header not kept).
    #[cfg(not(feature = "fast"))]
    fn bulk(&mut self, _head: &mut ResponseHead, rest: &[u8]) -> Result<usize, HeadError> {
        let skipping = match self.state {
            State::Reason => true,
            State::Value => !self.line.field.keeps_value(),
            _ => false,
        };
        if !skipping {
            return Ok(0);
        }
        Ok(rest
            .iter()
            .take_while(|&&c| matches!(c, b'\t' | 0x20..=0x7e | 0x80..=0xff))
            .count())
    }

    /// With the `fast` feature: the status line's version and status, the reason phrase, and
    /// header lines, whole or in part (a line begun in an earlier slice continues where it
    /// stopped: its name or value bytes are appended, an unkept value skipped), until a byte
    /// that is not plain (CR without LF, a control byte, an invalid name byte) or the end of
    /// `rest`. The byte steps take over there, and so they decide every error; the outcome
    /// never depends on the split.
    #[cfg(feature = "fast")]
    fn bulk(&mut self, head: &mut ResponseHead, rest: &[u8]) -> Result<usize, HeadError> {
        let mut at = 0;
        loop {
            let s = rest.get(at..).unwrap_or(&[]);
            if s.len() < SHORT_RUN {
                // A few bytes cost less to step through than to scan.
                return Ok(at);
            }
            let n = match self.state {
                State::LineStart => self.line_start(head, s)?,
                State::Value => self.value_run(head, s)?,
                State::Name => self.name_run(head, s)?,
                State::Start => self.status_prefix(head, s),
                State::AfterStatus if s.first() == Some(&b' ') => {
                    self.state = State::Reason;
                    1
                }
                State::Reason => self.reason_run(s),
                _ => 0,
            };
            if n == 0 {
                return Ok(at);
            }
            at += n;
        }
    }

    #[cfg(feature = "fast")]
    /// `HTTP/1.x NNN` (a status of 100–999) at the start of a status line, all in `s`:
    /// consumes those 12 bytes, and the reason phrase as [`reason_run`](Self::reason_run)
    /// takes it if an SP follows. 0 when `s` holds anything else.
    fn status_prefix(&mut self, head: &mut ResponseHead, s: &[u8]) -> usize {
        let Some(&[h0, h1, h2, h3, h4, h5, h6, minor, sp, d0, d1, d2]) = s.first_chunk() else {
            return 0;
        };
        if [h0, h1, h2, h3, h4, h5, h6] != *b"HTTP/1."
            || !minor.is_ascii_digit()
            || sp != b' '
            || ![d0, d1, d2].iter().all(u8::is_ascii_digit)
        {
            return 0;
        }
        let digit = |d: u8| u16::from(d.wrapping_sub(b'0'));
        let status = digit(d0) * 100 + digit(d1) * 10 + digit(d2);
        if status < 100 {
            return 0;
        }
        self.f.http10 = minor == b'0';
        head.status = status;
        self.state = State::AfterStatus;
        // The reason phrase right away, when the SP before it follows.
        match s.get(12..) {
            Some([b' ', reason @ ..]) => {
                self.state = State::Reason;
                13 + self.reason_run(reason)
            }
            _ => 12,
        }
    }

    #[cfg(feature = "fast")]
    /// The reason phrase up to its first control byte, and the line end if it follows.
    fn reason_run(&mut self, s: &[u8]) -> usize {
        let end = find_control(s).unwrap_or(s.len());
        match line_end(s, end) {
            0 => end,
            n => {
                self.state = State::LineStart;
                end + n
            }
        }
    }

    #[cfg(feature = "fast")]
    /// A header line from its start: the name up to the colon (or the end of `s`), then the
    /// value as [`value_run`](Self::value_run) takes it. 0 when the name is empty, is not
    /// made of tchar, or ends in a control byte: the byte steps reject those.
    fn line_start(&mut self, head: &mut ResponseHead, s: &[u8]) -> Result<usize, HeadError> {
        if matches!(s.first(), Some(b'\r' | b'\n')) {
            // The empty line ending the head: the byte steps take it.
            return Ok(0);
        }
        // Only the colon is searched for: a line holds one, and a name with a control byte
        // is none of the kept ones and fails the tchar check.
        let end = find_byte(s, b':').unwrap_or(s.len());
        let (name, after) = s.split_at_checked(end).unwrap_or((s, &[]));
        if after.is_empty() {
            // The name goes on in the next slice: it is looked up once whole.
            if name.is_empty() || !is_token(name) {
                return Ok(0);
            }
            self.line.len = 0;
            self.line.append_name(name);
            self.state = State::Name;
            return Ok(end);
        }
        let field = if name.len() > NAME_CAP {
            Field::Other
        } else {
            Field::from_name(name)
        };
        // A name equal to a kept one is made of tchar (it holds no control byte); any other
        // is checked.
        if name.is_empty() || field == Field::Other && !is_token(name) {
            return Ok(0);
        }
        match after.first() {
            Some(b':') => {
                self.line.begin_value(&mut self.f, field);
                self.state = State::Value;
                let value = after.get(1..).unwrap_or(&[]);
                Ok(end + 1 + self.value_run(head, value)?)
            }
            _ => Ok(0),
        }
    }

    #[cfg(feature = "fast")]
    /// The tchar bytes at the start of `s`, appended to the name, then the colon and the
    /// value if they follow.
    fn name_run(&mut self, head: &mut ResponseHead, s: &[u8]) -> Result<usize, HeadError> {
        // Up to the colon at once when all of it is tchar, as names are.
        let end = find_colon_or_control(s).unwrap_or(s.len());
        let run = match s.get(..end) {
            Some(name) if is_token(name) => end,
            _ => s.iter().position(|&b| !is_tchar(b)).unwrap_or(s.len()),
        };
        let part = s.get(..run).unwrap_or(&[]);
        let line = &mut self.line;
        if s.get(run) != Some(&b':') {
            line.append_name(part);
            return Ok(run);
        }
        // Looked up from the two parts where they are: the buffered one was stored in an
        // earlier call, and no wide load waits for bytes stored a few at a time.
        let field = match line.buf.get(..usize::from(line.len)) {
            Some(prefix) if prefix.len() + part.len() <= NAME_CAP => {
                Field::from_split_name(prefix, part)
            }
            _ => Field::Other,
        };
        line.begin_value(&mut self.f, field);
        self.state = State::Value;
        let value = s.get(run + 1..).unwrap_or(&[]);
        Ok(run + 1 + self.value_run(head, value)?)
    }

    #[cfg(feature = "fast")]
    /// Value bytes up to the first control byte other than HTAB, or the end of `s`, then the
    /// line end if it follows (the field is finished and the next line begins). An unkept
    /// value is skipped in one scan.
    // Once per line: see `LineBuf::value_bytes`.
    #[inline(always)]
    fn value_run(&mut self, head: &mut ResponseHead, s: &[u8]) -> Result<usize, HeadError> {
        let end = find_control_except_tab(s).unwrap_or(s.len());
        let (run, stop) = s.split_at_checked(end).unwrap_or((s, &[]));
        // The CRLF that servers send is tested first, as a branch: where the next line
        // starts does not wait for the bytes of the line end.
        let eol = if stop.first_chunk() == Some(b"\r\n") {
            2
        } else {
            line_end(s, end)
        };
        self.line.value_bytes(&mut self.f, head, run, eol > 0)?;
        if eol > 0 {
            self.state = State::LineStart;
        }
        Ok(end + eol)
    }

    /// Bytes of the current (non-interim) head consumed so far, for diagnostics.
    pub(crate) fn bytes_seen(&self) -> usize {
        self.seen
    }

    /// One byte; `Ok(true)` when it completed the final head.
    fn step(&mut self, head: &mut ResponseHead, b: u8) -> Result<bool, HeadError> {
        const VERSION: &[u8; 7] = b"HTTP/1.";
        let f = &mut self.f;
        let line = &mut self.line;
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
                    // At most three digits: 999 at most, no overflow.
                    let status = head
                        .status
                        .wrapping_mul(10)
                        .wrapping_add(u16::from(b - b'0'));
                    head.status = status;
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
                b'\n' => return self.end_of_head(head),
                _ if is_tchar(b) => {
                    line.len = 0;
                    line.push_name(b);
                    State::Name
                }
                // Includes SP/HTAB: obs-fold is rejected (RFC 9112 §5.2).
                _ => return Err(HeadError::BadHeader),
            },
            State::Name => match b {
                b':' => {
                    line.begin_value(f, line.name_field());
                    State::Value
                }
                _ if is_tchar(b) => {
                    line.push_name(b);
                    State::Name
                }
                // Whitespace before the colon must be rejected (RFC 9112 §5.1).
                _ => return Err(HeadError::BadHeader),
            },
            State::Value => match b {
                b'\r' => State::Lf(Line::Header),
                b'\n' => {
                    line.finish(f, head, false)?;
                    State::LineStart
                }
                // RFC 9110 §5.5: CR, LF and NUL must not appear in values; other controls
                // are not field-vchar either.
                0..=0x08 | 0x0a..=0x1f | 0x7f => return Err(HeadError::BadHeaderValue),
                b',' if line.field.is_list() => {
                    line.finish(f, head, true)?;
                    State::Value
                }
                _ => {
                    if line.field.keeps_value() {
                        line.push_value(b);
                    }
                    State::Value
                }
            },
            State::Lf(kind) => match (b, kind) {
                (b'\n', Line::Leading) => State::Start,
                (b'\n', Line::Status) => State::LineStart,
                (b'\n', Line::Header) => {
                    line.finish(f, head, false)?;
                    State::LineStart
                }
                (b'\n', Line::Final) => return self.end_of_head(head),
                (_, Line::Leading | Line::Status) => return Err(HeadError::BadStatusLine),
                (_, Line::Header | Line::Final) => return Err(HeadError::BadHeader),
            },
            State::Done | State::Failed(_) => self.state,
        };
        Ok(false)
    }

    /// The empty line ending a head: skip an interim response or settle the framing.
    fn end_of_head(&mut self, head: &mut ResponseHead) -> Result<bool, HeadError> {
        let status = head.status;
        if status == 101 {
            return Err(HeadError::UnexpectedSwitch);
        }
        if (100..200).contains(&status) {
            self.interim = self.interim.saturating_add(1);
            if self.interim > MAX_INTERIM {
                return Err(HeadError::TooManyInterim);
            }
            // Reset in place: a new parser would be built on the stack and copied.
            self.f = Fields::new();
            clear_head(head);
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
        head.framing = if empty {
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
        head.keep_alive = (if f.http10 { f.conn_keep_alive } else { true })
            && !f.conn_close
            && head.framing != Framing::UntilClose
            && !(f.te_present && f.content_length.is_some());
        self.state = State::Done;
        Ok(true)
    }
}

/// The buffered value (or list element), trailing OWS trimmed.
fn value(val: &[u8], len: u8) -> &[u8] {
    trim_end(val.get(..usize::from(len)).unwrap_or(&[]))
}

/// `v` without trailing OWS.
fn trim_end(v: &[u8]) -> &[u8] {
    let mut v = v;
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(feature = "fast")]
/// What the value buffer holds after `raw` (a value or list element without its line end)
/// was pushed to an empty buffer, trailing OWS trimmed, and whether bytes were lost: the
/// same as [`LineBuf::push_run`] then [`value`], without the copy.
fn buffered(raw: &[u8]) -> (&[u8], bool) {
    // The one SP servers send after the colon is dropped without a loop, and a value that
    // does not end in OWS is not scanned for it.
    let mut v = match raw {
        [b' ', rest @ ..] => rest,
        _ => raw,
    };
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    let v = match v {
        [.., b' ' | b'\t'] => trim_end(v),
        _ => v,
    };
    match v.split_at_checked(VALUE_CAP) {
        Some((kept, lost)) => (value(kept, VALUE_CAP as u8), !lost.is_empty()),
        None => (v, false),
    }
}

/// [`finish_element`] (`element`) or [`finish_field`].
// Once per line: see `LineBuf::value_bytes`.
#[cfg_attr(feature = "fast", inline(always))]
fn finish_value(
    f: &mut Fields,
    head: &mut ResponseHead,
    field: Field,
    v: &[u8],
    overflow: bool,
    element: bool,
) -> Result<(), HeadError> {
    if element {
        finish_element(f, field, v, overflow)
    } else {
        finish_field(f, head, field, v, overflow)
    }
}

/// One element of a list header (CL, TE, Connection), at a comma or the end of the line:
/// `v` with OWS trimmed, `overflow` when bytes past the value buffer were lost.
fn finish_element(f: &mut Fields, field: Field, v: &[u8], overflow: bool) -> Result<(), HeadError> {
    match field {
        Field::ContentLength => {
            // RFC 9110 §8.6: a list of identical values may be taken as one; differing
            // values, empty elements and non-digits are errors.
            let n = if overflow { None } else { parse_u64(v, false) };
            match (n, f.content_length) {
                (None, _) => return Err(HeadError::BadContentLength),
                (Some(n), Some(old)) if n != old => return Err(HeadError::BadContentLength),
                (Some(n), _) => f.content_length = Some(n),
            }
        }
        // Empty list elements are ignored (RFC 9110 §5.6.1).
        Field::TransferEncoding if !v.is_empty() => {
            let chunked = !overflow && is_folded(v, b"chunked");
            f.te_any = true;
            f.te_chunked_last = chunked;
            if chunked {
                f.te_chunked = f.te_chunked.saturating_add(1);
            }
        }
        Field::Connection if !overflow => {
            if is_folded(v, b"close") {
                f.conn_close = true;
            } else if is_folded(v, b"keep-alive") {
                f.conn_keep_alive = true;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The end of a header line (`v` and `overflow` as for [`finish_element`]). Bad values of
/// informational headers are ignored: a garbled rate-limit header never fails a response.
// Once per line: see `LineBuf::value_bytes`.
#[cfg_attr(feature = "fast", inline(always))]
fn finish_field(
    f: &mut Fields,
    head: &mut ResponseHead,
    field: Field,
    v: &[u8],
    overflow: bool,
) -> Result<(), HeadError> {
    if field.is_list() {
        return finish_element(f, field, v, overflow);
    }
    // Numbers and dates cut at the buffer are not interpreted; each is read only for the
    // fields that hold one.
    let number = |saturate| {
        if overflow {
            None
        } else {
            parse_u64(v, saturate)
        }
    };
    let date = || if overflow { None } else { parse_http_date(v) };
    // Unix seconds and counts are kept in 32 bits, as in `ResponseHead`: that keeps the head
    // and the outcomes that carry it 4-aligned on 32-bit targets. A time to wait for past
    // 2106 saturates (still far beyond any retry cap); a reference date there is not kept.
    let small = |n: u64| u32::try_from(n).ok();
    let saturated = |t: u64| u32::try_from(t).unwrap_or(u32::MAX);
    match field {
        Field::ContentType => head.content_type = content_type(v, overflow),
        Field::Date => {
            if let Some(t) = date().and_then(small) {
                head.date = Some(t);
            }
        }
        // RFC 9110 §10.2.3: delta-seconds or an HTTP-date.
        Field::RetryAfter => {
            if let Some(s) = number(true) {
                head.retry_after = Some(RetryAfter::Seconds(saturated(s)));
            } else if let Some(t) = date() {
                head.retry_after = Some(RetryAfter::Date(saturated(t)));
            }
        }
        Field::RetryAfterMs => {
            if let Some(n) = number(true) {
                head.retry_after_ms = Some(saturated(n));
            }
        }
        Field::RateLimitLimit => {
            if let Some(n) = number(false).and_then(small) {
                head.rate_limit.limit = Some(n);
            }
        }
        Field::RateLimitRemaining => {
            if let Some(n) = number(false).and_then(small) {
                head.rate_limit.remaining = Some(n);
            }
        }
        Field::RateLimitReset => {
            if let Some(n) = number(false) {
                head.rate_limit.reset = Some(saturated(n));
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
        #[cfg(feature = "details")]
        Field::Link if head.link.is_empty() && !v.is_empty() => {
            head.link.push_bytes(v);
            if overflow {
                head.link.mark_truncated();
            }
        }
        // RFC 8594 §3: an HTTP-date; a value that is not one still marks the deprecation.
        Field::Sunset => {
            head.deprecated = true;
            head.sunset = date()
                .and_then(small)
                .and_then(NonZeroU32::new)
                .or(head.sunset);
        }
        _ => {}
    }
    Ok(())
}

/// The media type before any parameters, case-insensitively (RFC 9110 §8.3.1). A value
/// longer than the buffer is still classified if its parameters start within it.
// `contains` is a word-at-a-time search, three times the code of a plain scan.
#[allow(clippy::manual_contains)]
fn content_type(v: &[u8], overflow: bool) -> ContentType {
    #[cfg(feature = "fast")]
    let semicolon = find_byte(v, b';');
    #[cfg(not(feature = "fast"))]
    let semicolon = v.iter().position(|&b| b == b';');
    let Some(end) = semicolon.or(if overflow { None } else { Some(v.len()) }) else {
        return ContentType::Other;
    };
    let t = trim_end(v.get(..end).unwrap_or(&[]));
    let structured_json = t.split_last_chunk::<5>().is_some_and(|(kind, suffix)| {
        is_folded(suffix, b"+json") && kind.iter().any(|&b| b == b'/')
    });
    if structured_json || is_folded(t, b"application/json") {
        ContentType::Json
    } else if is_folded(t, b"text/event-stream") {
        ContentType::EventStream
    } else if is_folded(t, b"text/html") {
        ContentType::Html
    } else {
        ContentType::Other
    }
}

/// Whether `v` is `lower` (lower-case letters and bytes below 0x40) in any case: with the
/// `fast` feature, a word at a time.
fn is_folded(v: &[u8], lower: &[u8]) -> bool {
    #[cfg(feature = "fast")]
    return v.len() == lower.len() && eq_folded(lower, v);
    #[cfg(not(feature = "fast"))]
    v.eq_ignore_ascii_case(lower)
}

/// Decimal digits only; `None` when empty or not digits. Past `u64::MAX`: `None`, or
/// `u64::MAX` when `saturate`.
fn parse_u64(v: &[u8], saturate: bool) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    // Nineteen digits never overflow: no check per digit.
    #[cfg(feature = "fast")]
    if v.len() <= 19 {
        return v.iter().try_fold(0u64, |n, &b| {
            let d = b.wrapping_sub(b'0');
            (d <= 9).then_some(n * 10 + u64::from(d))
        });
    }
    let mut n = 0u64;
    for &b in v {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d))) {
            Some(n) => n,
            None if saturate => u64::MAX,
            None => return None,
        };
    }
    Some(n)
}

#[cfg(feature = "fast")]
/// Whether `name` is the first `name.len()` bytes of `kept` (lower-case letters and `-`) in
/// any case. Only bytes from 0x40 up are folded (`| 0x20`), so that no byte but a letter
/// or `-` matches: a name it accepts is made of tchar.
fn eq_folded(kept: &[u8], name: &[u8]) -> bool {
    eq_folded_words(kept, name).unwrap_or_else(|| {
        kept.iter()
            .zip(name)
            .all(|(&a, &b)| a == b | (b & 0x40) >> 1)
    })
}

#[cfg(feature = "fast")]
/// [`eq_folded`] eight (or four) bytes at a time, the last word overlapping the one before;
/// `None` for names shorter than four bytes.
fn eq_folded_words(kept: &[u8], name: &[u8]) -> Option<bool> {
    fn word<const N: usize>(s: &[u8], at: usize) -> Option<[u8; N]> {
        s.get(at..)?.first_chunk().copied()
    }
    let n = name.len();
    let kept = kept.get(..n)?;
    if let (Some(a), Some(b)) = (kept.last_chunk::<8>(), name.last_chunk::<8>()) {
        let fold = |w: &[u8; 8]| {
            let x = u64::from_le_bytes(*w);
            x | (x & (ONES * 0x40)) >> 1
        };
        // The differences of every word gathered, one branch for all (four words at most:
        // kept names are 32 bytes at most, the values compared shorter).
        let mut diff = u64::from_le_bytes(*a) ^ fold(b);
        // Offsets, not `chunks_exact` zipped: its length is a division the firmware path
        // must not link (a panic on a zero chunk size).
        let mut at = 0;
        while at + 8 < n {
            let (Some(a), Some(b)) = (word::<8>(kept, at), word::<8>(name, at)) else {
                break;
            };
            diff |= u64::from_le_bytes(a) ^ fold(&b);
            at += 8;
        }
        return Some(diff == 0);
    }
    if n < 4 {
        return None;
    }
    let (a, b) = (word::<4>(kept, 0)?, word::<4>(name, 0)?);
    let (c, d) = (word::<4>(kept, n - 4)?, word::<4>(name, n - 4)?);
    let fold = |w: [u8; 4]| {
        let x = u32::from_le_bytes(w);
        x | (x & 0x4040_4040) >> 1
    };
    Some(u32::from_le_bytes(a) == fold(b) && u32::from_le_bytes(c) == fold(d))
}

#[cfg(feature = "fast")]
/// The length of the line end (LF or CRLF) at `s[at..]`; 0 when there is none.
fn line_end(s: &[u8], at: usize) -> usize {
    match (s.get(at), s.get(at + 1)) {
        (Some(b'\n'), _) => 1,
        (Some(b'\r'), Some(b'\n')) => 2,
        _ => 0,
    }
}

#[cfg(feature = "fast")]
const ONES: u64 = 0x0101_0101_0101_0101;
#[cfg(feature = "fast")]
const HIGH: u64 = 0x8080_8080_8080_8080;

#[cfg(feature = "fast")]
/// The high bit of each byte of `x` that is a control character (below 0x20, HTAB included)
/// or DEL: `b - 0x20` borrows (`b < 0x20`) or `b ^ 0x7f` is zero. A borrow only flags bytes
/// above a flagged one, so the lowest flag is always a true one.
fn control_flags(x: u64) -> u64 {
    let del = x ^ (ONES * 0x7f);
    (x.wrapping_sub(ONES * 0x20) & !x | del.wrapping_sub(ONES) & !del) & HIGH
}

#[cfg(feature = "fast")]
/// The high bit of each byte of `x` equal to `needle` (a zero byte of `x ^ needle`, flagged as
/// in [`control_flags`]).
fn byte_flags(x: u64, needle: u8) -> u64 {
    let x = x ^ (ONES * u64::from(needle));
    x.wrapping_sub(ONES) & !x & HIGH
}

#[cfg(feature = "fast")]
/// The index of the first byte of `s` that `flags` flags (eight bytes at a time) or `is`
/// accepts (the last few bytes).
fn find(s: &[u8], flags: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let found = flags(u64::from_le_bytes(bytes));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&b| is(b)).map(|p| at + p)
}

#[cfg(feature = "fast")]
/// The index of the first control character or DEL in `s`: the end of a run of bytes that
/// may appear inside a reason phrase or a field value and end nothing (RFC 9110 §5.5,
/// RFC 9112 §4). A run stopped by an HTAB is resumed by the caller.
fn find_control(s: &[u8]) -> Option<usize> {
    find(s, control_flags, |b| b < 0x20 || b == 0x7f)
}

#[cfg(feature = "fast")]
/// The index of the first colon, control character or DEL in `s`: where a header name ends.
fn find_colon_or_control(s: &[u8]) -> Option<usize> {
    find(
        s,
        |x| control_flags(x) | byte_flags(x, b':'),
        |b| b < 0x20 || b == 0x7f || b == b':',
    )
}

#[cfg(feature = "fast")]
/// The high bit of each byte of `x` that is a control character other than HTAB, or DEL,
/// computed on each byte's low seven bits so that nothing carries into the next byte.
fn control_except_tab_flags(x: u64) -> u64 {
    let low = x & !HIGH;
    // Each sum's high bit: clear when the byte is below 0x20, set when it is DEL, set when
    // it is not HTAB. `& !x` leaves out bytes of 0x80 and above (obs-text).
    let below_space = !low.wrapping_add(ONES * 0x60);
    let del = low.wrapping_add(ONES);
    let not_tab = (low ^ (ONES * 0x09)).wrapping_add(ONES * 0x7f);
    (below_space & not_tab | del) & !x & HIGH
}

#[cfg(feature = "fast")]
/// The index of the first control character other than HTAB, or DEL, in `s`: where a field
/// value ends (RFC 9110 §5.5).
fn find_control_except_tab(s: &[u8]) -> Option<usize> {
    find(s, control_except_tab_flags, |b| {
        (b < 0x20 && b != b'\t') || b == 0x7f
    })
}

#[cfg(feature = "fast")]
/// The index of the first `needle` in `s`.
fn find_byte(s: &[u8], needle: u8) -> Option<usize> {
    find(s, |x| byte_flags(x, needle), |b| b == needle)
}

#[cfg(feature = "fast")]
/// Whether `name` is made of tchar (RFC 9110 §5.6.2): a table load per byte, and no branch
/// until the end (measured faster than eight bytes at a time for the names servers send,
/// and than [`is_tchar`] per byte). A test checks the two agree on every byte.
fn is_token(name: &[u8]) -> bool {
    const fn table() -> [bool; 256] {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            t[b] = tchar(b as u8);
            b += 1;
        }
        t
    }
    const TOKEN: [bool; 256] = table();
    name.iter()
        .fold(true, |all, &b| all & TOKEN[usize::from(b)])
}

/// tchar (RFC 9110 §5.6.2), the rule both tables are built from.
const fn tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-'
        )
        || matches!(c, b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// tchar (RFC 9110 §5.6.2): one bit per ASCII byte.
fn is_tchar(b: u8) -> bool {
    // 32-bit words: a shift by a variable amount of a `u64` is a library call on 32-bit
    // targets.
    const fn table() -> [u32; 4] {
        let mut t = [0u32; 4];
        let mut b = 0;
        while b < 128 {
            if tchar(b as u8) {
                t[b / 32] |= 1 << (b % 32);
            }
            b += 1;
        }
        t
    }
    const TCHAR: [u32; 4] = table();
    TCHAR
        .get(usize::from(b >> 5))
        .is_some_and(|w| w >> (b & 31) & 1 != 0)
}

#[cfg(test)]
mod tests;
