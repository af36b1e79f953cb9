#![no_std]
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod fmt;

// The client API: configuration, requests, the call, its events and outcomes, errors, policy.
pub mod analysis;
pub mod base_url;
pub mod call;
pub mod error;
pub mod idempotency;
pub mod key;
mod packed;
pub mod request;
pub mod retry;
pub mod rng;
pub mod score;
pub mod text;
pub mod time;
mod wide;

// The parsers, reachable for fuzzing and benchmarks but not part of the versioned API (as
// httparse does with its `_benchable` module): they may change in any release.
#[doc(hidden)]
pub mod http;
#[doc(hidden)]
pub mod json;
#[doc(hidden)]
pub mod stream;

pub use http::{REQUEST_ID_CAP, RateLimit, RetryAfter};

// The workspace README's examples are tested too (it is not part of the package).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;
