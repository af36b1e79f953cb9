#![no_std]
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../../README.md")]

#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod fmt;

pub mod analysis;
pub mod base_url;
pub mod call;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod json;
pub mod key;
pub mod request;
pub mod retry;
pub mod score;
pub mod stream;
pub mod text;
pub mod time;
