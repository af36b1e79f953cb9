//! HTTP/1.1 responses without I/O: an incremental head parser ([`HeadParser`]), body framing
//! ([`BodyDecoder`]) and HTTP dates ([`parse_http_date`]).
//!
//! The head parser is written here rather than taken from httparse because it must accept a
//! head in pieces of any size without holding it: it keeps the header line being read in one
//! 64-byte buffer (its name, then the value of a header it interprets), never the head. The types below are what a call
//! keeps of a response: the status, the framing after RFC 9112 §6.3, and the headers the
//! retry policy and the caller need.

mod body;
mod date;
mod head;

pub use body::{BodyDecoder, BodyError, Decoded};
pub use date::{RFC850_REFERENCE_YEAR, parse_http_date};
pub use head::{DEFAULT_MAX_HEAD, HeadError, HeadParser};
pub(crate) use head::{HeadReader, blank_head, clear_head};

use core::num::NonZeroU32;

use crate::text::Text;

/// Capacity of a request id (`x-request-id` and its aliases, and `error.request_id`).
pub const REQUEST_ID_CAP: usize = 64;

/// Bytes kept of a `Link` header (feature `details`): the head parser's value buffer.
#[cfg(feature = "details")]
pub const LINK_CAP: usize = 64;

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Framing {
    /// No body at all (1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// The media type of the body, as far as the client cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ContentType {
    /// No `Content-Type` header.
    #[default]
    Missing,
    /// `application/json` (or any `+json`).
    Json,
    /// `text/event-stream` (Server-Sent Events).
    EventStream,
    /// `text/html`.
    Html,
    /// Anything else.
    Other,
}

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetryAfter {
    /// Wait this many seconds.
    Seconds(u32),
    /// Wait until this Unix time (seconds; an HTTP-date past 2106 saturates at `u32::MAX`).
    Date(u32),
}

/// The `X-RateLimit-*` headers (spec §6). Absent headers are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests per window.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`: requests left in the window.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset`: Unix time (seconds) when the window resets (saturating at
    /// `u32::MAX`, in 2106).
    pub reset: Option<u32>,
}

/// What the client keeps of a response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResponseHead {
    /// Status code (never 1xx: interim responses are skipped).
    pub status: u16,
    /// Body delimitation after RFC 9112 §6.3.
    pub framing: Framing,
    /// `false` when the connection must not be reused (`Connection: close`, HTTP/1.0 without
    /// keep-alive, close-delimited body, or Transfer-Encoding together with Content-Length).
    pub keep_alive: bool,
    /// `Content-Type`.
    pub content_type: ContentType,
    /// `Date`, as Unix seconds; `None` past 2106.
    pub date: Option<u32>,
    /// `Retry-After`.
    pub retry_after: Option<RetryAfter>,
    /// `retry-after-ms` (milliseconds, saturating at `u32::MAX`, about 49 days).
    pub retry_after_ms: Option<u32>,
    /// `X-RateLimit-*`.
    pub rate_limit: RateLimit,
    /// `x-request-id`, `request-id`, `x-amzn-requestid` or `apigw-requestid`, first seen wins.
    pub request_id: Text<REQUEST_ID_CAP>,
    /// A `Deprecation`, `Kaiko-Deprecation` or `Sunset` header was present (spec §8, RFC 8594).
    pub deprecated: bool,
    /// `Sunset` (RFC 8594 §3): when the endpoint is expected to stop answering, as Unix
    /// seconds (non-zero); `None` when absent, not an HTTP-date, or past 2106 (kept in 32
    /// bits so that the head does not grow).
    pub sunset: Option<NonZeroU32>,
    /// The first `Link` header (RFC 8288), e.g. `<https://…/migration>; rel="sunset"`: where a
    /// deprecation is documented (RFC 8594 §6). Its first [`LINK_CAP`] bytes, marked truncated
    /// when longer (feature `details`).
    #[cfg(feature = "details")]
    pub link: Text<LINK_CAP>,
}

impl ResponseHead {
    /// An empty head with the given status (all headers absent).
    pub const fn new(status: u16) -> Self {
        ResponseHead {
            status,
            framing: Framing::UntilClose,
            keep_alive: true,
            content_type: ContentType::Missing,
            date: None,
            retry_after: None,
            retry_after_ms: None,
            rate_limit: RateLimit {
                limit: None,
                remaining: None,
                reset: None,
            },
            request_id: Text::new(),
            deprecated: false,
            sunset: None,
            #[cfg(feature = "details")]
            link: Text::new(),
        }
    }
}
