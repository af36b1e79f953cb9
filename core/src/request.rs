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

    /// Checks the strings that reach the request line or a header.
    fn validate(&self) -> Result<(), Invalid> {
        if self.base.host.is_empty() {
            return Err(Invalid::missing("host", InvalidReason::Empty));
        }
        // A space would end the request target or be read as whitespace around the host.
        let line_byte = |b: &u8| *b <= b' ' || *b == 0x7F;
        if self.base.host.as_bytes().iter().any(line_byte) {
            return Err(Invalid::control("host"));
        }
        if self.base.prefix.as_bytes().iter().any(line_byte) {
            return Err(Invalid::control("prefix"));
        }
        if has_control(self.user_agent) {
            return Err(Invalid::control("User-Agent"));
        }
        if has_control(self.idempotency_key) {
            return Err(Invalid::control("Idempotency-Key"));
        }
        // The key is visible ASCII by construction (`ApiKey::new`).
        Ok(())
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
    fn missing(param: &'static str, reason: InvalidReason) -> Self {
        Invalid {
            status: 400,
            code: ErrorCode::MissingField,
            param,
            reason,
        }
    }

    fn too_large(param: &'static str, reason: InvalidReason) -> Self {
        Invalid {
            status: 413,
            code: ErrorCode::PayloadTooLarge,
            param,
            reason,
        }
    }

    fn role(reason: InvalidReason) -> Self {
        Invalid {
            status: 422,
            code: ErrorCode::InvalidRole,
            param: "messages.role",
            reason,
        }
    }

    fn control(param: &'static str) -> Self {
        let code = ErrorCode::Other(Text::from_str_truncating(CONTROL_BYTE));
        Invalid {
            status: 400,
            code,
            param,
            reason: InvalidReason::ControlByte,
        }
    }

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
        self.checked_body_len().map(|_| ())
    }

    /// Validates the request and the head strings (user agent, idempotency key, host and
    /// prefix: no control bytes) and writes the complete request, head and body, into `out`.
    /// Returns the number of bytes written.
    ///
    /// A buffer shorter than the request gives [`WriteError::BufferTooSmall`] with the exact
    /// length needed, and `out` is left untouched; so is it on [`WriteError::Invalid`].
    pub fn write(&self, head: &RequestHead<'_>, out: &mut [u8]) -> Result<usize, WriteError> {
        let body_len = self.checked_body_len()?;
        head.validate()?;
        // The body was counted once for its length; the head is counted here (it is short),
        // so the body is gone over once more only, to write it.
        let mut count = Sink::counting();
        self.write_head(head, body_len, &mut count);
        let needed = count.len.saturating_add(body_len);
        if out.len() < needed {
            return Err(WriteError::BufferTooSmall { needed });
        }
        let mut sink = Sink::new(out);
        self.write_head(head, body_len, &mut sink);
        self.write_body(&mut sink);
        Ok(sink.len)
    }

    /// Field checks, then the body length (a counting pass over the body writer).
    fn checked_body_len(&self) -> Result<usize, Invalid> {
        match self {
            Request::Analyze { model, messages } | Request::BatchAnalyze { model, messages } => {
                check_non_empty(model, "model")?;
                check_messages(messages)?;
            }
            Request::AnalyzeInContext {
                model,
                context_id,
                messages,
            } => {
                check_non_empty(model, "model")?;
                check_context_id(context_id)?;
                check_path_param(context_id, "context_id")?;
                check_messages(messages)?;
            }
            Request::ContextState { context_id } => {
                check_context_id(context_id)?;
                check_path_param(context_id, "context_id")?;
            }
            Request::MessageLookup {
                context_id,
                external_id,
            } => {
                check_context_id(context_id)?;
                check_path_param(context_id, "context_id")?;
                check_non_empty(external_id, "external_id")?;
                check_path_param(external_id, "external_id")?;
            }
            Request::ChatCompletion(chat) => check_chat(chat)?,
        }
        let mut count = Sink::counting();
        self.write_body(&mut count);
        if count.len > MAX_BODY_BYTES {
            return Err(Invalid::too_large("messages", InvalidReason::TooLarge));
        }
        Ok(count.len)
    }

    /// The request line and header lines, up to the empty line; `body_len` must be what
    /// `write_body` produces.
    fn write_head(&self, head: &RequestHead<'_>, body_len: usize, w: &mut Sink<'_>) {
        let method = self.method();
        w.str(method.as_str());
        w.byte(b' ');
        self.write_path(head.base, w);
        w.str(" HTTP/1.1\r\nHost: ");
        w.str(head.base.host);
        if !head.base.is_default_port() {
            w.byte(b':');
            w.uint(u32::from(head.base.port));
        }
        w.str("\r\n");
        if !head.user_agent.is_empty() {
            w.str("User-Agent: ");
            w.str(head.user_agent);
            w.str("\r\n");
        }
        let stream = matches!(
            self,
            Request::ChatCompletion(ChatRequest { stream: true, .. })
        );
        w.str(if stream {
            "Accept: application/json, text/event-stream\r\n"
        } else {
            "Accept: application/json\r\n"
        });
        w.str(match head.auth {
            Auth::XApiKey => "x-api-key: ",
            Auth::Bearer => "Authorization: Bearer ",
        });
        w.str(head.key.expose_secret());
        w.str("\r\n");
        if method == Method::Post {
            w.str("Content-Type: application/json\r\nContent-Length: ");
            // At most MAX_BODY_BYTES: validated before anything is written.
            w.uint(u32::try_from(body_len).unwrap_or(u32::MAX));
            w.str("\r\n");
            if !head.idempotency_key.is_empty() {
                w.str("Idempotency-Key: ");
                w.str(head.idempotency_key);
                w.str("\r\n");
            }
        }
        if !head.keep_alive {
            w.str("Connection: close\r\n");
        }
        w.str("\r\n");
    }

    fn write_path(&self, base: &BaseUrl<'_>, w: &mut Sink<'_>) {
        // `BaseUrl::parse` gives an empty prefix or one starting with `/`; a hand-built
        // prefix without it would not be an origin-form target (RFC 9112 §3.2.1).
        if !base.prefix.is_empty() && !base.prefix.starts_with('/') {
            w.byte(b'/');
        }
        w.str(base.prefix);
        if base.needs_version() {
            w.str("/v2");
        }
        match self {
            Request::Analyze { .. } => w.str("/emotions/analysis"),
            Request::AnalyzeInContext { context_id, .. } => {
                w.str("/emotions/");
                w.path_segment(context_id);
                w.str("/analysis");
            }
            Request::ContextState { context_id } => {
                w.str("/emotions/");
                w.path_segment(context_id);
            }
            Request::MessageLookup {
                context_id,
                external_id,
            } => {
                w.str("/emotions/");
                w.path_segment(context_id);
                w.str("/message/");
                w.path_segment(external_id);
            }
            Request::BatchAnalyze { .. } => w.str("/emotions/batch-analysis"),
            Request::ChatCompletion(_) => w.str("/chat/completions"),
        }
    }

    /// The JSON body (spec §3.1, §3.8 field names); nothing for GET.
    fn write_body(&self, w: &mut Sink<'_>) {
        match self {
            Request::Analyze { model, messages }
            | Request::AnalyzeInContext {
                model, messages, ..
            }
            | Request::BatchAnalyze { model, messages } => {
                w.str("{\"model\":");
                w.json_str(model);
                w.str(",\"messages\":[");
                for (i, m) in messages.iter().enumerate() {
                    if i > 0 {
                        w.byte(b',');
                    }
                    w.byte(b'{');
                    if let Some(role) = m.role {
                        w.str("\"role\":");
                        w.json_str(role);
                        w.byte(b',');
                    }
                    if let Some(id) = m.external_id {
                        w.str("\"externalId\":");
                        w.json_str(id);
                        w.byte(b',');
                    }
                    w.str("\"content\":{\"text\":");
                    w.json_str(m.text);
                    w.byte(b'}');
                    if let Some(ts) = m.timestamp {
                        w.str(",\"timestamp\":");
                        w.json_str(ts);
                    }
                    w.byte(b'}');
                }
                w.str("]}");
            }
            Request::ContextState { .. } | Request::MessageLookup { .. } => {}
            Request::ChatCompletion(c) => {
                w.str("{\"model\":");
                w.json_str(c.model);
                w.str(",\"emotion_model\":");
                w.json_str(c.emotion_model);
                if let Some(id) = c.context_id {
                    w.str(",\"context_id\":");
                    w.json_str(id);
                }
                w.str(",\"messages\":[");
                for (i, m) in c.messages.iter().enumerate() {
                    if i > 0 {
                        w.byte(b',');
                    }
                    w.str("{\"role\":");
                    w.json_str(m.role);
                    w.str(",\"content\":");
                    w.json_str(m.content);
                    w.byte(b'}');
                }
                w.byte(b']');
                if c.temperature.is_some() || c.max_tokens.is_some() {
                    w.str(",\"model_params\":{");
                    if let Some(t) = c.temperature {
                        w.str("\"temperature\":");
                        w.decimal(t);
                    }
                    if let Some(n) = c.max_tokens {
                        if c.temperature.is_some() {
                            w.byte(b',');
                        }
                        w.str("\"max_tokens\":");
                        w.uint(n);
                    }
                    w.byte(b'}');
                }
                if c.stream {
                    w.str(",\"stream\":true");
                }
                w.byte(b'}');
            }
        }
    }
}

fn has_control(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == 0x7F)
}

/// Length as the backend's JavaScript validator counts it: one UTF-16 unit per character,
/// two for one outside the BMP. Counted on the bytes (every byte but a continuation byte
/// starts a character; a lead byte from 0xF0 starts a four-byte one), without decoding.
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.bytes()
        .map(|b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

fn check_non_empty(s: &str, param: &'static str) -> Result<(), Invalid> {
    if s.is_empty() {
        Err(Invalid::missing(param, InvalidReason::Empty))
    } else {
        Ok(())
    }
}

fn check_context_id(id: &str) -> Result<(), Invalid> {
    check_non_empty(id, "context_id")?;
    if id.len() > MAX_CONTEXT_ID_BYTES {
        let code = ErrorCode::Other(Text::from_str_truncating(CONTEXT_ID_TOO_LONG));
        return Err(Invalid {
            status: 400,
            code,
            param: "context_id",
            reason: InvalidReason::TooLong,
        });
    }
    Ok(())
}

fn check_path_param(s: &str, param: &'static str) -> Result<(), Invalid> {
    if has_control(s) {
        Err(Invalid::control(param))
    } else {
        Ok(())
    }
}

fn check_role(role: &str) -> Result<(), Invalid> {
    if role.len() > MAX_ROLE_BYTES {
        return Err(Invalid::role(InvalidReason::TooLong));
    }
    if !ROLES.contains(&role) {
        return Err(Invalid::role(InvalidReason::BadRole));
    }
    Ok(())
}

/// Count, roles and text of the §3.1 `messages` array.
fn check_messages(messages: &[Message<'_>]) -> Result<(), Invalid> {
    if messages.is_empty() {
        return Err(Invalid::missing("messages", InvalidReason::Missing));
    }
    check_count(messages.len())?;
    for m in messages {
        if let Some(role) = m.role {
            check_role(role)?;
        }
        check_text(m.text, "messages.content.text")?;
    }
    Ok(())
}

/// At most [`MAX_MESSAGES`] messages (spec §3.1, §6).
fn check_count(n: usize) -> Result<(), Invalid> {
    if n > MAX_MESSAGES {
        return Err(Invalid::too_large("messages", InvalidReason::TooMany));
    }
    Ok(())
}

/// A message text: present, and at most [`MAX_TEXT_CHARS`] UTF-16 units.
fn check_text(text: &str, param: &'static str) -> Result<(), Invalid> {
    check_non_empty(text, param)?;
    if utf16_len(text) > MAX_TEXT_CHARS {
        return Err(Invalid::too_large(param, InvalidReason::TooLong));
    }
    Ok(())
}

/// The §3.8 body: the context id travels in the body, so only its length is checked.
fn check_chat(c: &ChatRequest<'_>) -> Result<(), Invalid> {
    check_non_empty(c.model, "model")?;
    check_non_empty(c.emotion_model, "emotion_model")?;
    if let Some(id) = c.context_id {
        check_context_id(id)?;
    }
    if c.messages.is_empty() {
        return Err(Invalid::missing("messages", InvalidReason::Missing));
    }
    check_count(c.messages.len())?;
    for m in c.messages {
        check_role(m.role)?;
        check_text(m.content, "messages.content")?;
    }
    Ok(())
}

/// `dst.copy_from_slice(src)` for slices of equal length.
#[cfg(not(feature = "fast"))]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    crate::text::copy_bytes(dst, src);
}

/// `dst.copy_from_slice(src)` for slices of equal length. Most pieces of a request are a few
/// bytes long; they are copied as two overlapping fixed-size words, inline, rather than
/// through a `memcpy` call each.
#[cfg(feature = "fast")]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    fn words<const N: usize>(dst: &mut [u8], src: &[u8]) -> bool {
        let n = src.len();
        let tail = n.saturating_sub(N);
        let (Some(d0), Some(s0)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) else {
            return false;
        };
        let head = *s0;
        let Some(s1) = src.get(tail..).and_then(|s| s.first_chunk::<N>()) else {
            return false;
        };
        let last = *s1;
        *d0 = head;
        match dst.get_mut(tail..).and_then(|d| d.first_chunk_mut::<N>()) {
            Some(d1) => *d1 = last,
            None => return false,
        }
        true
    }
    let n = src.len();
    let done = match n {
        0 => true,
        1..=3 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
            true
        }
        4..=7 => words::<4>(dst, src),
        8..=16 => words::<8>(dst, src),
        _ => false,
    };
    if !done {
        crate::text::copy_bytes(dst, src);
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// A writer that counts every byte and stores those that fit. Counting over an empty buffer
/// gives the exact length of a request, so one writer serves both passes and the two can
/// never disagree.
struct Sink<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl<'o> Sink<'o> {
    fn new(out: &'o mut [u8]) -> Self {
        Sink { out, len: 0 }
    }

    fn counting() -> Sink<'static> {
        Sink {
            out: &mut [],
            len: 0,
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        let end = self.len.saturating_add(b.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            copy_short(dst, b);
        }
        self.len = end;
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn byte(&mut self, b: u8) {
        self.bytes(&[b]);
    }

    /// Decimal digits of `v`, without `core::fmt` (and in 32 bits: no 64-bit division
    /// routine on 32-bit targets).
    fn uint(&mut self, mut v: u32) {
        let mut buf = [0u8; 10];
        let mut start = buf.len();
        for slot in buf.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            start = start.saturating_sub(1);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.bytes(buf.get(start..).unwrap_or(&[]));
    }

    /// A [`Score`] as the shortest decimal: `0.7`, `1`, `0.05`, `-1.25`.
    fn decimal(&mut self, s: Score) {
        if s.0 < 0 {
            self.byte(b'-');
        }
        let a = s.0.unsigned_abs();
        let scale = Score::SCALE.unsigned_abs();
        self.uint(a / scale);
        let frac = a % scale;
        if frac != 0 {
            let digits =
                [frac / 1000, frac / 100 % 10, frac / 10 % 10, frac % 10].map(|d| b'0' + d as u8);
            let keep = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
            self.byte(b'.');
            self.bytes(digits.get(..keep).unwrap_or(&[]));
        }
    }

    /// A JSON string (RFC 8259 §7): `"` `\` and control bytes escaped, the rest as is.
    fn json_str(&mut self, s: &str) {
        self.byte(b'"');
        let mut rest = s.as_bytes();
        loop {
            // The bytes up to the next one to escape, found eight at a time.
            let run = crate::json::string_run(rest);
            self.bytes(rest.get(..run).unwrap_or(rest));
            let Some((&b, tail)) = rest.get(run..).and_then(<[u8]>::split_first) else {
                break;
            };
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0C => b"\\f",
                _ => b"",
            };
            if short.is_empty() {
                let hex = |n: u8| HEX_LOWER.get(usize::from(n)).copied().unwrap_or(b'0');
                self.bytes(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0x0F)]);
            } else {
                self.bytes(short);
            }
            rest = tail;
        }
        self.byte(b'"');
    }

    /// One path segment (RFC 3986 §3.3): unreserved, sub-delims, `:` and `@` as is, every
    /// other byte as `%XX`. A segment of only dots is encoded too, so that it is not taken
    /// as a `.`/`..` segment and removed (RFC 3986 §5.2.4).
    fn path_segment(&mut self, s: &str) {
        let dots = !s.is_empty() && s.bytes().all(|b| b == b'.');
        for b in s.bytes() {
            let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b);
            if keep && !dots {
                self.byte(b);
            } else {
                let hex = |n: u8| HEX_UPPER.get(usize::from(n)).copied().unwrap_or(b'0');
                self.bytes(&[b'%', hex(b >> 4), hex(b & 0x0F)]);
            }
        }
    }
}

#[cfg(test)]
mod tests;
