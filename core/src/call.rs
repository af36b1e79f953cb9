//! [`Call`]: one logical API call, all of its attempts, as a sans-IO state machine.
//!
//! The call never touches a socket or a clock. The adapter that drives it repeats:
//!
//! 1. [`Call::poll_transmit`] — if a request is due, it is written into the adapter's buffer;
//!    the adapter sends it (connecting first if it has no usable connection, after telling the
//!    call with [`Call::handle_connecting`] so the connect deadline applies).
//! 2. [`Call::handle_input`] — every byte received, in whatever pieces they arrive; the return
//!    value says how many were taken (the rest must be offered again after step 3).
//! 3. [`Call::poll_event`] — results as they are decoded, then either
//!    [`Event::RetryScheduled`] or the final [`Event::Done`].
//! 4. [`Call::poll_timeout`] / [`Call::handle_timeout`] — sleep until the instant returned (or
//!    until bytes arrive) and report it; [`Call::handle_connection_lost`] for transport failures.
//!
//! ```text
//!            new()                    poll_transmit            first byte
//!   ┌────────► Due ──handle_connecting──► Connecting ─────────► AwaitHead ───► Body ──┐
//!   │           │  └───────────────poll_transmit──────────────────┘               │
//!   │           │                                                                   │
//!   │ retry at  │       timeout / connection lost / malformed / 429 or 5xx            │
//!   └── (backoff) ◄──────────────────────────────────────────────────────────────────┤
//!                            success / stop decided by the retry policy            ▼
//!                                                                                 Done
//! ```
//!
//! Guarantees: every attempt of one call carries the same `Idempotency-Key`; the outcome does
//! not depend on how the response bytes are split; no input makes the call panic; a call
//! always ends, at the latest at the policy's deadline. Results of an attempt that is later
//! abandoned (a connection reset mid-body) are followed by [`Event::RetryScheduled`]: a consumer
//! that accumulates [`Event::Content`] discards what it gathered when it sees that event.

use crate::analysis::{Chunk, Emotion, Output, SuccessParser, Summary};
use crate::base_url::BaseUrl;
use crate::error::{ApiError, ErrorBody, REQUEST_ID_CAP};
use crate::http::{
    BodyDecoder, BodyError, ContentType, Framing, HeadError, HeadParser, RateLimit, ResponseHead,
};
use crate::idempotency::{IdempotencyKey, SplitMix64};
use crate::json::JsonError;
use crate::key::{ApiKey, Auth};
use crate::request::{Invalid, Method, Request, RequestHead, USER_AGENT, WriteError};
use crate::retry::{self, Decision, Policy, Stop};
use crate::stream::{SseDecoder, SseItem};
use crate::text::Text;
use crate::time::{Duration, Instant};

/// Everything about the client that does not change from call to call.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a> {
    /// Where requests go.
    pub base_url: BaseUrl<'a>,
    /// The key sent with every request.
    pub api_key: ApiKey<'a>,
    /// How the key is sent.
    pub auth: Auth,
    /// `User-Agent` header value.
    pub user_agent: &'a str,
    /// Retries, backoff and deadlines.
    pub policy: Policy,
    /// Largest response head accepted, in bytes.
    pub max_head: usize,
}

impl<'a> Config<'a> {
    /// A configuration for an explicit base URL (any key).
    pub fn new(api_key: ApiKey<'a>, base_url: BaseUrl<'a>) -> Self {
        Config {
            base_url,
            api_key,
            auth: Auth::XApiKey,
            user_agent: USER_AGENT,
            policy: Policy::DEFAULT,
            max_head: crate::http::DEFAULT_MAX_HEAD,
        }
    }

    /// A configuration whose base URL follows from the key's prefix (`kaiko_live_` →
    /// production, `kaiko_test_` → staging); `None` for other keys.
    pub fn for_key(api_key: ApiKey<'a>) -> Option<Self> {
        api_key
            .environment()
            .base_url()
            .map(|base| Self::new(api_key, base))
    }
}

/// How the transport failed, as the adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectionLost {
    /// Name resolution failed.
    Dns,
    /// The peer refused or the connection could not be set up.
    Refused,
    /// TLS handshake or record failure.
    Tls,
    /// The peer reset the connection.
    Reset,
    /// The peer closed the connection (end of stream).
    Closed,
    /// Any other I/O error.
    Io,
}

/// The phase a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// Setting up the connection.
    Connect,
    /// Waiting for the first response byte.
    FirstByte,
    /// Receiving the rest of the response.
    Response,
    /// The whole call.
    Call,
}

/// A response that could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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

/// What made an attempt fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// No allocator: the API error is kept inline, whatever it costs the other variants.
#[allow(clippy::large_enum_variant)]
pub enum Cause {
    /// The API answered with an error status.
    Api(ApiError),
    /// The transport failed.
    Connection(ConnectionLost),
    /// A deadline passed.
    Timeout(Phase),
    /// The response was malformed.
    Protocol(ProtocolError),
}

/// The outcome of a successful call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
    /// (pass it to [`Call::set_not_before`] of the next call).
    pub resume_at: Option<Instant>,
    /// Attempts made, this one included.
    pub attempts: u8,
    /// The response announced deprecation (spec §8).
    pub deprecated: bool,
}

/// The outcome of a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Failure {
    /// What made the last attempt fail.
    pub cause: Cause,
    /// Why no further attempt was made.
    pub stop: Stop,
    /// Attempts made.
    pub attempts: u8,
}

/// What a call reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// An emotion item of the response.
    Emotion(Emotion),
    /// A piece of completion text (chat; streamed or not).
    Content(Chunk),
    /// The attempt failed and another one will start at `at`. Discard partial results.
    RetryScheduled {
        /// Which retry this will be (1 for the first retry).
        retry: u8,
        /// The policy's retry limit.
        max_retries: u8,
        /// When the retry is due.
        at: Instant,
        /// `at - now` when it was scheduled.
        delay: Duration,
        /// Why the attempt failed.
        cause: Cause,
    },
    /// The call is over.
    Done(Result<Success, Failure>),
}

/// `poll_transmit` could not write the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// Bytes the request needs.
    pub needed: usize,
}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "transmit buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The next attempt may start at `due`.
    Due,
    /// The adapter is connecting.
    Connecting,
    /// Request handed out, no response byte yet.
    AwaitHead,
    /// Reading the body.
    Body,
    /// The body ended; outputs may still be pending before `Done`.
    Finishing,
    /// `Done` was queued.
    Finished,
}

/// Where body bytes go. Only one decoder exists at a time, so the call's size is that of
/// the largest, not their sum.
#[derive(Debug)]
enum Sink {
    /// No response body yet.
    Idle,
    /// A JSON success body.
    Json(SuccessParser),
    /// A `text/event-stream` success body: one JSON document per event.
    Sse {
        events: SseDecoder,
        json: SuccessParser,
        /// Bytes of a `[DONE]` marker matched so far in the current event.
        done_marker: u8,
        event_started: bool,
        /// The event ended; its document is checked and the parser reset once its last
        /// output has been taken.
        closing: bool,
    },
    /// An error body.
    Error(ErrorBody),
}

/// Writes `request` as `config` sends it, with the call's `Idempotency-Key`.
fn write_request(
    request: &Request<'_>,
    config: &Config<'_>,
    idempotency_key: &str,
    out: &mut [u8],
) -> Result<usize, WriteError> {
    let head = RequestHead {
        base: &config.base_url,
        key: &config.api_key,
        auth: config.auth,
        user_agent: config.user_agent,
        idempotency_key,
        keep_alive: true,
    };
    request.write(&head, out)
}

/// One logical API call. See the [module docs](self) for the driving loop.
#[derive(Debug)]
pub struct Call<'a> {
    request: Request<'a>,
    config: Config<'a>,
    idempotency_key: IdempotencyKey,
    rng: SplitMix64,
    state: State,
    attempts: u8,
    due: Instant,
    phase_deadline: Instant,
    response_deadline: Instant,
    call_deadline: Instant,
    clock: Option<(Instant, u64)>,
    keep_alive: bool,
    head_parser: HeadParser,
    head: Option<ResponseHead>,
    body: BodyDecoder,
    sink: Sink,
    control: Option<Event>,
    /// `now` of the latest input, for finishing a body from `poll_event`.
    last_now: Instant,
}

const SEED_STREAM_JITTER: u64 = 0x6a09_e667_f3bc_c909;

impl<'a> Call<'a> {
    /// Validates `request` (the codes the server would return, and no control bytes in
    /// anything that reaches the path or a header) and prepares the first attempt, due now.
    ///
    /// `seed` must come from the device's entropy: it fixes the `Idempotency-Key` shared by
    /// all attempts and the backoff jitter (a fleet sharing one seed would retry in lockstep).
    pub fn new(
        config: &Config<'a>,
        request: Request<'a>,
        seed: u64,
        now: Instant,
    ) -> Result<Self, Invalid> {
        request.validate()?;
        let idempotency_key = IdempotencyKey::from_seed(seed);
        // A dry run into an empty buffer validates the head strings without writing anything.
        // It runs before the call exists, so the call is built once, in place.
        if let Err(WriteError::Invalid(e)) =
            write_request(&request, config, idempotency_key.as_str(), &mut [])
        {
            return Err(e);
        }
        Ok(Call {
            request,
            config: *config,
            idempotency_key,
            rng: SplitMix64::new(seed ^ SEED_STREAM_JITTER),
            state: State::Due,
            attempts: 0,
            due: now,
            phase_deadline: Instant::MAX,
            response_deadline: Instant::MAX,
            call_deadline: config.policy.deadline.map_or(Instant::MAX, |d| now + d),
            clock: None,
            keep_alive: true,
            head_parser: HeadParser::new(config.max_head),
            head: None,
            body: BodyDecoder::new(Framing::Empty),
            sink: Sink::Idle,
            control: None,
            last_now: now,
        })
    }

    /// Uses a caller-chosen `Idempotency-Key` (for example one persisted across a reboot so a
    /// retried operation is still recognised). Call before the first transmit.
    pub fn set_idempotency_key(&mut self, key: IdempotencyKey) {
        self.idempotency_key = key;
    }

    /// The `Idempotency-Key` sent with every attempt of this call.
    pub fn idempotency_key(&self) -> &str {
        self.idempotency_key.as_str()
    }

    /// Delays the first attempt until `at` (e.g. a previous call's [`Success::resume_at`]).
    pub fn set_not_before(&mut self, at: Instant) {
        if self.state == State::Due && self.attempts == 0 {
            self.due = self.due.max(at);
        }
    }

    /// Tells the call the wall-clock time: `unix_secs` at `now`. Used to resolve an HTTP-date
    /// `Retry-After` and `X-RateLimit-Reset` when the response has no `Date` header.
    pub fn set_unix_time(&mut self, now: Instant, unix_secs: u64) {
        self.clock = Some((now, unix_secs));
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u8 {
        self.attempts
    }

    /// `true` once [`Event::Done`] has been queued.
    pub fn is_done(&self) -> bool {
        self.state == State::Finished
    }

    /// Whether the connection of the last attempt may carry another request. `false` after
    /// any failure of the transport or the framing, after `Connection: close`, and after a
    /// close-delimited body.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive && matches!(self.state, State::Due | State::Finished)
    }

    /// The adapter starts connecting now: arms the connect deadline.
    pub fn handle_connecting(&mut self, now: Instant) {
        if self.state == State::Due && now >= self.due {
            self.state = State::Connecting;
            self.phase_deadline = now + self.config.policy.timeouts.connect;
        }
    }

    /// If a request is due, writes it into `out` and returns its length. `Ok(None)` while
    /// waiting (backoff, response outstanding, call over). A buffer that is too small is an
    /// error carrying the size needed; the call is unchanged and the caller may try again.
    #[must_use = "the returned bytes must be sent"]
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Option<usize>, BufferTooSmall> {
        let due = match self.state {
            State::Due => now >= self.due,
            State::Connecting => true,
            _ => false,
        };
        if !due || now >= self.call_deadline {
            return Ok(None);
        }
        let n = match self.write(out) {
            Ok(n) => n,
            Err(WriteError::BufferTooSmall { needed }) => return Err(BufferTooSmall { needed }),
            // Validated in `new`; the request and head cannot have changed since.
            Err(WriteError::Invalid(_)) => return Ok(None),
        };
        self.attempts = self.attempts.saturating_add(1);
        self.state = State::AwaitHead;
        self.phase_deadline = now + self.config.policy.timeouts.first_byte;
        self.response_deadline = now + self.config.policy.timeouts.response;
        self.head_parser.reset();
        self.head = None;
        self.keep_alive = true;
        debug!("kaiko: attempt {} sent ({} bytes)", self.attempts, n);
        Ok(Some(n))
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, WriteError> {
        write_request(
            &self.request,
            &self.config,
            self.idempotency_key.as_str(),
            out,
        )
    }

    /// Takes response bytes; returns how many were consumed. Fewer than offered means an
    /// event is waiting: drain [`Call::poll_event`], then offer the rest again. Bytes that
    /// arrive when no response is expected are discarded and spoil the connection for reuse.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
        self.last_now = now;
        let mut used = 0;
        while used < input.len() {
            let rest = input.get(used..).unwrap_or(&[]);
            let n = match self.state {
                State::AwaitHead => {
                    self.phase_deadline = self.response_deadline;
                    self.read_head(now, rest)
                }
                State::Body if !self.has_output() => self.read_body(now, rest),
                State::Body => break,
                _ => {
                    self.keep_alive = false;
                    rest.len()
                }
            };
            used += n;
            if n == 0 {
                break;
            }
        }
        if self.state == State::Finishing {
            self.finish(now);
        }
        used
    }

    fn read_head(&mut self, now: Instant, input: &[u8]) -> usize {
        match self.head_parser.parse(input) {
            Ok((n, None)) => n,
            Ok((n, Some(head))) => {
                self.start_body(&head);
                self.head = Some(head);
                if self.body.is_done() {
                    self.state = State::Finishing;
                    self.finish(now);
                }
                n
            }
            Err(e) => {
                self.fail_attempt(now, Cause::Protocol(ProtocolError::Head(e)), None);
                input.len()
            }
        }
    }

    fn start_body(&mut self, head: &ResponseHead) {
        self.state = State::Body;
        self.keep_alive = head.keep_alive;
        self.body = BodyDecoder::new(head.framing);
        self.sink = if !(200..300).contains(&head.status) {
            Sink::Error(ErrorBody::new())
        } else if head.content_type == ContentType::EventStream {
            Sink::Sse {
                events: SseDecoder::new(),
                json: SuccessParser::new(),
                done_marker: 0,
                event_started: false,
                closing: false,
            }
        } else {
            Sink::Json(SuccessParser::new())
        };
    }

    /// Decodes one slice of body bytes; returns bytes consumed.
    fn read_body(&mut self, now: Instant, input: &[u8]) -> usize {
        let decoded = match self.body.decode(input) {
            Ok(d) => d,
            Err(e) => {
                self.fail_attempt(now, Cause::Protocol(ProtocolError::Body(e)), None);
                return input.len();
            }
        };
        let data = decoded.data;
        let taken = match self.feed_sink(data) {
            Ok(k) => k,
            Err(e) => {
                self.fail_attempt(now, Cause::Protocol(e), None);
                return input.len();
            }
        };
        let unread = data.len() - taken.min(data.len());
        if unread > 0 {
            // The sink stopped to hand out an event: give the rest back to the framing so it
            // is offered again; data is always the tail of what the decoder consumed.
            self.body.give_back(unread);
            return decoded.consumed - unread;
        }
        if decoded.done {
            self.state = State::Finishing;
        }
        decoded.consumed
    }

    /// Feeds payload bytes to the current sink; returns how many it took.
    fn feed_sink(&mut self, data: &[u8]) -> Result<usize, ProtocolError> {
        match &mut self.sink {
            Sink::Error(error) => {
                error.feed(data);
                Ok(data.len())
            }
            Sink::Json(json) => json.read(data).map_err(ProtocolError::Json),
            Sink::Sse { .. } => self.feed_sse(data),
            Sink::Idle => Ok(data.len()),
        }
    }

    fn feed_sse(&mut self, data: &[u8]) -> Result<usize, ProtocolError> {
        const DONE: &[u8] = b"[DONE]";
        let Sink::Sse {
            events,
            json,
            done_marker,
            event_started,
            closing,
        } = &mut self.sink
        else {
            return Ok(data.len());
        };
        let mut used = 0;
        loop {
            if json.has_output() {
                return Ok(used);
            }
            if *closing {
                if json.end().map_err(ProtocolError::Json)? {
                    continue; // the event's last piece of text waits to be taken
                }
                json.reset();
                *closing = false;
            }
            let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) else {
                return Ok(used);
            };
            let (n, item) = events.next(rest).unwrap_or_else(|e| match e {});
            match item {
                Some(SseItem::Data(d)) => {
                    // `data: [DONE]` ends an OpenAI-style stream; any other data is one JSON
                    // document per event.
                    if *done_marker > 0 || (!*event_started && d.first() == Some(&b'[')) {
                        for &b in d {
                            if DONE.get(usize::from(*done_marker)) != Some(&b) {
                                return Err(ProtocolError::StreamData);
                            }
                            *done_marker = done_marker.saturating_add(1);
                        }
                        used += n;
                        continue;
                    }
                    *event_started = true;
                    let k = json.read(d).map_err(ProtocolError::Json)?;
                    // `d` is the tail of the `n` bytes the decoder consumed, so what the JSON
                    // parser did not take is given back by consuming less.
                    used += n - (d.len() - k.min(d.len())).min(n);
                }
                Some(SseItem::Dispatch) => {
                    *closing = *event_started;
                    *done_marker = 0;
                    *event_started = false;
                    used += n;
                }
                Some(_) | None => used += n,
            }
            if n == 0 {
                return Ok(used);
            }
        }
    }

    /// Whether a decoded result waits inside the body decoder.
    fn has_output(&self) -> bool {
        match &self.sink {
            Sink::Json(json) | Sink::Sse { json, .. } => json.has_output(),
            Sink::Error(_) | Sink::Idle => false,
        }
    }

    /// The body is complete: flush pending outputs, then queue the outcome.
    fn finish(&mut self, now: Instant) {
        if self.has_output() || self.state != State::Finishing {
            return;
        }
        let Some(head) = self.head else { return };
        match &mut self.sink {
            Sink::Error(body) => {
                let mut error = body.finish(&head);
                let wait = retry::server_wait(
                    &head,
                    self.unix_now(now),
                    self.config.policy.respect_rate_limit,
                );
                error.retry_after = wait;
                self.fail_attempt(now, Cause::Api(error), wait);
            }
            Sink::Json(json) => match json.end() {
                Ok(true) => {} // a last piece of text waits to be taken first
                Ok(false) => self.succeed(now, &head),
                Err(e) => self.fail_attempt(now, Cause::Protocol(ProtocolError::Json(e)), None),
            },
            Sink::Sse { json, closing, .. } => {
                if *closing {
                    match json.end() {
                        Ok(true) => return,
                        Ok(false) => {
                            json.reset();
                            *closing = false;
                        }
                        Err(e) => {
                            return self.fail_attempt(
                                now,
                                Cause::Protocol(ProtocolError::Json(e)),
                                None,
                            );
                        }
                    }
                }
                self.succeed(now, &head)
            }
            Sink::Idle => {}
        }
    }

    fn succeed(&mut self, now: Instant, head: &ResponseHead) {
        let resume_at = match (
            head.rate_limit.remaining,
            self.config.policy.respect_rate_limit,
        ) {
            (Some(0), true) => retry::server_wait(head, self.unix_now(now), true).map(|w| now + w),
            _ => None,
        };
        self.state = State::Finished;
        self.control = Some(Event::Done(Ok(Success {
            status: head.status,
            summary: match &self.sink {
                Sink::Json(json) | Sink::Sse { json, .. } => *json.summary(),
                Sink::Error(_) | Sink::Idle => Summary::default(),
            },
            rate_limit: head.rate_limit,
            request_id: head.request_id,
            resume_at,
            attempts: self.attempts,
            deprecated: head.deprecated,
        })));
    }

    /// The wall clock at `now`, in milliseconds since the Unix epoch.
    fn unix_now(&self, now: Instant) -> Option<u64> {
        self.clock.map(|(at, unix)| {
            unix.saturating_mul(1000)
                .saturating_add(now.saturating_duration_since(at).as_millis())
        })
    }

    fn fail_attempt(&mut self, now: Instant, cause: Cause, server_wait: Option<Duration>) {
        // A result still waiting belongs to the abandoned attempt.
        self.sink = Sink::Idle;
        let retryable = match &cause {
            Cause::Api(e) => retry::is_retryable_status(e.status),
            _ => {
                self.keep_alive = false;
                true
            }
        };
        if let Cause::Api(e) = &cause {
            warn!(
                "kaiko: attempt {} failed with HTTP {}",
                self.attempts, e.status
            );
        }
        let decision = retry::decide(
            &self.config.policy,
            &mut self.rng,
            self.attempts,
            retryable,
            server_wait,
            now,
            self.call_deadline,
        );
        match decision {
            Decision::Retry { at, delay } => {
                self.state = State::Due;
                self.due = at;
                self.phase_deadline = Instant::MAX;
                self.control = Some(Event::RetryScheduled {
                    retry: self.attempts,
                    max_retries: self.config.policy.max_retries,
                    at,
                    delay,
                    cause,
                });
            }
            Decision::Stop(stop) => {
                self.state = State::Finished;
                self.control = Some(Event::Done(Err(Failure {
                    cause,
                    stop,
                    attempts: self.attempts,
                })));
            }
        }
    }

    /// The next event, if any: decoded results first, then retry notices and the outcome.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if !self.has_output() && self.state == State::Finishing {
            self.finish(self.last_now);
        }
        let ready = match &mut self.sink {
            Sink::Json(json) | Sink::Sse { json, .. } => json.take_output(),
            Sink::Error(_) | Sink::Idle => None,
        };
        match ready {
            Some(Output::Emotion(e)) => Some(Event::Emotion(e)),
            Some(Output::Content(c)) => Some(Event::Content(c)),
            None => self.control.take(),
        }
    }

    /// When the call next needs [`Call::handle_timeout`]: a deadline of the current phase,
    /// the end of a backoff wait, or the call deadline. `None` once the call is over.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let phase = match self.state {
            State::Finished => return None,
            State::Due => self.due,
            State::Connecting | State::AwaitHead | State::Body => self.phase_deadline,
            State::Finishing => self.call_deadline,
        };
        Some(phase.min(self.call_deadline))
    }

    /// Reports that `now` has been reached: a passed deadline fails the attempt (and may
    /// schedule a retry); the end of a backoff wait makes the next request due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Finished || self.control.is_some() {
            return;
        }
        if now >= self.call_deadline {
            self.keep_alive = false;
            self.sink = Sink::Idle;
            self.state = State::Finished;
            self.control = Some(Event::Done(Err(Failure {
                cause: Cause::Timeout(Phase::Call),
                stop: Stop::Deadline,
                attempts: self.attempts,
            })));
            return;
        }
        if now < self.phase_deadline {
            return;
        }
        let phase = match self.state {
            State::Connecting => Phase::Connect,
            State::AwaitHead => Phase::FirstByte,
            State::Body => Phase::Response,
            _ => return,
        };
        if phase == Phase::Connect {
            // The connect deadline counts as an attempt: the request may not have left, but
            // the retry budget must still bound a dead network.
            self.attempts = self.attempts.saturating_add(1);
        }
        self.fail_attempt(now, Cause::Timeout(phase), None);
    }

    /// Reports a transport failure or the peer closing the connection.
    pub fn handle_connection_lost(&mut self, now: Instant, lost: ConnectionLost) {
        self.keep_alive = false;
        match self.state {
            State::Body if lost == ConnectionLost::Closed => match self.body.finish_on_close() {
                Ok(()) => {
                    self.state = State::Finishing;
                    self.finish(now);
                }
                Err(e) => self.fail_attempt(now, Cause::Protocol(ProtocolError::Body(e)), None),
            },
            State::Connecting => {
                self.attempts = self.attempts.saturating_add(1);
                self.fail_attempt(now, Cause::Connection(lost), None);
            }
            State::AwaitHead | State::Body => self.fail_attempt(now, Cause::Connection(lost), None),
            // Connecting without having said so: the due attempt failed to start.
            State::Due if now >= self.due && self.control.is_none() => {
                self.attempts = self.attempts.saturating_add(1);
                self.fail_attempt(now, Cause::Connection(lost), None);
            }
            State::Due | State::Finishing | State::Finished => {}
        }
    }

    /// The HTTP method of the request (GET requests carry no body and no key).
    pub fn method(&self) -> Method {
        self.request.method()
    }
}

#[cfg(test)]
mod tests;
