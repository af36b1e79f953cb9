//! The blocking loop around one [`Call`]: connect → transmit → read → feed → events → sleep.
//!
//! Connection reuse is decided here: a connection survives a call (or an attempt) when the
//! core says [`Call::keep_alive`]. A reused connection that the server closed while it was idle
//! shows up as a failed write, or as EOF/reset before any response byte; the same request
//! bytes are then sent once more on a fresh connection without telling the core, because no
//! attempt was lost (RFC 9112 §9.3.1 allows retrying a request on a new connection when the
//! old one closed before any response).

// `Failure` is a large plain value (see `CallError`); it travels up once per call.
#![allow(clippy::result_large_err)]

use std::io::{Read, Write};
use std::time::Duration as StdDuration;

use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{
    BufferTooSmall, Call, Cause, ConnectionLost, Event, Failure, Phase, Success,
};
use kaiko_core::retry::Stop;
use kaiko_core::time::{Duration, Instant, StdClock};

use crate::transport::{self, ConnectError, MIN_TIMEOUT, Stream};

/// Initial size of the request buffer; grown to what [`BufferTooSmall`] asks for.
const OUT_BUF: usize = 4096;
/// Receive buffer size.
const IN_BUF: usize = 16 * 1024;

/// One open connection.
#[derive(Debug)]
struct Conn {
    stream: Stream,
    /// It carried a complete exchange before the current request.
    reused: bool,
}

/// What the loop knows about the current attempt.
#[derive(Debug, Default)]
struct Attempt {
    /// Request sent, response not finished.
    in_flight: bool,
    /// Length of the request bytes at the start of the transmit buffer.
    len: usize,
    /// A response byte arrived on this attempt.
    got_byte: bool,
    /// The transparent reconnect was used.
    reconnected: bool,
    /// Events handed out so far (to notice progress).
    events: usize,
}

type Outcome = Result<Success, Failure>;

/// Sockets, buffers and the clock of one client.
pub(crate) struct Transport {
    clock: StdClock,
    conn: Option<Conn>,
    opened: usize,
    out: Vec<u8>,
    input: Vec<u8>,
    /// When the previous call said `X-RateLimit-Remaining: 0`: the next one waits.
    pub(crate) not_before: Option<Instant>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<transport::TlsConfig>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("connected", &self.conn.is_some())
            .field("opened", &self.opened)
            .finish_non_exhaustive()
    }
}

fn to_std(d: Duration) -> StdDuration {
    d.into()
}

impl Transport {
    pub(crate) fn new() -> Self {
        Transport {
            clock: StdClock::new(),
            conn: None,
            opened: 0,
            out: vec![0; OUT_BUF],
            input: vec![0; IN_BUF],
            not_before: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Milliseconds since the client was created.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    pub(crate) fn connections_opened(&self) -> usize {
        self.opened
    }

    /// Time left until the call's next deadline, at least [`MIN_TIMEOUT`].
    fn left(&self, call: &Call<'_>) -> StdDuration {
        let now = self.now();
        call.poll_timeout().map_or(MIN_TIMEOUT, |t| {
            to_std(t.saturating_duration_since(now)).max(MIN_TIMEOUT)
        })
    }

    /// Runs `call` to completion.
    pub(crate) fn run(
        &mut self,
        call: &mut Call<'_>,
        base: &BaseUrl<'_>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Outcome {
        let mut a = Attempt::default();
        loop {
            if let Some(r) = self.drain(call, &mut a, on_event) {
                return r;
            }
            let now = self.now();
            let Some(deadline) = call.poll_timeout() else {
                // A call that is not over always has a timeout; never spin if that breaks.
                self.conn = None;
                return Err(Failure {
                    cause: Cause::Timeout(Phase::Call),
                    stop: Stop::Deadline,
                    attempts: call.attempts(),
                });
            };
            if a.in_flight {
                if let Some(r) = self.receive(call, &mut a, base, on_event) {
                    return r;
                }
            } else if now < deadline {
                std::thread::sleep(to_std(deadline.saturating_duration_since(now)));
                call.handle_timeout(self.now());
            } else {
                // Lets the call deadline (or a pending connect deadline) fire first.
                call.handle_timeout(now);
                if let Some(r) = self.drain(call, &mut a, on_event) {
                    return r;
                }
                if call.poll_timeout().is_some_and(|t| t <= now) {
                    self.start_attempt(call, &mut a, base);
                }
            }
        }
    }

    /// Hands out every pending event; returns the outcome once the call is done.
    fn drain(
        &mut self,
        call: &mut Call<'_>,
        a: &mut Attempt,
        on_event: &mut dyn FnMut(&Event),
    ) -> Option<Outcome> {
        while let Some(ev) = call.poll_event() {
            a.events += 1;
            on_event(&ev);
            match ev {
                Event::RetryScheduled { .. } => {
                    a.in_flight = false;
                    self.release(call.keep_alive());
                }
                Event::Done(r) => {
                    a.in_flight = false;
                    self.release(call.keep_alive());
                    return Some(r);
                }
                _ => {}
            }
        }
        None
    }

    /// After an exchange: keep the connection for the next request, or close it.
    fn release(&mut self, keep_alive: bool) {
        match (&mut self.conn, keep_alive) {
            (Some(c), true) => c.reused = true,
            _ => self.conn = None,
        }
    }

    /// Connects to `base` within `limit`; counts the connection.
    fn open(&mut self, base: &BaseUrl<'_>, limit: StdDuration) -> Result<Stream, ConnectError> {
        let tcp = transport::connect(base.host, base.port, limit)?;
        self.opened += 1;
        if !base.tls {
            return Ok(Stream::Plain(tcp));
        }
        #[cfg(feature = "tls")]
        if let Some(config) = &self.tls {
            return transport::wrap_tls(config, base.host, tcp);
        }
        // `Client` refuses https base URLs without TLS support; this is the fallback.
        Err(ConnectError::Lost(ConnectionLost::Tls))
    }

    /// Reports a connect failure to the call.
    fn connect_failed(&mut self, call: &mut Call<'_>, e: ConnectError) {
        match e {
            ConnectError::TimedOut => self.expire(call),
            ConnectError::Lost(kind) => call.handle_connection_lost(self.now(), kind),
        }
    }

    /// The request is due: connect if needed, take the bytes from the call and send them.
    fn start_attempt(&mut self, call: &mut Call<'_>, a: &mut Attempt, base: &BaseUrl<'_>) {
        if self.conn.is_none() {
            call.handle_connecting(self.now());
            if !self.reconnect(call, base) {
                return;
            }
        }
        let now = self.now();
        let len = loop {
            match call.poll_transmit(now, &mut self.out) {
                Ok(Some(n)) => break n,
                Ok(None) => {
                    // Only past the call deadline; let the call say so. The short sleep keeps
                    // a misbehaving call from turning this loop into a busy wait.
                    call.handle_timeout(now);
                    std::thread::sleep(MIN_TIMEOUT);
                    return;
                }
                Err(BufferTooSmall { needed }) if needed > self.out.len() => {
                    self.out.resize(needed, 0)
                }
                Err(BufferTooSmall { .. }) => {
                    call.handle_connection_lost(now, ConnectionLost::Io);
                    return;
                }
            }
        };
        *a = Attempt {
            in_flight: true,
            len,
            events: a.events,
            ..Attempt::default()
        };
        self.send(call, a, base);
    }

    /// Writes the request bytes; on a reused connection that fails, reconnects once.
    fn send(&mut self, call: &mut Call<'_>, a: &mut Attempt, base: &BaseUrl<'_>) {
        loop {
            let left = self.left(call);
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            let bytes = self.out.get(..a.len).unwrap_or(&[]);
            // TLS handshakes read during the first write, so both timeouts apply.
            let result = conn
                .stream
                .set_write_timeout(left)
                .and_then(|()| conn.stream.set_read_timeout(left))
                .and_then(|()| conn.stream.write_all(bytes))
                .and_then(|()| conn.stream.flush());
            let reused = conn.reused;
            let Err(e) = result else { return };
            self.conn = None;
            if transport::is_timeout(&e) {
                return self.expire(call);
            }
            if reused && !a.reconnected {
                a.reconnected = true;
                if self.reconnect(call, base) {
                    continue;
                }
                return;
            }
            return call.handle_connection_lost(self.now(), transport::lost_kind(&e));
        }
    }

    /// Opens a fresh connection for the request in flight; reports failure to the call.
    fn reconnect(&mut self, call: &mut Call<'_>, base: &BaseUrl<'_>) -> bool {
        let limit = self.left(call);
        match self.open(base, limit) {
            Ok(stream) => {
                self.conn = Some(Conn {
                    stream,
                    reused: false,
                });
                true
            }
            Err(e) => {
                self.connect_failed(call, e);
                false
            }
        }
    }

    /// Reads once and feeds what arrived.
    fn receive(
        &mut self,
        call: &mut Call<'_>,
        a: &mut Attempt,
        base: &BaseUrl<'_>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Option<Outcome> {
        let left = self.left(call);
        let Some(conn) = self.conn.as_mut() else {
            call.handle_connection_lost(self.now(), ConnectionLost::Io);
            return None;
        };
        let result = conn
            .stream
            .set_read_timeout(left)
            .and_then(|()| conn.stream.read(&mut self.input));
        let reused = conn.reused;
        let lost = match result {
            Ok(0) => ConnectionLost::Closed,
            Ok(n) => {
                a.got_byte = true;
                return self.feed(call, a, n, on_event);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return None,
            Err(e) if transport::is_timeout(&e) => {
                call.handle_timeout(self.now());
                return None;
            }
            Err(e) => transport::lost_kind(&e),
        };
        self.conn = None;
        let idle_close = matches!(lost, ConnectionLost::Closed | ConnectionLost::Reset);
        if reused && idle_close && !a.got_byte && !a.reconnected {
            a.reconnected = true;
            if self.reconnect(call, base) {
                self.send(call, a, base);
            }
            return None;
        }
        call.handle_connection_lost(self.now(), lost);
        None
    }

    /// Offers `input[..n]` to the call, handing out events as they come.
    fn feed(
        &mut self,
        call: &mut Call<'_>,
        a: &mut Attempt,
        n: usize,
        on_event: &mut dyn FnMut(&Event),
    ) -> Option<Outcome> {
        let now = self.now();
        let mut off = 0;
        while off < n {
            let used = call.handle_input(now, self.input.get(off..n).unwrap_or(&[]));
            off += used;
            let seen = a.events;
            if let Some(r) = self.drain(call, a, on_event) {
                return Some(r);
            }
            // After a retry notice the rest belongs to an abandoned attempt.
            if !a.in_flight || (used == 0 && a.events == seen) {
                break;
            }
        }
        None
    }

    /// A blocking operation timed out: wait out what is left of the deadline (the OS may
    /// wake a little early) and report it.
    fn expire(&mut self, call: &mut Call<'_>) {
        let now = self.now();
        if let Some(t) = call.poll_timeout() {
            let rest = to_std(t.saturating_duration_since(now));
            if rest <= StdDuration::from_millis(100) {
                std::thread::sleep(rest);
            }
        }
        call.handle_timeout(self.now());
    }
}
