//! Incremental JSON scanning. (Interface.)
