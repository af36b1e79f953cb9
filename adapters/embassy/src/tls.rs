//! HTTPS through embedded-tls (the TLS stack reqwless uses) over any [`Connect`], driven by
//! the same loop as plain TCP ([`drive`](crate::drive())).
//!
//! **Verified by default.** [`call_tls`] takes a [`Trust`]: [`Trust::Ca`] checks the server's
//! chain up to the given CA certificate, that the leaf's name is the base URL's host, and that
//! every certificate is valid at the caller's clock ([`embedded_tls::TlsClock`]: an RTC or a
//! time from SNTP; `None` from the clock skips only the validity dates). The CA comes in DER,
//! usually compiled in: `Trust::Ca(include_bytes!("api-root-ca.der"))` (from PEM:
//! `openssl x509 -in ca.pem -outform der -out api-root-ca.der`). Skipping every check exists
//! only as [`Trust::DangerNoVerification`].
//!
//! Limits of embedded-tls's verifier (feature `rustpki`), which this uses: one CA, ECDSA
//! P-256/P-384 and Ed25519 chains (RSA chains with this crate's `tls-rsa` feature, which
//! needs a global allocator), and the host is compared with the leaf's Common Name, not its
//! SAN list.
//!
//! embedded-tls borrows its two record buffers mutably for the life of a session, so a TLS
//! session cannot be parked in a struct next to the buffers it borrows. [`call_tls`] therefore
//! keeps each session inside one call: attempts of the call reuse it while the server keeps it
//! open, and a new handshake starts after a failure or at the next call.

use core::marker::PhantomData;
use core::ops::ControlFlow;

use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Certificate, CryptoProvider, CryptoRngCore, TlsCipherSuite, TlsClock, TlsConfig, TlsConnection,
    TlsContext, TlsError, TlsVerifier,
};
use kaiko_core::call::{Call, Config, ConnectionLost, Event, Success};
use kaiko_core::request::Request;

use crate::drive::{drive, now, until};
use crate::{Connect, Error};

/// The record size TLS allows plus overhead (RFC 8446 §5.2): a read buffer this large
/// accepts any server's records.
pub const RECORD_BUFFER: usize = 16_640;

/// Bytes kept of the server's certificate chain between its check and the check of its
/// signature over the handshake (part of the [`call_tls`] future).
pub const CERTIFICATE_BUFFER: usize = 4096;

/// The two record buffers of a TLS session. `read` should be [`RECORD_BUFFER`] bytes unless
/// the server is known to send smaller records; `write` may be smaller (requests are small).
#[derive(Debug)]
pub struct TlsBuffers<'b> {
    /// Incoming records.
    pub read: &'b mut [u8],
    /// Outgoing records.
    pub write: &'b mut [u8],
}

/// Whom a TLS session trusts.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// Servers whose chain leads to this CA certificate (DER), named as the base URL's host,
    /// valid at the clock's time.
    Ca(&'a [u8]),
    /// No check at all: anyone on the network path can impersonate the server and read the
    /// API key. Only for a throwaway test server.
    DangerNoVerification,
}

/// The crypto provider of one handshake: the caller's random numbers, and the certificate
/// checks of [`Trust::Ca`] (none for [`Trust::DangerNoVerification`]).
struct Provider<CS: TlsCipherSuite, R, Clk: TlsClock> {
    rng: R,
    verifier: Option<CertVerifier<CS, Clk, CERTIFICATE_BUFFER>>,
    _suite: PhantomData<CS>,
}

impl<CS: TlsCipherSuite, R: CryptoRngCore, Clk: TlsClock> CryptoProvider for Provider<CS, R, Clk> {
    type CipherSuite = CS;
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<CS>, TlsError> {
        // embedded-tls skips every check when there is no verifier.
        self.verifier.as_mut().ok_or(TlsError::Unimplemented)
    }
}

/// Makes one call over TLS (all of its attempts), trusting what `trust` says. `rng` gives
/// the random number generator of each handshake (the device's hardware RNG); `Clk` is the
/// clock certificates are checked against. See [`Client::call`](crate::Client::call) for
/// `seed`, `tx`, `rx` and `on_event`. The base URL must be `https`. A handshake that fails
/// its checks fails the attempt with [`ConnectionLost::Tls`] before a byte of the request is
/// sent.
#[allow(clippy::too_many_arguments)] // One call's whole context; a struct would only rename it.
pub async fn call_tls<C, CS, R, Clk>(
    connector: &C,
    config: &Config<'_>,
    request: Request<'_>,
    seed: u64,
    tls: &mut TlsBuffers<'_>,
    trust: Trust<'_>,
    mut rng: impl FnMut() -> R,
    tx: &mut [u8],
    rx: &mut [u8],
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Success, Error>
where
    C: Connect,
    CS: TlsCipherSuite + 'static,
    R: CryptoRngCore,
    Clk: TlsClock,
{
    if !config.base_url.tls {
        return Err(Error::NotHttps);
    }
    let mut call = Call::new(config, request, seed, now()).map_err(Error::Refused)?;
    let base = config.base_url;
    let tls_config = match trust {
        Trust::Ca(ca) => TlsConfig::new()
            .with_server_name(base.host)
            .with_ca(Certificate::X509(ca)),
        Trust::DangerNoVerification => TlsConfig::new().with_server_name(base.host),
    };
    let mut provider = || Provider::<CS, R, Clk> {
        rng: rng(),
        verifier: match trust {
            Trust::Ca(_) => Some(CertVerifier::new()),
            Trust::DangerNoVerification => None,
        },
        _suite: PhantomData,
    };
    let mut none: Option<TlsConnection<'_, C::Conn<'_>, CS>> = None;
    // A session borrows the record buffers: it lives inside one turn of the loop, so the
    // first turn (nothing connected yet) runs before it.
    let mut deadline = match drive(&mut call, &mut none, tx, rx, &mut on_event)
        .await
        .next_step()
    {
        ControlFlow::Continue(deadline) => deadline,
        ControlFlow::Break(result) => return result,
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
        match drive(&mut call, &mut session, tx, rx, &mut on_event)
            .await
            .next_step()
        {
            ControlFlow::Continue(next) => deadline = next,
            ControlFlow::Break(result) => return result,
        }
    }
}

/// [`call_tls`] with its context kept: a client whose calls go over TLS, with the typed
/// operations of [`Api`](crate::Api). Each call makes its own session (see the module docs).
pub struct TlsClient<'a, C, CS, R, Clk, G>
where
    C: Connect,
    G: FnMut() -> R,
{
    connector: &'a C,
    config: Config<'a>,
    tls: TlsBuffers<'a>,
    trust: Trust<'a>,
    rng: G,
    tx: &'a mut [u8],
    rx: &'a mut [u8],
    _suite: PhantomData<(CS, Clk)>,
}

impl<C: Connect, CS, R, Clk, G: FnMut() -> R> core::fmt::Debug for TlsClient<'_, C, CS, R, Clk, G> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsClient")
            .field("config", &self.config)
            .field("trust", &self.trust)
            .field("tx", &self.tx.len())
            .field("rx", &self.rx.len())
            .finish()
    }
}

impl<'a, C, CS, R, Clk, G> TlsClient<'a, C, CS, R, Clk, G>
where
    C: Connect,
    CS: TlsCipherSuite + 'static,
    R: CryptoRngCore,
    Clk: TlsClock,
    G: FnMut() -> R,
{
    /// A client for an `https` `config`, trusting what `trust` says; `rng` gives the random
    /// number generator of each handshake (the device's hardware RNG), `Clk` is the clock
    /// certificates are checked against. See [`call_tls`] for the buffers.
    #[allow(clippy::too_many_arguments)] // one client's whole context
    pub fn new(
        connector: &'a C,
        config: Config<'a>,
        tls: TlsBuffers<'a>,
        trust: Trust<'a>,
        rng: G,
        tx: &'a mut [u8],
        rx: &'a mut [u8],
    ) -> Self {
        TlsClient {
            connector,
            config,
            tls,
            trust,
            rng,
            tx,
            rx,
            _suite: PhantomData,
        }
    }
}

impl<C, CS, R, Clk, G> crate::Api for TlsClient<'_, C, CS, R, Clk, G>
where
    C: Connect,
    CS: TlsCipherSuite + 'static,
    R: CryptoRngCore,
    Clk: TlsClock,
    G: FnMut() -> R,
{
    fn call(
        &mut self,
        request: Request<'_>,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> impl Future<Output = Result<Success, Error>> {
        call_tls::<C, CS, R, Clk>(
            self.connector,
            &self.config,
            request,
            seed,
            &mut self.tls,
            self.trust,
            &mut self.rng,
            self.tx,
            self.rx,
            on_event,
        )
    }
}
