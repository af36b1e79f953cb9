//! The blocking loop around one [`Call`]: it does what [`Call::poll_action`] says with std
//! sockets and sleeps. The call decides everything (reuse, resend, deadlines, retries); the
//! loop keeps only the open connection and the bytes read but not yet taken.

use std::io::{Read, Write};
use std::time::Duration as StdDuration;

use kaiko_core::call::{Action, Call, ConnectionLost, Event, Success, TransmitError};
use kaiko_core::time::{Instant, StdClock};

use crate::CallError;
use crate::proxy::Proxy;
use crate::seed::Seeds;
use crate::transport::{self, ConnectError, MIN_TIMEOUT, Stream};
use crate::tunnel::{self, ProxyError};

/// Initial size of the request buffer; grown to what [`TransmitError::BufferTooSmall`] asks.
const OUT_BUF: usize = 4096;
/// Receive buffer size.
const IN_BUF: usize = 16 * 1024;

/// Sockets, buffers and the clock of one client.
pub(crate) struct Transport {
    clock: StdClock,
    /// Seeds of the calls' idempotency keys.
    pub(crate) seeds: Seeds,
    conn: Option<Stream>,
    opened: usize,
    out: Vec<u8>,
    input: Vec<u8>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<transport::TlsConfig>,
    /// Every connection goes through this proxy's `CONNECT` tunnel.
    pub(crate) proxy: Option<Proxy>,
    /// Why the last tunnel was not opened, until one is.
    proxy_failure: Option<ProxyError>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("connected", &self.conn.is_some())
            .field("opened", &self.opened)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // The request buffer held the key in a header.
        zeroize::Zeroize::zeroize(&mut self.out);
    }
}

impl Transport {
    pub(crate) fn new() -> Self {
        Transport {
            clock: StdClock::new(),
            seeds: Seeds::new(),
            conn: None,
            opened: 0,
            out: vec![0; OUT_BUF],
            input: vec![0; IN_BUF],
            #[cfg(feature = "tls")]
            tls: None,
            proxy: None,
            proxy_failure: None,
        }
    }

    /// The proxy's refusal when the last connection attempt ended in one.
    pub(crate) fn take_proxy_failure(&mut self) -> Option<ProxyError> {
        self.proxy_failure.take()
    }

    /// Milliseconds since the client was created.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Drops the kept connection (its TLS settings may have changed).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn disconnect(&mut self) {
        self.conn = None;
    }

    pub(crate) fn connections_opened(&self) -> usize {
        self.opened
    }

    /// Runs `call` to its end and returns what `finish` makes of its success. `on_event`
    /// returns `false` to stop: the call is cancelled (and ends in
    /// [`Cause::Cancelled`](kaiko_core::call::Cause::Cancelled)).
    ///
    /// `now` is the clock read just before. The clock is read again only where time can have
    /// passed: after each blocking step, and before one that follows an event handler (which
    /// may take long); a read costs more than deciding the call's next step.
    #[allow(clippy::result_large_err)] // see `CallError`
    pub(crate) fn run<T>(
        &mut self,
        call: &mut Call<'_>,
        on_event: &mut dyn FnMut(Event<'_>) -> bool,
        mut now: Instant,
        finish: impl FnOnce(&Success) -> T,
    ) -> Result<T, CallError> {
        let (mut start, mut end) = (0usize, 0usize);
        let mut handler_ran = false;
        self.proxy_failure = None;
        loop {
            let action = call.poll_action(now);
            if handler_ran && !matches!(action, Action::Event(_) | Action::Done(_)) {
                // The next step may block: its timeout counts from the time it really is.
                handler_ran = false;
                now = self.now();
            }
            let left = |deadline: Instant| {
                transport::to_std(deadline.saturating_duration_since(now)).max(MIN_TIMEOUT)
            };
            match action {
                Action::Event(event) => {
                    handler_ran = true;
                    if !on_event(event) {
                        // Only `Finished` can be refused, and then `Done` comes next anyway.
                        let _ = call.cancel(self.now());
                    }
                }
                Action::Connect { deadline } => match &self.conn {
                    Some(_) => call.handle_connected(now, true).unwrap_or(()),
                    None => {
                        let opened = self.open(call, left(deadline));
                        now = self.now();
                        match opened {
                            Ok(stream) => {
                                self.conn = Some(stream);
                                call.handle_connected(now, false).unwrap_or(());
                            }
                            Err(ConnectError::TimedOut) => {
                                sleep_until(&self.clock, deadline);
                                now = self.now();
                            }
                            Err(ConnectError::Lost(lost)) => call.handle_connection_lost(now, lost),
                            Err(ConnectError::Proxy(refusal)) => {
                                self.proxy_failure = Some(refusal);
                                if refusal.is_retryable() {
                                    // Like a refused connection: the call's policy decides.
                                    call.handle_connection_lost(now, ConnectionLost::Refused);
                                } else {
                                    // Another attempt would get the same answer (credentials,
                                    // policy, not a proxy at all). Only `Finished` can be
                                    // refused, and this call is not.
                                    let _ = call.cancel(now);
                                }
                            }
                        }
                    }
                },
                Action::Transmit { deadline } => {
                    let n = match call.poll_transmit(now, &mut self.out) {
                        Ok(n) => n,
                        Err(TransmitError::BufferTooSmall { needed }) => {
                            self.out.resize(needed, 0);
                            continue;
                        }
                        // Not asked for or not writable: the call's own answer is next.
                        Err(_) => {
                            let _ = call.cancel(now);
                            continue;
                        }
                    };
                    let bytes = self.out.get(..n).unwrap_or(&[]);
                    let sent = self
                        .conn
                        .as_mut()
                        .map(|c| send(&self.clock, c, bytes, now, deadline));
                    now = self.now();
                    (start, end) = (0, 0);
                    match sent {
                        Some(Ok(())) => call.handle_transmitted(now).unwrap_or(()),
                        // The deadline has passed: the call says what that means.
                        Some(Err(e)) if transport::is_timeout(&e) => {}
                        Some(Err(e)) => self.lost(call, transport::lost_kind(&e)),
                        None => self.lost(call, ConnectionLost::Io),
                    }
                }
                Action::Receive { deadline } => {
                    if start == end {
                        (start, end) = (0, 0);
                        let read = self.conn.as_mut().map(|c| {
                            c.arm_read(left(deadline))
                                .and_then(|()| c.read(&mut self.input))
                        });
                        now = self.now();
                        match read {
                            Some(Ok(0)) => self.lost(call, ConnectionLost::Closed),
                            Some(Ok(n)) => end = n,
                            Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            // The armed timeout may be shorter than the time left: the
                            // call reads again, or ends at its deadline.
                            Some(Err(e)) if transport::is_timeout(&e) => {}
                            Some(Err(e)) => self.lost(call, transport::lost_kind(&e)),
                            None => self.lost(call, ConnectionLost::Io),
                        }
                    }
                    let bytes = self.input.get(start..end).unwrap_or(&[]);
                    if !bytes.is_empty() {
                        match call.handle_input(now, bytes) {
                            Ok(used) => start = (start + used).min(end),
                            Err(_) => (start, end) = (0, 0),
                        }
                    }
                }
                Action::Sleep { until } => {
                    sleep_until(&self.clock, until);
                    now = self.now();
                }
                Action::Close => self.conn = None,
                Action::Done(outcome) => {
                    return match outcome {
                        Ok(success) => Ok(finish(success)),
                        Err(f) => Err(CallError::Failed(*f)),
                    };
                }
            }
        }
    }

    /// The connection failed: it is gone, and the call decides what that means.
    fn lost(&mut self, call: &mut Call<'_>, kind: ConnectionLost) {
        self.conn = None;
        call.handle_connection_lost(self.now(), kind);
    }

    /// Connects to the call's base URL within `limit`, through the proxy's tunnel when there
    /// is one, with TLS (to the API's host name, end to end) when it is `https`.
    fn open(&mut self, call: &Call<'_>, limit: StdDuration) -> Result<Stream, ConnectError> {
        // Only this attempt's refusal counts: an earlier one would misreport a later failure.
        self.proxy_failure = None;
        let start = std::time::Instant::now();
        let base = call.base_url();
        let tcp = match &self.proxy {
            None => {
                let tcp = transport::connect(base.host, base.port, limit)?;
                self.opened += 1;
                tcp
            }
            Some(proxy) => {
                let mut tcp = transport::connect(&proxy.host, proxy.port, limit)?;
                self.opened += 1;
                let request = zeroize::Zeroizing::new(proxy.connect_request(base.host, base.port));
                tunnel::establish(&mut tcp, &request, limit.saturating_sub(start.elapsed()))?;
                tcp
            }
        };
        if !base.tls {
            return Ok(Stream::plain(tcp));
        }
        #[cfg(feature = "tls")]
        if let Some(config) = &self.tls {
            let limit = limit.saturating_sub(start.elapsed());
            return transport::wrap_tls(config, base.host, tcp, limit);
        }
        // `Client` refuses https base URLs without TLS support: this is never reached.
        Err(ConnectError::Lost(ConnectionLost::Tls))
    }
}

/// Writes `bytes` whole and flushes them, before `deadline` or an error, starting at `now`.
/// The timeouts armed may be shorter than the time left, so one that fires early means "go
/// on": rustls and `TcpStream` both report in `Ok(n)` what they took, so nothing is sent twice.
fn send(
    clock: &StdClock,
    conn: &mut Stream,
    bytes: &[u8],
    mut now: Instant,
    deadline: Instant,
) -> std::io::Result<()> {
    let mut sent = 0;
    loop {
        let left = transport::to_std(deadline.saturating_duration_since(now)).max(MIN_TIMEOUT);
        // TLS handshakes read during the first write, so both timeouts apply.
        conn.arm_write(left)?;
        conn.cap_read(left)?;
        let step = match bytes.get(sent..) {
            Some(rest) if !rest.is_empty() => conn.write(rest).map(Some),
            _ => conn.flush().map(|()| None),
        };
        match step {
            Ok(Some(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(Some(n)) => sent += n,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if transport::is_timeout(&e) && clock.now() < deadline => {}
            Err(e) => return Err(e),
        }
        now = clock.now();
    }
}

/// Sleeps until `until` on the client's clock (the OS may wake a little early: asking the
/// call again then is harmless).
fn sleep_until(clock: &StdClock, until: Instant) {
    let rest = until.saturating_duration_since(clock.now());
    std::thread::sleep(transport::to_std(rest).max(MIN_TIMEOUT));
}
