//! Incremental JSON scanning (RFC 8259) with bounded memory: a pull [`Scanner`] that turns body
//! bytes, split anywhere, into [`Token`]s.
//!
//! The scanner keeps no body buffer. Its whole state is a container stack (a bitset, at most
//! [`MAX_DEPTH`] levels), the key being read (at most [`KEY_CAP`] bytes), the number being read
//! (at most [`NUMBER_CAP`] bytes) and the escape being decoded. String *values* are handed out
//! in pieces as they arrive ([`Token::Str`], then [`Token::StrEnd`]), so a string of any length
//! costs nothing; keys are short and handed out whole.
//!
//! Guarantees:
//! - The decoded content does not depend on how the input is split: the same document fed in
//!   one slice or one byte at a time yields the same tokens, except that a string value may
//!   arrive in differently cut [`Token::Str`] pieces (their concatenation is the same).
//! - "Not enough bytes yet" is never an error: [`Scanner::next`] returns `Ok((n, None))`.
//! - No input makes it panic; after an error every later call returns the same error.
//! - Escapes are decoded, `\uXXXX` surrogate pairs included; a lone surrogate becomes U+FFFD
//!   rather than failing the document (RFC 8259 §8.2 leaves its meaning open).
//! - Bytes of the input that are not valid UTF-8 are passed through unchanged inside strings
//!   (they are not validated); [`crate::text::Text::as_str`] later keeps the valid prefix.
//! - Numbers are validated against the RFC 8259 §6 grammar and reported as text; turning them
//!   into values is the caller's choice (e.g. [`crate::score::Score::parse`]).
//! - A number ends only at the byte after it, so a bare number at the top level is reported
//!   once a whitespace byte follows it. The bodies of this API are always objects.
//!
//! ```
//! use kaiko_core::json::{Scanner, Token};
//!
//! let mut s = Scanner::new();
//! let mut input: &[u8] = br#"{"a":[1,"x\n"]}"#;
//! let mut n = 0;
//! while let (used, Some(tok)) = s.next(input).unwrap() {
//!     input = &input[used..];
//!     if let Token::Number(t) = tok { assert_eq!(t, b"1") }
//!     n += 1;
//! }
//! // { "a" [ 1, then "x" and "\n" as two pieces, end of string, ] }
//! assert_eq!(n, 9);
//! assert!(s.is_done());
//! ```

use core::fmt;

use crate::text::copy_bytes;

/// Longest key kept; longer keys are cut (on a UTF-8 boundary) and flagged, see
/// [`Scanner::key_truncated`].
pub const KEY_CAP: usize = 32;
/// Deepest nesting accepted; one more level is [`JsonError::TooDeep`].
pub const MAX_DEPTH: usize = 16;
/// Longest number text accepted; longer is [`JsonError::NumberTooLong`].
pub const NUMBER_CAP: usize = 40;
/// Largest decoded piece produced by one escape: a U+FFFD for a lone high surrogate followed by
/// the character of the next `\uXXXX`.
const SCRATCH_CAP: usize = 8;

/// U+FFFD REPLACEMENT CHARACTER in UTF-8.
const REPLACEMENT: [u8; 3] = [0xEF, 0xBF, 0xBD];

/// One syntactic element of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Token<'a> {
    /// `{`
    ObjectStart,
    /// `}`
    ObjectEnd,
    /// `[`
    ArrayStart,
    /// `]`
    ArrayEnd,
    /// A complete object key, decoded, cut to [`KEY_CAP`] bytes.
    Key(&'a [u8]),
    /// A piece of a string value's decoded bytes: a slice of the input, or of a small internal
    /// buffer for an escape. A string value is zero or more pieces then [`Token::StrEnd`].
    Str(&'a [u8]),
    /// The string value ended.
    StrEnd,
    /// A complete number, as its text (valid RFC 8259 §6 grammar).
    Number(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null`
    Null,
}

/// What [`Scanner::next_piece`] hands out.
#[cfg(feature = "fast")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// A token, as [`Scanner::next`] would hand it out.
    Token(Token<'a>),
    /// A whole string value: its decoded bytes (no escapes in them), then its end.
    WholeStr(&'a [u8]),
}

/// Why the input is not a document this scanner accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JsonError {
    /// A byte the grammar does not allow here (including raw control bytes in strings).
    Syntax,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A number longer than [`NUMBER_CAP`] bytes.
    NumberTooLong,
    /// A backslash followed by something other than a JSON escape, or a bad `\u` hex digit.
    BadEscape,
    /// Something other than whitespace after the top-level value.
    TrailingData,
    /// The input ended before the top-level value was complete (see [`Scanner::finish`]).
    Incomplete,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "invalid JSON syntax",
            Self::TooDeep => "JSON nested too deeply",
            Self::NumberTooLong => "JSON number too long",
            Self::BadEscape => "invalid JSON string escape",
            Self::TrailingData => "data after the JSON value",
            Self::Incomplete => "JSON document incomplete",
        })
    }
}

impl core::error::Error for JsonError {}

/// What the grammar expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A value (top level, after `:`, after `,` in an array).
    Value,
    /// Right after `[`: a value or `]`.
    ValueOrEnd,
    /// Right after `{`: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value inside a container: `,` or the closer.
    AfterValue,
    /// Inside a string; `key` tells which kind.
    Str { key: bool },
    /// Inside a number.
    Number(Num),
    /// Inside `true`, `false` or `null`: the position in [`LITERALS`] of the next byte, and
    /// where the literal ends.
    Literal { at: u8, end: u8 },
    /// The top-level value is complete; only whitespace may follow.
    Done,
}

/// `true`, `false` and `null` one after the other: a literal being read is a position in it,
/// two bytes, so that a [`Mode`] fits in a register.
const LITERALS: &[u8; 13] = b"truefalsenull";

/// Where the literal starting with `b` (`t`, `f` or `n`) lies in [`LITERALS`].
const fn literal(b: u8) -> (u8, u8) {
    match b {
        b't' => (0, 4),
        b'f' => (4, 9),
        _ => (9, 13),
    }
}

/// Number grammar states (RFC 8259 §6): `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

impl Num {
    /// The state after a number's first byte (`-` or a digit).
    const fn start(b: u8) -> Num {
        match b {
            b'-' => Num::Minus,
            b'0' => Num::Zero,
            _ => Num::Int,
        }
    }

    /// Whether a number may end in this state.
    const fn complete(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::ExpDigits)
    }

    /// The state after `b`, `None` when `b` cannot continue the number.
    const fn step(self, b: u8) -> Option<Num> {
        let digit = b.is_ascii_digit();
        match self {
            Num::Minus if b == b'0' => Some(Num::Zero),
            Num::Minus | Num::Int if digit => Some(Num::Int),
            Num::Dot | Num::Frac if digit => Some(Num::Frac),
            Num::Zero | Num::Int if b == b'.' => Some(Num::Dot),
            Num::Zero | Num::Int | Num::Frac if b == b'e' || b == b'E' => Some(Num::Exp),
            Num::Exp if b == b'+' || b == b'-' => Some(Num::ExpSign),
            Num::Exp | Num::ExpSign | Num::ExpDigits if digit => Some(Num::ExpDigits),
            _ => None,
        }
    }
}

/// Where [`Scanner::members`] starts: at a key's opening quote, right after a key (its
/// `:` next), or at the `,` after a value.
#[cfg(feature = "fast")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Key,
    Colon,
    Comma,
}

/// Escape decoding inside a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    /// Plain bytes.
    None,
    /// After `\`.
    Backslash,
    /// After `\u` and `n` hex digits whose value so far is `val`.
    Hex { n: u8, val: u16 },
}

/// What one step produced; turned into a [`Token`] borrowing the right buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    ObjectStart,
    ObjectEnd,
    ArrayStart,
    ArrayEnd,
    Key,
    Scratch(u8),
    Input(usize, usize),
    /// A key lying whole in the input.
    #[cfg(feature = "fast")]
    InputKey(usize, usize),
    /// A number lying whole in the input.
    #[cfg(feature = "fast")]
    InputNumber(usize, usize),
    StrEnd,
    Number,
    Bool(bool),
    Null,
}

/// A pull scanner for one JSON document: about 120 bytes, `Copy`, no buffer of the input.
///
/// Feed it with [`Scanner::next`] until it returns `Ok((n, None))` (all input consumed), then
/// feed the next bytes. Call [`Scanner::finish`] when the input ends.
// In declaration order (`repr(C)`): the state read on every byte first, where the short load
// and store forms reach it, the buffers last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Scanner {
    /// Bit `i` set: the container at depth `i + 1` is an object.
    stack: u16,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    esc: Esc,
    mode: Mode,
    depth: u8,
    key_len: u8,
    key_truncated: bool,
    num_len: u8,
    error: Option<JsonError>,
    key: [u8; KEY_CAP],
    num: [u8; NUMBER_CAP],
    scratch: [u8; SCRATCH_CAP],
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

const _: () = assert!(MAX_DEPTH <= 16 && KEY_CAP <= 255 && NUMBER_CAP <= 255);

impl Scanner {
    /// A scanner at the start of a document.
    pub const fn new() -> Self {
        Scanner {
            stack: 0,
            high: None,
            esc: Esc::None,
            mode: Mode::Value,
            depth: 0,
            key_len: 0,
            key_truncated: false,
            num_len: 0,
            error: None,
            key: [0; KEY_CAP],
            num: [0; NUMBER_CAP],
            scratch: [0; SCRATCH_CAP],
        }
    }

    /// How many containers are open (0 at the top level; 1 inside the top-level object).
    pub const fn depth(&self) -> usize {
        self.depth as usize
    }

    /// Whether the top-level value is complete (only whitespace may follow).
    pub fn is_done(&self) -> bool {
        self.mode == Mode::Done && self.error.is_none()
    }

    /// Whether the last [`Token::Key`] was longer than [`KEY_CAP`] and was cut.
    pub const fn key_truncated(&self) -> bool {
        self.key_truncated
    }

    /// The input ended: `Ok(())` if the document was complete, else the error seen or
    /// [`JsonError::Incomplete`].
    pub fn finish(&self) -> Result<(), JsonError> {
        match self.error {
            Some(e) => Err(e),
            None if self.mode == Mode::Done => Ok(()),
            None => Err(JsonError::Incomplete),
        }
    }

    /// Consumes bytes from `input` and stops right after one token was produced. Returns the
    /// bytes consumed and the token; `Ok((input.len(), None))` means everything was consumed
    /// and more input is needed (or the document is done, see [`Scanner::is_done`]).
    #[allow(clippy::should_implement_trait)]
    pub fn next<'a>(
        &'a mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<Token<'a>>), JsonError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut i = 0;
        #[cfg(feature = "fast")]
        if self.cut_token()
            && let Some((used, out)) = self.resume_cut(input)
        {
            match out {
                Some(out) => return Ok((used, Some(self.token(out, input)))),
                None => i = used,
            }
        }
        while i < input.len() {
            #[cfg(feature = "fast")]
            if let Some((used, out)) = self.whole_token(input, i) {
                match out {
                    Some(out) => return Ok((used, Some(self.token(out, input)))),
                    None => {
                        i = used;
                        continue;
                    }
                }
            }
            let (used, out) = match self.step(input, i) {
                Ok(r) => r,
                Err(e) => {
                    self.error = Some(e);
                    return Err(e);
                }
            };
            // A step consumes at most the bytes left: `i` never passes `input.len()`.
            i += used;
            if let Some(out) = out {
                return Ok((i, Some(self.token(out, input))));
            }
        }
        Ok((input.len(), None))
    }

    /// [`Scanner::next`], taking a token that lies whole in `input` at once: a key (with its
    /// `:`), a number, and with `whole_strings` a string value, handed out as
    /// [`Piece::WholeStr`] (its [`Token::Str`] and [`Token::StrEnd`] in one). Keys and numbers
    /// borrow `input`. Any other byte, or a token cut by the end of `input`, an escape or a
    /// control byte, takes the grammar step of [`Scanner::next`]: the decoded content is the
    /// same either way.
    ///
    /// # Errors
    /// As [`Scanner::next`].
    #[cfg(feature = "fast")]
    pub(crate) fn next_piece<'a>(
        &'a mut self,
        input: &'a [u8],
        whole_strings: bool,
    ) -> Result<(usize, Option<Piece<'a>>), JsonError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut i = 0;
        if self.cut_token()
            && let Some((used, out)) = self.resume_cut(input)
        {
            match out {
                Some(out) => return Ok((used, Some(Piece::Token(self.token(out, input))))),
                None => i = used,
            }
        }
        while let Some(&b) = input.get(i) {
            if let Some((used, out)) = self.whole_token(input, i) {
                match out {
                    Some(out) => return Ok((used, Some(Piece::Token(self.token(out, input))))),
                    None => {
                        i = used;
                        continue;
                    }
                }
            }
            if whole_strings && b == b'"' && matches!(self.mode, Mode::Value | Mode::ValueOrEnd) {
                let start = i + 1;
                let rest = input.get(start..).unwrap_or(&[]);
                let run = string_run(rest);
                match rest.get(run) {
                    Some(b'"') => {
                        self.value_end();
                        let end = start + run + 1;
                        let used = end + self.comma(input, end);
                        let text = rest.get(..run).unwrap_or(&[]);
                        return Ok((used, Some(Piece::WholeStr(text))));
                    }
                    // Cut by the end of the input: its first piece now, the rest goes on
                    // from the string mode.
                    None if run > 0 => {
                        self.mode = Mode::Str { key: false };
                        return Ok((input.len(), Some(Piece::Token(Token::Str(rest)))));
                    }
                    _ => {}
                }
            }
            let (used, out) = match self.step(input, i) {
                Ok(r) => r,
                Err(e) => {
                    self.error = Some(e);
                    return Err(e);
                }
            };
            i = i.saturating_add(used);
            if let Some(out) = out {
                return Ok((i, Some(Piece::Token(self.token(out, input)))));
            }
        }
        Ok((input.len(), None))
    }

    /// A key (with its `:`) or a number at `i`, taken at once: one that lies whole in `input`
    /// borrows it, one the end of `input` cuts is kept (at most [`KEY_CAP`] or [`NUMBER_CAP`]
    /// bytes) and goes on from its mode ([`Scanner::resume_cut`] in the next input). Returns
    /// the bytes consumed up to there and the token, if one ended. `None` (nothing consumed)
    /// for anything else, which takes the grammar step.
    #[cfg(feature = "fast")]
    #[inline(always)]
    fn whole_token(&mut self, input: &[u8], i: usize) -> Option<(usize, Option<Out>)> {
        let b = *input.get(i)?;
        match (self.mode, b) {
            (Mode::Key | Mode::KeyOrEnd, b'"') => {
                let start = i + 1;
                let rest = input.get(start..).unwrap_or(&[]);
                let run = string_run(rest);
                if run > KEY_CAP {
                    return None;
                }
                self.key_len = 0;
                self.key_truncated = false;
                match rest.get(run) {
                    Some(b'"') => {
                        self.mode = Mode::Colon;
                        let end = start + run + 1;
                        let used = end + self.colon(input, end);
                        Some((used, Some(Out::InputKey(start, start + run))))
                    }
                    None => Some(self.keep_cut_key(rest, input.len())),
                    // An escape or a control byte: the string steps.
                    Some(_) => {
                        self.mode = Mode::Str { key: true };
                        Some((start, None))
                    }
                }
            }
            (Mode::Value | Mode::ValueOrEnd, b'-' | b'0'..=b'9') => {
                let (st, run) = number_run(Num::start(b), input.get(i + 1..).unwrap_or(&[]));
                let end = i + 1 + run;
                if end - i > NUMBER_CAP {
                    return None;
                }
                if end >= input.len() {
                    let text = input.get(i..).unwrap_or(&[]);
                    return Some(self.keep_cut_number(st, text, input.len()));
                }
                // Ended by a byte that is in `input`; an unfinished one takes the steps.
                if !st.complete() {
                    return None;
                }
                self.value_end();
                let used = end + self.comma(input, end);
                Some((used, Some(Out::InputNumber(i, end))))
            }
            _ => None,
        }
    }

    /// A key cut by the end of the input (`rest`, its bytes so far; `len`, the input's
    /// length): kept, it goes on in the next input. Out of line: rare, and kept out of the
    /// per-token loop's code.
    #[cfg(feature = "fast")]
    #[cold]
    #[inline(never)]
    fn keep_cut_key(&mut self, rest: &[u8], len: usize) -> (usize, Option<Out>) {
        self.push_key(rest);
        self.mode = Mode::Str { key: true };
        (len, None)
    }

    /// A number cut by the end of the input (`text`, its bytes so far, at most
    /// [`NUMBER_CAP`]; `len`, the input's length): kept, it goes on in the next input.
    #[cfg(feature = "fast")]
    #[cold]
    #[inline(never)]
    fn keep_cut_number(&mut self, st: Num, text: &[u8], len: usize) -> (usize, Option<Out>) {
        self.num_len = copy_bytes(&mut self.num, text) as u8;
        self.mode = Mode::Number(st);
        (len, None)
    }

    /// A key or a number the end of the last input cut, taken on at the start of this one in
    /// one step up to its end (or kept further when `input` ends first). `None` (nothing
    /// consumed) when it has an escape, is too long or ends wrongly: the steps go on with it
    /// and report any error at its byte. Called only when the mode says a token was cut, so
    /// the per-token loop carries none of it.
    #[cfg(feature = "fast")]
    #[inline(never)]
    fn resume_cut(&mut self, input: &[u8]) -> Option<(usize, Option<Out>)> {
        match self.mode {
            Mode::Str { key: true } if self.esc == Esc::None && self.high.is_none() => {
                let run = string_run(input);
                if input.get(run) != Some(&b'"') {
                    return None;
                }
                self.push_key(input.get(..run).unwrap_or(&[]));
                self.mode = Mode::Colon;
                let end = run + 1;
                let used = end + self.colon(input, end);
                Some((used, Some(self.finish_key())))
            }
            Mode::Number(st) => {
                let (st, run) = number_run(st, input);
                let len = usize::from(self.num_len);
                // Too long, or ended unfinished: the steps report it at its byte.
                if len + run > NUMBER_CAP || (run < input.len() && !st.complete()) {
                    return None;
                }
                let text = input.get(..run).unwrap_or(&[]);
                copy_bytes(self.num.get_mut(len..).unwrap_or(&mut []), text);
                self.num_len = (len + run) as u8;
                if run >= input.len() {
                    self.mode = Mode::Number(st);
                    return Some((input.len(), None));
                }
                self.value_end();
                let used = run + self.comma(input, run);
                Some((used, Some(Out::Number)))
            }
            _ => None,
        }
    }

    /// Whether the mode is a key or a number that the end of the last input cut.
    #[cfg(feature = "fast")]
    fn cut_token(&self) -> bool {
        matches!(self.mode, Mode::Str { key: true } | Mode::Number(_))
    }

    /// Consumes the rest of a value nobody wants, producing no tokens: the value that follows
    /// a key (call it right after [`Token::Key`]) or the container just opened (right after
    /// [`Token::ObjectStart`] or [`Token::ArrayStart`]), `depth` being [`Scanner::depth`]
    /// outside that value. Returns the bytes consumed and whether the value is over; `false`
    /// means all of `input` was consumed and the value goes on in the next bytes. The bytes are
    /// checked exactly as [`Scanner::next`] checks them (the same errors, depth bound and
    /// split independence); only the tokens are not handed out.
    ///
    /// # Errors
    /// As [`Scanner::next`].
    #[cfg(not(feature = "fast"))]
    pub fn skip_value(&mut self, input: &[u8], depth: usize) -> Result<(usize, bool), JsonError> {
        let mut i = 0;
        while i < input.len() {
            let (used, ended) = self.skip_part(input.get(i..).unwrap_or(&[]))?;
            i += used; // at most the bytes left
            // A value ended back at `depth` (a `,` after it may have been taken too).
            if ended && usize::from(self.depth) == depth {
                return Ok((i, true));
            }
        }
        Ok((input.len(), false))
    }

    /// Consumes `input` up to the next token, which is not handed out: the bytes consumed and
    /// whether the token ended a value. Firmware: [`Scanner::next`] itself (no second copy of
    /// the grammar in flash).
    #[cfg(not(feature = "fast"))]
    fn skip_part(&mut self, input: &[u8]) -> Result<(usize, bool), JsonError> {
        let (used, tok) = self.next(input)?;
        let ended = matches!(
            tok,
            Some(
                Token::Number(_)
                    | Token::StrEnd
                    | Token::Bool(_)
                    | Token::Null
                    | Token::ObjectEnd
                    | Token::ArrayEnd
            )
        );
        Ok((used, ended))
    }

    /// Consumes the rest of a value nobody wants, producing no tokens: the value that follows
    /// a key (call it right after [`Token::Key`]) or the container just opened (right after
    /// [`Token::ObjectStart`] or [`Token::ArrayStart`]), `depth` being [`Scanner::depth`]
    /// outside that value. Returns the bytes consumed and whether the value is over; `false`
    /// means all of `input` was consumed and the value goes on in the next bytes. The bytes are
    /// checked exactly as [`Scanner::next`] checks them (the same errors, depth bound and
    /// split independence); only the tokens are not handed out.
    ///
    /// With the `fast` feature the common shapes of compact JSON are taken in tight loops:
    /// object members `"key":value,` and array elements `value,` whose value is a string or
    /// a number lying whole in the input, one after the other, and brackets and literals at
    /// once; a token cut by the end of the input goes on from the mode it stands in, and
    /// every other byte goes through the same grammar step as [`Scanner::next`].
    ///
    /// # Errors
    /// As [`Scanner::next`].
    #[cfg(feature = "fast")]
    pub fn skip_value(&mut self, input: &[u8], depth: usize) -> Result<(usize, bool), JsonError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            let ended = match self.mode {
                Mode::Str { key } if self.esc == Esc::None && self.high.is_none() && b >= 0x20 => {
                    match b {
                        b'"' if key => {
                            i += 1;
                            match self.members(input, &mut i, depth, Member::Colon)? {
                                Some(next) => self.mode = next,
                                None => return Ok((i, true)),
                            }
                            false
                        }
                        b'"' => {
                            i += 1;
                            self.mode = self.after_value();
                            true
                        }
                        b'\\' => {
                            self.esc = Esc::Backslash;
                            i += 1;
                            false
                        }
                        _ => {
                            i += string_run(input.get(i..).unwrap_or(&[]));
                            false
                        }
                    }
                }
                Mode::Colon if b == b':' => {
                    match self.members(input, &mut i, depth, Member::Colon)? {
                        Some(next) => self.mode = next,
                        None => return Ok((i, true)),
                    }
                    false
                }
                Mode::AfterValue if b == b',' && self.top_is_object() => {
                    match self.members(input, &mut i, depth, Member::Comma)? {
                        Some(next) => self.mode = next,
                        None => return Ok((i, true)),
                    }
                    false
                }
                Mode::AfterValue if b == b',' => {
                    self.mode = if self.top_is_object() {
                        Mode::Key
                    } else {
                        Mode::Value
                    };
                    i += 1;
                    false
                }
                Mode::Key | Mode::KeyOrEnd if b == b'"' => {
                    match self.members(input, &mut i, depth, Member::Key)? {
                        Some(next) => self.mode = next,
                        None => return Ok((i, true)),
                    }
                    false
                }
                Mode::KeyOrEnd | Mode::AfterValue if b == b'}' && self.top_is_object() => {
                    self.depth -= 1;
                    self.mode = self.after_value();
                    i += 1;
                    true
                }
                Mode::ValueOrEnd | Mode::AfterValue
                    if b == b']' && self.depth > 0 && !self.top_is_object() =>
                {
                    self.depth -= 1;
                    self.mode = self.after_value();
                    i += 1;
                    true
                }
                Mode::Value | Mode::ValueOrEnd => match b {
                    b'"' | b'-' | b'0'..=b'9' => {
                        // Strings and numbers, each whole in the input: one value, or the
                        // elements `v,v,` of an array one after the other without going back
                        // to the dispatch. A value cut by the end of the input leaves its mode.
                        loop {
                            if let Some(next) = self.whole_scalar(input, &mut i)? {
                                self.mode = next;
                                break;
                            }
                            // The value ended.
                            self.mode = self.after_value();
                            if usize::from(self.depth) == depth {
                                return Ok((i, true));
                            }
                            if self.mode != Mode::AfterValue
                                || self.top_is_object()
                                || input.get(i) != Some(&b',')
                            {
                                break;
                            }
                            // The `,`: the next element starts.
                            i += 1;
                        }
                        false
                    }
                    b't' | b'f' | b'n' => {
                        let (start, end) = literal(b);
                        let lit = LITERALS.get(usize::from(start)..usize::from(end));
                        let lit = lit.unwrap_or(&[]);
                        if input.get(i..i + lit.len()) == Some(lit) {
                            i += lit.len();
                            self.mode = self.after_value();
                            true
                        } else {
                            self.skip_step(input, &mut i)?
                        }
                    }
                    b'{' | b'[' => {
                        let object = b == b'{';
                        if let Err(e) = self.push(object) {
                            self.error = Some(e);
                            return Err(e);
                        }
                        self.mode = if object {
                            Mode::KeyOrEnd
                        } else {
                            Mode::ValueOrEnd
                        };
                        i += 1;
                        false
                    }
                    _ => self.skip_step(input, &mut i)?,
                },
                Mode::Number(st) if b.is_ascii_digit() || st.step(b).is_some() => {
                    let (st, run) = number_run(st, input.get(i..).unwrap_or(&[]));
                    i += run;
                    match self.number_end(st, run, input.get(i).is_some()) {
                        Ok(Some(next)) => {
                            self.mode = next;
                            false
                        }
                        Ok(None) => {
                            self.mode = self.after_value();
                            true
                        }
                        Err(e) => return Err(e),
                    }
                }
                _ => self.skip_step(input, &mut i)?,
            };
            // A value ended back at `depth` (a `,` after it may have been taken too).
            if ended && usize::from(self.depth) == depth {
                return Ok((i, true));
            }
        }
        Ok((input.len(), false))
    }

    /// Members `"key":value,` of the object being skipped, with a string or number value each
    /// whole in the input, one after the other without going back to the dispatch of
    /// [`Scanner::skip_value`], entered at `from`. Returns the mode the first byte that is
    /// anything else stands in, or `None` when a value ended back at `depth` (the skip is
    /// over; the mode is then written back).
    #[cfg(feature = "fast")]
    #[inline(always)]
    fn members(
        &mut self,
        input: &[u8],
        i: &mut usize,
        depth: usize,
        from: Member,
    ) -> Result<Option<Mode>, JsonError> {
        let mut at = *i;
        let mut stage = from;
        let mode = loop {
            if stage == Member::Comma {
                // The `,` after a value; a key must follow.
                at += 1;
                if input.get(at) != Some(&b'"') {
                    break Mode::Key;
                }
                stage = Member::Key;
            }
            if stage == Member::Key {
                let run = string_run(input.get(at + 1..).unwrap_or(&[]));
                if input.get(at + 1 + run) != Some(&b'"') {
                    // Cut by the end of the input, an escape or a control byte: the run is
                    // taken, the string arms go on from there.
                    at += run + 1;
                    break Mode::Str { key: true };
                }
                at += run + 2;
            }
            // After the key: its `:` and the value.
            if input.get(at) != Some(&b':') {
                break Mode::Colon;
            }
            at += 1;
            if let Some(next) = self.whole_scalar(input, &mut at)? {
                break next;
            }
            // The value ended, inside this object.
            if usize::from(self.depth) == depth {
                *i = at;
                self.mode = Mode::AfterValue;
                return Ok(None);
            }
            if input.get(at) != Some(&b',') {
                break Mode::AfterValue;
            }
            stage = Member::Comma;
        };
        *i = at;
        Ok(Some(mode))
    }

    /// A string or number value at `at`, skipped whole: `None` when it ended in `input` (`at`
    /// just past it), else the mode to go on in (`at` past what was taken: a value cut by the
    /// end of the input, or [`Mode::Value`] for anything but a string or a number).
    #[cfg(feature = "fast")]
    #[inline(always)]
    fn whole_scalar(&mut self, input: &[u8], at: &mut usize) -> Result<Option<Mode>, JsonError> {
        match input.get(*at) {
            Some(b'"') => {
                let run = string_run(input.get(*at + 1..).unwrap_or(&[]));
                if input.get(*at + 1 + run) != Some(&b'"') {
                    *at += run + 1;
                    return Ok(Some(Mode::Str { key: false }));
                }
                *at += run + 2;
                Ok(None)
            }
            Some(&c @ (b'-' | b'0'..=b'9')) => {
                self.num_len = 0;
                let (st, run) = number_run(Num::start(c), input.get(*at + 1..).unwrap_or(&[]));
                *at += run + 1;
                self.number_end(st, run + 1, input.get(*at).is_some())
            }
            _ => Ok(Some(Mode::Value)),
        }
    }

    /// One grammar step of [`Scanner::skip_value`] for a byte its fast arms do not take:
    /// whether a value ended.
    #[cfg(feature = "fast")]
    #[inline(never)]
    fn skip_step(&mut self, input: &[u8], i: &mut usize) -> Result<bool, JsonError> {
        match self.step(input, *i) {
            Ok((used, out)) => {
                *i = i.saturating_add(used);
                Ok(matches!(
                    out,
                    Some(
                        Out::Number
                            | Out::StrEnd
                            | Out::Bool(_)
                            | Out::Null
                            | Out::ObjectEnd
                            | Out::ArrayEnd
                    )
                ))
            }
            Err(e) => {
                self.error = Some(e);
                Err(e)
            }
        }
    }

    /// After a run of number bytes (`run` of them, in state `st`) that a byte follows
    /// (`ended`) or not: `Ok(None)` when the number is over, `Ok(Some(mode))` when it goes on
    /// in the next input. Only the count of its bytes is kept.
    #[cfg(feature = "fast")]
    fn number_end(&mut self, st: Num, run: usize, ended: bool) -> Result<Option<Mode>, JsonError> {
        let len = usize::from(self.num_len).saturating_add(run);
        let err = if len > NUMBER_CAP {
            JsonError::NumberTooLong
        } else if !ended {
            self.num_len = len as u8;
            return Ok(Some(Mode::Number(st)));
        } else if st.complete() {
            return Ok(None);
        } else {
            JsonError::Syntax
        };
        self.error = Some(err);
        Err(err)
    }

    fn token<'a>(&'a self, out: Out, input: &'a [u8]) -> Token<'a> {
        match out {
            Out::ObjectStart => Token::ObjectStart,
            Out::ObjectEnd => Token::ObjectEnd,
            Out::ArrayStart => Token::ArrayStart,
            Out::ArrayEnd => Token::ArrayEnd,
            Out::Key => {
                let key = self.key.get(..usize::from(self.key_len)).unwrap_or(&[]);
                Token::Key(key)
            }
            Out::Scratch(n) => Token::Str(self.scratch.get(..usize::from(n)).unwrap_or(&[])),
            Out::Input(a, b) => Token::Str(input.get(a..b).unwrap_or(&[])),
            #[cfg(feature = "fast")]
            Out::InputKey(a, b) => Token::Key(input.get(a..b).unwrap_or(&[])),
            #[cfg(feature = "fast")]
            Out::InputNumber(a, b) => Token::Number(input.get(a..b).unwrap_or(&[])),
            Out::StrEnd => Token::StrEnd,
            Out::Number => Token::Number(self.num.get(..usize::from(self.num_len)).unwrap_or(&[])),
            Out::Bool(v) => Token::Bool(v),
            Out::Null => Token::Null,
        }
    }

    /// The mode after a value that just ended.
    fn after_value(&self) -> Mode {
        if self.depth == 0 {
            Mode::Done
        } else {
            Mode::AfterValue
        }
    }

    /// A value just ended (string, number, literal or container).
    fn value_end(&mut self) {
        self.mode = self.after_value();
    }

    fn top_is_object(&self) -> bool {
        self.depth > 0 && (self.stack >> (self.depth - 1)) & 1 == 1
    }

    // Always inlined: 16 B less flash on a Cortex-M4 than a call from each of its sites.
    #[inline(always)]
    fn push(&mut self, object: bool) -> Result<(), JsonError> {
        if usize::from(self.depth) >= MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        let bit = 1u16 << self.depth;
        if object {
            self.stack |= bit;
        } else {
            self.stack &= !bit;
        }
        self.depth += 1;
        Ok(())
    }

    /// Processes input from `i` (which is in bounds). Returns the bytes consumed, 0 only when
    /// a token is produced without consuming (a number or a lone surrogate ended by the byte).
    // Hosts: inlined into both loops (`next`, `skip_value`), the scanner's hot path.
    #[cfg_attr(feature = "fast", inline(always))]
    fn step(&mut self, input: &[u8], i: usize) -> Result<(usize, Option<Out>), JsonError> {
        let Some(&b) = input.get(i) else {
            return Ok((0, None));
        };
        let ws = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        match self.mode {
            Mode::Str { key } => self.string(input, i, key),
            #[cfg(feature = "fast")]
            Mode::Number(Num::Int | Num::Frac | Num::ExpDigits) if b.is_ascii_digit() => {
                self.digit_run(input, i)
            }
            Mode::Number(st) => match st.step(b) {
                Some(next) => {
                    if usize::from(self.num_len) >= NUMBER_CAP {
                        return Err(JsonError::NumberTooLong);
                    }
                    if let Some(slot) = self.num.get_mut(usize::from(self.num_len)) {
                        *slot = b;
                    }
                    self.num_len += 1;
                    self.mode = Mode::Number(next);
                    Ok((1, None))
                }
                None if st.complete() => {
                    self.value_end();
                    Ok((self.comma(input, i), Some(Out::Number)))
                }
                None => Err(JsonError::Syntax),
            },
            Mode::Literal { at, end } => {
                if LITERALS.get(usize::from(at)) != Some(&b) {
                    return Err(JsonError::Syntax);
                }
                let at = at + 1;
                if at < end {
                    self.mode = Mode::Literal { at, end };
                    return Ok((1, None));
                }
                self.value_end();
                Ok((
                    1,
                    Some(match end {
                        4 => Out::Bool(true),
                        9 => Out::Bool(false),
                        _ => Out::Null,
                    }),
                ))
            }
            _ if ws => Ok((1, None)),
            Mode::Done => Err(JsonError::TrailingData),
            Mode::Colon if b == b':' => {
                self.mode = Mode::Value;
                Ok((1, None))
            }
            Mode::Colon => Err(JsonError::Syntax),
            Mode::Key | Mode::KeyOrEnd if b == b'"' => {
                self.key_len = 0;
                self.key_truncated = false;
                self.mode = Mode::Str { key: true };
                Ok((1, None))
            }
            Mode::AfterValue if b == b',' => {
                self.mode = if self.top_is_object() {
                    Mode::Key
                } else {
                    Mode::Value
                };
                Ok((1, None))
            }
            Mode::KeyOrEnd | Mode::AfterValue if b == b'}' && self.top_is_object() => {
                self.depth -= 1;
                self.value_end();
                Ok((1, Some(Out::ObjectEnd)))
            }
            Mode::ValueOrEnd | Mode::AfterValue
                if b == b']' && self.depth > 0 && !self.top_is_object() =>
            {
                self.depth -= 1;
                self.value_end();
                Ok((1, Some(Out::ArrayEnd)))
            }
            Mode::Value | Mode::ValueOrEnd => self.value_start(b),
            Mode::Key | Mode::KeyOrEnd | Mode::AfterValue => Err(JsonError::Syntax),
        }
    }

    /// A run of digits inside a number, taken at once.
    #[cfg(feature = "fast")]
    fn digit_run(&mut self, input: &[u8], i: usize) -> Result<(usize, Option<Out>), JsonError> {
        let rest = input.get(i..).unwrap_or(&[]);
        let run = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let len = usize::from(self.num_len);
        if len.saturating_add(run) > NUMBER_CAP {
            return Err(JsonError::NumberTooLong);
        }
        let digits = rest.get(..run).unwrap_or(&[]);
        crate::text::copy_bytes(self.num.get_mut(len..).unwrap_or(&mut []), digits);
        self.num_len = (len + run) as u8;
        Ok((run, None))
    }

    /// After a key: its `:`, when it is the byte at `i`, taken with the key (one step less
    /// per key). Returns the bytes taken.
    #[cfg(feature = "fast")]
    fn colon(&mut self, input: &[u8], i: usize) -> usize {
        if input.get(i) == Some(&b':') {
            self.mode = Mode::Value;
            return 1;
        }
        0
    }

    /// After a value: a `,` that is the byte at `i`, taken with the value. Returns the bytes
    /// taken.
    #[cfg(feature = "fast")]
    fn comma(&mut self, input: &[u8], i: usize) -> usize {
        if self.mode == Mode::AfterValue && input.get(i) == Some(&b',') {
            self.mode = if self.top_is_object() {
                Mode::Key
            } else {
                Mode::Value
            };
            return 1;
        }
        0
    }

    #[cfg(not(feature = "fast"))]
    fn colon(&mut self, _input: &[u8], _i: usize) -> usize {
        0
    }

    #[cfg(not(feature = "fast"))]
    fn comma(&mut self, _input: &[u8], _i: usize) -> usize {
        0
    }

    /// The first byte of a value.
    fn value_start(&mut self, b: u8) -> Result<(usize, Option<Out>), JsonError> {
        match b {
            b'{' => {
                self.push(true)?;
                self.mode = Mode::KeyOrEnd;
                Ok((1, Some(Out::ObjectStart)))
            }
            b'[' => {
                self.push(false)?;
                self.mode = Mode::ValueOrEnd;
                Ok((1, Some(Out::ArrayStart)))
            }
            b'"' => {
                self.mode = Mode::Str { key: false };
                Ok((1, None))
            }
            b't' | b'f' | b'n' => {
                let (start, end) = literal(b);
                self.mode = Mode::Literal { at: start + 1, end };
                Ok((1, None))
            }
            b'-' | b'0'..=b'9' => {
                if let Some(first) = self.num.first_mut() {
                    *first = b;
                }
                self.num_len = 1;
                self.mode = Mode::Number(Num::start(b));
                Ok((1, None))
            }
            _ => Err(JsonError::Syntax),
        }
    }

    /// Inside a string: a run of plain bytes, an escape byte, or the closing quote.
    #[cfg_attr(feature = "fast", inline(always))]
    fn string(
        &mut self,
        input: &[u8],
        i: usize,
        key: bool,
    ) -> Result<(usize, Option<Out>), JsonError> {
        let Some(&b) = input.get(i) else {
            return Ok((0, None));
        };
        // A high surrogate not followed by `\u`: it stands alone (`\uD83D\n`: the escape
        // after it is decoded next).
        let lone = match self.esc {
            Esc::None => b != b'\\',
            Esc::Backslash => b != b'u',
            Esc::Hex { .. } => false,
        };
        if lone && self.high.is_some() {
            self.high = None;
            return Ok((0, self.emit(key, &REPLACEMENT)));
        }
        match self.esc {
            Esc::None => match b {
                b'"' => {
                    self.value_end_or_colon(key);
                    let next = i.saturating_add(1);
                    let more = if key {
                        self.colon(input, next)
                    } else {
                        self.comma(input, next)
                    };
                    Ok((
                        1 + more,
                        Some(if key { self.finish_key() } else { Out::StrEnd }),
                    ))
                }
                b'\\' => {
                    self.esc = Esc::Backslash;
                    Ok((1, None))
                }
                0..=0x1F => Err(JsonError::Syntax),
                _ => {
                    let rest = input.get(i..).unwrap_or(&[]);
                    let run = string_run(rest);
                    if key {
                        self.push_key(rest.get(..run).unwrap_or(&[]));
                        Ok((run, None))
                    } else {
                        Ok((run, Some(Out::Input(i, i.saturating_add(run)))))
                    }
                }
            },
            Esc::Backslash if b == b'u' => {
                self.esc = Esc::Hex { n: 0, val: 0 };
                Ok((1, None))
            }
            Esc::Backslash => {
                // The escape letters and what they stand for, side by side: a table lookup
                // is smaller than a branch per letter.
                const LETTERS: &[u8; 8] = b"\"\\/bfnrt";
                const DECODED: &[u8; 8] = b"\"\\/\x08\x0c\n\r\t";
                let c = LETTERS
                    .iter()
                    .position(|&l| l == b)
                    .and_then(|k| DECODED.get(k))
                    .ok_or(JsonError::BadEscape)?;
                self.esc = Esc::None;
                Ok((1, self.emit(key, &[*c])))
            }
            Esc::Hex { n, val } => {
                let d = match b {
                    b'0'..=b'9' => b - b'0',
                    // ASCII letters: setting bit 5 lowercases them.
                    _ => match b | 0x20 {
                        l @ b'a'..=b'f' => l - b'a' + 10,
                        _ => return Err(JsonError::BadEscape),
                    },
                };
                let val = (val << 4) | u16::from(d);
                if n < 3 {
                    self.esc = Esc::Hex { n: n + 1, val };
                    return Ok((1, None));
                }
                self.esc = Esc::None;
                Ok((1, self.code_unit(key, val)))
            }
        }
    }

    /// A complete `\uXXXX` code unit (RFC 8259 §7: astral characters are surrogate pairs).
    // Out of line on the firmware path (88 B less flash): `\u` escapes are rare.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn code_unit(&mut self, key: bool, unit: u16) -> Option<Out> {
        let mut buf = [0u8; SCRATCH_CAP];
        let is_high = (0xD800..0xDC00).contains(&unit);
        let is_low = (0xDC00..0xE000).contains(&unit);
        let len = match self.high.take() {
            Some(high) if is_low => {
                let cp = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                encode_utf8(cp, &mut buf)
            }
            pending => {
                // A pending high surrogate not followed by a low one stands alone.
                let mut len = 0;
                if pending.is_some() {
                    len = encode_utf8(0xFFFD, &mut buf);
                }
                if is_high {
                    self.high = Some(unit);
                } else {
                    let cp = if is_low { 0xFFFD } else { u32::from(unit) };
                    let (_, tail) = buf.split_at_mut(len);
                    len += encode_utf8(cp, tail);
                }
                len
            }
        };
        if len == 0 {
            return None;
        }
        self.emit(key, buf.get(..len).unwrap_or(&[]))
    }

    /// Decoded bytes of an escape: appended to the key, or handed out as a piece.
    fn emit(&mut self, key: bool, bytes: &[u8]) -> Option<Out> {
        if key {
            self.push_key(bytes);
            return None;
        }
        Some(Out::Scratch(copy_bytes(&mut self.scratch, bytes) as u8))
    }

    fn value_end_or_colon(&mut self, key: bool) {
        if key {
            self.mode = Mode::Colon;
        } else {
            self.value_end();
        }
    }

    fn push_key(&mut self, bytes: &[u8]) {
        let len = usize::from(self.key_len);
        let copied = copy_bytes(self.key.get_mut(len..).unwrap_or(&mut []), bytes);
        // `len + copied <= KEY_CAP`.
        self.key_len = (len + copied) as u8;
        if copied < bytes.len() {
            self.key_truncated = true;
        }
    }

    /// The key is complete: cut a character split by the capacity.
    fn finish_key(&mut self) -> Out {
        if self.key_truncated {
            let key = self.key.get(..usize::from(self.key_len)).unwrap_or(&[]);
            self.key_len = utf8_boundary(key) as u8;
        }
        Out::Key
    }
}

/// The length of the run of plain string bytes at the start of `s`: up to the first `"`,
/// `\\` or control byte.
#[cfg(not(feature = "fast"))]
pub(crate) fn string_run(s: &[u8]) -> usize {
    s.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(s.len())
}

/// The length of the run of plain string bytes at the start of `s`: up to the first `"`,
/// `\\` or control byte. Eight bytes at a time: a byte is flagged when it is below 0x20
/// (`b - 0x20` borrows with the top bit clear) or `b ^ '"'` or `b ^ '\\'` is zero; a borrow
/// only flags bytes above a flagged one, so the lowest flag is the first such byte.
#[cfg(feature = "fast")]
#[inline(always)]
pub(crate) fn string_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let flags = |word: &[u8]| {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?);
        let flags = (x.wrapping_sub(ONES * 0x20) & !x
            | zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\'))))
            & HIGH;
        Some(flags)
    };
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let Some(flags) = flags(word) else {
            break;
        };
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = words.remainder();
    if tail.is_empty() {
        return at;
    }
    // The last eight bytes, overlapping ones already found plain: those raise no flag (and
    // no borrow), so the lowest flag is still the first such byte.
    if let Some(last) = s.len().checked_sub(8)
        && let Some(flags) = s.get(last..).and_then(flags)
    {
        return match flags {
            0 => s.len(),
            _ => last + (flags.trailing_zeros() / 8) as usize,
        };
    }
    at + tail
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(tail.len())
}

/// The number bytes at the start of `s` continuing a number in state `st`: the state after
/// them and their count. The grammar's parts are taken in their order (integer, fraction,
/// exponent), each digit run in a tight loop: no dispatch on the state per byte.
#[cfg(feature = "fast")]
#[inline(always)]
fn number_run(mut st: Num, s: &[u8]) -> (Num, usize) {
    let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let digits = |mut i: usize| {
        while digit(i) {
            i += 1;
        }
        i
    };
    let mut i = 0;
    if st == Num::Minus {
        match s.get(i) {
            Some(b'0') => st = Num::Zero,
            Some(b'1'..=b'9') => st = Num::Int,
            _ => return (st, i),
        }
        i += 1;
    }
    if st == Num::Int {
        i = digits(i);
    }
    if matches!(st, Num::Zero | Num::Int) {
        match s.get(i) {
            Some(b'.') => st = Num::Dot,
            Some(b'e' | b'E') => st = Num::Exp,
            _ => return (st, i),
        }
        i += 1;
    }
    if st == Num::Dot {
        if !digit(i) {
            return (st, i);
        }
        st = Num::Frac;
        i += 1;
    }
    if st == Num::Frac {
        i = digits(i);
        if !matches!(s.get(i), Some(b'e' | b'E')) {
            return (st, i);
        }
        st = Num::Exp;
        i += 1;
    }
    if st == Num::Exp {
        match s.get(i) {
            Some(b'+' | b'-') => st = Num::ExpSign,
            Some(b'0'..=b'9') => st = Num::ExpDigits,
            _ => return (st, i),
        }
        i += 1;
    }
    if st == Num::ExpSign {
        if !digit(i) {
            return (st, i);
        }
        st = Num::ExpDigits;
        i += 1;
    }
    if st == Num::ExpDigits {
        i = digits(i);
    }
    (st, i)
}

/// Encodes a scalar value (never a surrogate here; U+FFFD past U+10FFFF) into `out`; returns
/// the length, 0 when `out` is too short. Written out rather than through `char`: half the
/// flash.
fn encode_utf8(cp: u32, out: &mut [u8]) -> usize {
    let cp = if cp > 0x10FFFF { 0xFFFD } else { cp };
    let len = match cp {
        0..=0x7F => 1,
        0x80..=0x7FF => 2,
        0x800..=0xFFFF => 3,
        _ => 4,
    };
    let Some((first, rest)) = out.get_mut(..len).and_then(|d| d.split_first_mut()) else {
        return 0;
    };
    // Continuation bytes carry six bits each, the last ones first.
    let mut c = cp;
    for b in rest.iter_mut().rev() {
        *b = 0x80 | (c & 0x3F) as u8;
        c >>= 6;
    }
    // The lead byte: as many high bits set as the length (none for ASCII).
    let lead = if len == 1 {
        0
    } else {
        (0xFF00u16 >> len) as u8
    };
    *first = lead | c as u8;
    len
}

/// The length of `bytes` without a trailing incomplete UTF-8 sequence.
pub(crate) fn utf8_boundary(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // The lead byte of the last character is among the last 3 bytes, or it is complete.
    let tail = bytes.get(len.saturating_sub(3)..).unwrap_or(&[]);
    let Some((at, &lead)) = tail.iter().enumerate().rfind(|(_, b)| *b & 0xC0 != 0x80) else {
        return len;
    };
    // A lead byte's high 1 bits give its sequence length.
    let need = match lead {
        0xC0..=0xF7 => (!lead).leading_zeros() as usize,
        _ => 1,
    };
    let back = tail.len() - at;
    if back < need { len - back } else { len }
}

#[cfg(test)]
mod tests;
