//! HTTPS through embedded-tls (the TLS stack reqwless uses) over any [`Connect`], driven by
//! the same loop as plain TCP ([`drive`](crate::drive())).
//!
//! embedded-tls borrows its two record buffers mutably for the life of a session, so a TLS
//! session cannot be parked in a struct next to the buffers it borrows. [`call_tls`] therefore
//! keeps each session inside one call: attempts of the call reuse it while the server keeps it
//! open, and a new handshake starts after a failure or at the next call.
//!
//! Certificates are checked by the `CryptoProvider` the caller supplies.

use embedded_tls::{CryptoProvider, TlsCipherSuite, TlsConfig, TlsConnection, TlsContext};
use kaiko_core::call::{Call, Config, ConnectionLost, Event, Success};
use kaiko_core::request::Request;

use crate::drive::{Drive, drive, now, until};
use crate::{Connect, Error};

/// The record size TLS allows plus overhead (RFC 8446 §5.2): a read buffer this large
/// accepts any server's records.
pub const RECORD_BUFFER: usize = 16_640;

/// The two record buffers of a TLS session. `read` should be [`RECORD_BUFFER`] bytes unless
/// the server is known to send smaller records; `write` may be smaller (requests are small).
#[derive(Debug)]
pub struct TlsBuffers<'b> {
    /// Incoming records.
    pub read: &'b mut [u8],
    /// Outgoing records.
    pub write: &'b mut [u8],
}

/// Makes one call over TLS (all of its attempts). `provider` makes the crypto provider of
/// each handshake (random numbers, certificate checks). See [`Client::call`](crate::Client::call)
/// for `seed`, `tx`, `rx` and `on_event`. The base URL must be `https`.
#[allow(clippy::too_many_arguments)] // One call's whole context; a struct would only rename it.
pub async fn call_tls<C, P, CS>(
    connector: &C,
    config: &Config<'_>,
    request: Request<'_>,
    seed: u64,
    tls: &mut TlsBuffers<'_>,
    mut provider: impl FnMut() -> P,
    tx: &mut [u8],
    rx: &mut [u8],
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Success, Error>
where
    C: Connect,
    P: CryptoProvider<CipherSuite = CS>,
    CS: TlsCipherSuite + 'static,
{
    if !config.base_url.tls {
        return Err(Error::NotHttps);
    }
    let mut call = Call::new(config, request, seed, now()).map_err(Error::Refused)?;
    let base = config.base_url;
    let tls_config = TlsConfig::new().with_server_name(base.host);
    let mut none: Option<TlsConnection<'_, C::Conn<'_>, CS>> = None;
    let mut deadline = match drive(&mut call, &mut none, tx, rx, &mut on_event).await {
        Drive::Connect { deadline } => deadline,
        ended => return finish(ended),
    };
    loop {
        // Connect and handshake both count against the connect deadline.
        let opened = until(deadline, async {
            let tcp = connector.connect(base.host, base.port).await?;
            let mut session: TlsConnection<'_, C::Conn<'_>, CS> =
                TlsConnection::new(tcp, &mut *tls.read, &mut *tls.write);
            match session.open(TlsContext::new(&tls_config, provider())).await {
                Ok(()) => Ok(session),
                Err(_) => Err(ConnectionLost::Tls),
            }
        })
        .await;
        let mut session = match opened {
            Some(Ok(session)) => {
                call.handle_connected(now(), false).unwrap_or(());
                Some(session)
            }
            Some(Err(lost)) => {
                call.handle_connection_lost(now(), lost);
                None
            }
            None => None, // the call fails the attempt at its connect deadline
        };
        match drive(&mut call, &mut session, tx, rx, &mut on_event).await {
            Drive::Connect { deadline: next } => deadline = next,
            ended => return finish(ended),
        }
    }
}

#[allow(clippy::result_large_err)] // the core's fixed-size `Failure`, once per call; no allocator
fn finish(ended: Drive) -> Result<Success, Error> {
    match ended {
        Drive::Done(outcome) => outcome.map_err(Error::Failed),
        Drive::BufferTooSmall { needed } => Err(Error::BufferTooSmall { needed }),
        // `drive` returns `Connect` only to the loop above.
        Drive::Connect { .. } => Err(Error::Failed(kaiko_core::call::Failure::new(
            kaiko_core::call::Cause::Connection(ConnectionLost::Io),
            kaiko_core::retry::Stop::NotRetryable,
            0,
        ))),
    }
}
