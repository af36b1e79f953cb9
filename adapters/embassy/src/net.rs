//! Connections through an embassy-net [`Stack`]: DNS through the stack, TCP sockets from a
//! [`TcpClientState`] pool (one socket per open connection).

use core::net::{IpAddr, SocketAddr};

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::client::{TcpClient, TcpClientState, TcpConnection};
use embassy_net::{IpAddress, Stack};
use embedded_nal_async::TcpConnect;
use kaiko_core::call::ConnectionLost;

use crate::Connect;

/// A [`Connect`] over embassy-net: `N` sockets with `TX`/`RX` bytes of buffer each.
///
/// One socket per kept-alive connection is enough for a [`Client`](crate::Client); the
/// socket buffers bound what is in flight, not the size of a request or response.
pub struct NetConnector<'d, const N: usize, const TX: usize, const RX: usize> {
    stack: Stack<'d>,
    tcp: TcpClient<'d, N, TX, RX>,
}

impl<'d, const N: usize, const TX: usize, const RX: usize> core::fmt::Debug for NetConnector<'d, N, TX, RX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NetConnector").field("sockets", &N).field("tx", &TX).field("rx", &RX).finish()
    }
}

impl<'d, const N: usize, const TX: usize, const RX: usize> NetConnector<'d, N, TX, RX> {
    /// Connections through `stack`, sockets from `state`.
    pub fn new(stack: Stack<'d>, state: &'d TcpClientState<N, TX, RX>) -> Self {
        NetConnector { stack, tcp: TcpClient::new(stack, state) }
    }

    async fn resolve(&self, host: &str) -> Result<IpAddr, ConnectionLost> {
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Ok(ip);
        }
        let found = self.stack.dns_query(host, DnsQueryType::A).await.map_err(|_| ConnectionLost::Dns)?;
        match found.first() {
            #[allow(unreachable_patterns)] // IPv6 variants exist only with `proto-ipv6`.
            Some(IpAddress::Ipv4(a)) => Ok(IpAddr::V4(*a)),
            _ => Err(ConnectionLost::Dns),
        }
    }
}

impl<'d, const N: usize, const TX: usize, const RX: usize> Connect for NetConnector<'d, N, TX, RX> {
    type Conn<'c>
        = TcpConnection<'c, N, TX, RX>
    where
        Self: 'c;

    async fn connect(&self, host: &str, port: u16) -> Result<Self::Conn<'_>, ConnectionLost> {
        let ip = self.resolve(host).await?;
        if ip.is_ipv6() {
            // Only `proto-ipv4` is enabled; TcpClient would panic on a v6 address.
            return Err(ConnectionLost::Refused);
        }
        self.tcp.connect(SocketAddr::new(ip, port)).await.map_err(|_| ConnectionLost::Refused)
    }
}
