//! [`Client`]: calls over connections from a [`Connect`], kept alive between calls.

use embassy_time::Timer;
use embedded_io_async::{Read, Write};
use kaiko_core::call::{BufferTooSmall, Call, Config, ConnectionLost, Event, Success, Failure};
use kaiko_core::request::{Invalid, Request};

use crate::drive::{Drive, Ended, drain, drive_conn, now, until};

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

/// Why [`Client::call`] returned without an API outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::large_enum_variant)] // No allocator to box into; returned once per call.
pub enum Error {
    /// The call failed: every attempt allowed by the policy failed, or the failure was not
    /// retryable.
    Failed(Failure),
    /// The request was refused before sending, with the status and code the server would send.
    Invalid(Invalid),
    /// The transmit buffer cannot hold the request.
    BufferTooSmall(BufferTooSmall),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Failed(fail) => write!(f, "call failed after {} attempts: {:?}", fail.attempts, fail.cause),
            Error::Invalid(e) => write!(f, "invalid request: {e}"),
            Error::BufferTooSmall(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for Error {}

/// An async client: one [`Call`] at a time over connections from `C`, reusing a connection
/// the server keeps open.
///
/// A reused connection that turns out to be closed before any response byte arrives (a
/// server's idle timeout) is replaced and the same request is sent again without counting an
/// attempt; every other failure goes through the call's retry policy.
pub struct Client<'a, C: Connect> {
    config: Config<'a>,
    connector: &'a C,
    conn: Option<C::Conn<'a>>,
    tx: &'a mut [u8],
    rx: &'a mut [u8],
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
        Client { config, connector, conn: None, tx, rx }
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
    /// they are decoded; discard partial results on [`Event::RetryScheduled`].
    pub async fn call(
        &mut self,
        request: Request<'a>,
        seed: u64,
        mut on_event: impl FnMut(&Event),
    ) -> Result<Success, Error> {
        let mut call = Call::new(&self.config, request, seed, now()).map_err(Error::Invalid)?;
        self.run(&mut call, &mut on_event).await
    }

    /// Drives a call the caller built (with a persisted idempotency key, a
    /// [`Call::set_not_before`], …) to its end.
    pub async fn run(&mut self, call: &mut Call<'_>, on_event: &mut impl FnMut(&Event)) -> Result<Success, Error> {
        let host = self.config.base_url.host;
        let port = self.config.base_url.port;
        // A request already in `tx` that must be written first (after a stale connection).
        let mut pending = None;
        let mut in_flight = false;
        loop {
            let reused = self.conn.is_some();
            if self.conn.is_none() {
                if pending.is_none() {
                    // Wait out a backoff before connecting, not while holding a socket.
                    match call.poll_timeout() {
                        Some(at) if at > now() => {
                            Timer::at(at.into()).await;
                            call.handle_timeout(now());
                            if let Some(result) = drain(call, on_event, &mut in_flight) {
                                return result.map_err(Error::Failed);
                            }
                            continue;
                        }
                        _ => {}
                    }
                    call.handle_connecting(now());
                }
                match until(call.poll_timeout(), self.connector.connect(host, port)).await {
                    Some(Ok(conn)) => self.conn = Some(conn),
                    Some(Err(lost)) => {
                        pending = None;
                        call.handle_connection_lost(now(), lost);
                    }
                    None => {
                        pending = None;
                        call.handle_timeout(now());
                    }
                }
                if let Some(result) = drain(call, on_event, &mut in_flight) {
                    return result.map_err(Error::Failed);
                }
                if self.conn.is_none() {
                    continue;
                }
            }
            let Some(conn) = self.conn.as_mut() else { continue };
            let ended = drive_conn(conn, call, self.tx, self.rx, on_event, reused, pending.take()).await;
            match ended {
                Ended::Drive(Drive::Done(result)) => {
                    if !call.keep_alive() {
                        self.conn = None;
                    }
                    return result.map_err(Error::Failed);
                }
                Ended::Drive(Drive::Reconnect) => self.conn = None,
                Ended::Drive(Drive::BufferTooSmall(e)) => {
                    self.conn = None;
                    return Err(Error::BufferTooSmall(e));
                }
                Ended::Stale { len } => {
                    crate::fmt::stale_connection(now().as_millis());
                    self.conn = None;
                    pending = Some(len);
                }
            }
        }
    }
}
