//! The error-body decoder: every body shape the API, API Gateway and proxies send (spec §5.3),
//! fed in pieces of any size, becomes one [`ApiError`].

use super::{ApiError, ErrorCode, ErrorType, MESSAGE_CAP, PARAM_CAP, RAW_CODE_CAP};
use crate::http::{REQUEST_ID_CAP, ResponseHead};
use crate::json::{Scanner, Token};
use crate::packed::packed_position;
use crate::text::{AnyText, Text};

/// Capacity of the validation rule kept from an error's `details`.
const RULE_CAP: usize = 16;

/// Where a string value of an error body goes. Numbered from 1, so that `None` is 0 and a
/// fresh [`Fields`] is all zero bytes: one clear builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
enum Field {
    Type = 1,
    Code,
    Message,
    Param,
    RequestId,
    /// The `rule` of the first validation detail (VineJS: `required`, `enum`, …).
    Rule,
}

/// How much a source of a field is trusted: a later value replaces an earlier one only from a
/// source at least as trusted.
mod rank {
    /// The first element of a validation error's `details` (`field` as the param).
    pub(super) const DETAIL: u8 = 1;
    /// `{"error": "text"}`: a bare string under `error`, used as the message.
    pub(super) const ERROR_STRING: u8 = 1;
    /// Flat top-level fields (`{"message": …, "code": …}`, spec §5.3).
    pub(super) const FLAT: u8 = 2;
    /// The documented envelope `{"error": {…}}` (spec §5.1).
    pub(super) const ENVELOPE: u8 = 3;
}

/// What the body turned out to be, from its first non-whitespace byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Shape {
    /// Only whitespace so far.
    Unknown,
    /// Starts with `{` or `[`: scanned as JSON.
    Json,
    /// Anything else (HTML, plain text): its visible text becomes the message.
    Text,
}

/// The fields of an error body read so far. In declaration order (`repr(C)`, all of
/// alignment 1, so no padding): the texts sit side by side, which makes clearing them shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
struct Fields {
    /// Target of the pending value and the rank of its source.
    target: Option<(Field, u8)>,
    /// The string value being written now (its first piece arrived).
    open: Option<Field>,
    depth: u8,
    /// Inside the object under the top-level `error` key.
    envelope: bool,
    /// The last top-level key was `error`.
    error_key: bool,
    /// Where the reading is in a top-level `details` array: 0 outside, 1 after the key,
    /// 2 inside the array, 3 inside its first element, 4 past it.
    details: u8,
    kind: Text<RAW_CODE_CAP>,
    code: Text<RAW_CODE_CAP>,
    message: Text<MESSAGE_CAP>,
    param: Text<PARAM_CAP>,
    request_id: Text<REQUEST_ID_CAP>,
    rule: Text<RULE_CAP>,
    /// Rank of the source of each field, at [`Fields::rank_index`]; 0 = not seen.
    ranks: [u8; 6],
    /// Text bodies: inside `<…>`, and whether a space is owed before the next visible byte.
    in_tag: bool,
    space: bool,
    text_len: u8,
}

impl Fields {
    const fn new() -> Self {
        Fields {
            target: None,
            open: None,
            depth: 0,
            envelope: false,
            error_key: false,
            details: 0,
            kind: Text::new(),
            code: Text::new(),
            message: Text::new(),
            param: Text::new(),
            request_id: Text::new(),
            rule: Text::new(),
            ranks: [0; 6],
            in_tag: false,
            space: false,
            text_len: 0,
        }
    }

    fn rank(&self, f: Field) -> u8 {
        self.ranks.get(Self::rank_index(f)).copied().unwrap_or(0)
    }

    /// Where the rank of `f` is kept in `ranks`.
    fn rank_index(f: Field) -> usize {
        usize::from(f as u8).wrapping_sub(1)
    }

    /// Where the text of `f` is kept.
    fn text(&mut self, f: Field) -> &mut AnyText {
        match f {
            Field::Type => self.kind.any(),
            Field::Code => self.code.any(),
            Field::Message => self.message.any(),
            Field::Param => self.param.any(),
            Field::RequestId => self.request_id.any(),
            Field::Rule => self.rule.any(),
        }
    }

    /// The position of `key` among the keys an error body is read for: the fields (0 to 5,
    /// see [`Fields::field_at`]), then `field`, `rule`, `error` and `details`.
    fn key_position(key: &[u8]) -> Option<usize> {
        // The keys one after the other, with their lengths: no slice per key in flash.
        const LENS: [u8; 10] = [4, 4, 7, 5, 10, 9, 5, 4, 5, 7];
        const TEXT: &str = "typecodemessageparamrequest_idrequestIdfieldruleerrordetails";
        const _: () = {
            let mut total = 0;
            let mut i = 0;
            while i < LENS.len() {
                total += LENS[i] as usize;
                i += 1;
            }
            assert!(total == TEXT.len(), "LENS must add up to TEXT");
        };
        packed_position(&LENS, TEXT, key)
    }

    /// The field named by the key at position `i` of [`Fields::key_position`], at the top
    /// level or in the envelope.
    fn field_at(i: usize) -> Option<Field> {
        const FIELDS: [Field; 6] = [
            Field::Type,
            Field::Code,
            Field::Message,
            Field::Param,
            Field::RequestId,
            Field::RequestId,
        ];
        FIELDS.get(i).copied()
    }

    // Out of line on the firmware path: pasted into the body-reading loop it costs 48 B
    // more flash.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn token(&mut self, tok: Token<'_>) {
        // What a key named holds for the one token after it.
        let target = self.target.take();
        let error_key = core::mem::take(&mut self.error_key);
        let depth = self.depth;
        let (bytes, string) = match tok {
            Token::Key(key) => {
                // Past the fields: `field`, `rule`, `error`, `details`.
                const FIELD: usize = 6;
                const RULE: usize = 7;
                const ERROR: usize = 8;
                const DETAILS: usize = 9;
                let i = Self::key_position(key).unwrap_or(usize::MAX);
                self.target = match (depth, i) {
                    (1, _) => Self::field_at(i).map(|f| (f, rank::FLAT)),
                    (2, _) if self.envelope => Self::field_at(i).map(|f| (f, rank::ENVELOPE)),
                    (3, FIELD) if self.details == 3 => Some((Field::Param, rank::DETAIL)),
                    (3, RULE) if self.details == 3 => Some((Field::Rule, rank::DETAIL)),
                    _ => None,
                };
                self.error_key = depth == 1 && i == ERROR;
                if depth == 1 && self.details != 4 {
                    self.details = u8::from(i == DETAILS);
                }
                return;
            }
            Token::ObjectStart | Token::ArrayStart => {
                let depth = depth.saturating_add(1);
                self.depth = depth;
                let object = matches!(tok, Token::ObjectStart);
                if object && error_key && depth == 2 {
                    self.envelope = true;
                }
                // `details` opens as an array (state 1 to 2) at depth 2, its first element
                // as an object (2 to 3) at depth 3.
                let (from, at) = if object { (2, 3) } else { (1, 2) };
                if self.details == from && depth == at {
                    self.details = from + 1;
                }
                return;
            }
            Token::ObjectEnd | Token::ArrayEnd => {
                let depth = depth.saturating_sub(1);
                self.depth = depth;
                if depth < 2 {
                    self.envelope = false;
                }
                // Only the first detail counts; a `details` that is not an array of objects
                // gives nothing.
                if matches!(self.details, 2 | 3) && depth <= 2 {
                    self.details = 4;
                }
                return;
            }
            Token::Str(piece) => (piece, true),
            // An empty string still replaces a value from a less trusted source.
            Token::StrEnd => (&[][..], true),
            // A numeric code (`"code": 429`) keeps its text.
            Token::Number(n) => (n, false),
            Token::Bool(_) | Token::Null => return,
        };
        let mut write = self.open;
        let mut fresh = false;
        if write.is_none() {
            // A bare string under the top-level `error` key is the message.
            let target = match target {
                None if error_key && depth == 1 && matches!(tok, Token::Str(_)) => {
                    Some((Field::Message, rank::ERROR_STRING))
                }
                t => t,
            };
            if let Some((f, r)) = target
                && (string || f == Field::Code)
                && r >= self.rank(f)
            {
                if let Some(slot) = self.ranks.get_mut(Self::rank_index(f)) {
                    *slot = r;
                }
                write = Some(f);
                fresh = true;
            }
        }
        if let Some(f) = write {
            let text = self.text(f);
            if fresh {
                text.clear();
            }
            // A string's end adds nothing: no call for it.
            if !bytes.is_empty() {
                text.push_bytes(bytes);
            }
        }
        // Only a string value goes on in the next piece.
        self.open = if matches!(tok, Token::Str(_)) {
            write
        } else {
            None
        };
    }

    /// One byte of a non-JSON body: tags are dropped, whitespace runs become one space.
    // Out of line on the firmware path: pasted into the body-reading loop it costs 20 B
    // more flash.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn text_byte(&mut self, b: u8) {
        if self.in_tag {
            if b == b'>' {
                self.in_tag = false;
                self.space = self.text_len > 0;
            }
            return;
        }
        match b {
            b'<' => {
                self.in_tag = true;
            }
            0..=0x20 | 0x7F => self.space = self.text_len > 0,
            _ => {
                let need = if self.space { 2 } else { 1 };
                if usize::from(self.text_len) + need > MESSAGE_CAP {
                    self.message.mark_truncated();
                    return;
                }
                // The owed space and the byte, in one push.
                let pair = [b' ', b];
                self.message.push_bytes(pair.get(2 - need..).unwrap_or(&[]));
                self.space = false;
                self.text_len = self.text_len.saturating_add(need as u8);
            }
        }
    }
}

/// Decoder of an error response body, fed as the body streams in.
///
/// Reads the documented envelope `{"error":{"type","code","message","param","request_id"}}`
/// (spec §5.1), the flat bodies of the deployed backend (`{"message": …, "code"?: …,
/// "details"?: […]}`, `{"status":"error","message": …}`) and API Gateway's
/// `{"message":"Unauthorized"}` (spec §5.3). When a body holds both, the envelope wins over flat
/// fields. Unknown fields are skipped at any depth.
///
/// A body that does not start with `{` or `[` (HTML, plain text) gives its visible text, tags
/// dropped and whitespace collapsed, as the message (at most [`MESSAGE_CAP`] bytes). A JSON body
/// that breaks off keeps the fields read before the break; a string cut by it is marked
/// truncated. Fields the body does not give come from the status and the head
/// ([`ErrorBody::finish`]). The result does not depend on how the body was split.
///
/// ```
/// use kaiko_core::error::{ErrorBody, ErrorCode};
/// use kaiko_core::http::ResponseHead;
///
/// let mut body = ErrorBody::new();
/// body.feed(br#"{"message": "Rate limit exceeded. "#);
/// body.feed(br#"Please retry after the reset window."}"#);
/// let err = body.finish(&ResponseHead::new(429));
/// assert_eq!(err.code, ErrorCode::TooManyRequests);
/// assert_eq!(err.message.as_str(), "Rate limit exceeded. Please retry after the reset window.");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorBody {
    scanner: Scanner,
    shape: Shape,
    /// The JSON broke off (syntax error); later bytes are ignored.
    broken: bool,
    fields: Fields,
}

impl Default for ErrorBody {
    fn default() -> Self {
        Self::new()
    }
}

impl ErrorBody {
    /// A decoder before the first body byte.
    // Out of line, its zeroing is a 4-byte-aligned clear (the routine the rest of the core
    // links) wherever it is built.
    #[inline(never)]
    pub const fn new() -> Self {
        ErrorBody {
            scanner: Scanner::new(),
            shape: Shape::Unknown,
            broken: false,
            fields: Fields::new(),
        }
    }

    /// Feeds body bytes, in any fragmentation. Never fails: a body that is not JSON is read
    /// as text, and malformed JSON stops the reading where it breaks.
    pub fn feed(&mut self, input: &[u8]) {
        let mut input = input;
        if self.shape == Shape::Unknown {
            let start = input
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
            let Some(start) = start else { return };
            input = input.get(start..).unwrap_or(&[]);
            self.shape = match input.first() {
                Some(b'{' | b'[') => Shape::Json,
                _ => Shape::Text,
            };
        }
        if self.shape == Shape::Text {
            for &b in input {
                self.fields.text_byte(b);
            }
            return;
        }
        while !self.broken && !input.is_empty() {
            match self.scanner.next(input) {
                Ok((n, tok)) => {
                    if let Some(tok) = tok {
                        self.fields.token(tok);
                    }
                    input = input.get(n..).unwrap_or(&[]);
                }
                Err(_) => self.broken = true,
            }
        }
    }

    /// Builds the error from what was read plus the head: the status, the head's request id
    /// when the body has none, and the rate-limit headers. `retry_after` is left `None` (the
    /// retry policy resolves it from the head).
    pub fn finish(&self, head: &ResponseHead) -> ApiError {
        let f = &self.fields;
        // A string the body broke off in the middle of is incomplete: a cut type or code is
        // dropped (the status says more), cut texts are flagged.
        let cut = if self.scanner.is_done() { None } else { f.open };
        let kind = if !f.kind.is_empty() && cut != Some(Field::Type) {
            ErrorType::parse(f.kind.as_str())
        } else {
            ErrorType::for_status(head.status)
        };
        let code = if !f.code.is_empty() && cut != Some(Field::Code) {
            ErrorCode::parse(f.code.as_str())
        } else {
            ErrorCode::for_status(head.status)
        };
        let mut e = ApiError {
            status: head.status,
            kind,
            code,
            message: f.message,
            param: f.param,
            request_id: if f.request_id.is_empty() {
                head.request_id
            } else {
                f.request_id
            },
            retry_after: None,
            rate_limit: head.rate_limit,
        };
        // A validation detail names the field and the rule it broke: `messages.0.role (enum)`.
        if f.rank(Field::Param) == rank::DETAIL && !f.rule.is_empty() {
            e.param.push_bytes(b" (");
            e.param.push_bytes(f.rule.as_str().as_bytes());
            e.param.push_bytes(b")");
        }
        match cut {
            Some(Field::Message) => e.message.mark_truncated(),
            Some(Field::Param) => e.param.mark_truncated(),
            Some(Field::RequestId) => e.request_id.mark_truncated(),
            _ => {}
        }
        e
    }
}
