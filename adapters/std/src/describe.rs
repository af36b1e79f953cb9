//! Human-readable text for the core's outcome types (the core keeps `core::fmt` off its
//! firmware path, so the wording lives here).

use std::fmt;

use kaiko_core::call::{Cause, ConnectionLost, Failure, Phase, ProtocolError};
use kaiko_core::request::{Invalid, InvalidReason};
use kaiko_core::retry::Stop;

/// Displays a [`Cause`] briefly: `429 too_many_requests (request_id req-1)`,
/// `connection reset`, `timeout (first byte)`, `malformed response (head)`.
#[derive(Debug, Clone, Copy)]
pub struct CauseText<'a>(pub &'a Cause);

impl fmt::Display for CauseText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Cause::Api(e) => {
                write!(f, "{} {}", e.status, e.code.as_str())?;
                if !e.request_id.is_empty() {
                    write!(f, " (request_id {})", e.request_id)?;
                }
                Ok(())
            }
            Cause::Connection(lost) => f.write_str(match lost {
                ConnectionLost::Dns => "name resolution failure",
                ConnectionLost::Refused => "connection refused",
                ConnectionLost::Tls => "TLS failure",
                ConnectionLost::Reset => "connection reset",
                ConnectionLost::Closed => "connection closed",
                ConnectionLost::Io => "I/O error",
            }),
            Cause::Timeout(phase) => write!(f, "timeout ({})", phase_text(*phase)),
            Cause::Protocol(p) => f.write_str(match p {
                ProtocolError::Head(_) => "malformed response (head)",
                ProtocolError::Body(_) => "malformed response (body framing)",
                ProtocolError::Json(_) => "malformed response (JSON)",
                ProtocolError::StreamData => "malformed response (event stream)",
            }),
        }
    }
}

fn phase_text(phase: Phase) -> &'static str {
    match phase {
        Phase::Connect => "connect",
        Phase::FirstByte => "first byte",
        Phase::Response => "response",
        Phase::Call => "call deadline",
    }
}

/// Displays a [`Stop`]: why no further attempt was made.
#[derive(Debug, Clone, Copy)]
pub struct StopText<'a>(pub &'a Stop);

impl fmt::Display for StopText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Stop::NotRetryable => f.write_str("not retryable"),
            Stop::RetriesExhausted => f.write_str("retries exhausted"),
            Stop::WaitAboveCap { wait } => {
                write!(
                    f,
                    "server asked to wait {} above the cap",
                    Secs(wait.as_millis())
                )
            }
            Stop::Deadline => f.write_str("call deadline reached"),
        }
    }
}

/// Displays a [`Failure`]: cause, why it stopped, and the attempts made.
#[derive(Debug, Clone, Copy)]
pub struct FailureText<'a>(pub &'a Failure);

impl fmt::Display for FailureText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Failure {
            cause,
            stop,
            attempts,
        } = self.0;
        match cause {
            Cause::Api(e) => write!(f, "{e}")?,
            other => write!(f, "{}", CauseText(other))?,
        }
        write!(
            f,
            " ({}, {} attempt{})",
            StopText(stop),
            attempts,
            if *attempts == 1 { "" } else { "s" }
        )
    }
}

/// Displays an [`Invalid`] request: what is wrong and with which parameter.
#[derive(Debug, Clone, Copy)]
pub struct InvalidText<'a>(pub &'a Invalid);

impl fmt::Display for InvalidText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0;
        let reason = match i.reason {
            InvalidReason::Missing => "is missing",
            InvalidReason::Empty => "is empty",
            InvalidReason::TooMany => "has too many entries",
            InvalidReason::TooLong => "is too long",
            InvalidReason::BadRole => "is not a valid role",
            InvalidReason::ControlByte => "holds a control byte",
            InvalidReason::TooLarge => "makes the request too large",
            _ => "is not accepted",
        };
        let param = if i.param.is_empty() {
            "request"
        } else {
            i.param
        };
        write!(f, "{param} {reason} ({} {})", i.status, i.code.as_str())
    }
}

/// Milliseconds shown as seconds with two decimals, e.g. `1.08 s`.
#[derive(Debug, Clone, Copy)]
pub struct Secs(pub u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} s", self.0 / 1000, (self.0 % 1000) / 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiko_core::error::ApiError;

    #[test]
    fn causes_read_well() {
        let mut e = ApiError::from_status(429);
        assert_eq!(
            CauseText(&Cause::Api(e)).to_string(),
            "429 too_many_requests"
        );
        e.request_id = kaiko_core::text::Text::from_str_truncating("req-1");
        assert_eq!(
            CauseText(&Cause::Api(e)).to_string(),
            "429 too_many_requests (request_id req-1)"
        );
        assert_eq!(
            CauseText(&Cause::Connection(ConnectionLost::Reset)).to_string(),
            "connection reset"
        );
        assert_eq!(
            CauseText(&Cause::Timeout(Phase::FirstByte)).to_string(),
            "timeout (first byte)"
        );
    }

    #[test]
    fn seconds_have_two_decimals() {
        assert_eq!(Secs(1080).to_string(), "1.08 s");
        assert_eq!(Secs(5).to_string(), "0.00 s");
        assert_eq!(Secs(61_000).to_string(), "61.00 s");
    }

    #[test]
    fn failures_name_the_stop() {
        let f = Failure {
            cause: Cause::Api(ApiError::from_status(503)),
            stop: Stop::RetriesExhausted,
            attempts: 4,
        };
        assert_eq!(
            FailureText(&f).to_string(),
            "503 server_error service_unavailable (retries exhausted, 4 attempts)"
        );
    }
}
