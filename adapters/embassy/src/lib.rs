#![no_std]
#![warn(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core
)]
//! kaiko-embassy: the Kaiko V2 client core driven by async I/O on embassy.
//!
//! - [`drive`] is the one loop: it does what the call's `poll_action` says over any
//!   `embedded_io_async::{Read, Write}` connection (plain TCP or TLS), sleeping with
//!   embassy-time, and returns when the call is over or needs a new connection.
//! - [`Client`] adds connections from a [`Connect`], kept alive between calls; `resume_at`
//!   of a rate-limited response delays the next call. An `https` base URL is refused
//!   ([`Error::TlsRequired`]) before a byte is sent: use `tls::call_tls`.
//! - [`Api`]: a typed method per operation (analysis stateless or in a context, batch,
//!   context state, message lookup, chat, streamed chat) on [`Client`] and
//!   `tls::TlsClient` alike, results through a callback or into caller storage
//!   ([`Collected`]).
//! - Connectors: `net::NetConnector` (embassy-net TCP with DNS, feature `embassy-net`) and
//!   `tls::call_tls` (embedded-tls over any connector, feature `tls`). The transmit buffer
//!   is wiped after each request is written (it held the key): a `memset` of the request's
//!   length, well under a microsecond per call on a Cortex-M4.
//!
//! Failures are logged with their timestamp and the server's request id through `defmt` or
//! `log` (features of the same names, forwarded to kaiko-core).

mod client;
mod drive;
mod fmt;
#[cfg(feature = "embassy-net")]
pub mod net;
mod ops;
#[cfg(feature = "tls")]
pub mod tls;

pub use client::{Client, Connect, Error};
pub use drive::{Drive, drive};
pub use kaiko_core;
pub use ops::{Api, Collected};
