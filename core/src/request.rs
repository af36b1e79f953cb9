//! Requests for the V2 endpoints (spec §3), validated and written into a caller buffer.
//!
//! A [`Request`] names the endpoint and borrows everything it sends; a [`RequestHead`] adds
//! where and as whom. [`Request::write`] validates both and writes the complete HTTP/1.1
//! request (head and JSON body) into a caller-owned buffer. It never allocates, never panics
//! and never writes a byte that would split a header or the request line.
//!
//! | request | method and path |
//! |---|---|
//! | [`Request::Analyze`] | `POST {p}/emotions/analysis` |
//! | [`Request::AnalyzeInContext`] | `POST {p}/emotions/{context_id}/analysis` |
//! | [`Request::ContextState`] | `GET {p}/emotions/{context_id}` |
//! | [`Request::MessageLookup`] | `GET {p}/emotions/{context_id}/message/{external_id}` |
//! | [`Request::BatchAnalyze`] | `POST {p}/emotions/batch-analysis` |
//! | [`Request::ChatCompletion`] | `POST {p}/chat/completions` |
//!
//! `{p}` is the base URL's prefix followed by `/v2` unless the prefix already ends with it
//! (see [`crate::base_url`]). Path parameters are percent-encoded as one path segment.
//!
//! # Validation
//!
//! [`Request::validate`] returns the status and code the server would answer with (spec §5.2),
//! so a request that cannot succeed is never sent. Decisions where the spec is silent:
//!
//! - Text limits ([`MAX_TEXT_CHARS`]) count UTF-16 code units, as the backend's JavaScript
//!   validator does (spec §3.1, backend code); an emoji counts two.
//! - A `context_id` over [`MAX_CONTEXT_ID_BYTES`] UTF-8 bytes (spec §10 question 12) is
//!   400 with code [`CONTEXT_ID_TOO_LONG`]: it is a bad parameter, not a large payload.
//! - A control byte (below `0x20`, or `0x7F`) in anything that reaches the request line or a
//!   header is 400 with code [`CONTROL_BYTE`] (and a space, too, in the host or prefix).
//! - The batch body is taken to be the §3.1 body (spec §3.7: its schema is undocumented).
//!
//! # Example: the quickstart request (spec §3.3), byte for byte
//!
//! ```
//! use kaiko_core::base_url::BaseUrl;
//! use kaiko_core::key::ApiKey;
//! use kaiko_core::request::{Message, Request, RequestHead};
//!
//! let key = ApiKey::new("kaiko_live_xxxxxxxxxxxxx").unwrap();
//! let mut head = RequestHead::new(&BaseUrl::PRODUCTION, &key, "7f65ab21d1-test-123");
//! head.user_agent = "kaiko-rs/test";
//! let messages = [Message::user("I feel a bit unsure about this")];
//! let mut buf = [0u8; 512];
//! let n = Request::analyze(&messages).write(&head, &mut buf).unwrap();
//! assert_eq!(
//!     &buf[..n],
//!     b"POST /v2/emotions/analysis HTTP/1.1\r\n\
//!       Host: api.kaikostudios.xyz\r\n\
//!       User-Agent: kaiko-rs/test\r\n\
//!       Accept: application/json\r\n\
//!       x-api-key: kaiko_live_xxxxxxxxxxxxx\r\n\
//!       Content-Type: application/json\r\n\
//!       Content-Length: 103\r\n\
//!       Idempotency-Key: 7f65ab21d1-test-123\r\n\
//!       \r\n\
//!       {\"model\":\"emotion-v2\",\"messages\":[{\"role\":\"user\",\
//!       \"content\":{\"text\":\"I feel a bit unsure about this\"}}]}"
//! );
//! ```

use core::fmt;

use crate::base_url::BaseUrl;
use crate::error::{ApiError, ErrorCode, ErrorType};
use crate::key::{ApiKey, Auth};
use crate::score::Score;
use crate::text::Text;
use wire::Unwritten;

mod fault;
mod pieces;
mod sink;
mod wire;

/// The V2 emotion model (spec §3.1).
pub const EMOTION_MODEL: &str = "emotion-v2";
/// The default `User-Agent`.
pub const USER_AGENT: &str = concat!("kaiko-rs/", env!("CARGO_PKG_VERSION"));
/// Most messages in one request (spec §3.1 `maxLength(100)`, §6 batch size).
pub const MAX_MESSAGES: usize = 100;
/// Longest message text in UTF-16 code units (spec §3.1, backend code `≤10000 chars`).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest `context_id` in UTF-8 bytes (spec §3 path parameters, §10 question 12).
pub const MAX_CONTEXT_ID_BYTES: usize = 128;
/// Largest JSON body in bytes (spec §5.3 body-size middleware).
pub const MAX_BODY_BYTES: usize = 1_048_576;
/// Longest role in bytes (spec §3.1, backend code `≤32 chars`).
pub const MAX_ROLE_BYTES: usize = 32;
/// The roles the server accepts (spec §5.2, 422 `invalid_role`).
pub const ROLES: [&str; 3] = ["user", "assistant", "system"];
/// [`ErrorCode::Other`] text of a `context_id` over [`MAX_CONTEXT_ID_BYTES`].
pub const CONTEXT_ID_TOO_LONG: &str = "context_id_too_long";
/// [`ErrorCode::Other`] text of a control byte bound for the request line or a header.
pub const CONTROL_BYTE: &str = "control_byte";

/// One message of an emotion-analysis request (spec §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Message<'a> {
    /// `role`: `user`, `assistant` or `system`; `None` leaves it out.
    pub role: Option<&'a str>,
    /// `content.text`: the text to analyse.
    pub text: &'a str,
    /// `externalId`: the id for a later [`Request::MessageLookup`] (the backend wants a UUID).
    pub external_id: Option<&'a str>,
    /// `timestamp`: ISO-8601, e.g. `2025-01-15T10:30:00Z`.
    pub timestamp: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// A `user` message with only a text.
    pub const fn user(text: &'a str) -> Self {
        Message {
            role: Some("user"),
            text,
            external_id: None,
            timestamp: None,
        }
    }

    /// The same message with `externalId` set.
    pub const fn with_external_id(mut self, external_id: &'a str) -> Self {
        self.external_id = Some(external_id);
        self
    }

    /// The same message with `timestamp` set.
    pub const fn with_timestamp(mut self, timestamp: &'a str) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// One message of a chat completion (spec §3.8): `content` is a plain string here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChatMessage<'a> {
    /// `user`, `assistant` or `system`.
    pub role: &'a str,
    /// The message text.
    pub content: &'a str,
}

impl<'a> ChatMessage<'a> {
    /// A `system` message.
    pub const fn system(content: &'a str) -> Self {
        ChatMessage {
            role: "system",
            content,
        }
    }

    /// A `user` message.
    pub const fn user(content: &'a str) -> Self {
        ChatMessage {
            role: "user",
            content,
        }
    }

    /// An `assistant` message.
    pub const fn assistant(content: &'a str) -> Self {
        ChatMessage {
            role: "assistant",
            content,
        }
    }
}

/// The body of `POST /v2/chat/completions` (spec §3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChatRequest<'a> {
    /// `model`: the LLM, e.g. `gpt-4o-mini`.
    pub model: &'a str,
    /// `emotion_model`, normally [`EMOTION_MODEL`].
    pub emotion_model: &'a str,
    /// `context_id`: session id for emotional memory (sent in the body, not the path).
    pub context_id: Option<&'a str>,
    /// `messages`.
    pub messages: &'a [ChatMessage<'a>],
    /// `model_params.temperature`, written as decimal text (`Score(7000)` → `0.7`).
    pub temperature: Option<Score>,
    /// `model_params.max_tokens`.
    pub max_tokens: Option<u32>,
    /// `stream`: written only when `true`, and then `text/event-stream` is accepted too
    /// (spec §4: the backend may still answer with one JSON document).
    pub stream: bool,
}

impl<'a> ChatRequest<'a> {
    /// A chat request with the default emotion model and nothing optional set.
    pub const fn new(model: &'a str, messages: &'a [ChatMessage<'a>]) -> Self {
        ChatRequest {
            model,
            emotion_model: EMOTION_MODEL,
            context_id: None,
            messages,
            temperature: None,
            max_tokens: None,
            stream: false,
        }
    }
}

/// One call of a V2 endpoint (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Request<'a> {
    /// `POST {p}/emotions/analysis`: stateless analysis (spec §3.3).
    Analyze {
        /// `model`, normally [`EMOTION_MODEL`].
        model: &'a str,
        /// `messages` (the backend analyses the first one).
        messages: &'a [Message<'a>],
    },
    /// `POST {p}/emotions/{context_id}/analysis`: analyse and store (spec §3.4).
    AnalyzeInContext {
        /// `model`, normally [`EMOTION_MODEL`].
        model: &'a str,
        /// The session id, at most [`MAX_CONTEXT_ID_BYTES`] bytes.
        context_id: &'a str,
        /// `messages`.
        messages: &'a [Message<'a>],
    },
    /// `GET {p}/emotions/{context_id}`: latest stored state (spec §3.5).
    ContextState {
        /// The session id.
        context_id: &'a str,
    },
    /// `GET {p}/emotions/{context_id}/message/{external_id}`: one stored message (spec §3.6).
    MessageLookup {
        /// The session id.
        context_id: &'a str,
        /// The message's `externalId`.
        external_id: &'a str,
    },
    /// `POST {p}/emotions/batch-analysis` (spec §3.7), with the §3.1 body: the batch schema
    /// is undocumented and the V1 batch route takes that body.
    BatchAnalyze {
        /// `model`, normally [`EMOTION_MODEL`].
        model: &'a str,
        /// `messages`, at most [`MAX_MESSAGES`].
        messages: &'a [Message<'a>],
    },
    /// `POST {p}/chat/completions` (spec §3.8).
    ChatCompletion(ChatRequest<'a>),
}

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// `GET`: no body.
    Get,
    /// `POST`: JSON body, `Content-Length` and `Idempotency-Key`.
    Post,
}

impl Method {
    /// The method token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Where and as whom a request is sent: everything of the head that is not the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestHead<'a> {
    /// Host, port and path prefix.
    pub base: &'a BaseUrl<'a>,
    /// The API key.
    pub key: &'a ApiKey<'a>,
    /// Which header carries the key.
    pub auth: Auth,
    /// `User-Agent`; left out when empty.
    pub user_agent: &'a str,
    /// `Idempotency-Key` of POST requests; left out when empty. Keep it the same on every
    /// attempt of one logical call (spec §7).
    pub idempotency_key: &'a str,
    /// `false` adds `Connection: close`.
    pub keep_alive: bool,
}

impl<'a> RequestHead<'a> {
    /// A head with `x-api-key` authentication, [`USER_AGENT`] and keep-alive.
    pub const fn new(base: &'a BaseUrl<'a>, key: &'a ApiKey<'a>, idempotency_key: &'a str) -> Self {
        RequestHead {
            base,
            key,
            auth: Auth::XApiKey,
            user_agent: USER_AGENT,
            idempotency_key,
            keep_alive: true,
        }
    }
}

/// Why a request was refused before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum InvalidReason {
    /// A required list is empty (`messages`).
    Missing,
    /// A required string is empty.
    Empty,
    /// More than [`MAX_MESSAGES`] messages.
    TooMany,
    /// A string is over its limit (text, `context_id`, role).
    TooLong,
    /// A role other than `user`, `assistant` or `system`.
    BadRole,
    /// A control byte in something bound for the request line or a header.
    ControlByte,
    /// The JSON body would exceed [`MAX_BODY_BYTES`].
    TooLarge,
}

impl InvalidReason {
    fn as_str(self) -> &'static str {
        match self {
            InvalidReason::Missing => "is missing",
            InvalidReason::Empty => "is empty",
            InvalidReason::TooMany => "has too many entries",
            InvalidReason::TooLong => "is too long",
            InvalidReason::BadRole => "is not one of user, assistant, system",
            InvalidReason::ControlByte => "holds a control byte",
            InvalidReason::TooLarge => "makes the body too large",
        }
    }
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request refused client-side, with the status and code the server would have sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Invalid {
    /// HTTP status: 400, 413 or 422.
    pub status: u16,
    /// `missing_field`, `payload_too_large`, `invalid_role`, or [`CONTEXT_ID_TOO_LONG`] /
    /// [`CONTROL_BYTE`] as [`ErrorCode::Other`].
    pub code: ErrorCode,
    /// The offending parameter, e.g. `messages.content.text`, `context_id`, `User-Agent`.
    pub param: &'static str,
    /// What is wrong with it.
    pub reason: InvalidReason,
}

impl Invalid {
    /// The same refusal as an [`ApiError`], as if the server had sent it (no request id).
    pub fn to_api_error(&self) -> ApiError {
        let mut e = ApiError::from_status(self.status);
        e.kind = ErrorType::InvalidRequest;
        e.code = self.code;
        e.param = Text::from_str_truncating(self.param);
        e.message.push_bytes(self.param.as_bytes());
        e.message.push_bytes(b" ");
        e.message.push_bytes(self.reason.as_str().as_bytes());
        e
    }
}

impl fmt::Display for Invalid {
    /// E.g. `400 missing_field: messages.content.text is empty`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} {}",
            self.status,
            self.code.as_str(),
            self.param,
            self.reason
        )
    }
}

impl core::error::Error for Invalid {}

/// Why [`Request::write`] wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteError {
    /// The buffer is shorter than the request; `needed` is its exact length.
    BufferTooSmall {
        /// Bytes the complete request takes.
        needed: usize,
    },
    /// The request or its head failed validation.
    Invalid(Invalid),
}

impl From<Invalid> for WriteError {
    fn from(e: Invalid) -> Self {
        WriteError::Invalid(e)
    }
}

impl From<Unwritten> for WriteError {
    fn from(e: Unwritten) -> Self {
        match e {
            Unwritten::Invalid(fault) => WriteError::Invalid(fault.into()),
            Unwritten::TooSmall(needed) => WriteError::BufferTooSmall { needed },
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::BufferTooSmall { needed } => {
                write!(f, "request buffer too small: {needed} bytes needed")
            }
            WriteError::Invalid(e) => write!(f, "invalid request: {e}"),
        }
    }
}

impl core::error::Error for WriteError {}

impl<'a> Request<'a> {
    /// Stateless analysis with [`EMOTION_MODEL`].
    pub const fn analyze(messages: &'a [Message<'a>]) -> Self {
        Request::Analyze {
            model: EMOTION_MODEL,
            messages,
        }
    }

    /// Context analysis with [`EMOTION_MODEL`].
    pub const fn analyze_in_context(context_id: &'a str, messages: &'a [Message<'a>]) -> Self {
        Request::AnalyzeInContext {
            model: EMOTION_MODEL,
            context_id,
            messages,
        }
    }

    /// The latest state of a context.
    pub const fn context_state(context_id: &'a str) -> Self {
        Request::ContextState { context_id }
    }

    /// One stored message of a context.
    pub const fn message_lookup(context_id: &'a str, external_id: &'a str) -> Self {
        Request::MessageLookup {
            context_id,
            external_id,
        }
    }

    /// Batch analysis with [`EMOTION_MODEL`].
    pub const fn batch_analyze(messages: &'a [Message<'a>]) -> Self {
        Request::BatchAnalyze {
            model: EMOTION_MODEL,
            messages,
        }
    }

    /// A chat completion.
    pub const fn chat(request: ChatRequest<'a>) -> Self {
        Request::ChatCompletion(request)
    }

    /// `GET` for the two lookups, `POST` otherwise.
    pub const fn method(&self) -> Method {
        match self {
            Request::ContextState { .. } | Request::MessageLookup { .. } => Method::Get,
            _ => Method::Post,
        }
    }

    /// Client-side validation with the codes the server would return (see the module docs):
    /// missing or empty fields → 400 `missing_field`; a role outside [`ROLES`] or over
    /// [`MAX_ROLE_BYTES`] → 422 `invalid_role`; over [`MAX_MESSAGES`] messages, a text over
    /// [`MAX_TEXT_CHARS`], or a body over [`MAX_BODY_BYTES`] → 413 `payload_too_large`; a bad
    /// `context_id` or path parameter → 400.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.body_len().map(|_| ()).map_err(Invalid::from)
    }

    /// The checks of [`Request::write`] alone: the request (as [`Request::validate`]), then
    /// the head strings. Returns the body's length, for [`Request::write_checked`].
    pub(crate) fn check(&self, head: &RequestHead<'_>) -> Result<usize, Invalid> {
        self.body_len()
            .and_then(|len| wire::check_head(head).map(|()| len))
            .map_err(Invalid::from)
    }

    /// [`Request::write`] of a request that passed [`Request::check`] with a head of the same
    /// strings, which gave `body_len`: the checks are not made again.
    pub(crate) fn write_checked(
        &self,
        head: &RequestHead<'_>,
        body_len: usize,
        out: &mut [u8],
    ) -> Result<usize, WriteError> {
        self.write_checked_into(head, body_len, out)
            .map_err(WriteError::from)
    }

    /// Validates the request and the head strings (user agent, idempotency key, host and
    /// prefix: no control bytes) and writes the complete request, head and body, into `out`.
    /// Returns the number of bytes written.
    ///
    /// A buffer shorter than the request gives [`WriteError::BufferTooSmall`] with the exact
    /// length needed, and `out` is left untouched; so is it on [`WriteError::Invalid`].
    pub fn write(&self, head: &RequestHead<'_>, out: &mut [u8]) -> Result<usize, WriteError> {
        self.write_into(head, out).map_err(WriteError::from)
    }
}

#[cfg(test)]
mod tests;
