//! What the request writer refuses, as two bytes: the checks inside the writer return it in
//! a register, and one conversion builds the [`Invalid`] with the server's status and code.

use super::wire::{IDEMPOTENCY_KEY_LINE, USER_AGENT_LINE};
use super::{CONTEXT_ID_TOO_LONG, CONTROL_BYTE, Invalid, InvalidReason, MAX_ROLE_BYTES, ROLES};
use super::{MAX_CONTEXT_ID_BYTES, MAX_MESSAGES, MAX_TEXT_CHARS};
use crate::error::ErrorCode;
use crate::text::Text;

/// The parameter a refusal names; its name is `NAMES[param as usize]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Param {
    Model,
    EmotionModel,
    Messages,
    Role,
    Text,
    Content,
    ContextId,
    ExternalId,
    Host,
    Prefix,
    UserAgent,
    IdempotencyKey,
}

/// The names of [`Param`], in its order: a table rather than a match (smaller code). A name
/// that starts or ends another points into it, so that its bytes are stored once.
const NAMES: [&str; 12] = [
    EMOTION_MODEL.split_at(8).1,
    EMOTION_MODEL,
    TEXT.split_at(8).0,
    "messages.role",
    TEXT,
    TEXT.split_at(16).0,
    CONTEXT_ID_TOO_LONG.split_at(10).0,
    "external_id",
    "host",
    "prefix",
    USER_AGENT_LINE.split_at(2).1.split_at(10).0,
    IDEMPOTENCY_KEY_LINE.split_at(2).1.split_at(15).0,
];
const EMOTION_MODEL: &str = "emotion_model";
const TEXT: &str = "messages.content.text";

impl Param {
    fn as_str(self) -> &'static str {
        NAMES.get(self as usize).copied().unwrap_or("")
    }
}

/// A refused parameter and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fault {
    pub(super) param: Param,
    pub(super) reason: InvalidReason,
}

impl Fault {
    pub(super) const fn new(param: Param, reason: InvalidReason) -> Self {
        Fault { param, reason }
    }
}

impl From<Fault> for Invalid {
    fn from(f: Fault) -> Self {
        let other = |code| ErrorCode::Other(Text::from_str_truncating(code));
        let (status, code) = match (f.reason, f.param) {
            (InvalidReason::Missing | InvalidReason::Empty, _) => (400, ErrorCode::MissingField),
            (InvalidReason::BadRole, _) | (InvalidReason::TooLong, Param::Role) => {
                (422, ErrorCode::InvalidRole)
            }
            (InvalidReason::ControlByte, _) => (400, other(CONTROL_BYTE)),
            // A bad parameter, not a large payload (see the module docs).
            (InvalidReason::TooLong, Param::ContextId) => (400, other(CONTEXT_ID_TOO_LONG)),
            _ => (413, ErrorCode::PayloadTooLarge),
        };
        Invalid {
            status,
            code,
            param: f.param.as_str(),
            reason: f.reason,
        }
    }
}

/// Bytes below this are refused in a header value: control bytes.
pub(super) const HEADER_MIN: u8 = b' ';
/// Bytes below this are refused in the request line and the host: control bytes and space,
/// which would end the request target or be read as whitespace around the host.
pub(super) const LINE_MIN: u8 = b'!';

/// No byte below `min` and no DEL in `s`.
pub(super) fn visible(s: &str, param: Param, min: u8) -> Result<(), Fault> {
    if has_below_or_del(s.as_bytes(), min) {
        return Err(Fault::new(param, InvalidReason::ControlByte));
    }
    Ok(())
}

#[cfg(not(feature = "fast"))]
fn has_below_or_del(s: &[u8], min: u8) -> bool {
    s.iter().any(|&b| b < min || b == 0x7F)
}

/// Eight bytes at a time: `x - min` borrows into the top bit of a byte below `min` (at most
/// 0x80) whose own top bit is clear, and `x ^ DEL` is zero where a byte is DEL. A borrow
/// only flags bytes above a flagged one, so a flag means that there is such a byte.
#[cfg(feature = "fast")]
fn has_below_or_del(s: &[u8], min: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let mut words = s.chunks_exact(8);
    for word in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let x = u64::from_le_bytes(bytes);
        let del = x ^ (ONES * 0x7F);
        let below = x.wrapping_sub(ONES * u64::from(min)) & !x;
        if (below | del.wrapping_sub(ONES) & !del) & HIGH != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b < min || b == 0x7F)
}

/// `s` is not empty.
pub(super) fn non_empty(s: &str, param: Param) -> Result<(), Fault> {
    if s.is_empty() {
        return Err(Fault::new(param, InvalidReason::Empty));
    }
    Ok(())
}

/// A `context_id`: present and at most [`MAX_CONTEXT_ID_BYTES`].
pub(super) fn context_id(id: &str) -> Result<(), Fault> {
    non_empty(id, Param::ContextId)?;
    if id.len() > MAX_CONTEXT_ID_BYTES {
        return Err(Fault::new(Param::ContextId, InvalidReason::TooLong));
    }
    Ok(())
}

/// A path parameter: present, and no control byte (it reaches the request line).
pub(super) fn path_param(s: &str, param: Param) -> Result<(), Fault> {
    non_empty(s, param)?;
    visible(s, param, HEADER_MIN)
}

/// A `messages` array of 1 to [`MAX_MESSAGES`] entries.
pub(super) fn message_count(n: usize) -> Result<(), Fault> {
    match n {
        0 => Err(Fault::new(Param::Messages, InvalidReason::Missing)),
        1..=MAX_MESSAGES => Ok(()),
        _ => Err(Fault::new(Param::Messages, InvalidReason::TooMany)),
    }
}

/// `role` is one of [`ROLES`].
pub(super) fn role(role: &str) -> Result<(), Fault> {
    if role.len() > MAX_ROLE_BYTES {
        return Err(Fault::new(Param::Role, InvalidReason::TooLong));
    }
    if !ROLES.contains(&role) {
        return Err(Fault::new(Param::Role, InvalidReason::BadRole));
    }
    Ok(())
}

/// A message text: present, and at most [`MAX_TEXT_CHARS`] UTF-16 units.
pub(super) fn text(text: &str, param: Param) -> Result<(), Fault> {
    non_empty(text, param)?;
    // A text of at most MAX_TEXT_CHARS bytes has at most as many UTF-16 units.
    if text.len() > MAX_TEXT_CHARS && utf16_len(text) > MAX_TEXT_CHARS {
        return Err(Fault::new(param, InvalidReason::TooLong));
    }
    Ok(())
}

/// Length as the backend's JavaScript validator counts it: one UTF-16 unit per character,
/// two for one outside the BMP. Counted on the bytes (every byte but a continuation byte
/// starts a character; a lead byte from 0xF0 starts a four-byte one), without decoding.
fn utf16_len(s: &str) -> usize {
    s.bytes()
        .map(|b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}
