//! The one driving loop of this crate: it does what [`Call::poll_action`] says over any
//! `embedded_io_async::{Read, Write}` connection, plain TCP and TLS alike. It keeps only the
//! open connection and the bytes read but not yet taken; the call decides everything else.

use core::ops::ControlFlow;

use embassy_futures::select::{Either, select};
use embassy_time::Timer;
use embedded_io_async::{Error as _, ErrorKind, Read, Write};
use kaiko_core::call::{Action, Call, ConnectionLost, Event, Failure, Success, TransmitError};
use kaiko_core::time::Instant;

/// Why [`drive`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::large_enum_variant)] // No allocator to box into; returned once per connection.
pub enum Drive {
    /// The call is over. A connection left in the slot may carry the next call.
    Done(Result<Success, Failure>),
    /// The call needs a new connection by `deadline`: open one (TLS when the base URL is
    /// `https`), put it in the slot and report [`Call::handle_connected`] (or
    /// [`Call::handle_connection_lost`]), then call [`drive`] again.
    Connect {
        /// When the connect deadline passes (the call fails the attempt then by itself).
        deadline: Instant,
    },
    /// The transmit buffer cannot hold the request; the call was cancelled.
    BufferTooSmall {
        /// Bytes the request needs.
        needed: usize,
    },
}

impl Drive {
    /// The one mapping from where [`drive`] stopped to what the connecting loops do next:
    /// open a connection by the deadline (`Continue`), or return the call's result (`Break`).
    pub(crate) fn next_step(self) -> ControlFlow<Result<Success, crate::Error>, Instant> {
        match self {
            Drive::Connect { deadline } => ControlFlow::Continue(deadline),
            Drive::Done(outcome) => ControlFlow::Break(outcome.map_err(crate::Error::Failed)),
            Drive::BufferTooSmall { needed } => {
                ControlFlow::Break(Err(crate::Error::BufferTooSmall { needed }))
            }
        }
    }
}

/// The current embassy-time instant in the core's units.
pub(crate) fn now() -> Instant {
    embassy_time::Instant::now().into()
}

/// Runs `fut` until it finishes or `deadline` passes.
pub(crate) async fn until<F: Future>(deadline: Instant, fut: F) -> Option<F::Output> {
    match select(fut, Timer::at(deadline.into())).await {
        Either::First(out) => Some(out),
        Either::Second(()) => None,
    }
}

/// Maps a transport error to what the core understands.
fn lost(kind: ErrorKind) -> ConnectionLost {
    match kind {
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            ConnectionLost::Reset
        }
        ErrorKind::ConnectionRefused | ErrorKind::NotConnected => ConnectionLost::Refused,
        _ => ConnectionLost::Io,
    }
}

/// Drives `call` over the connection in `conn` until the call is over or needs a new
/// connection. `tx` must hold the whole request; `rx` is the read buffer. The request bytes
/// are wiped from `tx` once written (they carry the key).
pub async fn drive<S: Read + Write>(
    call: &mut Call<'_>,
    conn: &mut Option<S>,
    tx: &mut [u8],
    rx: &mut [u8],
    on_event: &mut impl FnMut(Event<'_>),
) -> Drive {
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        let now = now();
        match call.poll_action(now) {
            Action::Event(event) => {
                if let Event::RetryScheduled(r) = event {
                    crate::fmt::attempt_failed(now.as_millis(), r.retry, &r.cause, Some(r.delay));
                }
                on_event(event);
            }
            Action::Connect { deadline } => match conn {
                Some(_) => call.handle_connected(now, true).unwrap_or(()),
                None => return Drive::Connect { deadline },
            },
            Action::Transmit { deadline } => {
                let n = match call.poll_transmit(now, tx) {
                    Ok(n) => n.min(tx.len()),
                    Err(TransmitError::BufferTooSmall { needed }) => {
                        let _ = call.cancel(now);
                        *conn = None;
                        return Drive::BufferTooSmall { needed };
                    }
                    // Not asked for, or not writable: end the call rather than ask again.
                    Err(_) => {
                        let _ = call.cancel(now);
                        continue;
                    }
                };
                (start, end) = (0, 0);
                let Some(io) = conn.as_mut() else {
                    call.handle_connection_lost(now, ConnectionLost::Io);
                    continue;
                };
                let bytes = tx.get(..n).unwrap_or(&[]);
                let sent = until(deadline, async {
                    io.write_all(bytes).await?;
                    io.flush().await
                })
                .await;
                tx.get_mut(..n).unwrap_or(&mut []).fill(0);
                match sent {
                    Some(Ok(())) => call.handle_transmitted(crate::drive::now()).unwrap_or(()),
                    Some(Err(e)) => {
                        *conn = None;
                        call.handle_connection_lost(crate::drive::now(), lost(e.kind()));
                    }
                    None => {} // the deadline passed: the call fails the attempt
                }
            }
            Action::Receive { deadline } => {
                if start == end {
                    let Some(io) = conn.as_mut() else {
                        call.handle_connection_lost(now, ConnectionLost::Io);
                        continue;
                    };
                    match until(deadline, io.read(rx)).await {
                        Some(Ok(0)) => {
                            *conn = None;
                            call.handle_connection_lost(
                                crate::drive::now(),
                                ConnectionLost::Closed,
                            );
                        }
                        Some(Ok(k)) => (start, end) = (0, k.min(rx.len())),
                        Some(Err(e)) => {
                            *conn = None;
                            call.handle_connection_lost(crate::drive::now(), lost(e.kind()));
                        }
                        None => {}
                    }
                }
                if let Some(bytes) = rx.get(start..end).filter(|b| !b.is_empty()) {
                    match call.handle_input(crate::drive::now(), bytes) {
                        Ok(used) => start = start.saturating_add(used).min(end),
                        Err(_) => start = end,
                    }
                }
            }
            Action::Sleep { until } => Timer::at(until.into()).await,
            Action::Close => *conn = None,
            Action::Done(outcome) => {
                if let Err(f) = outcome {
                    crate::fmt::attempt_failed(now.as_millis(), f.attempts, &f.cause, None);
                }
                return Drive::Done(outcome.cloned().map_err(|f| *f));
            }
        }
    }
}
