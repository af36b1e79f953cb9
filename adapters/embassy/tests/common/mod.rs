//! What the adapter's test suites share: a connector over tokio's loopback sockets.

use embedded_io_adapters::tokio_1::FromTokio;
use kaiko_core::call::ConnectionLost;
use kaiko_embassy::Connect;

/// Connections from tokio sockets (through `embedded-io-adapters`).
pub(crate) struct Tokio;

impl Connect for Tokio {
    type Conn<'c> = FromTokio<tokio::net::TcpStream>;

    async fn connect(&self, host: &str, port: u16) -> Result<Self::Conn<'_>, ConnectionLost> {
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|_| ConnectionLost::Refused)?;
        Ok(FromTokio::new(stream))
    }
}
