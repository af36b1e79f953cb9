//! Server-Sent Events (WHATWG HTML §9.2.6, "Interpreting an event stream"), for
//! `stream: true` chat completions (spec §4) delivered as `text/event-stream`.
//!
//! [`SseDecoder`] is a sans-IO state machine over the decoded body bytes. It never buffers a
//! line: `data` values are handed back as slices of the caller's input however long they are;
//! only a field name (5 bytes), an event name ([`EVENT_NAME_CAP`]) and a `retry` number are
//! kept. The items produced do not depend on how the input is split (a CR at the end of one
//! fragment and an LF at the start of the next are one line ending).
//!
//! ```text
//! LineStart ──":"──▶ Comment ───────────── EOL ──▶ LineStart
//!     │ ──EOL (blank line)──▶ Dispatch, if the event had data
//!     ▼
//!   Name ──":"──▶ ValueStart ──(one SP skipped)──▶ Value ──EOL──▶ LineStart
//!     └──EOL (field with an empty value)─────────────────────────▶ LineStart
//! ```
//!
//! How items map to events: an event's data is the concatenation of its [`SseItem::Data`]
//! pieces (lines joined by a `Data(b"\n")` piece, as the standard joins them); its type is
//! the last [`SseItem::Event`] received since the previous [`SseItem::Dispatch`] (none means
//! `message`, and so does an empty name); [`SseItem::Dispatch`] ends it. `Event` items are only
//! produced for events that have data, right before their first data piece (or before
//! `Dispatch` when the `event:` line came later), so a data-less event never leaves a stale
//! name behind. The `id` field is ignored: the client does not reconnect with `Last-Event-ID`.
//!
//! ```
//! use kaiko_core::stream::{SseDecoder, SseItem};
//! let mut sse = SseDecoder::new();
//! let mut input: &[u8] = b": ping\r\nevent: delta\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\n";
//! let mut data = [0u8; 32];
//! let (mut len, mut events) = (0, 0);
//! while !input.is_empty() {
//!     let (n, item) = sse.next(input).unwrap();
//!     input = &input[n..];
//!     match item {
//!         Some(SseItem::Data(d)) => {
//!             data[len..len + d.len()].copy_from_slice(d);
//!             len += d.len();
//!         }
//!         Some(SseItem::Event(name)) => assert_eq!(name.as_str(), "delta"),
//!         Some(SseItem::Dispatch) => events += 1,
//!         _ => {}
//!     }
//! }
//! assert_eq!(&data[..len], b"{\"a\":\n1}[DONE]");
//! assert_eq!(events, 2);
//! ```

use core::fmt;

use crate::analysis::SuccessParser;
use crate::json::JsonError;
use crate::text::Text;
use crate::wide::Wide;

/// Capacity of an event name in bytes; longer names are truncated.
pub const EVENT_NAME_CAP: usize = 32;
/// Longest field name the standard defines (`event`, `retry`); longer ones are unknown.
const FIELD_CAP: usize = 5;
/// The first four bytes of the field names the decoder knows, as `field_from_name` reads them.
const DATA: u32 = u32::from_le_bytes(*b"data");
const EVEN: u32 = u32::from_le_bytes(*b"even");
const RETR: u32 = u32::from_le_bytes(*b"retr");
/// The UTF-8 byte order mark, skipped once at the start of the stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One piece of an event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SseItem<'a> {
    /// A piece of the current event's data. Multiple `data:` lines of one event are delivered
    /// joined by a single `b"\n"` (which the decoder itself yields as its own `Data(b"\n")`
    /// piece). Never empty.
    Data(&'a [u8]),
    /// The type of the event being received (the value of its last `event:` line, truncated
    /// to [`EVENT_NAME_CAP`] bytes; empty means `message`). Only produced for events that have
    /// data, before their first data piece or before their `Dispatch`.
    Event(Text<EVENT_NAME_CAP>),
    /// The end of an event (blank line) that had at least one data line.
    Dispatch,
    /// A `retry:` field with a valid integer: the reconnection time in milliseconds
    /// (saturating at `u64::MAX`).
    Retry(u64),
}

/// The SSE decoder cannot fail: the event stream format gives every byte sequence a meaning.
/// The type exists so the signature can grow a failure without breaking callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseError {}

impl fmt::Display for SseError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl core::error::Error for SseError {}

#[cfg(feature = "defmt")]
impl defmt::Format for SseError {
    fn format(&self, _: defmt::Formatter<'_>) {
        match *self {}
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Field {
    /// `id` and unknown fields: ignored. First, so that a new decoder is all zero bytes.
    Ignored,
    Data,
    Event,
    Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum State {
    /// This many bytes of a leading BOM matched.
    Bom(u8),
    LineStart,
    Name,
    /// Right after the colon: one space is skipped.
    ValueStart,
    Value,
    /// A comment line (starting with `:`): skipped.
    Comment,
}

/// Incremental decoder of a `text/event-stream` body.
///
/// Call [`next`](Self::next) with the body bytes until the input is used up, acting on each
/// item; call [`finish`](Self::finish) when the body ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SseDecoder {
    state: State,
    /// The last byte consumed was a CR ending a line: an LF right after it belongs to it.
    after_cr: bool,
    name: [u8; FIELD_CAP],
    name_len: usize,
    field: Field,
    /// The current event has at least one data line.
    has_data: bool,
    /// The event type buffer (WHATWG), being read or complete.
    event: Text<EVENT_NAME_CAP>,
    /// `event` holds a type not yet handed out as [`SseItem::Event`].
    event_pending: bool,
    /// The `retry` value so far (4-aligned: so is every body holding the decoder)...
    retry: Wide,
    /// ...valid until a non-digit was seen (a flag, not an `Option`: one byte, not four).
    retry_valid: bool,
    retry_digits: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    // Out of line, its zeroing is a 4-byte-aligned clear (the routine the rest of the core
    // links) wherever it is built.
    #[inline(never)]
    pub const fn new() -> Self {
        SseDecoder {
            state: State::Bom(0),
            after_cr: false,
            name: [0; FIELD_CAP],
            name_len: 0,
            field: Field::Ignored,
            has_data: false,
            event: Text::new(),
            event_pending: false,
            retry: Wide::new(0),
            retry_valid: false,
            retry_digits: false,
        }
    }

    /// Consumes input; stops after producing one item. Returns (consumed, item).
    ///
    /// `(input.len(), None)` means everything was consumed without completing an item. An item
    /// may come with fewer bytes consumed than given (even zero, for an [`SseItem::Event`]
    /// announced before the data that follows): call again with the remainder.
    pub fn next<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Option<SseItem<'a>>), SseError> {
        Ok(self.decode::<true>(input))
    }

    /// [`SseDecoder::next`] for a reader that wants only the data and the event boundaries:
    /// `event` and `retry` fields are skipped like unknown ones, so no [`SseItem::Event`] or
    /// [`SseItem::Retry`] comes out (and their handling is not compiled in for it).
    pub(crate) fn next_data<'a>(&mut self, input: &'a [u8]) -> (usize, Option<SseItem<'a>>) {
        self.decode::<false>(input)
    }

    /// [`SseDecoder::next`]; `META` says whether `event` and `retry` fields are read.
    fn decode<'a, const META: bool>(&mut self, input: &'a [u8]) -> (usize, Option<SseItem<'a>>) {
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    i += 1;
                    continue;
                }
            }
            match self.state {
                State::Bom(n) => {
                    if BOM.get(usize::from(n)) == Some(&b) {
                        i += 1;
                        self.state = if n == 2 {
                            State::LineStart
                        } else {
                            State::Bom(n + 1)
                        };
                    } else if n == 0 {
                        self.state = State::LineStart;
                    } else {
                        // Part of a BOM, then something else: the first line's field name
                        // starts with those bytes, so it is no field this decoder knows.
                        self.name_len = FIELD_CAP + 1;
                        self.state = State::Name;
                    }
                }
                State::LineStart => match b {
                    b'\r' | b'\n' => {
                        // A blank line dispatches the event (WHATWG: only if data was seen).
                        if self.has_data {
                            if let Some(ev) = self.take_event::<META>() {
                                return (i, Some(SseItem::Event(ev)));
                            }
                            self.has_data = false;
                            self.end_line(b);
                            return (i + 1, Some(SseItem::Dispatch));
                        }
                        self.event_pending = false;
                        self.end_line(b);
                        i += 1;
                    }
                    b':' => {
                        self.state = State::Comment;
                        i += 1;
                    }
                    _ => {
                        self.name_len = 0;
                        self.push_name(b);
                        self.state = State::Name;
                        i += 1;
                    }
                },
                State::Name => match b {
                    b':' | b'\r' | b'\n' => {
                        let field = self.field_from_name::<META>();
                        // A second data line: the standard joins data lines with LF.
                        if field == Field::Data
                            && self.has_data
                            && let Some(ev) = self.take_event::<META>()
                        {
                            return (i, Some(SseItem::Event(ev)));
                        }
                        let sep = field == Field::Data && self.has_data;
                        self.start_field(field);
                        i += 1;
                        if b == b':' {
                            self.state = State::ValueStart;
                        } else {
                            // No colon: the whole line is the name, the value is empty.
                            self.end_line(b);
                            if let Some(item) = self.end_field::<META>() {
                                return (i, Some(item));
                            }
                        }
                        if sep {
                            return (i, Some(SseItem::Data(b"\n")));
                        }
                    }
                    _ => {
                        self.push_name(b);
                        i += 1;
                    }
                },
                State::ValueStart => {
                    self.state = State::Value;
                    if b == b' ' {
                        i += 1;
                    }
                }
                // A comment is read like the value of an ignored field (`field` is `Ignored`
                // between fields): skipped up to its line end.
                State::Value | State::Comment => {
                    let rest = input.get(i..).unwrap_or(&[]);
                    let run = rest
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .unwrap_or(rest.len());
                    if run == 0 {
                        self.end_line(b);
                        i += 1;
                        if let Some(item) = self.end_field::<META>() {
                            return (i, Some(item));
                        }
                        continue;
                    }
                    let value = rest.get(..run).unwrap_or(&[]);
                    match self.field {
                        Field::Data => {
                            if let Some(ev) = self.take_event::<META>() {
                                return (i, Some(SseItem::Event(ev)));
                            }
                            return (i + run, Some(SseItem::Data(value)));
                        }
                        Field::Event if META => self.event.push_bytes(value),
                        Field::Retry if META => self.push_retry(value),
                        Field::Event | Field::Retry | Field::Ignored => {}
                    }
                    i += run;
                }
            }
        }
        (input.len(), None)
    }

    /// The stream ended. Per the standard an event without its closing blank line is
    /// discarded ("If the file ends in the middle of an event, before the final empty line,
    /// the incomplete event is not dispatched"), so this always returns `None`: data pieces
    /// already handed out for that event have no `Dispatch` and must be dropped by the caller.
    /// The decoder is reset for a new stream.
    pub fn finish(&mut self) -> Option<SseItem<'static>> {
        *self = SseDecoder::new();
        None
    }

    /// The pending event type, handed out once.
    fn take_event<const META: bool>(&mut self) -> Option<Text<EVENT_NAME_CAP>> {
        if META && self.event_pending {
            self.event_pending = false;
            Some(self.event)
        } else {
            None
        }
    }

    fn push_name(&mut self, b: u8) {
        if let Some(slot) = self.name.get_mut(self.name_len) {
            *slot = b;
        }
        self.name_len = self.name_len.saturating_add(1).min(FIELD_CAP + 1);
    }

    /// Field names are case-sensitive (WHATWG §9.2.6).
    fn field_from_name<const META: bool>(&self) -> Field {
        // The first four bytes as one word: one compare per name instead of a slice compare.
        let [a, b, c, d, e] = self.name;
        match (self.name_len, u32::from_le_bytes([a, b, c, d]), e) {
            (4, DATA, _) => Field::Data,
            (5, EVEN, b't') if META => Field::Event,
            (5, RETR, b'y') if META => Field::Retry,
            _ => Field::Ignored,
        }
    }

    fn start_field(&mut self, field: Field) {
        self.field = field;
        match field {
            Field::Data => self.has_data = true,
            Field::Event => {
                self.event.clear();
                self.event_pending = false;
            }
            Field::Retry => {
                self.retry = Wide::new(0);
                self.retry_valid = true;
                self.retry_digits = false;
            }
            Field::Ignored => {}
        }
    }

    fn push_retry(&mut self, value: &[u8]) {
        for &b in value {
            match b {
                b'0'..=b'9' if self.retry_valid => {
                    let n = self.retry.get();
                    self.retry =
                        Wide::new(n.saturating_mul(10).saturating_add(u64::from(b - b'0')));
                }
                _ => self.retry_valid = false,
            }
        }
        self.retry_digits = true;
    }

    /// A line ended with `b` (CR or LF).
    #[inline(never)] // four callers
    fn end_line(&mut self, b: u8) {
        self.after_cr = b == b'\r';
        self.state = State::LineStart;
    }

    /// The field's line ended: settle its value.
    fn end_field<const META: bool>(&mut self) -> Option<SseItem<'static>> {
        let field = core::mem::replace(&mut self.field, Field::Ignored);
        match field {
            _ if !META => None,
            Field::Event => {
                self.event_pending = true;
                None
            }
            // WHATWG: only a value of nothing but ASCII digits sets the reconnection time.
            Field::Retry if self.retry_digits && self.retry_valid => {
                Some(SseItem::Retry(self.retry.get()))
            }
            _ => None,
        }
    }
}

/// A `text/event-stream` success body (spec §4): every event's data is one JSON document
/// for a [`SuccessParser`], and `data: [DONE]` (the OpenAI end marker) is accepted and skipped.
/// Outputs wait in the parser until taken, as with a plain JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
// The parser first, at a fixed place: a body that is either a plain JSON parser or this one
// finds its parser at the same offset in both.
#[repr(C)]
pub struct EventStreamBody {
    json: SuccessParser,
    events: SseDecoder,
    /// Bytes of a `[DONE]` marker matched so far in the current event.
    done_marker: u8,
    /// The current event's data went to the JSON parser.
    event_started: bool,
    /// The event ended; its document is checked and the parser reset once its last output
    /// has been taken.
    closing: bool,
}

impl Default for EventStreamBody {
    fn default() -> Self {
        Self::new()
    }
}

/// What went wrong in an event stream body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EventStreamError {
    /// An event's data is not valid JSON.
    Json(JsonError),
    /// An event's data started like the `[DONE]` marker but is not it.
    Data,
}

impl EventStreamBody {
    /// A body before its first byte.
    pub fn new() -> Self {
        EventStreamBody {
            events: SseDecoder::new(),
            json: SuccessParser::new(),
            done_marker: 0,
            event_started: false,
            closing: false,
        }
    }

    /// The parser of the current event's document (its summary accumulates over events).
    pub fn json(&self) -> &SuccessParser {
        &self.json
    }

    /// The parser, to take a waiting output.
    pub fn json_mut(&mut self) -> &mut SuccessParser {
        &mut self.json
    }

    /// Reads body bytes; returns how many were taken (fewer when an output waits: take it,
    /// then offer the rest again).
    ///
    /// # Errors
    /// An event whose data is neither JSON nor `[DONE]`.
    pub fn read(&mut self, data: &[u8]) -> Result<usize, EventStreamError> {
        const DONE: &[u8] = b"[DONE]";
        let mut used = 0;
        loop {
            if self.json.has_output() {
                return Ok(used);
            }
            // A finished event's JSON is closed first (shared with the end of the body).
            if self.end()? {
                continue; // the event's last piece of text waits to be taken
            }
            let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) else {
                return Ok(used);
            };
            let (n, item) = self.events.next_data(rest);
            match item {
                Some(SseItem::Data(d)) => {
                    if self.done_marker > 0 || (!self.event_started && d.first() == Some(&b'[')) {
                        for &b in d {
                            if DONE.get(usize::from(self.done_marker)) != Some(&b) {
                                return Err(EventStreamError::Data);
                            }
                            self.done_marker = self.done_marker.saturating_add(1);
                        }
                        used += n;
                        continue;
                    }
                    self.event_started = true;
                    let k = self.json.read(d).map_err(EventStreamError::Json)?;
                    // `d` is the tail of the `n` bytes the decoder consumed, so what the JSON
                    // parser did not take is given back by consuming less.
                    used += n - (d.len() - k.min(d.len())).min(n);
                }
                Some(SseItem::Dispatch) => {
                    self.closing = self.event_started;
                    self.done_marker = 0;
                    self.event_started = false;
                    used += n;
                }
                Some(_) | None => used += n,
            }
            if n == 0 {
                return Ok(used);
            }
        }
    }

    /// The body ended: `Ok(true)` while an output of the last event waits to be taken (call
    /// again after taking it), `Ok(false)` when everything was delivered. An event without
    /// its closing blank line is discarded, as the standard says.
    ///
    /// # Errors
    /// The last complete event's document was not valid JSON.
    pub fn end(&mut self) -> Result<bool, EventStreamError> {
        if self.closing {
            if self.json.end().map_err(EventStreamError::Json)? {
                return Ok(true);
            }
            self.json.reset();
            self.closing = false;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests;
