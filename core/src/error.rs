//! API errors: the documented envelope, the bodies the real backend sends, and the typed codes.
//!
//! The documented V2 envelope is `{"error":{"type","code","message","param","request_id"}}`
//! (spec §5.1). The deployed backend also sends flat `{"message": …}` and
//! `{"status":"error","message": …}` bodies, API Gateway sends `{"message":"Unauthorized"}`, and
//! proxies send HTML or nothing (spec §5.3). Every one of them becomes an [`ApiError`]: what the
//! body does not say is derived from the HTTP status, so an error is never lost to its shape.

use crate::http::{RateLimit, ResponseHead};
use crate::json::{Scanner, Token};
use crate::text::Text;
use crate::time::Duration;

/// Capacity of [`ApiError::message`] in bytes.
pub const MESSAGE_CAP: usize = 128;
/// Capacity of [`ApiError::param`] in bytes.
pub const PARAM_CAP: usize = 32;
/// Capacity of request ids in bytes.
pub use crate::http::REQUEST_ID_CAP;
/// Capacity of the raw text kept by [`ErrorType::Other`] and [`ErrorCode::Other`].
pub const RAW_CODE_CAP: usize = 32;

/// The `type` of an API error (spec §5.2). Open set: unknown values keep their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorType {
    /// `invalid_request_error` (400, 413, 422).
    InvalidRequest,
    /// `authentication_error` (401).
    Authentication,
    /// `forbidden_error` (403).
    Forbidden,
    /// `not_found_error` (404).
    NotFound,
    /// `conflict_error` (409).
    Conflict,
    /// `rate_limit_error` (429).
    RateLimit,
    /// `server_error` (500, 503).
    Server,
    /// Any other value, as sent.
    Other(Text<RAW_CODE_CAP>),
}

/// The machine-readable `code` of an API error (spec §5.2). Open set: unknown values keep
/// their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400 `missing_field`: a required field (`model`, `messages`, …) is absent.
    MissingField,
    /// 401 `invalid_api_key`: the key is missing or invalid.
    InvalidApiKey,
    /// 403 `key_revoked`: the key was revoked or lacks permission.
    KeyRevoked,
    /// 404 `context_not_found`: unknown or expired context.
    ContextNotFound,
    /// 409 `duplicate_id`: the `externalId` was already used in this context.
    DuplicateId,
    /// 413 `payload_too_large`: the body exceeds the size limit.
    PayloadTooLarge,
    /// 422 `invalid_role`: a field has an invalid value (typically a role).
    InvalidRole,
    /// 429 `too_many_requests`: rate limit exceeded.
    TooManyRequests,
    /// 500 `internal`: unexpected server error.
    Internal,
    /// 503 `service_unavailable`: the service is temporarily unavailable.
    ServiceUnavailable,
    /// Any other value, as sent (e.g. `invalid_model`, `PAYLOAD_TOO_LARGE`).
    Other(Text<RAW_CODE_CAP>),
}

/// One row of the documented error table (spec §5.2).
struct Row {
    status: u16,
    kind: &'static str,
    code: &'static str,
    hint: &'static str,
}

/// The seed table, verbatim remedies from the errors page.
const TABLE: [Row; 10] = [
    Row {
        status: 400,
        kind: "invalid_request_error",
        code: "missing_field",
        hint: "Check required fields (messages, model)",
    },
    Row {
        status: 401,
        kind: "authentication_error",
        code: "invalid_api_key",
        hint: "Check x-api-key header",
    },
    Row {
        status: 403,
        kind: "forbidden_error",
        code: "key_revoked",
        hint: "Generate new key in console",
    },
    Row {
        status: 404,
        kind: "not_found_error",
        code: "context_not_found",
        hint: "Verify context_id or model name",
    },
    Row {
        status: 409,
        kind: "conflict_error",
        code: "duplicate_id",
        hint: "Use unique IDs per message",
    },
    Row {
        status: 413,
        kind: "invalid_request_error",
        code: "payload_too_large",
        hint: "Reduce message size or split batch",
    },
    Row {
        status: 422,
        kind: "invalid_request_error",
        code: "invalid_role",
        hint: "Use valid roles: user, assistant, system",
    },
    Row {
        status: 429,
        kind: "rate_limit_error",
        code: "too_many_requests",
        hint: "Retry with exponential backoff",
    },
    Row {
        status: 500,
        kind: "server_error",
        code: "internal",
        hint: "Retry; contact support if persistent",
    },
    Row {
        status: 503,
        kind: "server_error",
        code: "service_unavailable",
        hint: "Check status page, retry later",
    },
];

impl ErrorType {
    /// Parses the wire text; unknown text becomes [`ErrorType::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "invalid_request_error" => Self::InvalidRequest,
            "authentication_error" => Self::Authentication,
            "forbidden_error" => Self::Forbidden,
            "not_found_error" => Self::NotFound,
            "conflict_error" => Self::Conflict,
            "rate_limit_error" => Self::RateLimit,
            "server_error" => Self::Server,
            other => Self::Other(Text::from_str_truncating(other)),
        }
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request_error",
            Self::Authentication => "authentication_error",
            Self::Forbidden => "forbidden_error",
            Self::NotFound => "not_found_error",
            Self::Conflict => "conflict_error",
            Self::RateLimit => "rate_limit_error",
            Self::Server => "server_error",
            Self::Other(t) => t.as_str(),
        }
    }

    /// The type the documented table gives for `status`: for statuses outside the table,
    /// `server_error` for 5xx and `invalid_request_error` for other 4xx.
    pub fn for_status(status: u16) -> Self {
        match TABLE.iter().find(|r| r.status == status) {
            Some(r) => Self::parse(r.kind),
            None if status >= 500 => Self::Server,
            None if status == 402 => Self::Other(Text::from_str_truncating("payment_required")),
            None => Self::InvalidRequest,
        }
    }
}

impl ErrorCode {
    /// Parses the wire text; unknown text becomes [`ErrorCode::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "missing_field" => Self::MissingField,
            "invalid_api_key" => Self::InvalidApiKey,
            "key_revoked" => Self::KeyRevoked,
            "context_not_found" => Self::ContextNotFound,
            "duplicate_id" => Self::DuplicateId,
            "payload_too_large" => Self::PayloadTooLarge,
            "invalid_role" => Self::InvalidRole,
            "too_many_requests" => Self::TooManyRequests,
            "internal" => Self::Internal,
            "service_unavailable" => Self::ServiceUnavailable,
            other => Self::Other(Text::from_str_truncating(other)),
        }
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::MissingField => "missing_field",
            Self::InvalidApiKey => "invalid_api_key",
            Self::KeyRevoked => "key_revoked",
            Self::ContextNotFound => "context_not_found",
            Self::DuplicateId => "duplicate_id",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidRole => "invalid_role",
            Self::TooManyRequests => "too_many_requests",
            Self::Internal => "internal",
            Self::ServiceUnavailable => "service_unavailable",
            Self::Other(t) => t.as_str(),
        }
    }

    /// The documented code for `status` (used when the body names none). Statuses outside
    /// the table give `Other("http_<status>")`, e.g. `http_402`, `http_502`.
    pub fn for_status(status: u16) -> Self {
        match TABLE.iter().find(|r| r.status == status) {
            Some(r) => Self::parse(r.code),
            None => {
                let mut t = Text::new();
                t.push_bytes(b"http_");
                t.push_bytes(&[
                    b'0' + (status / 100 % 10) as u8,
                    b'0' + (status / 10 % 10) as u8,
                    b'0' + (status % 10) as u8,
                ]);
                Self::Other(t)
            }
        }
    }

    /// The HTTP status the documented table pairs with this code, if it is in the table.
    pub fn status(&self) -> Option<u16> {
        let s = self.as_str();
        TABLE.iter().find(|r| r.code == s).map(|r| r.status)
    }

    /// What to do about it: the documented remedy for the ten table codes, and a generic one
    /// otherwise.
    pub fn hint(&self) -> &'static str {
        let s = self.as_str();
        match TABLE.iter().find(|r| r.code == s) {
            Some(r) => r.hint,
            None => "See the message and request_id; contact support if it persists",
        }
    }
}

/// A failed API response, decoded from whatever body came with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// `error.type`, else derived from the status.
    pub kind: ErrorType,
    /// `error.code` (or a flat `code`), else derived from the status.
    pub code: ErrorCode,
    /// `error.message` or a flat `message`; empty when the body had none.
    pub message: Text<MESSAGE_CAP>,
    /// `error.param`, when the server named the offending parameter.
    pub param: Text<PARAM_CAP>,
    /// `error.request_id`, else a request-id response header (e.g. `apigw-requestid`).
    pub request_id: Text<REQUEST_ID_CAP>,
    /// The wait the server asked for (`Retry-After` / `retry-after-ms`), resolved to a duration.
    pub retry_after: Option<Duration>,
    /// The `X-RateLimit-*` headers of the response.
    pub rate_limit: RateLimit,
}

impl ApiError {
    /// An error carrying only what the status implies (empty or unreadable body).
    pub fn from_status(status: u16) -> Self {
        ApiError {
            status,
            kind: ErrorType::for_status(status),
            code: ErrorCode::for_status(status),
            message: Text::new(),
            param: Text::new(),
            request_id: Text::new(),
            retry_after: None,
            rate_limit: RateLimit::default(),
        }
    }

    /// The resolution hint for [`ApiError::code`].
    pub fn hint(&self) -> &'static str {
        self.code.hint()
    }
}

impl core::fmt::Display for ApiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.status,
            self.kind.as_str(),
            self.code.as_str()
        )?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl core::error::Error for ApiError {}

/// Where a string value of an error body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Field {
    Type,
    Code,
    Message,
    Param,
    RequestId,
}

/// How much a source of a field is trusted: a later value replaces an earlier one only from a
/// source at least as trusted.
mod rank {
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

/// The fields of an error body read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Fields {
    depth: u8,
    /// Inside the object under the top-level `error` key.
    envelope: bool,
    /// The last top-level key was `error`.
    error_key: bool,
    /// Target of the pending value and the rank of its source.
    target: Option<(Field, u8)>,
    /// The string value being written now (its first piece arrived).
    open: Option<Field>,
    kind: Text<RAW_CODE_CAP>,
    code: Text<RAW_CODE_CAP>,
    message: Text<MESSAGE_CAP>,
    param: Text<PARAM_CAP>,
    request_id: Text<REQUEST_ID_CAP>,
    /// Rank of the source of each field, indexed by `Field as usize`; 0 = not seen.
    ranks: [u8; 5],
    /// Text bodies: inside `<…>`, and whether a space is owed before the next visible byte.
    in_tag: bool,
    space: bool,
    text_len: u8,
}

impl Fields {
    const fn new() -> Self {
        Fields {
            depth: 0,
            envelope: false,
            error_key: false,
            target: None,
            open: None,
            kind: Text::new(),
            code: Text::new(),
            message: Text::new(),
            param: Text::new(),
            request_id: Text::new(),
            ranks: [0; 5],
            in_tag: false,
            space: false,
            text_len: 0,
        }
    }

    fn rank(&self, f: Field) -> u8 {
        self.ranks.get(f as usize).copied().unwrap_or(0)
    }

    /// Starts writing `f` from a source of rank `r`, if that source is trusted enough.
    fn begin(&mut self, f: Field, r: u8) -> bool {
        if r < self.rank(f) {
            return false;
        }
        if let Some(slot) = self.ranks.get_mut(f as usize) {
            *slot = r;
        }
        match f {
            Field::Type => self.kind.clear(),
            Field::Code => self.code.clear(),
            Field::Message => self.message.clear(),
            Field::Param => self.param.clear(),
            Field::RequestId => self.request_id.clear(),
        }
        true
    }

    fn append(&mut self, f: Field, bytes: &[u8]) {
        match f {
            Field::Type => self.kind.push_bytes(bytes),
            Field::Code => self.code.push_bytes(bytes),
            Field::Message => self.message.push_bytes(bytes),
            Field::Param => self.param.push_bytes(bytes),
            Field::RequestId => self.request_id.push_bytes(bytes),
        }
    }

    /// Which field a key names, at the top level (`envelope == false`) or in the envelope.
    fn field_for(key: &[u8]) -> Option<Field> {
        Some(match key {
            b"type" => Field::Type,
            b"code" => Field::Code,
            b"message" => Field::Message,
            b"param" => Field::Param,
            b"request_id" | b"requestId" => Field::RequestId,
            _ => return None,
        })
    }

    fn token(&mut self, tok: Token<'_>) {
        let target = self.target;
        match tok {
            Token::Key(key) => {
                self.target = match self.depth {
                    1 => Self::field_for(key).map(|f| (f, rank::FLAT)),
                    2 if self.envelope => Self::field_for(key).map(|f| (f, rank::ENVELOPE)),
                    _ => None,
                };
                self.error_key = self.depth == 1 && key == b"error";
                return;
            }
            Token::ObjectStart => {
                self.depth = self.depth.saturating_add(1);
                if self.error_key && self.depth == 2 {
                    self.envelope = true;
                }
            }
            Token::ArrayStart => self.depth = self.depth.saturating_add(1),
            Token::ObjectEnd | Token::ArrayEnd => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth < 2 {
                    self.envelope = false;
                }
            }
            Token::Str(piece) => {
                let target = target.or(if self.error_key && self.depth == 1 {
                    Some((Field::Message, rank::ERROR_STRING))
                } else {
                    None
                });
                if self.open.is_none() {
                    self.open = match target {
                        Some((f, r)) if self.begin(f, r) => Some(f),
                        _ => None,
                    };
                    // Ignore the rest of this value whatever happens.
                    self.target = None;
                    self.error_key = false;
                }
                if let Some(f) = self.open {
                    self.append(f, piece);
                }
                return;
            }
            Token::StrEnd => {
                // An empty string still replaces a value from a less trusted source.
                if self.open.is_none()
                    && let Some((f, r)) = target
                {
                    self.begin(f, r);
                }
                self.open = None;
            }
            // A numeric code (`"code": 429`) keeps its text.
            Token::Number(n) => {
                if let Some((Field::Code, r)) = target
                    && self.begin(Field::Code, r)
                {
                    self.append(Field::Code, n);
                }
            }
            Token::Bool(_) | Token::Null => {}
        }
        self.target = None;
        self.error_key = false;
    }

    /// One byte of a non-JSON body: tags are dropped, whitespace runs become one space.
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
                if self.space {
                    self.message.push_bytes(b" ");
                    self.space = false;
                }
                self.message.push_bytes(&[b]);
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
        let mut e = ApiError::from_status(head.status);
        // A string the body broke off in the middle of is incomplete: a cut type or code is
        // dropped (the status says more), cut texts are flagged.
        let cut = if self.scanner.is_done() { None } else { f.open };
        if !f.kind.is_empty() && cut != Some(Field::Type) {
            e.kind = ErrorType::parse(f.kind.as_str());
        }
        if !f.code.is_empty() && cut != Some(Field::Code) {
            e.code = ErrorCode::parse(f.code.as_str());
        }
        e.message = f.message;
        e.param = f.param;
        e.request_id = if f.request_id.is_empty() {
            head.request_id
        } else {
            f.request_id
        };
        match cut {
            Some(Field::Message) => e.message.mark_truncated(),
            Some(Field::Param) => e.param.mark_truncated(),
            Some(Field::RequestId) => e.request_id.mark_truncated(),
            _ => {}
        }
        e.rate_limit = head.rate_limit;
        e
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    fn decode(body: &[u8], head: &ResponseHead, cuts: &[usize]) -> ApiError {
        let mut d = ErrorBody::new();
        let mut start = 0;
        for &c in cuts.iter().chain([body.len()].iter()) {
            d.feed(&body[start..c]);
            start = c;
        }
        d.finish(head)
    }

    /// Decodes `body` whole, at every split point and byte by byte; all must agree.
    fn decode_all(body: &[u8], status: u16) -> ApiError {
        let head = ResponseHead::new(status);
        let want = decode(body, &head, &[]);
        for cut in 0..=body.len() {
            assert_eq!(decode(body, &head, &[cut]), want, "cut at {cut}");
        }
        let every: Vec<usize> = (1..body.len()).collect();
        assert_eq!(decode(body, &head, &every), want, "byte at a time");
        want
    }

    const ENVELOPE: &[u8] = br#"{
  "error": {
    "type": "invalid_request_error",
    "code": "missing_field",
    "message": "The 'messages' field is required",
    "param": "messages",
    "request_id": "req-7f65ab21d1"
  }
}"#;

    const ENVELOPE_V1: &[u8] = br#"{
  "error": {
    "type": "invalid_request_error",
    "code": "invalid_model",
    "message": "The requested model 'gpt-4.1-micro' does not exist.",
    "request_id": "req-7f65ab21d1"
  }
}"#;

    #[test]
    fn documented_envelope() {
        let e = decode_all(ENVELOPE, 400);
        assert_eq!(e.status, 400);
        assert_eq!(e.kind, ErrorType::InvalidRequest);
        assert_eq!(e.code, ErrorCode::MissingField);
        assert_eq!(e.message.as_str(), "The 'messages' field is required");
        assert_eq!(e.param.as_str(), "messages");
        assert_eq!(e.request_id.as_str(), "req-7f65ab21d1");
        assert_eq!(e.retry_after, None);
        assert_eq!(e.hint(), "Check required fields (messages, model)");

        let e = decode_all(ENVELOPE_V1, 404);
        assert_eq!(
            e.kind,
            ErrorType::InvalidRequest,
            "the body's type wins over the status"
        );
        assert_eq!(
            e.code,
            ErrorCode::Other(Text::from_str_truncating("invalid_model"))
        );
        assert_eq!(
            e.message.as_str(),
            "The requested model 'gpt-4.1-micro' does not exist."
        );
        assert!(e.param.is_empty());
    }

    /// The bodies the deployed backend sends (spec §5.3).
    #[test]
    fn backend_bodies() {
        let rows: [(u16, &[u8], &str, ErrorType, ErrorCode); 10] = [
            (
                422,
                br#"{"message": "Validation error", "details": [{"field": "messages", "message": "The messages field must be defined", "rule": "required", "meta": {"a": [1, {"b": null}]}}]}"#,
                "Validation error",
                ErrorType::InvalidRequest,
                ErrorCode::InvalidRole,
            ),
            (403, br#"{"message": "Access denied: API key is paused"}"#, "Access denied: API key is paused", ErrorType::Forbidden, ErrorCode::KeyRevoked),
            (403, br#"{"message": "User billing account not found"}"#, "User billing account not found", ErrorType::Forbidden, ErrorCode::KeyRevoked),
            (
                402,
                br#"{"message": "Insufficient credits. Please top up your account or subscribe to a plan."}"#,
                "Insufficient credits. Please top up your account or subscribe to a plan.",
                ErrorType::Other(Text::from_str_truncating("payment_required")),
                ErrorCode::Other(Text::from_str_truncating("http_402")),
            ),
            (
                429,
                br#"{"message": "Rate limit exceeded. Please retry after the reset window."}"#,
                "Rate limit exceeded. Please retry after the reset window.",
                ErrorType::RateLimit,
                ErrorCode::TooManyRequests,
            ),
            (404, br#"{"message": "Message not found"}"#, "Message not found", ErrorType::NotFound, ErrorCode::ContextNotFound),
            (500, br#"{"status": "error", "message": "Model gpt-9 not found"}"#, "Model gpt-9 not found", ErrorType::Server, ErrorCode::Internal),
            (
                413,
                br#"{"status": "error", "code": "PAYLOAD_TOO_LARGE", "message": "Request body exceeds maximum size of 1048576 bytes"}"#,
                "Request body exceeds maximum size of 1048576 bytes",
                ErrorType::InvalidRequest,
                ErrorCode::Other(Text::from_str_truncating("PAYLOAD_TOO_LARGE")),
            ),
            (401, br#"{"message":"Unauthorized"}"#, "Unauthorized", ErrorType::Authentication, ErrorCode::InvalidApiKey),
            (403, br#"{"message":"Forbidden"}"#, "Forbidden", ErrorType::Forbidden, ErrorCode::KeyRevoked),
        ];
        for (status, body, message, kind, code) in rows {
            let e = decode_all(body, status);
            assert_eq!(e.message.as_str(), message);
            assert_eq!(e.kind, kind, "{message}");
            assert_eq!(e.code, code, "{message}");
            assert!(!e.message.is_truncated());
        }
    }

    #[test]
    fn html_text_and_empty_bodies() {
        let e = decode_all(b"<html><body>502 Bad Gateway</body></html>", 502);
        assert_eq!(e.message.as_str(), "502 Bad Gateway");
        assert_eq!(e.kind, ErrorType::Server);
        assert_eq!(
            e.code,
            ErrorCode::Other(Text::from_str_truncating("http_502"))
        );

        let nginx = b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n";
        let e = decode_all(nginx, 504);
        assert_eq!(
            e.message.as_str(),
            "504 Gateway Time-out 504 Gateway Time-out"
        );

        let e = decode_all(b"  Internal Server Error\n", 500);
        assert_eq!(e.message.as_str(), "Internal Server Error");

        let e = decode_all(b"", 503);
        assert_eq!(e, ApiError::from_status(503));
        assert_eq!(e.code, ErrorCode::ServiceUnavailable);
        assert_eq!(decode_all(b" \r\n", 503), ApiError::from_status(503));

        let long = std::format!("<p>{}</p>", "word ".repeat(60));
        let e = decode_all(long.as_bytes(), 500);
        assert!(e.message.is_truncated());
        assert!(e.message.as_str().len() <= MESSAGE_CAP);
        assert!(!e.message.as_str().ends_with(' '));
    }

    #[test]
    fn escapes_are_decoded() {
        let e = decode_all(
            br#"{"error":{"message":"caf\u00e9 \ud83d\ude00 \"q\" \\ \n"}}"#,
            400,
        );
        assert_eq!(e.message.as_str(), "caf\u{e9} \u{1F600} \"q\" \\ \n");
    }

    #[test]
    fn long_message_is_truncated_with_the_flag() {
        let text: String = "é".repeat(250); // 500 bytes, each character two bytes
        let body = std::format!(r#"{{"error":{{"message":"{text}","code":"internal"}}}}"#);
        let e = decode_all(body.as_bytes(), 500);
        assert_eq!(e.message.as_str(), "é".repeat(MESSAGE_CAP / 2));
        assert!(e.message.is_truncated());
        assert_eq!(e.code, ErrorCode::Internal);

        let ascii = "m".repeat(500);
        let body = std::format!(r#"{{"message":"{ascii}"}}"#);
        let e = decode_all(body.as_bytes(), 429);
        assert_eq!(e.message.as_str(), &ascii[..MESSAGE_CAP]);
        assert!(e.message.is_truncated());
    }

    #[test]
    fn envelope_wins_over_flat_fields_in_any_order() {
        for body in [
            &br#"{"message":"flat","code":"flat_code","error":{"message":"env","code":"env_code"}}"#[..],
            br#"{"error":{"message":"env","code":"env_code"},"message":"flat","code":"flat_code"}"#,
        ] {
            let e = decode_all(body, 400);
            assert_eq!(e.message.as_str(), "env");
            assert_eq!(e.code.as_str(), "env_code");
        }
        // A bare string under `error` is a message of last resort.
        assert_eq!(
            decode_all(br#"{"error":"Not Found"}"#, 404)
                .message
                .as_str(),
            "Not Found"
        );
        let e = decode_all(br#"{"error":"x","message":"Not Found"}"#, 404);
        assert_eq!(e.message.as_str(), "Not Found");
    }

    #[test]
    fn unknown_fields_are_skipped_at_any_depth() {
        let body = br#"{"x":{"message":"no","error":{"message":"no"}},"error":{"details":{"message":"no","code":"no"},"message":"yes","extra":[{"message":"no"}]},"list":[{"message":"no"}]}"#;
        let e = decode_all(body, 400);
        assert_eq!(e.message.as_str(), "yes");
        assert_eq!(e.code, ErrorCode::MissingField);
        // Non-string values of known fields are ignored; a numeric code keeps its text.
        let e = decode_all(br#"{"message":{"text":"no"},"code":429,"param":null}"#, 429);
        assert!(e.message.is_empty());
        assert_eq!(e.code.as_str(), "429");
        // A top-level array has no fields.
        assert_eq!(
            decode_all(br#"[{"message":"no"}]"#, 500),
            ApiError::from_status(500)
        );
    }

    #[test]
    fn request_id_and_rate_limit_from_the_head() {
        let mut head = ResponseHead::new(429);
        head.request_id = Text::from_str_truncating("apigw-abc");
        head.rate_limit = RateLimit {
            limit: Some(60),
            remaining: Some(0),
            reset: Some(1_735_862_400),
        };
        let e = decode(br#"{"message":"Rate limit exceeded."}"#, &head, &[]);
        assert_eq!(e.request_id.as_str(), "apigw-abc");
        assert_eq!(e.rate_limit, head.rate_limit);
        assert_eq!(e.retry_after, None);
        let e = decode(ENVELOPE, &head, &[7]);
        assert_eq!(
            e.request_id.as_str(),
            "req-7f65ab21d1",
            "the body's id wins"
        );
    }

    #[test]
    fn malformed_json_keeps_what_was_read() {
        let e = decode_all(br#"{"error":{"code":"duplicate_id","message":"Dup"#, 409);
        assert_eq!(e.code, ErrorCode::DuplicateId);
        assert_eq!(e.message.as_str(), "Dup");
        assert!(e.message.is_truncated());
        // A cut code is dropped in favour of the status.
        let e = decode_all(br#"{"error":{"code":"duplic"#, 409);
        assert_eq!(e.code, ErrorCode::DuplicateId);
        let e = decode_all(br#"{"message":"ok"} trailing"#, 500);
        assert_eq!(e.message.as_str(), "ok");
        assert!(!e.message.is_truncated());
        let e = decode_all(br#"{"message" "x"}"#, 500);
        assert_eq!(e, ApiError::from_status(500));
    }

    /// The ten rows of the documented table (spec §5.2), from the status alone.
    #[test]
    fn status_table() {
        let rows: [(u16, ErrorType, ErrorCode, &str); 10] = [
            (
                400,
                ErrorType::InvalidRequest,
                ErrorCode::MissingField,
                "Check required fields (messages, model)",
            ),
            (
                401,
                ErrorType::Authentication,
                ErrorCode::InvalidApiKey,
                "Check x-api-key header",
            ),
            (
                403,
                ErrorType::Forbidden,
                ErrorCode::KeyRevoked,
                "Generate new key in console",
            ),
            (
                404,
                ErrorType::NotFound,
                ErrorCode::ContextNotFound,
                "Verify context_id or model name",
            ),
            (
                409,
                ErrorType::Conflict,
                ErrorCode::DuplicateId,
                "Use unique IDs per message",
            ),
            (
                413,
                ErrorType::InvalidRequest,
                ErrorCode::PayloadTooLarge,
                "Reduce message size or split batch",
            ),
            (
                422,
                ErrorType::InvalidRequest,
                ErrorCode::InvalidRole,
                "Use valid roles: user, assistant, system",
            ),
            (
                429,
                ErrorType::RateLimit,
                ErrorCode::TooManyRequests,
                "Retry with exponential backoff",
            ),
            (
                500,
                ErrorType::Server,
                ErrorCode::Internal,
                "Retry; contact support if persistent",
            ),
            (
                503,
                ErrorType::Server,
                ErrorCode::ServiceUnavailable,
                "Check status page, retry later",
            ),
        ];
        for (status, kind, code, hint) in rows {
            let e = decode_all(b"", status);
            assert_eq!((e.kind, e.code, e.hint()), (kind, code, hint), "{status}");
            assert_eq!(e.code.status(), Some(status));
            assert!(e.message.is_empty() && e.param.is_empty() && e.request_id.is_empty());
        }
    }

    const PARTS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"\"error\"",
        b"\"message\"",
        b"\"code\"",
        b"\"x\\u00e9\"",
        b"1",
        b"null",
        b" ",
    ];

    proptest! {
        /// Arbitrary bytes never panic and give the same error however they are split.
        #[test]
        fn arbitrary_bytes_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            cut in any::<usize>(),
            status in 100u16..600,
        ) {
            let head = ResponseHead::new(status);
            let whole = decode(&body, &head, &[]);
            prop_assert_eq!(decode(&body, &head, &[cut % (body.len() + 1)]), whole);
            prop_assert_eq!(whole.status, status);
            prop_assert!(whole.message.as_str().len() <= MESSAGE_CAP);
        }

        /// JSON-shaped noise around the known keys never panics either.
        #[test]
        fn jsonish_bytes_never_panic(parts in proptest::collection::vec(proptest::sample::select(PARTS), 0..40)) {
            let body: Vec<u8> = parts.concat();
            let _ = decode_all(&body, 400);
        }
    }
}
