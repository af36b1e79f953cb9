#![no_std]
#![warn(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core
)]
//! kaiko-embassy: the Kaiko V2 client core driven by async I/O on embassy.
//!
//! - [`drive`] is the loop for one connection over any `embedded_io_async::{Read, Write}`:
//!   it writes the request, reads under the call's per-phase deadlines (embassy-time), sleeps
//!   through backoff, and reports every event.
//! - [`Client`] adds connections from a [`Connect`]: keep-alive between calls, a fresh
//!   connection after a failure, and a transparent resend when a reused connection turns out
//!   to be closed before any response byte.
//! - Connectors: `net::NetConnector` (embassy-net TCP with DNS, feature `embassy-net`) and
//!   `tls::call_tls` (embedded-tls over any connector, feature `tls`).
//!
//! Failures are logged with their timestamp and the server's request id through `defmt` or
//! `log` (features of the same names, forwarded to kaiko-core).

mod client;
mod drive;
mod fmt;
#[cfg(feature = "embassy-net")]
pub mod net;
#[cfg(feature = "tls")]
pub mod tls;

pub use client::{Client, Connect, Error};
pub use drive::{Drive, drive};
pub use kaiko_core;
