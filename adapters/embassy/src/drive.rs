//! The loop for one connection: write the request, read under the call's deadlines, sleep
//! through backoff on a connection that stays open, and hand every event to the caller.

use embassy_futures::select::{Either, select};
use embassy_time::Timer;
use embedded_io_async::{Error as _, ErrorKind, Read, Write};
use kaiko_core::call::{BufferTooSmall, Call, ConnectionLost, Event, Failure, Success};
use kaiko_core::time::Instant;

/// How [`drive`] left the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::large_enum_variant)] // No allocator to box into; returned once per connection.
pub enum Drive {
    /// The call is over. The connection may carry another call if [`Call::keep_alive`] says so.
    Done(Result<Success, Failure>),
    /// The connection can no longer be used but the call goes on: wait for
    /// [`Call::poll_timeout`], connect again (after [`Call::handle_connecting`]) and call
    /// [`drive`] with the new connection.
    Reconnect,
    /// The transmit buffer cannot hold the request.
    BufferTooSmall(BufferTooSmall),
}

/// What one connection ended with, including the case only a connection pool can resolve.
#[allow(clippy::large_enum_variant)] // As `Drive`.
pub(crate) enum Ended {
    Drive(Drive),
    /// A reused connection died before any byte of the response: the request of `len` bytes
    /// still in the transmit buffer can be sent again on a fresh connection without counting
    /// an attempt (the `Idempotency-Key` makes that safe, spec §2).
    Stale { len: usize },
}

/// The current embassy-time instant in the core's units.
pub(crate) fn now() -> Instant {
    embassy_time::Instant::now().into()
}

/// Runs `fut` until it finishes or `deadline` passes (`None`: no deadline).
pub(crate) async fn until<F: Future>(deadline: Option<Instant>, fut: F) -> Option<F::Output> {
    match deadline {
        Some(at) => match select(fut, Timer::at(at.into())).await {
            Either::First(out) => Some(out),
            Either::Second(()) => None,
        },
        None => Some(fut.await),
    }
}

/// Maps a transport error to what the core understands.
pub(crate) fn lost(kind: ErrorKind) -> ConnectionLost {
    match kind {
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => ConnectionLost::Reset,
        ErrorKind::ConnectionRefused | ErrorKind::NotConnected => ConnectionLost::Refused,
        _ => ConnectionLost::Io,
    }
}

/// Hands every queued event to `on_event`; returns the outcome once [`Event::Done`] is seen.
/// `in_flight` is cleared when a retry is scheduled (the response it waited for is abandoned).
pub(crate) fn drain(
    call: &mut Call<'_>,
    on_event: &mut impl FnMut(&Event),
    in_flight: &mut bool,
) -> Option<Result<Success, Failure>> {
    while let Some(event) = call.poll_event() {
        on_event(&event);
        match event {
            Event::RetryScheduled { retry, cause, delay, .. } => {
                *in_flight = false;
                crate::fmt::attempt_failed(now().as_millis(), retry, &cause, Some(delay.as_millis()));
            }
            Event::Done(result) => {
                if let Err(f) = &result {
                    crate::fmt::attempt_failed(now().as_millis(), f.attempts, &f.cause, None);
                }
                return Some(result);
            }
            _ => {}
        }
    }
    None
}

/// Drives `call` over one established connection until the call ends or the connection
/// cannot go on. `tx` must hold the whole request; `rx` is the read buffer (any size, one
/// byte works).
///
/// The call must be due or connecting (fresh after [`Call::new`], after
/// [`Call::handle_connecting`], or after a previous [`Drive::Done`] on this connection for a
/// new call). Events (decoded results, retries, the outcome) go to `on_event` as they come.
pub async fn drive<IO: Read + Write>(
    io: &mut IO,
    call: &mut Call<'_>,
    tx: &mut [u8],
    rx: &mut [u8],
    mut on_event: impl FnMut(&Event),
) -> Drive {
    match drive_conn(io, call, tx, rx, &mut on_event, false, None).await {
        Ended::Drive(d) => d,
        // Only reused connections end stale.
        Ended::Stale { .. } => Drive::Reconnect,
    }
}

/// [`drive`] with the two facts a connection pool knows: whether `io` carried an earlier
/// response (`reused`) and whether a request is already in `tx` waiting to be written.
pub(crate) async fn drive_conn<IO: Read + Write>(
    io: &mut IO,
    call: &mut Call<'_>,
    tx: &mut [u8],
    rx: &mut [u8],
    on_event: &mut impl FnMut(&Event),
    mut reused: bool,
    mut pending: Option<usize>,
) -> Ended {
    // Request written and its response not yet complete or abandoned.
    let mut in_flight = pending.is_some();
    let mut last_len = pending.unwrap_or(0);
    // Any byte of the current response seen on this connection.
    let mut got_byte = false;
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        if pending.is_none() && !in_flight {
            match call.poll_transmit(now(), tx) {
                Ok(Some(n)) => pending = Some(n),
                Ok(None) => {}
                Err(e) => return Ended::Drive(Drive::BufferTooSmall(e)),
            }
        }
        if let Some(n) = pending.take() {
            last_len = n;
            in_flight = true;
            got_byte = false;
            (start, end) = (0, 0);
            let bytes = tx.get(..n).unwrap_or(&[]);
            let sent = until(call.poll_timeout(), async {
                io.write_all(bytes).await?;
                io.flush().await
            })
            .await;
            match sent {
                Some(Ok(())) => {}
                Some(Err(_)) if reused => return Ended::Stale { len: n },
                Some(Err(e)) => call.handle_connection_lost(now(), lost(e.kind())),
                None => call.handle_timeout(now()),
            }
        } else if !in_flight {
            // Between attempts or before a delayed first one.
            if !call.keep_alive() {
                return Ended::Drive(Drive::Reconnect);
            }
            // `None`: over without `Done` drained yet; `drain` below returns it.
            if let Some(at) = call.poll_timeout() {
                Timer::at(at.into()).await;
            }
            call.handle_timeout(now());
        } else {
            let free = rx.get_mut(end..).unwrap_or(&mut []);
            match until(call.poll_timeout(), io.read(free)).await {
                Some(Ok(0)) if reused && !got_byte => return Ended::Stale { len: last_len },
                Some(Ok(0)) => call.handle_connection_lost(now(), ConnectionLost::Closed),
                Some(Ok(k)) => {
                    got_byte = true;
                    end = end.saturating_add(k).min(rx.len());
                    while start < end {
                        let used = call.handle_input(now(), rx.get(start..end).unwrap_or(&[]));
                        start = start.saturating_add(used).min(end);
                        if let Some(result) = drain(call, on_event, &mut in_flight) {
                            return Ended::Drive(Drive::Done(result));
                        }
                        if used == 0 {
                            break;
                        }
                    }
                    if start == end {
                        (start, end) = (0, 0);
                    } else if start > 0 {
                        rx.copy_within(start..end, 0);
                        (start, end) = (0, end - start);
                    } else if end == rx.len() {
                        // A full buffer the call takes nothing from cannot make progress.
                        call.handle_connection_lost(now(), ConnectionLost::Io);
                    }
                }
                Some(Err(_)) if reused && !got_byte => return Ended::Stale { len: last_len },
                Some(Err(e)) => call.handle_connection_lost(now(), lost(e.kind())),
                None => call.handle_timeout(now()),
            }
        }
        if let Some(result) = drain(call, on_event, &mut in_flight) {
            return Ended::Drive(Drive::Done(result));
        }
        if !in_flight && got_byte {
            // A response (or an abandoned one) went over this connection: any later request
            // on it is a reuse.
            reused = true;
        }
    }
}
