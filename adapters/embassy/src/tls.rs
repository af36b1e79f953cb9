//! HTTPS through embedded-tls (the TLS stack reqwless uses) over any [`Connect`].
//!
//! embedded-tls borrows its two record buffers mutably for the life of a session, so a TLS
//! session cannot be parked in a struct next to the buffers it borrows. [`call_tls`] therefore
//! keeps each session inside one call: attempts of the call reuse it while the server keeps it
//! open, and a new handshake starts after a failure or at the next call.
//!
//! Certificates are checked by the `CryptoProvider` the caller supplies;
//! `embedded_tls::UnsecureProvider` checks none (as reqwless without a verifier does).

use embedded_tls::{CryptoProvider, TlsCipherSuite, TlsConfig, TlsConnection, TlsContext};
use kaiko_core::call::{Call, Config, ConnectionLost, Event, Success};
use kaiko_core::request::Request;

use crate::drive::{Drive, drain, drive, now, until};
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
/// for `seed`, `tx`, `rx` and `on_event`.
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
    mut on_event: impl FnMut(&Event),
) -> Result<Success, Error>
where
    C: Connect,
    P: CryptoProvider<CipherSuite = CS>,
    CS: TlsCipherSuite + 'static,
{
    let mut call = Call::new(config, request, seed, now()).map_err(Error::Invalid)?;
    let host = config.base_url.host;
    let tls_config = TlsConfig::new().with_server_name(host);
    let mut in_flight = false;
    loop {
        if let Some(at) = call.poll_timeout()
            && at > now()
        {
            embassy_time::Timer::at(at.into()).await;
            call.handle_timeout(now());
            if let Some(result) = drain(&mut call, &mut on_event, &mut in_flight) {
                return result.map_err(Error::Failed);
            }
            continue;
        }
        call.handle_connecting(now());
        let deadline = call.poll_timeout();
        // Connect and handshake both count against the connect deadline.
        let opened = until(deadline, async {
            let tcp = connector.connect(host, config.base_url.port).await?;
            let mut session: TlsConnection<'_, C::Conn<'_>, CS> =
                TlsConnection::new(tcp, &mut *tls.read, &mut *tls.write);
            match session.open(TlsContext::new(&tls_config, provider())).await {
                Ok(()) => Ok(session),
                Err(_) => Err(ConnectionLost::Tls),
            }
        })
        .await;
        match opened {
            Some(Ok(mut session)) => match drive(&mut session, &mut call, tx, rx, &mut on_event).await {
                Drive::Done(result) => return result.map_err(Error::Failed),
                Drive::Reconnect => continue,
                Drive::BufferTooSmall(e) => return Err(Error::BufferTooSmall(e)),
            },
            Some(Err(lost)) => call.handle_connection_lost(now(), lost),
            None => call.handle_timeout(now()),
        }
        if let Some(result) = drain(&mut call, &mut on_event, &mut in_flight) {
            return result.map_err(Error::Failed);
        }
    }
}
