//! `kaiko-sim`: a local Kaiko V2 emotion API server with fault injection.
//!
//! It is the oracle the clients of this workspace are tested against, written independently
//! of them (it does not use `kaiko-core`). It serves the documented V2 behaviour of the spec
//! (`shared/spec/kaiko-api.md` §3, §5, §6) over plain HTTP/1.1 on a loopback socket, and
//! can be told to misbehave in the ways real networks and proxies do.
//!
//! ```no_run
//! use kaiko_sim::{Config, Fault, Sim};
//!
//! let sim = Sim::start(Config::default())?;
//! sim.push_fault(Fault::Status { status: 503, retry_after: None });
//! // Point a client at `sim.base_url()`: its first request gets a 503, its retry succeeds.
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Dialects
//!
//! What follows describes the default [`Dialect::Docs`], the documented shapes. With
//! [`Config::dialect`] set to [`Dialect::Backend`] the server answers in the shapes of the
//! public backend source instead (flat errors, VineJS 422 details, 402, `_default` keys, …);
//! [`Dialect`] lists every difference.
//!
//! # Endpoints (under `/v2`)
//!
//! | method | path | response `object` |
//! |---|---|---|
//! | POST | `/emotions/analysis` | `emotions.analysis` (§3.3) |
//! | POST | `/emotions/{context_id}/analysis` | `emotions.analysis` + `metadata.context_id` + `trajectory` (§3.4) |
//! | GET | `/emotions/{context_id}` | `emotions.state` (§3.5) |
//! | GET | `/emotions/{context_id}/message/{external_id}` | `emotions.state` with `metadata.message_id` (§3.6) |
//! | POST | `/emotions/batch-analysis` | `emotions.batch_analysis`, `emotions` is an array (§3.7) |
//! | POST | `/chat/completions` | `chat.completion` (§3.8), or a stream with `"stream": true` |
//! | GET | `/emotions`, `/chat` | health messages |
//!
//! Path segments are percent-decoded, a trailing slash is tolerated, a `context_id` over 128
//! bytes gets 400 `invalid_context_id`. Every request needs a key (`x-api-key` or
//! `Authorization: Bearer`), health routes included. Checks run in this order: missing key
//! (401), revoked key (403), key not in [`Config::accepted_keys`] (401), rate limit (429),
//! route (404 `not_found`), on POSTs a key in [`Config::paused_keys`] (403 `key_paused`) or
//! [`Config::unfunded_keys`] (402 `insufficient_credits`), idempotency (replay or 409), body (400 `invalid_json`, 400
//! `missing_field`, 400 `invalid_type` for a field of the wrong JSON type, 422 `invalid_role`,
//! 413 `payload_too_large` for more than 100 messages, 409 `duplicate_id`). Every message of
//! a request is analysed; messages without a `role` are reported under `user`, and the last
//! message of each role fills `emotions.<role>`.
//! Chat requires `model`, `emotion_model` and `messages` (spec §3.8 marks all three required).
//!
//! Emotion results are deterministic: a small lexicon scores the six documented dimensions,
//! `raw` sums to 1, `category` is its arg-max, `intensity` its value, and the levels use the
//! default thresholds of spec §3.2; numbers have at most 4 decimals.
//!
//! # HTTP
//!
//! HTTP/1.1 keep-alive (HTTP/1.0 only with `Connection: keep-alive`), `Connection: close`
//! honoured, `Expect: 100-continue` answered. Request bodies must carry `Content-Length`:
//! `Transfer-Encoding` gets 411. A request head over 16 KiB gets 431, a body over
//! [`Config::max_body`] gets 413 `payload_too_large`; both then close the connection.
//! Every response carries `Date`, `Content-Type`, `x-request-id` (`req-` + 10 hex digits, the
//! same as `error.request_id` in error bodies) and `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
//! `X-RateLimit-Reset` (Unix seconds); a 429 adds `Retry-After` in seconds. A connection idle
//! for 30 s is closed; at most 64 connections are open at once: a new one beyond that sheds the
//! connection that has waited longest for a request (so idle clients cannot lock others out),
//! and gets 503 only when all 64 are mid-request.
//!
//! # Streaming (an assumption)
//!
//! The documentation defines no wire format for `"stream": true` (spec §4). The sim answers
//! with `Content-Type: text/event-stream`, chunked, in the OpenAI style: several
//! `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[{"index":0,"delta":{"content":"…"},"finish_reason":null}]}`
//! events, then one whose choice has `"delta":{}` and `"finish_reason":"stop"` and which adds
//! `emotions` and `usage`, then `data: [DONE]`. Each event is one chunk, ended by a blank line.
//!
//! # Rate limit
//!
//! A fixed window per key: the first request opens a window of [`Config::rate_window`], at
//! most [`Config::rate_limit`] requests pass in it, the rest get 429 with `Retry-After` set to
//! the seconds left (at least 1). Replays count against the limit like any request.
//! Requests without an accepted key report a full window and are not counted.
//!
//! # Idempotency
//!
//! A POST with `Idempotency-Key` is processed once. When a request with the same key has
//! completed, its stored response (same status and body, its original `x-request-id`) is sent
//! again with `Idempotent-Replayed: true` and fresh `Date` and rate-limit headers; the path is
//! not compared. While the first request is still being processed, another with the same key
//! gets 409 `conflict_error` / `idempotency_in_flight` at once (no waiting). Error responses
//! of the handlers (400, 409, 422, …) are stored like successes; 401, 403, 429 and 404 routes
//! are not, since nothing was processed. The [`Ledger`] counts per key how often it was
//! processed and replayed, and per path how often requests without a key were processed.
//! How faults interact with this is said on [`Fault`]. The store, the ledger and the
//! rate-limit windows each keep the newest [`Config::capacity`] keys (the store at most
//! 64 MiB of answers), the contexts the [`Config::capacity`] most recently written ones,
//! holding at most 64 MiB of messages in all (a context its newest 1 000), so a server under
//! a long load test stays within bounded memory.
//!
//! # Faults
//!
//! [`Config::faults`] and [`SimHandle::push_fault`] fill a FIFO queue. Each request whose
//! head and body were read takes the next fault; requests rejected while being read (431,
//! 413, 411, 400) take none.

mod api;
mod backend;
mod bounded;
mod cli;
mod dialect;
mod emotion;
mod fault;
mod histogram;
pub mod hostile;
mod http;
pub mod load;
mod server;
mod time;
pub mod tls;

use std::time::Duration;

pub use cli::run_cli;
pub use dialect::{Dialect, UnknownDialect};
pub use fault::{Fault, RetryAfterValue, parse_fault};
pub use server::{Sim, SimHandle};

/// Server settings. [`Config::default`] gives the backend's documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The shapes to answer in (default [`Dialect::Docs`]).
    pub dialect: Dialect,
    /// Requests per key per window (default 60, the backend's limit, spec §6).
    pub rate_limit: u32,
    /// Length of the fixed rate-limit window (default 60 s).
    pub rate_window: Duration,
    /// Keys answered with 403 `key_revoked` (in the backend dialect API Gateway's
    /// `{"message":"Forbidden"}`).
    pub revoked_keys: Vec<String>,
    /// Keys whose POSTs are answered with 403 `Access denied: API key is paused` (spec §5.3).
    pub paused_keys: Vec<String>,
    /// Keys whose POSTs are answered with 402 `Insufficient credits. …` (spec §5.3).
    pub unfunded_keys: Vec<String>,
    /// Keys accepted; `None` accepts any non-empty key. Others get 401 `invalid_api_key`.
    pub accepted_keys: Option<Vec<String>>,
    /// Largest request body in bytes (default 1 MiB, the backend's middleware limit).
    pub max_body: usize,
    /// Added before each processed request is handled (while its idempotency key is in
    /// flight).
    pub latency: Duration,
    /// Faults queued at start.
    pub faults: Vec<Fault>,
    /// Serve HTTPS with this certificate chain (see [`tls::Authority`]); `None`: plain HTTP.
    pub tls: Option<tls::Leaf>,
    /// How many idempotency keys (with their stored responses), ledger entries, rate-limit
    /// windows and contexts are remembered, each (default 10 000). Beyond it the oldest (for
    /// contexts: the least recently written) is forgotten: a request repeating a forgotten
    /// `Idempotency-Key` is processed again, a forgotten context answers 404. Memory stays
    /// bounded however long the server runs.
    pub capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dialect: Dialect::Docs,
            rate_limit: 60,
            rate_window: Duration::from_secs(60),
            revoked_keys: Vec::new(),
            paused_keys: Vec::new(),
            unfunded_keys: Vec::new(),
            accepted_keys: None,
            max_body: 1024 * 1024,
            latency: Duration::ZERO,
            faults: Vec::new(),
            tls: None,
            capacity: 10_000,
        }
    }
}

/// A snapshot of what the server processed and replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// One entry per idempotency key, plus one per path for requests without a key.
    pub entries: Vec<LedgerEntry>,
}

/// Counts for one idempotency key (or, with `idempotency_key: None`, one path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The `Idempotency-Key`, or `None` for the requests to `path` that carried none.
    pub idempotency_key: Option<String>,
    /// Request path (of the first request with this key).
    pub path: String,
    /// How many times the request was processed (in the docs dialect a key's count stays 1;
    /// the backend dialect processes every repeat).
    pub processed: u32,
    /// How many times the stored response was replayed.
    pub replayed: u32,
}

impl Ledger {
    /// The entry of an idempotency key.
    pub fn entry(&self, key: &str) -> Option<&LedgerEntry> {
        self.entries
            .iter()
            .find(|e| e.idempotency_key.as_deref() == Some(key))
    }

    /// How many times the request with this idempotency key was processed (0 if never seen).
    pub fn processed(&self, key: &str) -> u32 {
        self.entry(key).map_or(0, |e| e.processed)
    }

    /// How many times the response stored under this key was replayed.
    pub fn replayed(&self, key: &str) -> u32 {
        self.entry(key).map_or(0, |e| e.replayed)
    }

    /// The largest `processed` count over all idempotency keys (0 without keys): more than
    /// 1 means some keyed request was processed twice.
    pub fn max_processed(&self) -> u32 {
        self.entries
            .iter()
            .filter(|e| e.idempotency_key.is_some())
            .map(|e| e.processed)
            .max()
            .unwrap_or(0)
    }

    /// Requests processed in total, with or without a key.
    pub fn total_processed(&self) -> u32 {
        self.entries.iter().map(|e| e.processed).sum()
    }

    /// Requests processed without an idempotency key on `path`.
    pub fn processed_without_key(&self, path: &str) -> u32 {
        self.entries
            .iter()
            .filter(|e| e.idempotency_key.is_none() && e.path == path)
            .map(|e| e.processed)
            .sum()
    }
}
