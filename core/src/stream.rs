//! Server-Sent Events. (Interface.)
