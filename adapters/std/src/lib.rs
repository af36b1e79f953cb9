//! kaiko-std: a blocking client for the Kaiko V2 emotion API over `std::net::TcpStream`.
//!
//! [`Client`] owns the key and the base URL, keeps one connection alive between calls, and
//! runs each call's sans-IO [`Call`] by doing what [`Call::poll_action`] says: connect,
//! write, read under the call's deadlines, sleep through backoff, hand every event to the
//! caller. HTTPS needs the `tls` feature (rustls with the ring provider, webpki-roots,
//! SNI = host).
//!
//! ```no_run
//! use kaiko_std::Client;
//!
//! let mut client = Client::with_base_url("kaiko_test_example", "http://127.0.0.1:8787/v2")?;
//! let analysis = client.analyze("I feel a bit unsure about this", None, None, |_| {})?;
//! for e in &analysis.emotions {
//!     println!("{}: {:?}", e.role, e.category);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Settings
//!
//! [`Client::builder`] takes every setting and checks them all in [`ClientBuilder::build`],
//! which names the first problem ([`ClientError`]); [`Client::new`] and
//! [`Client::with_base_url`] are the builder with defaults.
//!
//! ```no_run
//! use std::time::Duration;
//! use kaiko_std::{Auth, Client, Policy};
//!
//! let mut client = Client::builder("kaiko_live_0123456789")
//!     .user_agent("my-app/1.2")
//!     .auth(Auth::Bearer)
//!     .policy(Policy { max_retries: 1, ..Policy::DEFAULT })
//!     .timeout_connect(Duration::from_secs(5))
//!     .timeout_first_byte(Duration::from_secs(20))
//!     .timeout_response(Duration::from_secs(40))
//!     .timeout_call(Duration::from_secs(60))
//!     .proxy("http://user:secret@proxy.internal:3128")
//!     .build()?;
//! // The caller's Idempotency-Key for this call, on every attempt of it.
//! let analysis = client
//!     .with_idempotency_key("job-42-analysis")
//!     .analyze("I feel a bit unsure about this", None, None, |_| {})?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Proxies
//!
//! Connections go through an HTTP proxy with `CONNECT host:port` (RFC 9110 §9.3.6), for
//! `https://` and `http://` base URLs alike (no absolute-form requests): the tunnel is then
//! used like a direct connection, TLS to the API's own host name included, and kept alive
//! between calls. Only `http://` proxies are supported (no TLS to the proxy, no SOCKS).
//! Credentials in the proxy URL (`http://user:pass@proxy:3128`, percent-encoded) are sent as
//! `Proxy-Authorization: Basic` to the proxy only, and never appear in `Debug` or an error.
//! A proxy's refusal is [`CallError::Proxy`] with its status: a 407 or 403 ends the call at
//! once, a 429 or 5xx is retried like a refused connection; an answer that is not HTTP is
//! [`ProxyError::BadAnswer`].
//!
//! Which proxy: [`ClientBuilder::proxy`] names one; [`ClientBuilder::without_proxy`] uses
//! none; otherwise (the default, as in ureq 3 and curl, or [`ClientBuilder::proxy_from_env`])
//! the environment is read when the client is built:
//! - an `https://` base URL uses `https_proxy`, then `HTTPS_PROXY`, then `all_proxy`,
//!   `ALL_PROXY`; an `http://` one `http_proxy`, `HTTP_PROXY`, `all_proxy`, `ALL_PROXY`
//!   (the first set and not empty; the target's scheme decides, as in curl, where ureq 3
//!   takes the first of `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` for any target);
//! - a malformed value is [`ClientError::ProxyUrl`] rather than a silent direct connection;
//! - `no_proxy` (else `NO_PROXY`) is a comma list: `*` exempts every host; `example.com`,
//!   `.example.com` and `*.example.com` exempt that name and every name under it (curl's
//!   rule: ureq 3 reads `.example.com` as sub-domains only); `192.0.2.7`, `10.0.0.0/8`,
//!   `fd00::/8` exempt addresses; `host:port` and `[::1]:8080` only that port. Case and a
//!   trailing dot are ignored.
//! - Loopback hosts are proxied like any other unless `NO_PROXY` lists them (curl and ureq
//!   do the same), so set `NO_PROXY=localhost,127.0.0.1,::1` to reach a local simulator
//!   directly.
//!
//! Through a proxy that is not on this machine, an `http://` base URL would carry the key in
//! clear text to it, even for a loopback host: such a call is [`CallError::CleartextKey`]
//! unless [`ClientBuilder::allow_cleartext_key`].
//!
//! # Guarantees
//!
//! Nothing the network sends makes it panic; the key never appears in `Debug`, `Display` or
//! an error; every call ends, at the latest at the policy's deadline; memory per call is
//! bounded (at most [`MAX_EMOTIONS`] items are kept by [`Client::analyze`], a proxy's answer
//! head at most [`MAX_ANSWER_HEAD`] bytes).

// The crate README's examples compile as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod base;
mod builder;
mod drive;
mod proxy;
mod seed;
mod transport;
mod tunnel;

use kaiko_core::time::StdClock;
use std::fmt;

pub use kaiko_core;
pub use kaiko_core::analysis::Emotion;
pub use kaiko_core::call::{Cause, Event, Failure, Refused, Retry, Success};
pub use kaiko_core::key::Auth;
pub use kaiko_core::request::{ChatMessage, ChatRequest, Invalid, Message, Request};
pub use kaiko_core::retry::{Policy, Stop, Timeouts};

pub use builder::{ClientBuilder, MAX_USER_AGENT, UserAgentError};
pub use kaiko_core::idempotency::IdempotencyKeyError;
pub use proxy::ProxyUrlError;
pub use tunnel::{MAX_ANSWER_HEAD, ProxyError};

use kaiko_core::base_url::{BaseUrl, UrlError};
use kaiko_core::call::{Call, Config};
use kaiko_core::idempotency::IdempotencyKey;
use kaiko_core::key::{ApiKey, KeyError};
use kaiko_core::request::EMOTION_MODEL;

use drive::Transport;

/// Most emotion items [`Client::analyze`] keeps for one call: a batch has at most 100
/// messages (spec §3.7), so a response with more is not one the API sends, and is refused
/// with [`CallError::TooManyItems`] instead of growing memory.
pub const MAX_EMOTIONS: usize = 256;

/// Why a [`Client`] could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The API key is not usable (empty, too long, or bytes a header cannot carry).
    Key(KeyError),
    /// The base URL does not parse.
    Url(UrlError),
    /// The key's prefix names no known environment, so a base URL must be given.
    UnknownEnvironment,
    /// An `https` base URL, but this build has no TLS (enable the `tls` feature).
    TlsUnavailable,
    /// The TLS configuration could not be built, or the host is not a valid TLS server name.
    TlsSetup,
    /// The `User-Agent` given to [`ClientBuilder::user_agent`] cannot be sent.
    UserAgent(UserAgentError),
    /// A timeout of zero (it would end every call before it starts).
    ZeroTimeout,
    /// The proxy URL (given to [`ClientBuilder::proxy`], or in `HTTPS_PROXY`, `HTTP_PROXY`
    /// or `ALL_PROXY`) is not usable.
    ProxyUrl(ProxyUrlError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Key(e) => write!(f, "{e}"),
            ClientError::Url(e) => write!(f, "{e}"),
            ClientError::UnknownEnvironment => f.write_str(
                "the API key's prefix is neither kaiko_live_ nor kaiko_test_: give a base URL",
            ),
            ClientError::TlsUnavailable => {
                f.write_str("https base URL, but kaiko-std was built without the `tls` feature")
            }
            ClientError::TlsSetup => f.write_str("TLS setup failed (configuration or server name)"),
            ClientError::UserAgent(e) => write!(f, "{e}"),
            ClientError::ZeroTimeout => f.write_str("a timeout of zero was given"),
            ClientError::ProxyUrl(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Why a call did not succeed.
// `Failure` is the core's fixed-size value (a few hundred bytes: it carries the API error's
// texts inline, no allocation in the core). It is returned once per call, so boxing it would
// only make matching on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// The request was refused before anything was sent (the code the server would return).
    Invalid(Invalid),
    /// The call ran and failed: the last attempt's cause and why it stopped.
    Failed(Failure),
    /// The base URL is `http://` to a host that is not loopback, or goes through a proxy
    /// that is not on this machine: the key would travel in clear text. Nothing was sent.
    /// Use `https://`, or opt in with [`Client::allow_cleartext_key`].
    CleartextKey,
    /// The core refused to start the call for a reason this version does not know by name.
    /// Nothing was sent.
    Refused(Refused),
    /// The proxy did not open the tunnel to the API (the last attempt's answer: a 407
    /// stops at once, a 502 or 503 is retried like a refused connection). Nothing reached
    /// the API on that attempt.
    Proxy(ProxyError),
    /// The key given to [`Client::with_idempotency_key`] cannot be sent. Nothing was sent.
    IdempotencyKey(IdempotencyKeyError),
    /// The client's stored settings could not be turned into a call.
    Setup(ClientError),
    /// The response held more items than a client keeps ([`MAX_EMOTIONS`]); the call was
    /// cancelled.
    TooManyItems {
        /// The limit that was reached.
        limit: usize,
    },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Invalid(i) => write!(f, "invalid request: {i}"),
            CallError::Failed(failure) => write!(f, "call failed: {failure}"),
            CallError::CleartextKey => write!(f, "{}", Refused::CleartextKey),
            CallError::Refused(r) => write!(f, "call refused: {r}"),
            CallError::Proxy(e) => write!(f, "{e}"),
            CallError::IdempotencyKey(e) => write!(f, "{e}"),
            CallError::Setup(e) => write!(f, "client setup: {e}"),
            CallError::TooManyItems { limit } => {
                write!(f, "response has more than {limit} emotion items")
            }
        }
    }
}

impl std::error::Error for CallError {}

/// The result of [`Client::analyze`]: every emotion item of the final attempt, and the call's
/// outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Emotion items in the order the response gave them.
    pub emotions: Vec<Emotion>,
    /// Status, summary, rate limit, request id, attempts.
    pub success: Success,
}

/// The result of [`Client::chat`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    /// The assistant's text (`choices[0]`), whole.
    pub content: String,
    /// Emotion items (the user message's, and any other the server analysed).
    pub emotions: Vec<Emotion>,
    /// Status, summary (`finish_reason`, `usage`, `id`), rate limit, request id, attempts.
    pub success: Success,
}

/// Longest completion text [`Client::chat`] keeps, in bytes (a longer one is
/// [`CallError::TooManyItems`]; stream it through the callback instead).
pub const MAX_CONTENT: usize = 1 << 20;

/// A blocking Kaiko client. One call at a time; the connection is kept alive between calls.
pub struct Client {
    api_key: String,
    base_url: base::Base,
    auth: Auth,
    policy: Policy,
    user_agent: String,
    /// The caller accepted sending the key over `http://` to a host that is not loopback.
    cleartext_key: bool,
    /// CA certificates (DER) trusted besides the webpki roots.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    extra_roots: Vec<Vec<u8>>,
    /// The `Idempotency-Key` of the next call, as the caller gave it.
    next_idempotency_key: Option<String>,
    /// When the previous call said `X-RateLimit-Remaining: 0`: the next one waits.
    not_before: Option<kaiko_core::time::Instant>,
    transport: Transport,
}

impl Drop for Client {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.api_key);
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ApiKey's Debug shows the environment prefix at most.
        let key = ApiKey::new(&self.api_key).map_err(|_| fmt::Error)?;
        f.debug_struct("Client")
            .field("api_key", &key)
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field("policy", &self.policy)
            .field("user_agent", &self.user_agent)
            .field("transport", &self.transport)
            .finish()
    }
}

/// `scheme://host[:port]prefix` of a parsed base URL.
fn url_string(base: &BaseUrl<'_>) -> String {
    let scheme = if base.tls { "https" } else { "http" };
    if base.is_default_port() {
        format!("{scheme}://{}{}", base.host, base.prefix)
    } else {
        format!("{scheme}://{}:{}{}", base.host, base.port, base.prefix)
    }
}

impl Client {
    /// Every setting of a client: base URL, user agent, policy and timeouts, authentication,
    /// trusted certificates, clear-text opt-in, proxy. See [`ClientBuilder`].
    pub fn builder(api_key: &str) -> ClientBuilder {
        ClientBuilder::new(api_key)
    }

    /// A client for the environment the key's prefix names (`kaiko_live_` → production,
    /// `kaiko_test_` → staging), over HTTPS: `Client::builder(api_key).build()`.
    pub fn new(api_key: &str) -> Result<Self, ClientError> {
        Self::builder(api_key).build()
    }

    /// A client for an explicit base URL such as `http://127.0.0.1:8787/v2` (see
    /// [`BaseUrl::parse`] for how the path combines with the endpoints):
    /// `Client::builder(api_key).base_url(base_url).build()`.
    pub fn with_base_url(api_key: &str, base_url: &str) -> Result<Self, ClientError> {
        Self::builder(api_key).base_url(base_url).build()
    }

    /// Replaces the retry policy (retries, backoff, deadlines).
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Chooses how the key is sent (`x-api-key` by default).
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Allows sending the key over `http://` to a host that is not loopback (a test
    /// server on a private network, say). Without it such calls end in
    /// [`CallError::CleartextKey`] before connecting: anyone on the path could read the key.
    #[must_use]
    pub fn allow_cleartext_key(mut self) -> Self {
        self.cleartext_key = true;
        self
    }

    /// Trusts `der` (a CA certificate, DER) in addition to the webpki-roots anchors: a
    /// private API gateway, or `kaiko sim --tls`'s CA.
    ///
    /// # Errors
    /// [`ClientError::TlsSetup`] for a certificate rustls cannot use, or
    /// [`ClientError::TlsUnavailable`] without the `tls` feature.
    pub fn with_root_certificate(mut self, der: &[u8]) -> Result<Self, ClientError> {
        self.trust(vec![der.to_vec()])?;
        Ok(self)
    }

    /// [`Client::with_root_certificate`] for every certificate in a PEM file's text (a file
    /// may also hold one DER certificate).
    ///
    /// # Errors
    /// [`ClientError::TlsSetup`] when the text holds no usable certificate, or
    /// [`ClientError::TlsUnavailable`] without the `tls` feature.
    pub fn with_root_certificates_pem(mut self, text: &[u8]) -> Result<Self, ClientError> {
        self.trust(transport::pem_certificates(text)?)?;
        Ok(self)
    }

    /// Adds CA certificates (DER) to the trusted set; the kept connection was made under
    /// the old set, so it is dropped.
    #[cfg(feature = "tls")]
    fn trust(&mut self, ders: Vec<Vec<u8>>) -> Result<(), ClientError> {
        self.extra_roots.extend(ders);
        let config = transport::tls_config(&self.extra_roots).map_err(|_| ClientError::TlsSetup)?;
        self.transport.tls = Some(config);
        self.transport.disconnect();
        Ok(())
    }

    #[cfg(not(feature = "tls"))]
    fn trust(&mut self, _ders: Vec<Vec<u8>>) -> Result<(), ClientError> {
        Err(ClientError::TlsUnavailable)
    }

    /// The base URL as given.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// Sends `key` as the `Idempotency-Key` of the next call, on every attempt of it,
    /// instead of a fresh random one: a key persisted with a job, so that a call repeated
    /// after a crash is recognised by the server (spec §7). The next call takes it, whatever
    /// its outcome; an unusable key (empty, longer than 64 bytes, or a byte outside visible
    /// ASCII) makes that call [`CallError::IdempotencyKey`] before anything is sent. GET
    /// operations carry no key.
    ///
    /// ```no_run
    /// # let mut client = kaiko_std::Client::new("kaiko_test_x")?;
    /// let analysis = client
    ///     .with_idempotency_key("job-42-analysis")
    ///     .analyze("I feel a bit unsure about this", None, None, |_| {})?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_idempotency_key(&mut self, key: &str) -> &mut Self {
        self.next_idempotency_key = Some(key.to_owned());
        self
    }

    /// TCP connections opened so far (reconnects included): with keep-alive, many calls
    /// share one.
    pub fn connections_opened(&self) -> usize {
        self.transport.connections_opened()
    }

    /// Runs one call to completion, handing every event to `on_event` (emotion items,
    /// content pieces, retry notices) and returning the outcome.
    ///
    /// After [`Event::RetryScheduled`] the results gathered so far belong to an abandoned
    /// attempt: discard them.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn call(
        &mut self,
        request: Request<'_>,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, CallError> {
        self.run(
            request,
            &mut |event| {
                on_event(event);
                true
            },
            |success| *success,
        )
    }

    /// [`Client::call`] whose callback may stop the call (return `false`), returning what
    /// `finish` makes of the success: built where it is returned, the success is copied
    /// once (it is kilobytes with every list decoded).
    #[allow(clippy::result_large_err)] // see `CallError`
    fn run<T>(
        &mut self,
        request: Request<'_>,
        on_event: &mut dyn FnMut(Event<'_>) -> bool,
        finish: impl FnOnce(&Success) -> T,
    ) -> Result<T, CallError> {
        let idempotency_key = self
            .next_idempotency_key
            .take()
            .map(|k| IdempotencyKey::parse(&k))
            .transpose()
            .map_err(CallError::IdempotencyKey)?;
        let seed = self.transport.seeds.next_seed();
        let key = ApiKey::new(&self.api_key).map_err(|e| CallError::Setup(ClientError::Key(e)))?;
        let base = self.base_url.url();
        // Through a proxy elsewhere, even a loopback URL's request crosses the network in
        // the clear (the tunnel is plain TCP up to the proxy).
        let remote_proxy = self
            .transport
            .proxy
            .as_ref()
            .is_some_and(|p| !p.is_loopback());
        if !base.tls && remote_proxy && !self.cleartext_key {
            return Err(CallError::CleartextKey);
        }
        let mut config = Config::new(key, base)
            .with_auth(self.auth)
            .with_policy(self.policy)
            .with_user_agent(&self.user_agent);
        if self.cleartext_key {
            config = config.allow_cleartext_key();
        }
        let now = self.transport.now();
        // A `match`, not `map_err`: each step through a `Result` would copy the whole call.
        let mut call = match Call::new(&config, request, seed, now) {
            Ok(call) => call,
            Err(Refused::Invalid(i)) => return Err(CallError::Invalid(i)),
            Err(Refused::CleartextKey) => return Err(CallError::CleartextKey),
            Err(other) => return Err(CallError::Refused(other)),
        };
        call.set_unix_time(now, StdClock::unix_secs());
        // A fresh call has not started: neither setting can be refused.
        if let Some(k) = idempotency_key {
            let _ = call.set_idempotency_key(k);
        }
        if let Some(at) = self.not_before.take() {
            let _ = call.set_not_before(at);
        }
        let mut resume_at = None;
        let outcome = self.transport.run(&mut call, on_event, now, |s| {
            resume_at = s.resume_at;
            finish(s)
        });
        let proxy_refusal = self.transport.take_proxy_failure();
        // Mended in place and returned as it is: a new `Result` would copy the success. A
        // second binding, not `let mut` on the first: measured, that one made the compiler
        // copy the success once more (about 390 instructions per call).
        let mut outcome = outcome;
        match &mut outcome {
            Ok(_) => self.not_before = resume_at,
            // The last attempt ended at the proxy: say so rather than "connection refused".
            Err(e) => {
                if let (CallError::Failed(f), Some(p)) = (&*e, proxy_refusal)
                    && matches!(f.cause, Cause::Connection(_) | Cause::Cancelled)
                {
                    *e = CallError::Proxy(p);
                }
            }
        }
        outcome
    }

    /// Analyses one text: stateless, or in `context` (stored server-side) when given, with an
    /// optional `external_id` for later lookup. Returns the emotion items of the final attempt.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn analyze(
        &mut self,
        text: &str,
        context: Option<&str>,
        external_id: Option<&str>,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Analysis, CallError> {
        with_analyze_request(text, context, external_id, |request| {
            self.collect(request, &mut on_event)
        })
    }

    /// Runs any operation, keeping its emotion items in order (at most [`MAX_EMOTIONS`]: a
    /// longer response is [`CallError::TooManyItems`]); `on_event` sees every event as well.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn collect(
        &mut self,
        request: Request<'_>,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Analysis, CallError> {
        let mut emotions = Vec::new();
        let mut overflow = false;
        let mut result = self.run(
            request,
            &mut |event| {
                match event {
                    Event::Emotion(e) if emotions.len() < MAX_EMOTIONS => emotions.push(e.clone()),
                    Event::Emotion(_) => {
                        overflow = true;
                        return false;
                    }
                    Event::RetryScheduled(_) => emotions.clear(),
                    _ => {}
                }
                on_event(event);
                true
            },
            |success| Analysis {
                emotions: Vec::new(),
                success: *success,
            },
        );
        if overflow {
            return Err(CallError::TooManyItems {
                limit: MAX_EMOTIONS,
            });
        }
        // In place, as `run` built it (see there).
        if let Ok(analysis) = &mut result {
            analysis.emotions = emotions;
        }
        result
    }

    /// `POST /v2/emotions/batch-analysis`: one user message per text (at most
    /// [`kaiko_core::request::MAX_MESSAGES`]), one item per text, in order.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn batch(
        &mut self,
        texts: &[&str],
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Analysis, CallError> {
        let messages: Vec<Message<'_>> = texts.iter().map(|t| Message::user(t)).collect();
        self.collect(
            Request::BatchAnalyze {
                model: kaiko_core::request::EMOTION_MODEL,
                messages: &messages,
            },
            on_event,
        )
    }

    /// `GET /v2/emotions/{context_id}`: the context's latest state; the trajectory is in
    /// `success.summary.details`.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn context_state(
        &mut self,
        context_id: &str,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Analysis, CallError> {
        self.collect(Request::ContextState { context_id }, on_event)
    }

    /// `GET /v2/emotions/{context_id}/message/{external_id}`: one stored message.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn message(
        &mut self,
        context_id: &str,
        external_id: &str,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Analysis, CallError> {
        self.collect(
            Request::MessageLookup {
                context_id,
                external_id,
            },
            on_event,
        )
    }

    /// `POST /v2/chat/completions`: the completion text, the emotion items and the usage.
    /// With `request.stream`, `on_event` receives each [`Event::Content`] piece as it is
    /// decoded (print it as it comes); the returned content is the whole text either way.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub fn chat(
        &mut self,
        request: ChatRequest<'_>,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Chat, CallError> {
        let mut content = String::new();
        let mut overflow = false;
        let analysis = self.collect(Request::ChatCompletion(request), |event| {
            match event {
                Event::Content(piece) if content.len() + piece.len() <= MAX_CONTENT => {
                    content.push_str(piece)
                }
                Event::Content(_) => overflow = true,
                Event::RetryScheduled(_) => content.clear(),
                _ => {}
            }
            on_event(event);
        })?;
        if overflow {
            return Err(CallError::TooManyItems { limit: MAX_CONTENT });
        }
        Ok(Chat {
            content,
            emotions: analysis.emotions,
            success: analysis.success,
        })
    }
}

/// Checks what [`Client::analyze`] would send for these arguments, without any I/O: the
/// codes the server would answer with, so a command line can refuse bad input before it
/// sets anything up.
pub fn check_analyze(
    text: &str,
    context: Option<&str>,
    external_id: Option<&str>,
) -> Result<(), Invalid> {
    with_analyze_request(text, context, external_id, |request| request.validate())
}

/// Builds the request of [`Client::analyze`] and hands it to `f`.
fn with_analyze_request<R>(
    text: &str,
    context: Option<&str>,
    external_id: Option<&str>,
    f: impl FnOnce(Request<'_>) -> R,
) -> R {
    let messages = [Message {
        role: Some("user"),
        text,
        external_id,
        timestamp: None,
    }];
    f(match context {
        Some(context_id) => Request::AnalyzeInContext {
            model: EMOTION_MODEL,
            context_id,
            messages: &messages,
        },
        None => Request::Analyze {
            model: EMOTION_MODEL,
            messages: &messages,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "kaiko_live_SUPERSECRET123";

    #[test]
    fn debug_never_shows_the_key() {
        let client = Client::with_base_url(SECRET, "http://127.0.0.1:9/v2").unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("SUPERSECRET"), "{dbg}");
        assert!(dbg.contains("kaiko_live_"), "{dbg}");
    }

    #[test]
    fn environment_comes_from_the_prefix() {
        assert_eq!(
            Client::new("sk_prod_abc").unwrap_err(),
            ClientError::UnknownEnvironment
        );
        assert!(matches!(Client::new(""), Err(ClientError::Key(_))));
        assert!(matches!(
            Client::with_base_url("k", "ftp://x"),
            Err(ClientError::Url(_))
        ));
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_needs_the_tls_feature() {
        assert_eq!(
            Client::new(SECRET).unwrap_err(),
            ClientError::TlsUnavailable
        );
    }

    #[cfg(feature = "tls")]
    #[test]
    fn https_base_url_from_the_key() {
        let client = Client::new(SECRET).unwrap();
        assert_eq!(client.base_url(), "https://api.kaikostudios.xyz/v2");
        let client = Client::new("kaiko_test_x").unwrap();
        assert_eq!(client.base_url(), "https://stg.api.kaikostudios.xyz/v2");
    }

    #[test]
    fn url_strings_round_trip() {
        for url in [
            "http://127.0.0.1:8787/v2",
            "https://api.kaikostudios.xyz/v2",
            "http://[::1]:9000/x/v2",
            "http://h",
        ] {
            assert_eq!(url_string(&BaseUrl::parse(url).unwrap()), url);
        }
    }

    #[test]
    fn refused_connection_fails_typed_after_retries() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let policy = Policy {
            max_retries: 1,
            base_delay: kaiko_core::time::Duration::from_millis(5),
            ..Policy::DEFAULT
        };
        // Direct, whatever proxy the environment names: the refusal must be the port's.
        let mut client = Client::builder("k")
            .base_url(&format!("http://127.0.0.1:{port}/v2"))
            .without_proxy()
            .policy(policy)
            .build()
            .unwrap();
        let mut retries = 0;
        let err = client
            .analyze("hello", None, None, |e| {
                if matches!(e, Event::RetryScheduled(_)) {
                    retries += 1;
                }
            })
            .unwrap_err();
        assert_eq!(retries, 1);
        match err {
            CallError::Failed(f) => {
                assert_eq!(
                    f.cause,
                    Cause::Connection(kaiko_core::call::ConnectionLost::Refused)
                );
                assert_eq!(f.stop, Stop::RetriesExhausted);
                assert_eq!(f.attempts, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_context_is_refused_before_connecting() {
        let mut client = Client::with_base_url("k", "http://127.0.0.1:9/v2").unwrap();
        let long = "c".repeat(129);
        assert!(matches!(
            client.analyze("hi", Some(&long), None, |_| {}),
            Err(CallError::Invalid(_))
        ));
        assert!(matches!(
            client.analyze("hi", Some("a\nb"), None, |_| {}),
            Err(CallError::Invalid(_))
        ));
        assert_eq!(client.connections_opened(), 0);
    }

    #[test]
    fn cleartext_key_to_a_remote_host_is_refused_unless_allowed() {
        // 192.0.2.1 is TEST-NET-1: never reached, the call must stop before connecting.
        let mut client = Client::with_base_url("k", "http://192.0.2.1:9/v2").unwrap();
        assert_eq!(
            client.analyze("hi", None, None, |_| {}).unwrap_err(),
            CallError::CleartextKey
        );
        assert_eq!(client.connections_opened(), 0);
        assert!(client.allow_cleartext_key().cleartext_key);
    }
}
