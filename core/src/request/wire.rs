//! The request on the wire: the head and the JSON body, from one writer each.
//!
//! The body writer checks each field as it writes it; the head's strings are checked before
//! the head is written ([`check_head`]). [`Request::write`] first runs the body writer into a
//! counting [`Sink`], so that every check runs before a byte reaches the caller's buffer and
//! the count becomes `Content-Length`; then it counts the head (unless, with `fast`, the buffer
//! holds the longest head the strings can make), and writes both. The checks run in the order
//! of the fields, which is the order of the refusals documented on [`Request::validate`].

use super::fault::{self, Fault, HEADER_MIN, LINE_MIN, Param, non_empty, visible};
use super::pieces::{self as piece, Piece};
use super::sink::Sink;
use super::{ChatMessage, ChatRequest, MAX_BODY_BYTES, Message, Method, Request, RequestHead};
use crate::key::Auth;
use crate::request::InvalidReason;

/// Why [`Request::write`] wrote nothing, in two registers.
pub(super) enum Unwritten {
    Invalid(Fault),
    TooSmall(usize),
}

impl From<Fault> for Unwritten {
    fn from(fault: Fault) -> Self {
        Unwritten::Invalid(fault)
    }
}

impl Request<'_> {
    /// [`Request::write`]: everything is checked before a byte is written, the body in a
    /// counting pass (its length goes into the head), then the head strings.
    pub(super) fn write_into(
        &self,
        head: &RequestHead<'_>,
        out: &mut [u8],
    ) -> Result<usize, Unwritten> {
        let body_len = self.body_len()?;
        check_head(head)?;
        self.write_checked_into(head, body_len, out)
    }

    /// [`Request::write_into`] once its checks have passed and given `body_len`.
    pub(super) fn write_checked_into(
        &self,
        head: &RequestHead<'_>,
        body_len: usize,
        out: &mut [u8],
    ) -> Result<usize, Unwritten> {
        // A buffer with room for the longest head these strings can make needs no count.
        #[cfg(feature = "fast")]
        let fits = out.len() >= self.head_bound(head).saturating_add(body_len);
        #[cfg(not(feature = "fast"))]
        let fits = false;
        if !fits {
            let mut count = Sink::counting();
            self.head(head, body_len, &mut count);
            let needed = count.len.saturating_add(body_len);
            if out.len() < needed {
                return Err(Unwritten::TooSmall(needed));
            }
        }
        let mut w = Sink::new(out);
        self.head(head, body_len, &mut w);
        self.body(&mut w)?;
        Ok(w.len)
    }

    /// The JSON body's length, every field checked.
    pub(super) fn body_len(&self) -> Result<usize, Fault> {
        let mut count = Sink::counting();
        self.body(&mut count)?;
        if count.len > MAX_BODY_BYTES {
            return Err(Fault::new(Param::Messages, InvalidReason::TooLarge));
        }
        Ok(count.len)
    }

    /// The JSON body (spec §3.1, §3.8 field names); nothing for GET, whose path parameters
    /// are checked here all the same, so that every check of the request runs in one place.
    pub(super) fn body(&self, w: &mut Sink<'_>) -> Result<(), Fault> {
        match *self {
            Request::Analyze { model, messages } | Request::BatchAnalyze { model, messages } => {
                json(model, None, Messages::Analysis(messages), w)
            }
            Request::AnalyzeInContext {
                model,
                context_id,
                messages,
            } => {
                // Refused in this order: `model`, the path's `context_id`, `messages`.
                non_empty(model, Param::Model)?;
                path_id(context_id)?;
                json(model, None, Messages::Analysis(messages), w)
            }
            Request::ContextState { context_id } => path_id(context_id),
            Request::MessageLookup {
                context_id,
                external_id,
            } => {
                path_id(context_id)?;
                fault::path_param(external_id, Param::ExternalId)
            }
            Request::ChatCompletion(ref c) => json(c.model, Some(c), Messages::Chat(c.messages), w),
        }
    }

    /// The request line and header lines, up to the empty line; `body_len` must be what
    /// [`Request::body`] writes and `head` must have passed [`check_head`].
    pub(super) fn head(&self, head: &RequestHead<'_>, body_len: usize, w: &mut Sink<'_>) {
        let base = head.base;
        let post = self.method() == Method::Post;
        w.piece(if post { piece::POST } else { piece::GET });
        // `BaseUrl::parse` gives an empty prefix or one starting with `/`; a hand-built
        // prefix without it would not be an origin-form target (RFC 9112 §3.2.1).
        if base.prefix.as_bytes().first().is_some_and(|&b| b != b'/') {
            w.byte(b'/');
        }
        w.str(base.prefix);
        if base.needs_version() {
            w.piece(piece::V2);
        }
        let (start, first, middle, second) = self.path();
        w.piece(start);
        w.path_segment(first);
        w.piece(middle);
        w.path_segment(second);
        w.piece(piece::VERSION_HOST);
        w.str(base.host);
        if !base.is_default_port() {
            w.byte(b':');
            w.uint(u32::from(base.port));
        }
        if !head.user_agent.is_empty() {
            w.str(USER_AGENT_LINE);
            w.str(head.user_agent);
        }
        w.piece(piece::ACCEPT);
        if let Request::ChatCompletion(ChatRequest { stream: true, .. }) = self {
            w.piece(piece::EVENT_STREAM);
        }
        w.piece(match head.auth {
            Auth::XApiKey => piece::X_API_KEY,
            Auth::Bearer => piece::BEARER,
        });
        // Visible ASCII by construction (`ApiKey::new`).
        w.str(head.key.expose_secret());
        if post {
            w.piece(piece::CONTENT_LENGTH);
            // At most MAX_BODY_BYTES: checked before the head is written.
            w.uint(u32::try_from(body_len).unwrap_or(u32::MAX));
            if !head.idempotency_key.is_empty() {
                w.str(IDEMPOTENCY_KEY_LINE);
                w.str(head.idempotency_key);
            }
        }
        if !head.keep_alive {
            w.piece(piece::CLOSE);
        }
        w.piece(piece::END);
    }

    /// The path after the prefix and `/v2`: text, a segment, text, a segment (segments
    /// percent-encoded, empty ones absent).
    fn path(&self) -> (Piece, &str, Piece, &str) {
        match *self {
            Request::Analyze { .. } => (piece::ANALYZE, "", piece::NOTHING, ""),
            Request::AnalyzeInContext { context_id, .. } => {
                (piece::EMOTIONS, context_id, piece::ANALYSIS, "")
            }
            Request::ContextState { context_id } => {
                (piece::EMOTIONS, context_id, piece::NOTHING, "")
            }
            Request::MessageLookup {
                context_id,
                external_id,
            } => (piece::EMOTIONS, context_id, piece::MESSAGE, external_id),
            Request::BatchAnalyze { .. } => (piece::BATCH, "", piece::NOTHING, ""),
            Request::ChatCompletion(_) => (piece::CHAT, "", piece::NOTHING, ""),
        }
    }

    /// At least as many bytes as [`Request::head`] writes, from lengths alone: every
    /// constant piece at its longest, each path segment byte as `%XX`.
    #[cfg(feature = "fast")]
    pub(super) fn head_bound(&self, head: &RequestHead<'_>) -> usize {
        let (_, first, _, second) = self.path();
        [
            head.base.host.len(),
            head.base.prefix.len(),
            first.len().saturating_mul(3),
            second.len().saturating_mul(3),
            head.user_agent.len(),
            head.key.expose_secret().len(),
            head.idempotency_key.len(),
        ]
        .iter()
        .fold(HEAD_CONSTANTS, |sum, &n| sum.saturating_add(n))
    }
}

/// Bytes of the head that do not come from the request or the head strings, at most:
/// `POST `, a `/` before the prefix, `/v2`, the longest path text, ` HTTP/1.1\r\nHost: `,
/// `:65535`, the header names and values written whole, and the 7 digits of
/// [`MAX_BODY_BYTES`].
#[cfg(feature = "fast")]
pub(super) const HEAD_CONSTANTS: usize =
    5 + 1 + 3 + 24 + 17 + 6 + 14 + 26 + 19 + 24 + 50 + 7 + 19 + 19 + 4;

/// The start of the `User-Agent` line (its name is also the parameter of a refusal).
pub(super) const USER_AGENT_LINE: &str = "\r\nUser-Agent: ";
/// The start of the `Idempotency-Key` line (its name is also the parameter of a refusal).
pub(super) const IDEMPOTENCY_KEY_LINE: &str = "\r\nIdempotency-Key: ";

/// The head strings bound for the request line or a header, in this order: host (present, no
/// control byte or space), prefix (no control byte or space), user agent and idempotency key
/// (no control byte). The key is visible ASCII by construction (`ApiKey::new`).
pub(super) fn check_head(head: &RequestHead<'_>) -> Result<(), Fault> {
    non_empty(head.base.host, Param::Host)?;
    visible(head.base.host, Param::Host, LINE_MIN)?;
    visible(head.base.prefix, Param::Prefix, LINE_MIN)?;
    visible(head.user_agent, Param::UserAgent, HEADER_MIN)?;
    visible(head.idempotency_key, Param::IdempotencyKey, HEADER_MIN)?;
    Ok(())
}

/// A `context_id` in the path: present, at most [`super::MAX_CONTEXT_ID_BYTES`], no control
/// byte.
fn path_id(id: &str) -> Result<(), Fault> {
    fault::context_id(id)?;
    visible(id, Param::ContextId, HEADER_MIN)
}

/// The `messages` of either body.
#[derive(Clone, Copy)]
enum Messages<'r> {
    /// §3.1: the text under `content.text`, with the optional fields.
    Analysis(&'r [Message<'r>]),
    /// §3.8: the text as `content`, always with a role.
    Chat(&'r [ChatMessage<'r>]),
}

impl<'r> Messages<'r> {
    fn len(self) -> usize {
        match self {
            Messages::Analysis(m) => m.len(),
            Messages::Chat(m) => m.len(),
        }
    }

    /// Message `i` in the §3.1 shape.
    fn get(self, i: usize) -> Option<Message<'r>> {
        match self {
            Messages::Analysis(m) => m.get(i).copied(),
            Messages::Chat(m) => m.get(i).map(|c| Message {
                role: Some(c.role),
                text: c.content,
                external_id: None,
                timestamp: None,
            }),
        }
    }
}

/// Either JSON body: the §3.1 body is the §3.8 body (`chat`) without `emotion_model`,
/// `context_id`, `model_params` and `stream`, and with each text under `content.text`.
fn json(
    model: &str,
    chat: Option<&ChatRequest<'_>>,
    messages: Messages<'_>,
    w: &mut Sink<'_>,
) -> Result<(), Fault> {
    non_empty(model, Param::Model)?;
    w.field(piece::MODEL, model);
    if let Some(c) = chat {
        non_empty(c.emotion_model, Param::EmotionModel)?;
        w.field(piece::EMOTION_MODEL, c.emotion_model);
        // Sent in the body, not the path: only its length is checked.
        if let Some(id) = c.context_id {
            fault::context_id(id)?;
            w.field(piece::CONTEXT_ID, id);
        }
    }
    fault::message_count(messages.len())?;
    let is_chat = matches!(messages, Messages::Chat(_));
    let (text_param, text_key) = if is_chat {
        (Param::Content, piece::CONTENT)
    } else {
        (Param::Text, piece::CONTENT_TEXT)
    };
    let mut open = piece::MESSAGES;
    let mut i = 0;
    while let Some(m) = messages.get(i) {
        i += 1;
        w.piece(open);
        open = piece::NEXT_MESSAGE;
        if let Some(role) = m.role {
            fault::role(role)?;
            w.field(piece::ROLE, role);
            w.byte(b',');
        }
        if let Some(id) = m.external_id {
            w.field(piece::EXTERNAL_ID, id);
            w.byte(b',');
        }
        fault::text(m.text, text_param)?;
        w.field(text_key, m.text);
        if !is_chat {
            w.byte(b'}');
        }
        if let Some(ts) = m.timestamp {
            w.field(piece::TIMESTAMP, ts);
        }
        w.byte(b'}');
    }
    w.byte(b']');
    if let Some(c) = chat {
        if c.temperature.is_some() || c.max_tokens.is_some() {
            w.piece(piece::MODEL_PARAMS);
            if let Some(t) = c.temperature {
                w.piece(piece::TEMPERATURE);
                w.decimal(t);
            }
            if let Some(n) = c.max_tokens {
                if c.temperature.is_some() {
                    w.byte(b',');
                }
                w.piece(piece::MAX_TOKENS);
                w.uint(n);
            }
            w.byte(b'}');
        }
        if c.stream {
            w.piece(piece::STREAM);
        }
    }
    w.byte(b'}');
    Ok(())
}
