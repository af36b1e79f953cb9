//! [`Client`]: calls over connections from a [`Connect`], kept alive between calls.

use core::ops::ControlFlow;

use embedded_io_async::{Read, Write};
use kaiko_core::call::{Call, Config, ConnectionLost, Event, Failure, Refused, Success};
use kaiko_core::request::Request;
use kaiko_core::time::Instant;

use crate::drive::{drive, now, until};

/// Opens connections to the API host.
///
/// `connect` takes `&self` (as `embedded-nal-async`'s `TcpConnect` does) so a [`Client`] can
/// keep a connection open between calls while still being able to open the next one.
#[allow(async_fn_in_trait)] // Executors on microcontrollers are single-threaded: no `Send` bound.
pub trait Connect {
    /// An open connection.
    type Conn<'c>: Read + Write
    where
        Self: 'c;

    /// Resolves `host` (a name, an IPv4 literal, or a bracketed IPv6 literal) and connects to
    /// `port`.
    async fn connect(&self, host: &str, port: u16) -> Result<Self::Conn<'_>, ConnectionLost>;
}

/// Why a call returned without an API outcome, or the outcome was a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::large_enum_variant)] // No allocator to box into; returned once per call.
#[non_exhaustive]
pub enum Error {
    /// The call failed: every attempt allowed by the policy failed, or the failure was not
    /// retryable.
    Failed(Failure),
    /// The call was refused before anything was sent (an invalid request, or the key would
    /// travel in clear text).
    Refused(Refused),
    /// The transmit buffer cannot hold the request.
    BufferTooSmall {
        /// Bytes the request needs.
        needed: usize,
    },
    /// The base URL is `https`, but this path has no TLS: use `tls::call_tls`. Nothing was
    /// sent.
    TlsRequired,
    /// `tls::call_tls` with an `http` base URL. Nothing was sent.
    NotHttps,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Failed(failure) => write!(f, "call failed: {failure}"),
            Error::Refused(e) => write!(f, "{e}"),
            Error::BufferTooSmall { needed } => {
                write!(f, "transmit buffer too small: {needed} bytes needed")
            }
            Error::TlsRequired => f.write_str("https base URL on a connection without TLS"),
            Error::NotHttps => f.write_str("TLS call with an http base URL"),
        }
    }
}

impl core::error::Error for Error {}

/// Runs `call` over connections from `connector`, the one in `conn` first.
pub(crate) async fn run<'c, C: Connect>(
    call: &mut Call<'_>,
    connector: &'c C,
    conn: &mut Option<C::Conn<'c>>,
    tx: &mut [u8],
    rx: &mut [u8],
    on_event: &mut impl FnMut(Event<'_>),
) -> Result<Success, Error> {
    loop {
        match drive(call, conn, tx, rx, on_event).await.next_step() {
            ControlFlow::Break(result) => return result,
            ControlFlow::Continue(deadline) => {
                let base = *call.base_url();
                match until(deadline, connector.connect(base.host, base.port)).await {
                    Some(Ok(c)) => {
                        *conn = Some(c);
                        call.handle_connected(now(), false).unwrap_or(());
                    }
                    Some(Err(lost)) => call.handle_connection_lost(now(), lost),
                    None => {} // the call fails the attempt at its connect deadline
                }
            }
        }
    }
}

/// An async client: one call at a time over connections from `C`, reusing a connection
/// the server keeps open (a reused connection found dead before the response is replaced by
/// the call itself, without counting an attempt).
pub struct Client<'a, C: Connect> {
    config: Config<'a>,
    connector: &'a C,
    conn: Option<C::Conn<'a>>,
    tx: &'a mut [u8],
    rx: &'a mut [u8],
    /// When the previous call said `X-RateLimit-Remaining: 0`: the next one waits.
    not_before: Option<Instant>,
}

impl<'a, C: Connect> core::fmt::Debug for Client<'a, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("connected", &self.conn.is_some())
            .field("tx", &self.tx.len())
            .field("rx", &self.rx.len())
            .finish()
    }
}

impl<'a, C: Connect> Client<'a, C> {
    /// A client for `config`; `tx` must hold the largest request (head and body), `rx` is
    /// the read buffer (bigger means fewer reads; 512 bytes is plenty).
    pub fn new(config: Config<'a>, connector: &'a C, tx: &'a mut [u8], rx: &'a mut [u8]) -> Self {
        Client {
            config,
            connector,
            conn: None,
            tx,
            rx,
            not_before: None,
        }
    }

    /// Whether a connection is being kept open for the next call.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the kept connection, if any.
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// Makes one call (all of its attempts). `seed` must come from the device's entropy: it
    /// fixes the `Idempotency-Key` and the backoff jitter. Results arrive in `on_event` as
    /// they are decoded; discard partial results on [`Event::RetryScheduled`]. The request
    /// may borrow data that lives only for this call.
    pub async fn call(
        &mut self,
        request: Request<'_>,
        seed: u64,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        if self.config.base_url.tls {
            return Err(Error::TlsRequired);
        }
        let mut call = Call::new(&self.config, request, seed, now()).map_err(Error::Refused)?;
        if let Some(at) = self.not_before.take() {
            // A fresh call has not started: this cannot be refused.
            let _ = call.set_not_before(at);
        }
        let result = run(
            &mut call,
            self.connector,
            &mut self.conn,
            self.tx,
            self.rx,
            &mut on_event,
        )
        .await;
        if let Ok(s) = &result {
            self.not_before = s.resume_at;
        }
        result
    }
}

impl<C: Connect> crate::Api for Client<'_, C> {
    fn call(
        &mut self,
        request: Request<'_>,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> impl Future<Output = Result<Success, Error>> {
        Client::call(self, request, seed, on_event)
    }
}
