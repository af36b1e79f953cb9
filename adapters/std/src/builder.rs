//! [`ClientBuilder`]: every setting of a [`Client`], checked once in [`ClientBuilder::build`].

use std::fmt;
use std::time::Duration as StdDuration;

use kaiko_core::base_url::BaseUrl;
use kaiko_core::key::{ApiKey, Auth, Environment};
use kaiko_core::retry::Policy;
use kaiko_core::time::Duration;

use crate::drive::Transport;
use crate::proxy::{self, Proxy};
use crate::{Client, ClientError};

/// Longest `User-Agent` accepted, in bytes: a product name, a version and a comment fit
/// easily; a longer one is more likely a mistake than a name.
pub const MAX_USER_AGENT: usize = 256;

/// Why a `User-Agent` is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserAgentError {
    /// The value is empty.
    Empty,
    /// The value is longer than [`MAX_USER_AGENT`] bytes.
    TooLong,
    /// A byte outside printable ASCII (`0x20..=0x7E`): a control byte would end or split
    /// the header, and non-ASCII has no agreed meaning in a header value (RFC 9110 §5.5).
    InvalidByte,
}

impl fmt::Display for UserAgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UserAgentError::Empty => "user agent is empty",
            UserAgentError::TooLong => "user agent is longer than 256 bytes",
            UserAgentError::InvalidByte => "user agent holds a byte outside printable ASCII",
        })
    }
}

impl std::error::Error for UserAgentError {}

/// Where connections go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ProxyChoice {
    /// `HTTPS_PROXY` and friends, read when the client is built (the default).
    Environment,
    /// This proxy URL, whatever the environment says.
    Url(String),
    /// Always connect directly.
    Direct,
}

/// A trusted CA certificate as given.
#[derive(Clone)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
enum Root {
    Der(Vec<u8>),
    Pem(Vec<u8>),
}

/// Settings of a [`Client`], from [`Client::builder`]. Nothing is checked until
/// [`ClientBuilder::build`], which reports the first problem as a [`ClientError`].
///
/// ```no_run
/// use std::time::Duration;
/// use kaiko_std::{Auth, Client};
///
/// let mut client = Client::builder("kaiko_live_0123456789")
///     .user_agent("my-app/1.2")
///     .auth(Auth::Bearer)
///     .timeout_connect(Duration::from_secs(5))
///     .timeout_call(Duration::from_secs(30))
///     .proxy("http://user:secret@proxy.internal:3128")
///     .build()?;
/// let analysis = client.analyze("I feel a bit unsure about this", None, None, |_| {})?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: String,
    base_url: Option<String>,
    user_agent: Option<String>,
    auth: Auth,
    policy: Policy,
    connect: Option<StdDuration>,
    first_byte: Option<StdDuration>,
    response: Option<StdDuration>,
    call: Option<StdDuration>,
    roots: Vec<Root>,
    cleartext_key: bool,
    proxy: ProxyChoice,
}

impl Drop for ClientBuilder {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.api_key);
        if let ProxyChoice::Url(url) = &mut self.proxy {
            // It may hold the proxy's password.
            zeroize::Zeroize::zeroize(url);
        }
    }
}

impl fmt::Debug for ClientBuilder {
    // Neither the key nor the proxy URL (which may carry a password) is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("user_agent", &self.user_agent)
            .field("auth", &self.auth)
            .field("policy", &self.policy)
            .field("roots", &self.roots.len())
            .field("cleartext_key", &self.cleartext_key)
            .field(
                "proxy",
                &match self.proxy {
                    ProxyChoice::Environment => "environment",
                    ProxyChoice::Url(_) => "explicit",
                    ProxyChoice::Direct => "direct",
                },
            )
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(api_key: &str) -> Self {
        ClientBuilder {
            api_key: api_key.to_owned(),
            base_url: None,
            user_agent: None,
            auth: Auth::default(),
            policy: Policy::DEFAULT,
            connect: None,
            first_byte: None,
            response: None,
            call: None,
            roots: Vec::new(),
            cleartext_key: false,
            proxy: ProxyChoice::Environment,
        }
    }

    /// Sends requests to `url` (`http://127.0.0.1:8787/v2`, a private gateway) instead of
    /// the environment the key's prefix names (`kaiko_live_` → production, `kaiko_test_` →
    /// staging). See [`BaseUrl::parse`] for how its path combines with the endpoints.
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = Some(url.to_owned());
        self
    }

    /// The `User-Agent` header (default [`kaiko_core::request::USER_AGENT`],
    /// `kaiko-rs/<version>`): 1 to [`MAX_USER_AGENT`] printable ASCII bytes.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(user_agent.to_owned());
        self
    }

    /// How the key is sent (`x-api-key` by default).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Retries, backoff and deadlines ([`Policy::DEFAULT`] by default). The `timeout_*`
    /// settings apply on top of it, whichever is called first.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Longest time to open a connection, for each attempt: TCP, the proxy's tunnel and the
    /// TLS handshake together (default 10 s).
    pub fn timeout_connect(mut self, timeout: StdDuration) -> Self {
        self.connect = Some(timeout);
        self
    }

    /// Longest time from sending a request to the first byte of the answer, for each
    /// attempt (default 35 s).
    pub fn timeout_first_byte(mut self, timeout: StdDuration) -> Self {
        self.first_byte = Some(timeout);
        self
    }

    /// Longest time from sending a request to the last byte of the answer, for each attempt
    /// (default 60 s).
    pub fn timeout_response(mut self, timeout: StdDuration) -> Self {
        self.response = Some(timeout);
        self
    }

    /// Longest time for a whole call, every attempt and backoff included (default 120 s).
    pub fn timeout_call(mut self, timeout: StdDuration) -> Self {
        self.call = Some(timeout);
        self
    }

    /// Trusts `der` (a CA certificate, DER) besides the webpki-roots anchors: a private API
    /// gateway, or `kaiko sim --tls`'s CA. Needs the `tls` feature.
    pub fn root_certificate(mut self, der: &[u8]) -> Self {
        self.roots.push(Root::Der(der.to_vec()));
        self
    }

    /// [`ClientBuilder::root_certificate`] for every certificate of a PEM text (or one DER
    /// certificate).
    pub fn root_certificates_pem(mut self, text: &[u8]) -> Self {
        self.roots.push(Root::Pem(text.to_vec()));
        self
    }

    /// Allows sending the key over `http://` to a host that is not loopback, or through a
    /// proxy that is not on this machine. Without it such calls end in
    /// [`CallError::CleartextKey`](crate::CallError::CleartextKey) before connecting.
    pub fn allow_cleartext_key(mut self) -> Self {
        self.cleartext_key = true;
        self
    }

    /// Connects through the HTTP proxy at `url`, `http://[user:password@]host[:port]`
    /// (port 80 by default; user and password percent-encoded, sent as
    /// `Proxy-Authorization: Basic`). The environment is not read and `NO_PROXY` does not
    /// apply.
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = ProxyChoice::Url(url.to_owned());
        self
    }

    /// Takes the proxy from the environment when [`ClientBuilder::build`] runs: this is the
    /// default, as in curl and ureq 3. The [crate docs](crate#proxies) give the variables
    /// and the `NO_PROXY` rules.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxyChoice::Environment;
        self
    }

    /// Never uses a proxy, whatever the environment says.
    pub fn without_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// Checks every setting and builds the client. Nothing is sent.
    ///
    /// # Errors
    /// The first problem found: [`ClientError::Key`], [`ClientError::UnknownEnvironment`]
    /// (no base URL and a key prefix that names none), [`ClientError::Url`],
    /// [`ClientError::UserAgent`], [`ClientError::ZeroTimeout`], [`ClientError::ProxyUrl`]
    /// (the explicit one, or a malformed environment variable),
    /// [`ClientError::TlsUnavailable`] (an `https` URL or a certificate without the `tls`
    /// feature), [`ClientError::TlsSetup`] (an unusable certificate or TLS host name).
    pub fn build(&self) -> Result<Client, ClientError> {
        let key = ApiKey::new(&self.api_key).map_err(ClientError::Key)?;
        let base_url = match &self.base_url {
            Some(url) => url.clone(),
            None => match key.environment() {
                Environment::Unknown => return Err(ClientError::UnknownEnvironment),
                env => crate::url_string(&env.base_url().ok_or(ClientError::UnknownEnvironment)?),
            },
        };
        let parsed = crate::base::Base::parse(base_url).map_err(ClientError::Url)?;
        let base = parsed.url();
        let user_agent = match &self.user_agent {
            Some(ua) => check_user_agent(ua)
                .map_err(ClientError::UserAgent)?
                .to_owned(),
            None => kaiko_core::request::USER_AGENT.to_owned(),
        };
        let policy = self.policy_with_timeouts()?;
        let proxy = match &self.proxy {
            ProxyChoice::Environment => proxy::from_process_env(&base),
            ProxyChoice::Url(url) => Proxy::parse(url).map(Some),
            ProxyChoice::Direct => Ok(None),
        }
        .map_err(ClientError::ProxyUrl)?;
        let mut transport = Transport::new();
        transport.proxy = proxy;
        let extra_roots = self.tls(&base, &mut transport)?;
        Ok(Client {
            api_key: self.api_key.clone(),
            base_url: parsed,
            auth: self.auth,
            policy,
            user_agent,
            cleartext_key: self.cleartext_key,
            extra_roots,
            next_idempotency_key: None,
            not_before: None,
            transport,
        })
    }

    /// The policy with the `timeout_*` settings applied.
    fn policy_with_timeouts(&self) -> Result<Policy, ClientError> {
        let mut policy = self.policy;
        let set = |slot: &mut Duration, value: Option<StdDuration>| -> Result<(), ClientError> {
            if let Some(v) = value {
                *slot = core_duration(v)?;
            }
            Ok(())
        };
        set(&mut policy.timeouts.connect, self.connect)?;
        set(&mut policy.timeouts.first_byte, self.first_byte)?;
        set(&mut policy.timeouts.response, self.response)?;
        if let Some(call) = self.call {
            policy.deadline = Some(core_duration(call)?);
        }
        Ok(policy)
    }

    /// Sets up TLS for an `https` base URL or extra certificates; returns the certificates
    /// (DER) for the client to keep.
    #[cfg(feature = "tls")]
    fn tls(
        &self,
        base: &BaseUrl<'_>,
        transport: &mut Transport,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        let mut roots = Vec::new();
        for root in &self.roots {
            match root {
                Root::Der(der) => roots.push(der.clone()),
                Root::Pem(text) => roots.extend(crate::transport::pem_certificates(text)?),
            }
        }
        if base.tls {
            rustls::pki_types::ServerName::try_from(crate::transport::bare_host(base.host))
                .map_err(|_| ClientError::TlsSetup)?;
        }
        if base.tls || !roots.is_empty() {
            transport.tls =
                Some(crate::transport::tls_config(&roots).map_err(|_| ClientError::TlsSetup)?);
        }
        Ok(roots)
    }

    #[cfg(not(feature = "tls"))]
    fn tls(
        &self,
        base: &BaseUrl<'_>,
        _transport: &mut Transport,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        if base.tls || !self.roots.is_empty() {
            return Err(ClientError::TlsUnavailable);
        }
        Ok(Vec::new())
    }
}

/// `ua` when it is a usable `User-Agent`.
fn check_user_agent(ua: &str) -> Result<&str, UserAgentError> {
    if ua.is_empty() {
        Err(UserAgentError::Empty)
    } else if ua.len() > MAX_USER_AGENT {
        Err(UserAgentError::TooLong)
    } else if !ua.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        Err(UserAgentError::InvalidByte)
    } else {
        Ok(ua)
    }
}

/// A timeout in the core's milliseconds: zero is refused (it would end every call at once);
/// a fraction of a millisecond rounds up to one; a huge one saturates.
fn core_duration(d: StdDuration) -> Result<Duration, ClientError> {
    if d.is_zero() {
        return Err(ClientError::ZeroTimeout);
    }
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "kaiko_test_builder";
    const LOCAL: &str = "http://127.0.0.1:9/v2";

    fn local() -> ClientBuilder {
        Client::builder(KEY).base_url(LOCAL).without_proxy()
    }

    #[test]
    fn user_agents_are_checked() {
        assert_eq!(
            check_user_agent("my-app/1.0 (linux)"),
            Ok("my-app/1.0 (linux)")
        );
        assert_eq!(check_user_agent(""), Err(UserAgentError::Empty));
        assert_eq!(
            check_user_agent("a\r\nX-Evil: 1"),
            Err(UserAgentError::InvalidByte)
        );
        assert_eq!(
            check_user_agent("tab\there"),
            Err(UserAgentError::InvalidByte)
        );
        assert_eq!(
            check_user_agent("del\x7f"),
            Err(UserAgentError::InvalidByte)
        );
        assert_eq!(check_user_agent("café"), Err(UserAgentError::InvalidByte));
        let long = "a".repeat(MAX_USER_AGENT + 1);
        assert_eq!(check_user_agent(&long), Err(UserAgentError::TooLong));
        assert!(check_user_agent(&long[1..]).is_ok());
        assert_eq!(
            local().user_agent("bad\n").build().unwrap_err(),
            ClientError::UserAgent(UserAgentError::InvalidByte)
        );
        assert_eq!(
            local().user_agent("").build().unwrap_err(),
            ClientError::UserAgent(UserAgentError::Empty)
        );
    }

    #[test]
    fn timeouts_apply_on_top_of_the_policy() {
        let client = local()
            .timeout_connect(StdDuration::from_millis(1500))
            .timeout_first_byte(StdDuration::from_micros(10))
            .policy(Policy::NO_RETRIES)
            .timeout_response(StdDuration::from_secs(7))
            .timeout_call(StdDuration::from_secs(u64::MAX))
            .build()
            .unwrap();
        let p = client.policy;
        assert_eq!(p.max_retries, 0);
        assert_eq!(p.timeouts.connect, Duration::from_millis(1500));
        assert_eq!(p.timeouts.first_byte, Duration::from_millis(1));
        assert_eq!(p.timeouts.response, Duration::from_secs(7));
        assert_eq!(p.deadline, Some(Duration::from_millis(u64::MAX)));
        for builder in [
            local().timeout_connect(StdDuration::ZERO),
            local().timeout_first_byte(StdDuration::ZERO),
            local().timeout_response(StdDuration::ZERO),
            local().timeout_call(StdDuration::ZERO),
        ] {
            assert_eq!(builder.build().unwrap_err(), ClientError::ZeroTimeout);
        }
    }

    #[test]
    fn proxy_urls_are_checked_at_build() {
        use crate::ProxyUrlError;
        assert_eq!(
            local().proxy("socks5://p:1080").build().unwrap_err(),
            ClientError::ProxyUrl(ProxyUrlError::UnsupportedScheme)
        );
        assert_eq!(
            local().proxy("http://p:3128/x").build().unwrap_err(),
            ClientError::ProxyUrl(ProxyUrlError::Path)
        );
        let client = local()
            .proxy("http://u:secret@p.example:3128")
            .build()
            .unwrap();
        let proxy = client.transport.proxy.as_ref().unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("p.example", 3128));
        // The last choice wins.
        let client = local().proxy("http://p:1").without_proxy().build().unwrap();
        assert!(client.transport.proxy.is_none());
    }

    #[test]
    fn debug_shows_neither_key_nor_proxy_password() {
        let builder = Client::builder("kaiko_live_SUPERSECRET").proxy("http://u:hunter2@p:1");
        let dbg = format!("{builder:?}");
        assert!(
            !dbg.contains("SUPERSECRET") && !dbg.contains("hunter2"),
            "{dbg}"
        );
        let client = builder.base_url(LOCAL).build().unwrap();
        let dbg = format!("{client:?}");
        assert!(
            !dbg.contains("SUPERSECRET") && !dbg.contains("hunter2"),
            "{dbg}"
        );
        assert!(dbg.contains("credentials: true"), "{dbg}");
    }

    #[test]
    fn base_url_and_key_errors() {
        assert_eq!(
            Client::builder("sk_x").without_proxy().build().unwrap_err(),
            ClientError::UnknownEnvironment
        );
        assert!(matches!(
            Client::builder("").base_url(LOCAL).build(),
            Err(ClientError::Key(_))
        ));
        assert!(matches!(
            Client::builder(KEY).base_url("ftp://x").build(),
            Err(ClientError::Url(_))
        ));
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn certificates_need_the_tls_feature() {
        assert_eq!(
            local().root_certificate(&[0x30]).build().unwrap_err(),
            ClientError::TlsUnavailable
        );
    }

    #[cfg(feature = "tls")]
    #[test]
    fn unusable_certificates_fail_the_build() {
        assert_eq!(
            local()
                .root_certificates_pem(b"not a certificate")
                .build()
                .unwrap_err(),
            ClientError::TlsSetup
        );
        assert_eq!(
            local()
                .root_certificate(&[0x30, 0x03, 1, 2, 3])
                .build()
                .unwrap_err(),
            ClientError::TlsSetup
        );
    }
}
