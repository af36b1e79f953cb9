//! Body framing: Content-Length, chunked (RFC 9112 §7.1) and close-delimited bodies.
//!
//! [`BodyDecoder`] is a byte-driven state machine: it never buffers, hands payload back as
//! slices of the caller's input, and gives the same payload however the input is split.
//! Bytes after the end of the body are never consumed (they belong to the next response on a
//! kept-alive connection). Errors are sticky: once `decode` failed it fails the same way again.
//!
//! ```text
//! chunked:  Size ──hex──▶ Size ──;──▶ Ext ──CRLF──▶ Data(n) ──n bytes──▶ DataEnd ──CRLF──▶ Size
//!             │ "0" CRLF
//!             ▼
//!           Trailer ──field CRLF──▶ Trailer ──CRLF──▶ Done
//! ```
//!
//! ```
//! use kaiko_core::http::{BodyDecoder, Framing};
//! let mut body = BodyDecoder::new(Framing::Chunked);
//! let mut input: &[u8] = b"5;ext=\"x\"\r\nHello\r\n0\r\nTrailer: t\r\n\r\nnext response";
//! let mut payload = [0u8; 5];
//! let mut len = 0;
//! while !body.is_done() {
//!     let d = body.decode(input).unwrap();
//!     payload[len..len + d.data.len()].copy_from_slice(d.data);
//!     len += d.data.len();
//!     input = &input[d.consumed..];
//! }
//! assert_eq!(&payload[..len], b"Hello");
//! assert_eq!(input, b"next response");
//! ```

use core::fmt;

use super::Framing;
use crate::wide::Wide;

/// Chunk-size digits accepted, leading zeros included (16 hex digits fill a `u64`).
const MAX_SIZE_DIGITS: u16 = 32;
/// Bytes of chunk extensions accepted per chunk (RFC 9112 §7.1.1 lets a recipient limit them).
const MAX_EXTENSION: u16 = 1024;
/// Bytes of the trailer section accepted (RFC 9112 §7.1.2); they are skipped, not kept.
const MAX_TRAILERS: u16 = 4096;

/// Why a body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BodyError {
    /// A chunk-size line is not `1*HEXDIG [ext] CRLF`.
    BadChunkSize,
    /// A chunk size does not fit in a `u64` (or has too many digits).
    ChunkSizeTooLarge,
    /// The CRLF after a chunk's data is missing.
    BadChunkTerminator,
    /// The connection closed before the body was complete.
    Truncated,
    /// The trailer section is longer than the decoder skips (4 KiB).
    TrailersTooLarge,
    /// Chunk extensions of one chunk are longer than the decoder skips (1 KiB).
    ExtensionTooLarge,
    /// A trailer line contains a bare CR.
    BadTrailer,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BodyError::BadChunkSize => "malformed chunk size line",
            BodyError::ChunkSizeTooLarge => "chunk size too large",
            BodyError::BadChunkTerminator => "missing CRLF after chunk data",
            BodyError::Truncated => "connection closed before the body was complete",
            BodyError::TrailersTooLarge => "trailer section too large",
            BodyError::ExtensionTooLarge => "chunk extensions too large",
            BodyError::BadTrailer => "malformed trailer line",
        })
    }
}

impl core::error::Error for BodyError {}

/// The result of one [`BodyDecoder::decode`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub struct Decoded<'a> {
    /// Bytes of the input consumed (framing and data).
    pub consumed: usize,
    /// Payload bytes, a slice of the input (possibly empty).
    pub data: &'a [u8],
    /// The body is complete; nothing after `consumed` belongs to it.
    pub done: bool,
}

/// Where the decoder is. The numbers it needs live beside it in [`BodyDecoder`], so a step
/// changes one byte instead of rebuilding a 64-bit payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum State {
    /// Content-Length body; `size` bytes left (never 0: that is `Done`).
    Length,
    /// Everything until the connection closes.
    UntilClose,
    /// Reading chunk-size hex digits: `size` so far, `count` digits.
    Size,
    /// After the size digits: BWS before `;` or the line end.
    SizeWs,
    /// After `;`: extensions (skipped) until the line end; `count` bytes of them so far.
    Ext {
        quoted: bool,
        escaped: bool,
    },
    /// Saw CR ending the size line.
    SizeLf,
    /// Chunk data; `size` bytes left (never 0).
    Data,
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Saw the CR after chunk data.
    DataLf,
    /// At the start of a trailer line (or the final empty line); `count` trailer bytes so far.
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// Saw CR in the trailer section; `end` when it ends the final empty line.
    TrailerLf {
        end: bool,
    },
    Done,
    Failed(BodyError),
}

/// Decodes a response body delimited by a [`Framing`].
///
/// Feed it the bytes after the response head with [`decode`](Self::decode), passing the
/// unconsumed remainder again until it reports `done` (or, for [`Framing::UntilClose`], until
/// the connection closes and [`finish_on_close`](Self::finish_on_close) is called).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BodyDecoder {
    /// Bytes left of the body or chunk, or the chunk size being read.
    size: Wide,
    /// Chunk-size digits, extension bytes or trailer bytes read so far.
    count: u16,
    state: State,
}

impl BodyDecoder {
    /// A decoder for a body with the given framing. [`Framing::Empty`] and
    /// [`Framing::Length`]`(0)` are complete before any byte.
    pub const fn new(framing: Framing) -> Self {
        let (size, state) = match framing {
            Framing::Empty | Framing::Length(0) => (0, State::Done),
            Framing::Length(n) => (n, State::Length),
            Framing::Chunked => (0, State::Size),
            Framing::UntilClose => (0, State::UntilClose),
        };
        BodyDecoder {
            size: Wide::new(size),
            count: 0,
            state,
        }
    }

    /// Decodes body bytes. Returns bytes consumed, a slice of payload data (borrowed from
    /// `input`, possibly empty), and whether the body is complete. Call repeatedly with the
    /// unconsumed remainder; at most one contiguous data slice per call.
    ///
    /// A call returns as soon as it has a non-empty data slice, when the body is complete, or
    /// when the input is used up, so `consumed < input.len()` means "call again" unless `done`.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, BodyError> {
        let mut pos = 0;
        while let Some(&b) = input.get(pos) {
            match self.state {
                State::Done => break,
                State::Failed(e) => return Err(e),
                State::Length | State::Data => {
                    let data = take(input, pos, self.size.get());
                    self.size = Wide::new(self.size.get().saturating_sub(data.len() as u64));
                    if self.size.get() == 0 {
                        self.state = if matches!(self.state, State::Length) {
                            State::Done
                        } else {
                            State::DataEnd
                        };
                    }
                    return Ok(self.out(pos.saturating_add(data.len()), data));
                }
                State::UntilClose => {
                    let data = input.get(pos..).unwrap_or(&[]);
                    return Ok(self.out(input.len(), data));
                }
                _ => {
                    if let Err(e) = self.step(b) {
                        self.state = State::Failed(e);
                        return Err(e);
                    }
                    pos += 1;
                }
            }
        }
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        Ok(self.out(pos, &[]))
    }

    /// Returns the last `n` bytes of the data slice of the latest [`BodyDecoder::decode`] to
    /// the decoder, as if they had not been consumed: the caller's consumer took only part of
    /// that slice and offers the rest again. The data slice is always the tail of what
    /// `decode` consumed, so this is exact.
    pub fn give_back(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.state = match self.state {
            // Content-Length bodies go to Done as their last byte is taken.
            State::Length | State::Done => State::Length,
            State::Data | State::DataEnd => State::Data,
            _ => return,
        };
        self.size = Wide::new(self.size.get().saturating_add(n as u64));
    }

    /// The connection closed: `Ok(())` if that ends the body ([`Framing::UntilClose`], or
    /// already complete), else `Err(BodyError::Truncated)`.
    pub fn finish_on_close(&mut self) -> Result<(), BodyError> {
        match self.state {
            State::Done | State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            State::Failed(e) => Err(e),
            _ => {
                self.state = State::Failed(BodyError::Truncated);
                Err(BodyError::Truncated)
            }
        }
    }

    /// `true` once the whole body (including a chunked body's trailers) was consumed.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn out<'a>(&self, consumed: usize, data: &'a [u8]) -> Decoded<'a> {
        Decoded {
            consumed,
            data,
            done: matches!(self.state, State::Done),
        }
    }

    /// One framing byte of a chunked body.
    fn step(&mut self, b: u8) -> Result<(), BodyError> {
        self.state = match self.state {
            State::Size => match hex(b) {
                Some(v) => {
                    if self.size.get() > u64::MAX >> 4 || self.count >= MAX_SIZE_DIGITS {
                        return Err(BodyError::ChunkSizeTooLarge);
                    }
                    self.size = Wide::new(self.size.get() << 4 | u64::from(v));
                    self.count += 1;
                    State::Size
                }
                None if self.count == 0 => return Err(BodyError::BadChunkSize),
                // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
                None => self.size_ws(b)?,
            },
            State::SizeWs => self.size_ws(b)?,
            State::Ext { quoted, escaped } => {
                if self.count >= MAX_EXTENSION {
                    return Err(BodyError::ExtensionTooLarge);
                }
                self.count += 1;
                match (quoted, escaped, b) {
                    // CR and LF never occur inside a quoted-string (RFC 9110 §5.6.4).
                    (true, _, b'\r' | b'\n') => return Err(BodyError::BadChunkSize),
                    (true, true, _) => State::Ext {
                        quoted,
                        escaped: false,
                    },
                    (true, false, b'\\') => State::Ext {
                        quoted,
                        escaped: true,
                    },
                    (_, _, b'"') => State::Ext {
                        quoted: !quoted,
                        escaped,
                    },
                    (false, _, b'\r' | b'\n') => self.line_end(b)?,
                    _ => self.state,
                }
            }
            State::SizeLf => match b {
                b'\n' => self.after_size(),
                _ => return Err(BodyError::BadChunkSize),
            },
            State::DataEnd => match b {
                b'\r' => State::DataLf,
                // RFC 9112 §2.2: a bare LF may be accepted as a line terminator.
                b'\n' => self.next_chunk(),
                _ => return Err(BodyError::BadChunkTerminator),
            },
            State::DataLf => match b {
                b'\n' => self.next_chunk(),
                _ => return Err(BodyError::BadChunkTerminator),
            },
            State::TrailerStart | State::Trailer | State::TrailerLf { .. } => {
                if self.count >= MAX_TRAILERS {
                    return Err(BodyError::TrailersTooLarge);
                }
                self.count += 1;
                trailer(self.state, b)?
            }
            // Data-carrying, terminal and failed states are handled by `decode`.
            s => s,
        };
        Ok(())
    }

    /// After the chunk size: BWS, `;` starting the extensions, or the line end.
    fn size_ws(&mut self, b: u8) -> Result<State, BodyError> {
        match b {
            // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
            b' ' | b'\t' => Ok(State::SizeWs),
            b';' => {
                self.count = 1;
                Ok(State::Ext {
                    quoted: false,
                    escaped: false,
                })
            }
            _ => self.line_end(b),
        }
    }

    /// CR or LF ending a chunk-size line.
    fn line_end(&mut self, b: u8) -> Result<State, BodyError> {
        match b {
            b'\r' => Ok(State::SizeLf),
            b'\n' => Ok(self.after_size()),
            _ => Err(BodyError::BadChunkSize),
        }
    }

    /// The chunk-size line ended: the chunk's data, or the trailers after the last chunk.
    fn after_size(&mut self) -> State {
        self.count = 0;
        if self.size.get() == 0 {
            State::TrailerStart
        } else {
            State::Data
        }
    }

    /// The CRLF after a chunk's data: the next chunk-size line starts.
    fn next_chunk(&mut self) -> State {
        self.size = Wide::new(0);
        self.count = 0;
        State::Size
    }
}

/// The trailer section (RFC 9112 §7.1.2): field lines are skipped, an empty line ends it.
fn trailer(state: State, b: u8) -> Result<State, BodyError> {
    Ok(match (state, b) {
        (State::TrailerStart, b'\r') => State::TrailerLf { end: true },
        (State::TrailerStart, b'\n') => State::Done,
        (State::Trailer, b'\r') => State::TrailerLf { end: false },
        (State::Trailer, b'\n') => State::TrailerStart,
        (State::TrailerLf { end: true }, b'\n') => State::Done,
        (State::TrailerLf { end: false }, b'\n') => State::TrailerStart,
        (State::TrailerLf { .. }, _) => return Err(BodyError::BadTrailer),
        _ => State::Trailer,
    })
}

/// Up to `left` bytes of `input` from `pos`.
fn take(input: &[u8], pos: usize, left: u64) -> &[u8] {
    let rest = input.get(pos..).unwrap_or(&[]);
    let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
    rest.get(..n).unwrap_or(&[])
}

fn hex(b: u8) -> Option<u8> {
    // Setting bit 5 folds `A-F` onto `a-f` and nothing else onto them.
    match (b, b | 0x20) {
        (b'0'..=b'9', _) => Some(b - b'0'),
        (_, l @ b'a'..=b'f') => Some(l - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
