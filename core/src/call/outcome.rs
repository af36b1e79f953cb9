//! What a call reports: why an attempt failed ([`Cause`]), how the call ended ([`Success`],
//! [`Failure`]) and a retry notice ([`Retry`]). Their `Display` is the one wording every
//! adapter and the CLI show.

use core::fmt;

use crate::analysis::Summary;
use crate::error::ApiError;
use crate::http::{BodyError, HeadError, REQUEST_ID_CAP, RateLimit};
use crate::json::JsonError;
use crate::retry::Stop;
use crate::text::Text;
use crate::time::{Duration, Instant};

/// How the transport failed, as the adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnectionLost {
    /// Name resolution failed.
    Dns,
    /// The peer refused or the connection could not be set up.
    Refused,
    /// TLS handshake or record failure (certificate checks included).
    Tls,
    /// The peer reset the connection.
    Reset,
    /// The peer closed the connection (end of stream).
    Closed,
    /// Any other I/O error.
    Io,
}

impl fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionLost::Dns => "name resolution failure",
            ConnectionLost::Refused => "connection refused",
            ConnectionLost::Tls => "TLS failure",
            ConnectionLost::Reset => "connection reset",
            ConnectionLost::Closed => "connection closed",
            ConnectionLost::Io => "I/O error",
        })
    }
}

/// The phase a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Phase {
    /// Setting up the connection.
    Connect,
    /// Sending the request and waiting for the first response byte.
    FirstByte,
    /// Receiving the rest of the response.
    Response,
    /// The whole call.
    Call,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::FirstByte => "first byte",
            Phase::Response => "response",
            Phase::Call => "call deadline",
        })
    }
}

/// A response that could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ProtocolError {
    /// The status line or headers.
    Head(HeadError),
    /// The body framing (chunked encoding, truncated body).
    Body(BodyError),
    /// The JSON of a success body.
    Json(JsonError),
    /// An event of a streamed success body was neither JSON nor the `[DONE]` marker.
    StreamData,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Head(e) => write!(f, "malformed response (head: {e})"),
            ProtocolError::Body(e) => write!(f, "malformed response (body framing: {e})"),
            ProtocolError::Json(e) => write!(f, "malformed response (JSON: {e})"),
            ProtocolError::StreamData => f.write_str("malformed response (event stream)"),
        }
    }
}

/// What made an attempt fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// No allocator: the API error is kept inline, whatever it costs the other variants.
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
pub enum Cause {
    /// The API answered with an error status.
    Api(ApiError),
    /// The transport failed.
    Connection(ConnectionLost),
    /// A deadline passed.
    Timeout(Phase),
    /// The response was malformed.
    Protocol(ProtocolError),
    /// The caller cancelled the call ([`Call::cancel`](super::Call::cancel)).
    Cancelled,
}

impl fmt::Display for Cause {
    /// Brief: `429 too_many_requests (request_id req-1)`, `connection reset`,
    /// `timeout (first byte)`, `malformed response (…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Api(e) => {
                write!(f, "{} {}", e.status, e.code.as_str())?;
                if !e.request_id.is_empty() {
                    write!(f, " (request_id {})", e.request_id)?;
                }
                Ok(())
            }
            Cause::Connection(lost) => write!(f, "{lost}"),
            Cause::Timeout(phase) => write!(f, "timeout ({phase})"),
            Cause::Protocol(p) => write!(f, "{p}"),
            Cause::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl core::error::Error for Cause {}

/// The outcome of a successful call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Success {
    /// HTTP status (2xx).
    pub status: u16,
    /// Top-level facts of the body.
    pub summary: Summary,
    /// `X-RateLimit-*` of the response.
    pub rate_limit: RateLimit,
    /// A request-id header, if the server sent one.
    pub request_id: Text<REQUEST_ID_CAP>,
    /// When `X-RateLimit-Remaining` was 0: the earliest instant the next call should start
    /// (pass it to [`Call::set_not_before`](super::Call::set_not_before) of the next call).
    pub resume_at: Option<Instant>,
    /// Attempts made, this one included.
    pub attempts: u8,
    /// The response announced deprecation (spec §8).
    pub deprecated: bool,
    /// The `Sunset` date the response announced, as Unix seconds (RFC 8594; `None` when
    /// absent, not an HTTP-date, or past 2106).
    pub sunset: Option<core::num::NonZeroU32>,
    /// The response's first `Link` header (RFC 8288), where a deprecation is documented
    /// (RFC 8594 §6): its first 64 bytes, marked truncated when longer (feature `details`).
    #[cfg(feature = "details")]
    pub link: Text<{ crate::http::LINK_CAP }>,
}

/// The outcome of a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Failure {
    /// What made the last attempt fail.
    pub cause: Cause,
    /// Why no further attempt was made.
    pub stop: Stop,
    /// Attempts made.
    pub attempts: u8,
    /// The last attempt's request was sent in full: the server may have carried it out.
    pub sent: bool,
}

impl Failure {
    /// A failure as the call reports it (for adapters that fail before a call exists, and
    /// for tests).
    pub const fn new(cause: Cause, stop: Stop, attempts: u8) -> Self {
        Failure {
            cause,
            stop,
            attempts,
            sent: false,
        }
    }
}

impl fmt::Display for Failure {
    /// E.g. `503 server_error service_unavailable (retries exhausted, 4 attempts)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Api(e) => write!(f, "{e}")?,
            other => write!(f, "{other}")?,
        }
        let s = if self.attempts == 1 { "" } else { "s" };
        write!(f, " ({}, {} attempt{s})", self.stop, self.attempts)
    }
}

impl core::error::Error for Failure {}

/// A failed attempt that will be retried: partial results of the attempt are void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Retry {
    /// Which retry this will be (1 for the first retry).
    pub retry: u8,
    /// The policy's retry limit.
    pub max_retries: u8,
    /// When the retry is due.
    pub at: Instant,
    /// `at - now` when it was scheduled.
    pub delay: Duration,
    /// Why the attempt failed.
    pub cause: Cause,
    /// The failed attempt's request was sent in full.
    pub sent: bool,
}

impl fmt::Display for Retry {
    /// E.g. `retry 1/3 in 1.08 s after 503 service_unavailable`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retry {}/{} in {} after {}",
            self.retry, self.max_retries, self.delay, self.cause
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    #[test]
    fn causes_read_well() {
        let mut e = ApiError::from_status(429);
        assert_eq!(Cause::Api(e).to_string(), "429 too_many_requests");
        e.request_id = Text::from_str_truncating("req-1");
        assert_eq!(
            Cause::Api(e).to_string(),
            "429 too_many_requests (request_id req-1)"
        );
        assert_eq!(
            Cause::Connection(ConnectionLost::Reset).to_string(),
            "connection reset"
        );
        assert_eq!(
            Cause::Timeout(Phase::FirstByte).to_string(),
            "timeout (first byte)"
        );
    }

    #[test]
    fn failures_name_the_stop() {
        let f = Failure::new(
            Cause::Api(ApiError::from_status(503)),
            Stop::RetriesExhausted,
            4,
        );
        assert_eq!(
            f.to_string(),
            "503 server_error service_unavailable (retries exhausted, 4 attempts)"
        );
        let f = Failure::new(Cause::Timeout(Phase::Call), Stop::Deadline, 1);
        assert_eq!(
            f.to_string(),
            "timeout (call deadline) (call deadline reached, 1 attempt)"
        );
    }

    #[test]
    fn retries_say_when() {
        let r = Retry {
            retry: 1,
            max_retries: 3,
            at: Instant::from_millis(1080),
            delay: Duration::from_millis(1080),
            cause: Cause::Api(ApiError::from_status(503)),
            sent: true,
        };
        assert_eq!(
            r.to_string(),
            "retry 1/3 in 1.08 s after 503 service_unavailable"
        );
    }
}
