//! API errors: the documented envelope, the bodies the real backend sends, and the typed codes.
//!
//! The documented V2 envelope is `{"error":{"type","code","message","param","request_id"}}`
//! (spec §5.1). The deployed backend also sends flat `{"message": …}` and
//! `{"status":"error","message": …}` bodies, API Gateway sends `{"message":"Unauthorized"}`, and
//! proxies send HTML or nothing (spec §5.3). Every one of them becomes an [`ApiError`]: what the
//! body does not say is derived from the HTTP status, so an error is never lost to its shape.

use crate::http::RateLimit;
use crate::text::Text;
use crate::time::Duration;

mod body;
mod table;
#[cfg(test)]
mod tests;

pub use body::ErrorBody;
use table::{
    CODE_LENS, CODE_TEXT, CODES, HINTS, TABLE, TYPE_LENS, TYPE_TEXT, TYPES, position_ignore_case,
};

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
    /// `billing_error` (402, no credit left; the backend sends no type, this is the client's
    /// name for it).
    Billing,
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
    /// 402 `insufficient_credits`: the account has no credit (the backend's status, spec
    /// §5.3; not retried).
    InsufficientCredits,
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

impl ErrorType {
    /// Parses the wire text (ignoring ASCII case); unknown text becomes [`ErrorType::Other`].
    pub fn parse(s: &str) -> Self {
        match position_ignore_case(&TYPE_LENS, &TYPE_TEXT, s) {
            Some(i) => Self::known(i),
            None => Self::Other(Text::from_str_truncating(s)),
        }
    }

    /// The known type at index `i` of the table's type names.
    fn known(i: usize) -> Self {
        match i {
            0 => Self::InvalidRequest,
            1 => Self::Authentication,
            2 => Self::Forbidden,
            3 => Self::NotFound,
            4 => Self::Conflict,
            5 => Self::RateLimit,
            6 => Self::Billing,
            _ => Self::Server,
        }
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        let i = match self {
            Self::InvalidRequest => 0,
            Self::Authentication => 1,
            Self::Forbidden => 2,
            Self::NotFound => 3,
            Self::Conflict => 4,
            Self::RateLimit => 5,
            Self::Billing => 6,
            Self::Server => 7,
            Self::Other(t) => return t.as_str(),
        };
        TYPES.get(i).copied().unwrap_or("")
    }

    /// The type the documented table gives for `status`: for statuses outside the table,
    /// `server_error` for 5xx and `invalid_request_error` for other 4xx.
    pub fn for_status(status: u16) -> Self {
        match TABLE.iter().find(|r| r.status == status) {
            Some(r) => Self::known(usize::from(r.kind)),
            None if status >= 500 => Self::Server,
            None => Self::InvalidRequest,
        }
    }
}

impl ErrorCode {
    /// Parses the wire text; unknown text becomes [`ErrorCode::Other`].
    /// Codes match case-insensitively (the backend's middleware sends `PAYLOAD_TOO_LARGE`).
    pub fn parse(s: &str) -> Self {
        match position_ignore_case(&CODE_LENS, &CODE_TEXT, s) {
            Some(i) => Self::known(i),
            None => Self::Other(Text::from_str_truncating(s)),
        }
    }

    /// The known code at index `i` of the table.
    fn known(i: usize) -> Self {
        match i {
            0 => Self::MissingField,
            1 => Self::InvalidApiKey,
            2 => Self::InsufficientCredits,
            3 => Self::KeyRevoked,
            4 => Self::ContextNotFound,
            5 => Self::DuplicateId,
            6 => Self::PayloadTooLarge,
            7 => Self::InvalidRole,
            8 => Self::TooManyRequests,
            9 => Self::Internal,
            _ => Self::ServiceUnavailable,
        }
    }

    /// Index of this code in the table, if the table has it.
    fn index(&self) -> Option<usize> {
        Some(match self {
            Self::MissingField => 0,
            Self::InvalidApiKey => 1,
            Self::InsufficientCredits => 2,
            Self::KeyRevoked => 3,
            Self::ContextNotFound => 4,
            Self::DuplicateId => 5,
            Self::PayloadTooLarge => 6,
            Self::InvalidRole => 7,
            Self::TooManyRequests => 8,
            Self::Internal => 9,
            Self::ServiceUnavailable => 10,
            Self::Other(t) => return CODES.iter().position(|c| *c == t.as_str()),
        })
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(t) => t.as_str(),
            known => known
                .index()
                .and_then(|i| CODES.get(i))
                .copied()
                .unwrap_or(""),
        }
    }

    /// The code a body without one is given: the table's code where the status alone
    /// implies it (401, 402, 413, 429, 500, 503), else `Other("http_<status>")` (e.g.
    /// `http_403`, `http_422`, `http_502`) rather than a guess that would mislead.
    pub fn for_status(status: u16) -> Self {
        match TABLE.iter().position(|r| r.status == status && r.implied) {
            Some(i) => Self::known(i),
            None => {
                let mut digits = [b'0'; 3];
                let mut rest = status;
                for d in digits.iter_mut().rev() {
                    *d = b'0' + (rest % 10) as u8;
                    rest /= 10;
                }
                let mut t = Text::new();
                t.push_bytes(b"http_");
                t.push_bytes(&digits);
                Self::Other(t)
            }
        }
    }

    /// The HTTP status the documented table pairs with this code, if it is in the table.
    pub fn status(&self) -> Option<u16> {
        self.index().and_then(|i| TABLE.get(i)).map(|r| r.status)
    }

    /// What to do about it: the remedy the table gives for this code; `None` for codes the
    /// table does not know (the message says more than a generic hint would).
    pub fn hint(&self) -> Option<&'static str> {
        self.index().and_then(|i| HINTS.get(i)).copied()
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

    /// The resolution hint for [`ApiError::code`], if the table has one.
    pub fn hint(&self) -> Option<&'static str> {
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
