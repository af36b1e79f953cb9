//! Injected faults and their command-line spelling.

use std::time::Duration;

/// One injected fault. Faults sit in a FIFO queue; each request whose head and body were
/// read takes the next one (if any), and the fault is applied instead of, or around, the
/// normal response.
///
/// Faults that *replace* the response ([`Fault::Status`], [`Fault::Html`],
/// [`Fault::FlatError`], [`Fault::StatusError`], [`Fault::Empty`], [`Fault::ResetMidHead`],
/// [`Fault::MalformedHead`], [`Fault::CloseWithoutResponse`]) stand for a failure in front of
/// the application: the request is not processed and nothing is stored under its
/// `Idempotency-Key`, so a retry is processed. Faults that *shape* the normal response
/// ([`Fault::OddChunks`], [`Fault::Drip`], [`Fault::Stall`], [`Fault::ResetMidBody`],
/// [`Fault::ResetAfterProcessing`], [`Fault::Interim100`]) process the request first and
/// store its result, so a retry with the same key is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The documented error envelope with this status (429, 500, 503, …), the table's type
    /// and code for it, and `Retry-After` if given.
    Status {
        /// HTTP status.
        status: u16,
        /// Optional `Retry-After` header.
        retry_after: Option<RetryAfterValue>,
    },
    /// A `text/html` page like a reverse proxy's 502.
    Html {
        /// HTTP status.
        status: u16,
    },
    /// The backend's flat shape, `{"message": "..."}` (spec §5.3).
    FlatError {
        /// HTTP status.
        status: u16,
    },
    /// The backend's thrown-error shape, `{"status":"error","message":"..."}` (spec §5.3).
    StatusError {
        /// HTTP status.
        status: u16,
    },
    /// No body, `Content-Length: 0`.
    Empty {
        /// HTTP status.
        status: u16,
    },
    /// The normal response, chunked with sizes 1, 7, 3, 11, 2, 5, … and a chunk extension
    /// on every other chunk, ending with a trailer field.
    OddChunks,
    /// The normal response written one byte at a time, `per_byte` apart.
    Drip {
        /// Pause after each byte.
        per_byte: Duration,
    },
    /// Sends nothing (or, with `after_head`, only the response head) for `duration`, then
    /// the rest. Without `after_head` the stall happens before the request is processed.
    Stall {
        /// Stall between the head and the body instead of before the head.
        after_head: bool,
        /// How long to send nothing.
        duration: Duration,
    },
    /// Writes part of a response head, then resets the connection (SO_LINGER 0).
    ResetMidHead,
    /// Writes the head and half of the body of the normal response, then resets.
    ResetMidBody,
    /// Processes the request and stores its result, then resets before sending a byte.
    ResetAfterProcessing,
    /// A garbage status line and header bytes that are not allowed in a field, then close.
    MalformedHead,
    /// Reads the request and closes the connection cleanly without a byte of response.
    CloseWithoutResponse,
    /// Sends `HTTP/1.1 100 Continue` before the normal response.
    Interim100,
}

/// The value of an injected `Retry-After` header (RFC 9110 §10.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfterValue {
    /// `Retry-After: <delay-seconds>`.
    Seconds(u32),
    /// `Retry-After: <HTTP-date>`, this many seconds after the response is written.
    HttpDate {
        /// Offset from now in seconds.
        secs_from_now: u32,
    },
}

impl Fault {
    /// Whether the fault stands in for the response and the request is not processed.
    pub(crate) fn replaces_response(&self) -> bool {
        matches!(
            self,
            Self::Status { .. }
                | Self::Html { .. }
                | Self::FlatError { .. }
                | Self::StatusError { .. }
                | Self::Empty { .. }
                | Self::ResetMidHead
                | Self::MalformedHead
                | Self::CloseWithoutResponse
        )
    }
}

/// Parses a duration such as `5ms`, `3s`, `250us`, `1m`, `1.5s`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("duration `{s}` needs a unit (us, ms, s, m)"))?;
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("bad number in duration `{s}`"))?;
    let secs = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}` (us, ms, s, m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration `{s}`: {e}"))
}

fn parse_status(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(n) if (100..=999).contains(&n) => Ok(n),
        _ => Err(format!("bad HTTP status `{s}`")),
    }
}

/// Parses a fault spec as given to `--fault`:
///
/// | spec | fault |
/// |---|---|
/// | `429`, `503`, `status:500` | [`Fault::Status`] |
/// | `503:retry-after=2` | [`Fault::Status`] with `Retry-After: 2` |
/// | `429:retry-after-date=5` | [`Fault::Status`] with an HTTP-date 5 s ahead |
/// | `html:502` | [`Fault::Html`] |
/// | `flat:500` | [`Fault::FlatError`] |
/// | `status-error:500` | [`Fault::StatusError`] |
/// | `empty:503` | [`Fault::Empty`] |
/// | `odd-chunks` | [`Fault::OddChunks`] |
/// | `drip:5ms` | [`Fault::Drip`] |
/// | `stall:3s`, `stall-after-head:3s` | [`Fault::Stall`] |
/// | `reset-mid-head`, `reset-mid-body`, `reset-after-processing` | the reset faults |
/// | `malformed-head` | [`Fault::MalformedHead`] |
/// | `close` | [`Fault::CloseWithoutResponse`] |
/// | `100-continue` | [`Fault::Interim100`] |
///
/// Durations take a unit: `us`, `ms`, `s`, `m`.
pub fn parse_fault(spec: &str) -> Result<Fault, String> {
    let spec = spec.trim();
    let (name, arg) = match spec.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (spec, None),
    };
    let need = |what: &str| arg.ok_or_else(|| format!("fault `{name}` needs `:{what}`"));
    let none = || match arg {
        None => Ok(()),
        Some(a) => Err(format!("fault `{name}` takes no argument (got `{a}`)")),
    };
    let name_lc = name.to_ascii_lowercase();
    let fault = match name_lc.as_str() {
        n if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
            let status = parse_status(n)?;
            let retry_after = match arg {
                None => None,
                Some(a) => Some(parse_retry_after(a)?),
            };
            Fault::Status {
                status,
                retry_after,
            }
        }
        "status" => {
            let a = need("STATUS")?;
            let (st, rest) = match a.split_once(':') {
                Some((s, r)) => (s, Some(r)),
                None => (a, None),
            };
            Fault::Status {
                status: parse_status(st)?,
                retry_after: rest.map(parse_retry_after).transpose()?,
            }
        }
        "html" => Fault::Html {
            status: parse_status(need("STATUS")?)?,
        },
        "flat" => Fault::FlatError {
            status: parse_status(need("STATUS")?)?,
        },
        "status-error" => Fault::StatusError {
            status: parse_status(need("STATUS")?)?,
        },
        "empty" => Fault::Empty {
            status: parse_status(need("STATUS")?)?,
        },
        "odd-chunks" => {
            none()?;
            Fault::OddChunks
        }
        "drip" => Fault::Drip {
            per_byte: parse_duration(need("DURATION")?)?,
        },
        "stall" | "stall-after-head" => Fault::Stall {
            after_head: name_lc == "stall-after-head",
            duration: parse_duration(need("DURATION")?)?,
        },
        "reset-mid-head" => {
            none()?;
            Fault::ResetMidHead
        }
        "reset-mid-body" => {
            none()?;
            Fault::ResetMidBody
        }
        "reset-after-processing" => {
            none()?;
            Fault::ResetAfterProcessing
        }
        "malformed-head" => {
            none()?;
            Fault::MalformedHead
        }
        "close" | "close-without-response" => {
            none()?;
            Fault::CloseWithoutResponse
        }
        "100-continue" | "interim-100" => {
            none()?;
            Fault::Interim100
        }
        _ => return Err(format!("unknown fault `{spec}`")),
    };
    Ok(fault)
}

fn parse_retry_after(a: &str) -> Result<RetryAfterValue, String> {
    let bad = || format!("bad retry-after `{a}` (retry-after=SECS or retry-after-date=SECS)");
    let (k, v) = a.split_once('=').ok_or_else(bad)?;
    let n: u32 = v.trim().parse().map_err(|_| bad())?;
    match k.trim() {
        "retry-after" => Ok(RetryAfterValue::Seconds(n)),
        "retry-after-date" => Ok(RetryAfterValue::HttpDate { secs_from_now: n }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        let ms = Duration::from_millis;
        let cases = [
            (
                "429",
                Fault::Status {
                    status: 429,
                    retry_after: None,
                },
            ),
            (
                "503:retry-after=2",
                Fault::Status {
                    status: 503,
                    retry_after: Some(RetryAfterValue::Seconds(2)),
                },
            ),
            (
                "429:retry-after-date=5",
                Fault::Status {
                    status: 429,
                    retry_after: Some(RetryAfterValue::HttpDate { secs_from_now: 5 }),
                },
            ),
            (
                "status:500",
                Fault::Status {
                    status: 500,
                    retry_after: None,
                },
            ),
            ("html:502", Fault::Html { status: 502 }),
            ("flat:500", Fault::FlatError { status: 500 }),
            ("status-error:500", Fault::StatusError { status: 500 }),
            ("empty:503", Fault::Empty { status: 503 }),
            ("odd-chunks", Fault::OddChunks),
            ("drip:5ms", Fault::Drip { per_byte: ms(5) }),
            (
                "stall:3s",
                Fault::Stall {
                    after_head: false,
                    duration: ms(3000),
                },
            ),
            (
                "stall-after-head:1.5s",
                Fault::Stall {
                    after_head: true,
                    duration: ms(1500),
                },
            ),
            ("reset-mid-head", Fault::ResetMidHead),
            ("reset-mid-body", Fault::ResetMidBody),
            ("reset-after-processing", Fault::ResetAfterProcessing),
            ("malformed-head", Fault::MalformedHead),
            ("close", Fault::CloseWithoutResponse),
            ("100-continue", Fault::Interim100),
        ];
        for (spec, want) in cases {
            assert_eq!(parse_fault(spec), Ok(want), "{spec}");
        }
    }

    #[test]
    fn rejects_nonsense() {
        for spec in [
            "",
            "teapot",
            "html",
            "drip:5",
            "drip:5parsecs",
            "42",
            "503:retry=2",
            "odd-chunks:1",
        ] {
            assert!(parse_fault(spec).is_err(), "{spec}");
        }
    }
}
