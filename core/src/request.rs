//! Requests for the V2 endpoints (spec §3), validated and written into a caller buffer.
//!
//! TODO(helper): implement.
