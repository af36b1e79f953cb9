//! Speed of kaiko-core against the crates a client would otherwise use: the fixtures, both
//! sides of every case, the timing harness of `benches/report.rs`, and what the clients of
//! the process-level comparison (`src/bin`) share.
//!
//! The tests check that both sides of a case do the same job: the same facts out of the same
//! bytes, and byte-identical requests.

pub mod fixtures;
pub mod harness;
pub mod kaiko;
pub mod peers;
pub mod process;

#[cfg(test)]
mod tests;
