//! [`Call`]: one logical API call, all of its attempts, as a sans-IO state machine that says
//! what to do next.
//!
//! The call never touches a socket or a clock. A driver asks [`Call::poll_action`] and does
//! what the [`Action`] says, reporting back; it keeps no state of its own beyond the open
//! connection and the bytes it read but the call has not taken yet:
//!
//! | [`Action`] | the driver does | and reports |
//! |---|---|---|
//! | `Event(e)` | hands `e` to the caller (it borrows the call) | — |
//! | `Connect { deadline }` | keeps its open connection, or opens one (TLS if the base URL says `https`) | [`Call::handle_connected`] or [`Call::handle_connection_lost`] |
//! | `Transmit { deadline }` | [`Call::poll_transmit`] into its buffer, writes all of it | [`Call::handle_transmitted`] or `handle_connection_lost` |
//! | `Receive { deadline }` | reads | [`Call::handle_input`] with the bytes (offering again what it did not take), or `handle_connection_lost` (end of stream is [`ConnectionLost::Closed`]) |
//! | `Sleep { until }` | sleeps (an open connection stays open) | — |
//! | `Close` | closes its connection | — |
//! | `Done(outcome)` | returns the outcome (an open connection may serve the next call) | — |
//!
//! An I/O operation that reaches its `deadline` is simply abandoned: the next `poll_action`
//! sees the time and fails the attempt. Every entry point that takes `now` enforces every
//! deadline, so a peer that never pauses still ends at its deadline.
//!
//! ```text
//!             new()
//!   ┌──────► Backoff ──due, no connection──► Connecting ──handle_connected──┐
//!   │           │ due, connection kept                                      ▼
//!   │           └─────────────────────────────────────────────────────► Ready
//!   │                                                      poll_transmit │
//!   │  (a reused connection dies before the first byte:                   ▼
//!   │   straight back to Connecting, not counted as an attempt)       Sending
//!   │                                                  handle_transmitted │
//!   │   timeout / connection lost / malformed / 429 or 5xx                ▼
//!   └── Retry event ◄──────────────────────────────────────── AwaitHead ──► Body
//!                      success, or stop decided by the retry policy          │
//!                                                                            ▼
//!                                                                          Done
//! ```
//!
//! Guarantees: every attempt of one call carries the same `Idempotency-Key`; the outcome does
//! not depend on how the response bytes are split; no input makes the call panic; a call
//! always ends, at the latest at the policy's deadline; a method called out of order gets an
//! [`OrderError`], never a silent no-op. Results of an attempt that is later abandoned are
//! followed by [`Event::RetryScheduled`]: a consumer that gathers [`Event::Content`] discards
//! what it gathered when it sees that event.

mod outcome;
mod sink;

pub use outcome::{Cause, ConnectionLost, Failure, Phase, ProtocolError, Retry, Success};

#[cfg(feature = "beliefs")]
use crate::analysis::Belief;
#[cfg(feature = "choices")]
use crate::analysis::Choice;
#[cfg(feature = "growth")]
use crate::analysis::Dimension;
#[cfg(feature = "trajectory")]
use crate::analysis::Moment;
#[cfg(any(feature = "trajectory", feature = "patterns"))]
use crate::analysis::Pattern;
use crate::analysis::{Emotion, Output};
use crate::base_url::BaseUrl;
use crate::http::{BodyDecoder, HeadReader, ResponseHead, blank_head, clear_head};
use crate::idempotency::IdempotencyKey;
use crate::key::{ApiKey, Auth};
use crate::request::{Invalid, Method, Request, RequestHead, USER_AGENT, WriteError};
use crate::retry::{self, Decision, Policy, Stop, Unanswered};
use crate::rng::SplitMix64;
use crate::time::{Duration, Instant};

use sink::{Body, Response, Sink};

/// Everything about the client that does not change from call to call.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Config<'a> {
    /// Where requests go; its scheme decides whether the connection must use TLS.
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
    /// Send the key over `http://` to a host that is not loopback (see
    /// [`Config::allow_cleartext_key`]).
    pub cleartext_key: bool,
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
            cleartext_key: false,
        }
    }

    /// Allows sending the key without TLS to a host that is not loopback. Without it, such
    /// a call is [`Refused::CleartextKey`] before anything is sent: anyone on the path
    /// would read the key.
    #[must_use]
    pub fn allow_cleartext_key(mut self) -> Self {
        self.cleartext_key = true;
        self
    }

    /// A configuration whose base URL follows from the key's prefix (`kaiko_live_` →
    /// production, `kaiko_test_` → staging), over HTTPS; `None` for other keys.
    pub fn for_key(api_key: ApiKey<'a>) -> Option<Self> {
        api_key
            .environment()
            .base_url()
            .map(|base| Self::new(api_key, base))
    }

    /// Replaces the retry policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Chooses how the key is sent.
    #[must_use]
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Replaces the `User-Agent`.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: &'a str) -> Self {
        self.user_agent = user_agent;
        self
    }
}

/// What a call reports to its caller, borrowed from the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'a> {
    /// An emotion item of the response.
    Emotion(&'a Emotion),
    /// A piece of completion text (chat; streamed or not): whole UTF-8 characters.
    Content(&'a str),
    /// A chat choice that finished, with its `finish_reason` (feature `choices`).
    #[cfg(feature = "choices")]
    Choice(&'a Choice),
    /// A similar moment of the trajectory (feature `trajectory`).
    #[cfg(feature = "trajectory")]
    Moment(&'a Moment),
    /// A pattern: detected (feature `patterns`) or of the similar moments (feature
    /// `trajectory`).
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Pattern(&'a Pattern),
    /// A growth dimension (feature `growth`).
    #[cfg(feature = "growth")]
    Dimension(&'a Dimension),
    /// A belief (feature `beliefs`).
    #[cfg(feature = "beliefs")]
    Belief(&'a Belief),
    /// The attempt failed and another one will start at [`Retry::at`]: discard the
    /// attempt's partial results.
    RetryScheduled(&'a Retry),
}

impl<'a> From<Output<'a>> for Event<'a> {
    fn from(output: Output<'a>) -> Self {
        match output {
            Output::Emotion(e) => Event::Emotion(e),
            Output::Content(c) => Event::Content(c),
            #[cfg(feature = "choices")]
            Output::Choice(c) => Event::Choice(c),
            #[cfg(feature = "trajectory")]
            Output::Moment(m) => Event::Moment(m),
            #[cfg(any(feature = "trajectory", feature = "patterns"))]
            Output::Pattern(p) => Event::Pattern(p),
            #[cfg(feature = "growth")]
            Output::Dimension(d) => Event::Dimension(d),
            #[cfg(feature = "beliefs")]
            Output::Belief(b) => Event::Belief(b),
        }
    }
}

/// What the driver must do next (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub enum Action<'a> {
    /// Hand this to the caller.
    Event(Event<'a>),
    /// Have a connection to the base URL ready by `deadline`: the one kept from an earlier
    /// exchange, or a new one (TLS when the base URL is `https`).
    Connect {
        /// When the connect deadline passes.
        deadline: Instant,
    },
    /// Take the request with [`Call::poll_transmit`] and write all of it by `deadline`.
    Transmit {
        /// When the first-byte deadline passes.
        deadline: Instant,
    },
    /// Read and pass what arrives to [`Call::handle_input`], until `deadline` at most.
    Receive {
        /// When the current phase's deadline passes.
        deadline: Instant,
    },
    /// Nothing to do until `until` (a backoff, a rate-limit wait).
    Sleep {
        /// When to ask again.
        until: Instant,
    },
    /// Close the connection: it must not carry another request. Then ask again.
    Close,
    /// The call is over.
    Done(Result<&'a Success, &'a Failure>),
}

/// Why [`Call::new`] refused to start a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refused {
    /// The request is invalid, with the status and code the server would have answered.
    Invalid(Invalid),
    /// The base URL is `http://` to a host that is not loopback: the key would travel in
    /// clear text. Use `https://`, or opt in with [`Config::allow_cleartext_key`].
    CleartextKey,
}

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Refused::Invalid(e) => write!(f, "invalid request: {e}"),
            Refused::CleartextKey => f.write_str(
                "refusing to send the API key without TLS to a host that is not loopback",
            ),
        }
    }
}

impl core::error::Error for Refused {}

impl From<Invalid> for Refused {
    fn from(e: Invalid) -> Self {
        Refused::Invalid(e)
    }
}

/// A method was called when the call's state does not expect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OrderError {
    /// The call is over.
    Finished,
    /// The call has started its first attempt: what it fixes (the key, the start) is fixed.
    Started,
    /// The call did not ask for this (see [`Call::poll_action`]).
    Unexpected,
}

impl core::fmt::Display for OrderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            OrderError::Finished => "the call is over",
            OrderError::Started => "the call has already started",
            OrderError::Unexpected => "the call did not ask for this",
        })
    }
}

impl core::error::Error for OrderError {}

/// [`Call::poll_transmit`] could not hand out the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TransmitError {
    /// The buffer is too small; the call is unchanged and the caller may try again.
    BufferTooSmall {
        /// Bytes the request needs.
        needed: usize,
    },
    /// The call did not ask for a transmit.
    Order(OrderError),
    /// The request no longer writes (cannot happen after [`Call::new`] accepted it).
    Invalid(Invalid),
}

impl core::fmt::Display for TransmitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TransmitError::BufferTooSmall { needed } => {
                write!(f, "transmit buffer too small: {needed} bytes needed")
            }
            TransmitError::Order(e) => write!(f, "transmit out of order: {e}"),
            TransmitError::Invalid(e) => write!(f, "invalid request: {e}"),
        }
    }
}

impl core::error::Error for TransmitError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The next attempt may start at `due`.
    Backoff,
    /// The driver is connecting.
    Connecting,
    /// A connection is ready for the request.
    Ready,
    /// The request was handed out; the driver is writing it.
    Sending,
    /// The request is out, no response head yet.
    AwaitHead,
    /// Reading the body.
    Body,
    /// The body ended; outputs may still wait before the outcome.
    Finishing,
    /// The outcome is in the sink.
    Done,
}

/// What the call knows of the driver's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// None open (or unknown, before the first connect).
    None,
    /// Opened for this attempt.
    Fresh,
    /// It carried an exchange before the current request.
    Reused,
}

/// The head every attempt of a call with `config` sends.
fn request_head<'h>(config: &'h Config<'_>, idempotency_key: &'h str) -> RequestHead<'h> {
    RequestHead {
        base: &config.base_url,
        key: &config.api_key,
        auth: config.auth,
        user_agent: config.user_agent,
        idempotency_key,
        keep_alive: true,
    }
}

/// One logical API call. See the [module docs](self) for the driving loop.
#[derive(Debug)]
pub struct Call<'a> {
    request: Request<'a>,
    config: &'a Config<'a>,
    /// The request body's length, from the checks `Call::new` made.
    body_len: usize,
    idempotency_key: IdempotencyKey,
    rng: SplitMix64,
    state: State,
    conn: Conn,
    /// The driver must close its connection before anything else.
    close: bool,
    /// A [`Retry`] in the sink has not been handed out yet.
    retry_pending: bool,
    /// The free resend of this attempt (after a dead reused connection) was used.
    resent: bool,
    /// The current attempt's request was written in full.
    sent: bool,
    /// Whether a request sent in full is sent again when no retryable status came back.
    unanswered: Unanswered,
    attempts: u8,
    due: Instant,
    phase_deadline: Instant,
    response_deadline: Instant,
    call_deadline: Instant,
    /// The caller's wall clock: Unix seconds at an instant, in 32 bits like the head's dates.
    clock: Option<(Instant, u32)>,
    /// The current attempt's response head: filled in place while the sink reads it, then
    /// read while the body is decoded (outside the sink, so that it is never copied).
    head: ResponseHead,
    sink: Sink,
}

const SEED_STREAM_JITTER: u64 = 0x6a09_e667_f3bc_c909;

impl<'a> Call<'a> {
    /// Validates `request` (the codes the server would return, and no control bytes in
    /// anything that reaches the path or a header) and prepares the first attempt, due now.
    ///
    /// `seed` must come from the device's entropy: it fixes the `Idempotency-Key` shared by
    /// all attempts and the backoff jitter (a fleet sharing one seed would retry in lockstep).
    ///
    /// # Errors
    /// The request is invalid (with the status and code the server would have answered), or
    /// the key would travel in clear text ([`Refused::CleartextKey`]).
    pub fn new(
        config: &'a Config<'a>,
        request: Request<'a>,
        seed: u64,
        now: Instant,
    ) -> Result<Self, Refused> {
        let base = &config.base_url;
        if !base.tls && !base.is_loopback() && !config.cleartext_key {
            return Err(Refused::CleartextKey);
        }
        let idempotency_key = IdempotencyKey::from_seed(seed);
        // Every check `poll_transmit`'s write makes, in its order, without writing.
        let body_len = request.check(&request_head(config, idempotency_key.as_str()))?;
        Ok(Call {
            request,
            config,
            body_len,
            idempotency_key,
            rng: SplitMix64::new(seed ^ SEED_STREAM_JITTER),
            state: State::Backoff,
            conn: Conn::None,
            close: false,
            retry_pending: false,
            resent: false,
            sent: false,
            unanswered: config.policy.unanswered,
            attempts: 0,
            due: now,
            phase_deadline: Instant::MAX,
            response_deadline: Instant::MAX,
            call_deadline: config.policy.deadline.map_or(Instant::MAX, |d| now + d),
            clock: None,
            head: blank_head(),
            sink: Sink::Idle,
        })
    }

    /// Uses a caller-chosen `Idempotency-Key` (for example one persisted across a reboot so a
    /// retried operation is still recognised).
    ///
    /// # Errors
    /// [`OrderError::Started`] once the first attempt has begun: the key of a call never
    /// changes between its attempts.
    pub fn set_idempotency_key(&mut self, key: IdempotencyKey) -> Result<(), OrderError> {
        self.check_unstarted()?;
        self.idempotency_key = key;
        Ok(())
    }

    /// The `Idempotency-Key` sent with every attempt of this call.
    pub fn idempotency_key(&self) -> &str {
        self.idempotency_key.as_str()
    }

    /// Delays the first attempt until `at` (e.g. a previous call's [`Success::resume_at`]).
    ///
    /// # Errors
    /// [`OrderError::Started`] once the first attempt has begun.
    pub fn set_not_before(&mut self, at: Instant) -> Result<(), OrderError> {
        self.check_unstarted()?;
        self.due = self.due.max(at);
        Ok(())
    }

    /// Chooses, for this call only, whether its request is sent again after it was sent in
    /// full and no retryable status came back (the policy's [`Policy::unanswered`] otherwise).
    ///
    /// # Errors
    /// [`OrderError::Started`] once the first attempt has begun.
    pub fn set_unanswered(&mut self, unanswered: Unanswered) -> Result<(), OrderError> {
        self.check_unstarted()?;
        self.unanswered = unanswered;
        Ok(())
    }

    /// Whether a request that was sent in full may be sent again without a retryable status.
    fn may_send_again(&self) -> bool {
        match self.unanswered {
            Unanswered::Retry => true,
            Unanswered::Stop => false,
            Unanswered::ByOperation => !matches!(self.request, Request::ChatCompletion(_)),
        }
    }

    fn check_unstarted(&self) -> Result<(), OrderError> {
        match self.state {
            State::Done => Err(OrderError::Finished),
            State::Backoff if self.attempts == 0 => Ok(()),
            _ => Err(OrderError::Started),
        }
    }

    /// Tells the call the wall-clock time: `unix_secs` at `now`. Used to resolve an HTTP-date
    /// `Retry-After` and `X-RateLimit-Reset` when the response has no `Date` header. Kept in
    /// 32 bits, as the head's dates are (saturating past 2106).
    pub fn set_unix_time(&mut self, now: Instant, unix_secs: u64) {
        self.clock = Some((now, u32::try_from(unix_secs).unwrap_or(u32::MAX)));
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u8 {
        self.attempts
    }

    /// `true` once the outcome is decided.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The HTTP method of the request (GET requests carry no body).
    pub fn method(&self) -> Method {
        self.request.method()
    }

    /// Where the call connects, and whether over TLS.
    pub fn base_url(&self) -> &BaseUrl<'a> {
        &self.config.base_url
    }

    /// The outcome, once the call is over.
    pub fn outcome(&self) -> Option<Result<&Success, &Failure>> {
        match &self.sink {
            Sink::Succeeded(s) => Some(Ok(s)),
            Sink::Failed(f) => Some(Err(f)),
            _ => None,
        }
    }

    /// What the driver must do next. Applies every deadline that `now` has reached first.
    pub fn poll_action(&mut self, now: Instant) -> Action<'_> {
        self.expire(now);
        if !self.close && self.state == State::Finishing && !self.sink.has_output() {
            self.finish(now);
        }
        if self.close {
            self.close = false;
            self.conn = Conn::None;
            return Action::Close;
        }
        if self.state == State::Backoff && !self.retry_pending && now >= self.due {
            self.start_attempt(now);
        }
        let deadline = self.phase_deadline.min(self.call_deadline);
        match self.state {
            State::Backoff if self.retry_pending => {
                self.retry_pending = false;
                match &self.sink {
                    Sink::Retry(r) => Action::Event(Event::RetryScheduled(r)),
                    _ => Action::Sleep { until: self.due },
                }
            }
            State::Backoff => Action::Sleep {
                until: self.due.min(self.call_deadline),
            },
            State::Connecting => Action::Connect { deadline },
            State::Ready | State::Sending => Action::Transmit { deadline },
            State::AwaitHead | State::Body | State::Finishing => match self.sink.take_output() {
                Some(output) => Action::Event(Event::from(output)),
                // Finishing without output has just been finished above.
                None => Action::Receive { deadline },
            },
            State::Done => match self.outcome() {
                Some(outcome) => Action::Done(outcome),
                // The outcome is always stored with `State::Done`.
                None => Action::Sleep {
                    until: self.call_deadline,
                },
            },
        }
    }

    /// The attempt is due: connect, or go straight to the request on a kept connection.
    fn start_attempt(&mut self, now: Instant) {
        self.resent = false;
        self.sent = false;
        self.sink = Sink::Idle;
        if self.conn == Conn::None {
            self.state = State::Connecting;
            self.phase_deadline = now + self.config.policy.timeouts.connect;
        } else {
            self.state = State::Ready;
            self.phase_deadline = now + self.config.policy.timeouts.first_byte;
        }
    }

    /// The connection asked for by [`Action::Connect`] is ready. `reused`: it is one the
    /// driver kept from an earlier exchange (so it may have died while idle).
    ///
    /// # Errors
    /// The call did not ask for a connection.
    pub fn handle_connected(&mut self, now: Instant, reused: bool) -> Result<(), OrderError> {
        self.expire(now);
        match self.state {
            State::Connecting => {
                self.conn = if reused { Conn::Reused } else { Conn::Fresh };
                self.state = State::Ready;
                Ok(())
            }
            State::Done => Err(OrderError::Finished),
            _ => Err(OrderError::Unexpected),
        }
    }

    /// Writes the request into `out` and returns its length; write all of it, then call
    /// [`Call::handle_transmitted`].
    ///
    /// # Errors
    /// A buffer that is too small (the call is unchanged: try again with `needed` bytes), or
    /// the call did not ask for a transmit ([`Action::Transmit`]) — including a second
    /// `poll_transmit` before `handle_transmitted`.
    #[must_use = "the returned bytes must be sent"]
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Result<usize, TransmitError> {
        self.expire(now);
        match self.state {
            State::Ready => {}
            State::Done => return Err(TransmitError::Order(OrderError::Finished)),
            _ => return Err(TransmitError::Order(OrderError::Unexpected)),
        }
        // Checked in `Call::new` (a key set since is visible ASCII too): not checked again.
        let head = request_head(self.config, self.idempotency_key.as_str());
        let n = self
            .request
            .write_checked(&head, self.body_len, out)
            .map_err(|e| match e {
                WriteError::BufferTooSmall { needed } => TransmitError::BufferTooSmall { needed },
                WriteError::Invalid(i) => TransmitError::Invalid(i),
            })?;
        self.attempts = self.attempts.saturating_add(1);
        self.sent = false;
        self.state = State::Sending;
        self.phase_deadline = now + self.config.policy.timeouts.first_byte;
        self.response_deadline = now + self.config.policy.timeouts.response;
        clear_head(&mut self.head);
        self.sink = Sink::Head(HeadReader::new(self.config.max_head));
        debug!("kaiko: attempt {} handed out ({} bytes)", self.attempts, n);
        Ok(n)
    }

    /// All bytes of the request were written.
    ///
    /// # Errors
    /// No request was being written.
    pub fn handle_transmitted(&mut self, now: Instant) -> Result<(), OrderError> {
        self.expire(now);
        match self.state {
            State::Sending => {
                self.sent = true;
                self.state = State::AwaitHead;
                Ok(())
            }
            // A server may answer before the request is written in full.
            State::Body | State::Finishing => {
                self.sent = true;
                Ok(())
            }
            State::Done => Err(OrderError::Finished),
            _ => Err(OrderError::Unexpected),
        }
    }

    /// Takes response bytes; returns how many were consumed. Fewer than offered means an
    /// event waits: ask [`Call::poll_action`], then offer the rest again. A passed deadline
    /// ends the attempt first, whatever the bytes: the rest of that response is consumed and
    /// dropped (and the connection closed).
    ///
    /// # Errors
    /// The call is not reading a response.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> Result<usize, OrderError> {
        self.expire(now);
        match self.state {
            // A server may answer before the request is written in full.
            State::Sending | State::AwaitHead | State::Body | State::Finishing => {}
            // The attempt just ended (a deadline, a malformed response): the rest of that
            // response is dropped with the connection.
            _ if self.close => return Ok(input.len()),
            State::Done => return Err(OrderError::Finished),
            _ => return Err(OrderError::Unexpected),
        }
        let mut used = 0;
        while used < input.len() {
            let rest = input.get(used..).unwrap_or(&[]);
            let n = match self.state {
                State::Sending | State::AwaitHead => {
                    self.phase_deadline = self.response_deadline;
                    self.read_head(now, rest)
                }
                State::Body if !self.sink.has_output() => self.read_body(now, rest),
                State::Finishing if !self.sink.has_output() => {
                    // Bytes after the end of the response: the connection is out of step.
                    self.drop_connection();
                    rest.len()
                }
                // An event waits, or the attempt is over: the driver asks what next.
                _ => break,
            };
            used += n;
            if n == 0 {
                break;
            }
        }
        Ok(used)
    }

    #[inline(never)] // its large temporaries stay out of the driver loop's frame
    fn read_head(&mut self, now: Instant, input: &[u8]) -> usize {
        let Sink::Head(reader) = &mut self.sink else {
            return 0;
        };
        match reader.parse_into(&mut self.head, input) {
            Ok((n, false)) => n,
            Ok((n, true)) => {
                let framing = BodyDecoder::new(self.head.framing);
                self.state = if framing.is_done() {
                    State::Finishing
                } else {
                    State::Body
                };
                self.sink = Sink::Body(Response {
                    body: Body::for_head(&self.head),
                    framing,
                });
                n
            }
            Err(e) => {
                self.fail_attempt(now, Cause::Protocol(ProtocolError::Head(e)), None);
                input.len()
            }
        }
    }

    /// Decodes one slice of body bytes; returns bytes consumed.
    #[inline(never)] // its large temporaries stay out of the driver loop's frame
    fn read_body(&mut self, now: Instant, input: &[u8]) -> usize {
        let Sink::Body(response) = &mut self.sink else {
            return 0;
        };
        let error = match response.framing.decode(input) {
            Ok(decoded) => match response.body.read(decoded.data) {
                Ok(taken) => {
                    let data = decoded.data;
                    let unread = data.len() - taken.min(data.len());
                    if unread > 0 {
                        // The sink stopped to hand out an event: give the rest back to the
                        // framing so it is offered again; data is always the tail of what
                        // the decoder consumed.
                        response.framing.give_back(unread);
                        return decoded.consumed - unread;
                    }
                    if decoded.done {
                        self.state = State::Finishing;
                    }
                    return decoded.consumed;
                }
                Err(e) => e,
            },
            Err(e) => ProtocolError::Body(e),
        };
        self.fail_attempt(now, Cause::Protocol(error), None);
        input.len()
    }

    /// The body is complete and its outputs were taken: decide the outcome.
    #[inline(never)] // its large temporaries stay out of the driver loop's frame
    fn finish(&mut self, now: Instant) {
        let Sink::Body(response) = &mut self.sink else {
            return;
        };
        match response.body.end() {
            Ok(true) => return, // a last piece of text waits to be taken first
            Ok(false) => {}
            Err(e) => return self.fail_attempt(now, Cause::Protocol(e), None),
        }
        if !self.head.keep_alive {
            self.drop_connection();
        } else if self.conn != Conn::None {
            self.conn = Conn::Reused;
        }
        let unix_now = self.unix_now(now);
        let respect = self.config.policy.respect_rate_limit;
        let Sink::Body(response) = &self.sink else {
            return;
        };
        let head = &self.head;
        let parser = match &response.body {
            Body::Json(json) => json,
            Body::Stream(stream) => stream.json(),
            Body::Error(body) => {
                let wait = retry::server_wait(head, unix_now, respect);
                let mut error = body.finish(head);
                error.retry_after = wait;
                return self.fail_attempt(now, Cause::Api(error), wait);
            }
        };
        let resume_at = match head.rate_limit.remaining {
            Some(0) if respect => retry::server_wait(head, unix_now, true).map(|w| now + w),
            _ => None,
        };
        self.succeed(Success {
            status: head.status,
            summary: *parser.summary(),
            rate_limit: head.rate_limit,
            request_id: head.request_id,
            resume_at,
            attempts: self.attempts,
            deprecated: head.deprecated,
            sunset: head.sunset,
            #[cfg(feature = "details")]
            link: head.link,
        });
    }

    /// Ends the call with `success`, built from the response the sink held.
    #[inline(never)] // built apart from the sink it replaces: a copy, not an overlapping move
    fn succeed(&mut self, success: Success) {
        self.state = State::Done;
        self.sink = Sink::Succeeded(success);
    }

    /// The wall clock at `now`, in milliseconds since the Unix epoch.
    fn unix_now(&self, now: Instant) -> Option<u64> {
        self.clock.map(|(at, unix)| {
            (u64::from(unix) * 1000).saturating_add(now.saturating_duration_since(at).as_millis())
        })
    }

    /// The connection cannot carry another request: the driver closes it first.
    fn drop_connection(&mut self) {
        if self.conn != Conn::None {
            self.close = true;
        }
        self.conn = Conn::None;
    }

    #[inline(never)] // its large temporaries stay out of the driver loop's frame
    fn fail_attempt(&mut self, now: Instant, cause: Cause, server_wait: Option<Duration>) {
        let sent = self.sent;
        let retryable = match &cause {
            Cause::Api(e) => {
                warn!(
                    "kaiko: attempt {} failed with HTTP {}",
                    self.attempts, e.status
                );
                retry::is_retryable_status(e.status)
            }
            _ => {
                // The rest of that response would be read as the next one's.
                self.drop_connection();
                true
            }
        };
        let decision = if sent && !matches!(cause, Cause::Api(_)) && !self.may_send_again() {
            Decision::Stop(Stop::Unanswered)
        } else {
            retry::decide(
                &self.config.policy,
                &mut self.rng,
                self.attempts,
                retryable,
                server_wait,
                now,
                self.call_deadline,
            )
        };
        self.phase_deadline = Instant::MAX;
        match decision {
            Decision::Retry { at, delay } => {
                self.state = State::Backoff;
                self.due = at;
                self.retry_pending = true;
                self.sink = Sink::Retry(Retry {
                    retry: self.attempts,
                    max_retries: self.config.policy.max_retries,
                    at,
                    delay,
                    cause: Cause::Cancelled,
                    sent,
                });
                // As in `end`: the cause is copied once, into its place.
                if let Sink::Retry(retry) = &mut self.sink {
                    retry.cause = cause;
                }
            }
            Decision::Stop(stop) => self.end(cause, stop, sent),
        }
    }

    /// Ends the call with a failure, built where it is kept.
    fn end(&mut self, cause: Cause, stop: Stop, sent: bool) {
        self.state = State::Done;
        self.retry_pending = false;
        self.sink = Sink::Failed(Failure {
            cause: Cause::Cancelled,
            stop,
            attempts: self.attempts,
            sent,
        });
        // The large cause goes in last, straight where it is kept: one copy, not two.
        if let Sink::Failed(failure) = &mut self.sink {
            failure.cause = cause;
        }
    }

    /// Applies the deadlines `now` has reached.
    fn expire(&mut self, now: Instant) {
        match self.state {
            State::Done => return,
            // The response is complete; only its outputs wait to be taken.
            State::Finishing => return,
            _ => {}
        }
        if now >= self.call_deadline {
            if self.state != State::Backoff {
                self.drop_connection();
            }
            return self.end(Cause::Timeout(Phase::Call), Stop::Deadline, false);
        }
        if now < self.phase_deadline {
            return;
        }
        let phase = match self.state {
            State::Connecting => Phase::Connect,
            State::Ready | State::Sending | State::AwaitHead => Phase::FirstByte,
            State::Body => Phase::Response,
            State::Backoff | State::Finishing | State::Done => return,
        };
        if matches!(self.state, State::Connecting | State::Ready) {
            // Nothing went out, so the attempt was not counted yet; it counts now: the
            // retry budget must still bound a dead network.
            self.attempts = self.attempts.saturating_add(1);
        }
        self.fail_attempt(now, Cause::Timeout(phase), None);
    }

    /// Reports a transport failure, or the peer closing the connection.
    ///
    /// A reused connection that fails before any byte of the response arrived (the server
    /// closed it while idle) is replaced and the request sent again at once, once per
    /// attempt, without counting an attempt (RFC 9112 §9.3.1).
    pub fn handle_connection_lost(&mut self, now: Instant, lost: ConnectionLost) {
        self.expire(now);
        let was = self.conn;
        self.conn = Conn::None;
        // The driver's connection is gone already: nothing to close.
        self.close = false;
        let cause = match self.state {
            State::Connecting => {
                self.attempts = self.attempts.saturating_add(1);
                Cause::Connection(lost)
            }
            // A kept connection died before the request went out: connect again.
            State::Ready => {
                self.state = State::Connecting;
                return;
            }
            State::Sending | State::AwaitHead
                if was == Conn::Reused
                    && !self.resent
                    && (!self.sent || self.may_send_again())
                    && matches!(&self.sink, Sink::Head(p) if p.bytes_seen() == 0) =>
            {
                debug!("kaiko: kept connection was closed by the peer; sending again");
                self.resent = true;
                self.sent = false;
                self.attempts = self.attempts.saturating_sub(1);
                self.state = State::Connecting;
                self.phase_deadline = now + self.config.policy.timeouts.connect;
                return;
            }
            State::Body if lost == ConnectionLost::Closed => {
                let closed = match &mut self.sink {
                    Sink::Body(r) => r.framing.finish_on_close(),
                    _ => Ok(()),
                };
                match closed {
                    Ok(()) => {
                        self.state = State::Finishing;
                        return;
                    }
                    Err(e) => Cause::Protocol(ProtocolError::Body(e)),
                }
            }
            State::Sending | State::AwaitHead | State::Body => Cause::Connection(lost),
            State::Backoff | State::Finishing | State::Done => return,
        };
        self.fail_attempt(now, cause, None);
    }

    /// Ends the call now with [`Cause::Cancelled`]; the next action closes a connection that
    /// was mid-exchange.
    ///
    /// # Errors
    /// [`OrderError::Finished`] when the call was already over.
    pub fn cancel(&mut self, _now: Instant) -> Result<(), OrderError> {
        match self.state {
            State::Done => Err(OrderError::Finished),
            state => {
                if !matches!(state, State::Backoff | State::Finishing) {
                    self.drop_connection();
                }
                self.end(Cause::Cancelled, Stop::Cancelled, false);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
