//! Base URLs: `http://host[:port][/prefix]` and `https://…`, parsed without allocation.
//!
//! TODO(helper): implement.
