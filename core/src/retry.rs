//! The retry policy: which failures are retried, how long to wait, and when to stop.
//!
//! ```text
//!  attempt fails ──► retryable? ──no──► stop: NotRetryable
//!                        │yes
//!                        ▼
//!        retries left? ──no──► stop: RetriesExhausted
//!                        │yes
//!                        ▼
//!   wait = max(backoff(n), Retry-After / retry-after-ms, else the rate-limit reset)
//!        server asked for more than the cap? ──yes──► stop: WaitAboveCap(wait)
//!        now + wait past the call deadline?  ──yes──► stop: Deadline
//!                        │
//!                        ▼
//!                RetryScheduled { at: now + wait }
//! ```
//!
//! Invariants: every delay is at most `max_backoff + max_jitter` unless the server asked for
//! more (then it is at most `retry_after_cap`); all arithmetic saturates.

use crate::http::{ResponseHead, RetryAfter};
use crate::rng::SplitMix64;
use crate::time::{Duration, Instant};

/// Retries after the first attempt (spec §7: the documented helper uses `maxRetries = 3`).
pub const DEFAULT_MAX_RETRIES: u8 = 3;
/// First backoff delay; doubled for every further retry (spec §7: 1 s, 2 s, 4 s).
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(1000);
/// Upper bound of the random jitter added to each backoff (spec §7 sample: `random() * 200` ms).
pub const DEFAULT_MAX_JITTER: Duration = Duration::from_millis(200);
/// Exponential growth stops here, long before it could overflow.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A server that asks for a longer wait than this ends the call instead (RFC 9110 §10.2.3
/// lets the server ask for any delay; a device should not sleep for an hour on its word).
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Per-phase deadlines of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// From [`Action::Connect`](crate::call::Action::Connect) to the connection being
    /// reported ready (TLS handshake included).
    pub connect: Duration,
    /// From the request being handed out to the first response byte (writing it included). The documented server
    /// timeout for non-streaming requests is 30 s (spec §6), so the default is a little above.
    pub first_byte: Duration,
    /// From the request being handed out to the last response byte.
    pub response: Duration,
}

impl Timeouts {
    /// 10 s to connect, 35 s to the first byte, 60 s for the whole response.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(10),
        first_byte: Duration::from_secs(35),
        response: Duration::from_secs(60),
    };
}

/// How a call retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy {
    /// Retries after the first attempt.
    pub max_retries: u8,
    /// Backoff before retry `n` (1-based) is `base_delay × 2^(n-1)`, capped at `max_backoff`.
    pub base_delay: Duration,
    /// Cap on the exponential part of the backoff.
    pub max_backoff: Duration,
    /// Random extra delay in `0..=max_jitter`, from the call's seed.
    pub max_jitter: Duration,
    /// Longest server-requested wait the call accepts; beyond it the call stops with
    /// [`Stop::WaitAboveCap`].
    pub retry_after_cap: Duration,
    /// Deadline for the whole call, all attempts and waits included.
    pub deadline: Option<Duration>,
    /// Per-phase deadlines of each attempt.
    pub timeouts: Timeouts,
    /// Wait for `X-RateLimit-Reset` when a response says `X-RateLimit-Remaining: 0`.
    pub respect_rate_limit: bool,
    /// Whether an attempt whose request was sent in full is retried when no retryable status
    /// (429, 5xx) came back: the server may have carried it out already.
    pub unanswered: Unanswered,
}

/// What to do when an attempt fails after its request was sent in full and no 429 or 5xx
/// status came back (a timeout, a dropped connection, a broken response): the server may
/// have carried the request out, and for a chat completion that means an LLM call billed.
///
/// Failures before the request was sent in full, 429 and 5xx statuses are retried whatever
/// this says. Attempts of one call share one `Idempotency-Key`, which the emotion endpoints
/// deduplicate; the chat endpoint does not (spec §10), so by default it is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Unanswered {
    /// Retry every operation except a chat completion (the default).
    #[default]
    ByOperation,
    /// Retry: a duplicate is acceptable (or deduplicated by the caller).
    Retry,
    /// Never send a request again once it was sent in full; the call stops with
    /// [`Stop::Unanswered`].
    Stop,
}

impl Policy {
    /// The documented defaults: 3 retries, 1 s × 2^n + 0..200 ms, 60 s cap, 120 s per call.
    pub const DEFAULT: Policy = Policy {
        max_retries: DEFAULT_MAX_RETRIES,
        base_delay: DEFAULT_BASE_DELAY,
        max_backoff: DEFAULT_MAX_BACKOFF,
        max_jitter: DEFAULT_MAX_JITTER,
        retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
        deadline: Some(Duration::from_secs(120)),
        timeouts: Timeouts::DEFAULT,
        respect_rate_limit: true,
        unanswered: Unanswered::ByOperation,
    };

    /// No retries at all.
    pub const NO_RETRIES: Policy = Policy {
        max_retries: 0,
        ..Policy::DEFAULT
    };

    /// The backoff before retry `retry` (1-based): `base × 2^(retry-1)` capped, plus jitter.
    pub fn backoff(&self, retry: u8, rng: &mut SplitMix64) -> Duration {
        let cap = self.max_backoff.as_millis();
        // Doubling by saturating additions: no overflow-checked 64-bit multiply.
        let mut exp = self.base_delay.as_millis();
        for _ in 0..retry.saturating_sub(1).min(32) {
            if exp >= cap {
                break;
            }
            exp = exp.saturating_add(exp);
        }
        let exp = exp.min(cap);
        let jitter = rng.below(self.max_jitter.as_millis().saturating_add(1));
        Duration::from_millis(exp.saturating_add(jitter))
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Statuses worth another attempt: 429 and every 5xx (spec §7). Other 4xx have remedies
/// that a retry cannot apply.
pub const fn is_retryable_status(status: u16) -> bool {
    status == 429 || (status >= 500 && status <= 599)
}

/// Why a call stopped instead of retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Stop {
    /// The failure is not retryable (a 4xx other than 429).
    NotRetryable,
    /// Every allowed attempt was made.
    RetriesExhausted,
    /// The server asked to wait longer than [`Policy::retry_after_cap`].
    WaitAboveCap {
        /// The wait the server asked for.
        wait: Duration,
    },
    /// The next attempt could not start before the call deadline.
    Deadline,
    /// The caller cancelled the call.
    Cancelled,
    /// The request was sent in full and no status came back that allows sending it again
    /// (see [`Unanswered`]): whether the server carried it out is unknown.
    Unanswered,
}

impl core::fmt::Display for Stop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Stop::NotRetryable => f.write_str("not retryable"),
            Stop::RetriesExhausted => f.write_str("retries exhausted"),
            Stop::WaitAboveCap { wait } => {
                write!(f, "server asked to wait {wait}, above the cap")
            }
            Stop::Deadline => f.write_str("call deadline reached"),
            Stop::Cancelled => f.write_str("cancelled"),
            Stop::Unanswered => f.write_str("sent without an answer, not sent again"),
        }
    }
}

/// The wait the server asked for in this head, if any: `retry-after-ms`, else `Retry-After`
/// (delta-seconds, or an HTTP-date measured against the head's `Date`, else `unix_now_ms`,
/// the caller's wall clock in milliseconds since the Unix epoch).
/// Without either, and when `respect_rate_limit`, the time until `X-RateLimit-Reset` once
/// `X-RateLimit-Remaining` is 0 (spec §6): an explicit Retry-After is the server's more
/// specific word and wins over the window's reset.
pub fn server_wait(
    head: &ResponseHead,
    unix_now_ms: Option<u64>,
    respect_rate_limit: bool,
) -> Option<Duration> {
    // The wall-clock time (Unix seconds) to wait for, unless the server gave a delay.
    let until = match (head.retry_after_ms, head.retry_after) {
        (Some(ms), _) => return Some(Duration::from_millis(u64::from(ms))),
        (None, Some(RetryAfter::Seconds(s))) => return Some(Duration::from_secs(u64::from(s))),
        (None, Some(RetryAfter::Date(t))) => t,
        (None, None) => match (
            respect_rate_limit,
            head.rate_limit.remaining,
            head.rate_limit.reset,
        ) {
            (true, Some(0), Some(t)) => t,
            _ => return None,
        },
    };
    // In milliseconds, so no 64-bit division is needed on 32-bit targets; 32-bit seconds
    // times 1000 cannot overflow 64 bits.
    let ms = |secs: u32| u64::from(secs) * 1000;
    let reference = match head.date {
        Some(d) => ms(d),
        None => unix_now_ms?,
    };
    Some(Duration::from_millis(ms(until).saturating_sub(reference)))
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decision {
    /// Start the next attempt at this instant.
    Retry {
        /// When to start it.
        at: Instant,
        /// How long that is from now.
        delay: Duration,
    },
    /// End the call.
    Stop(Stop),
}

/// Decides after failed attempt number `attempts` (1-based) at `now`.
///
/// `retryable` says whether the failure may be retried at all; `server_wait` is what the
/// server asked for (see [`server_wait`]); `deadline` is the call's deadline.
pub fn decide(
    policy: &Policy,
    rng: &mut SplitMix64,
    attempts: u8,
    retryable: bool,
    server_wait: Option<Duration>,
    now: Instant,
    deadline: Instant,
) -> Decision {
    if !retryable {
        return Decision::Stop(Stop::NotRetryable);
    }
    if attempts > policy.max_retries {
        return Decision::Stop(Stop::RetriesExhausted);
    }
    if let Some(wait) = server_wait
        && wait > policy.retry_after_cap
    {
        return Decision::Stop(Stop::WaitAboveCap { wait });
    }
    let backoff = policy.backoff(attempts, rng);
    let delay = match server_wait {
        Some(w) => backoff.max(w),
        None => backoff,
    };
    let at = now + delay;
    if at > deadline {
        return Decision::Stop(Stop::Deadline);
    }
    Decision::Retry { at, delay }
}

#[cfg(test)]
mod tests;
