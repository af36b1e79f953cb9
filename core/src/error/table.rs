//! The error table: the documented rows (spec §5.2) and the 402 the backend sends (spec
//! §5.3): status, type, code, the remedy, and whether the status alone implies the code.
//!
//! Kept as parallel arrays indexed by the position of the code in [`CODES`] (which is also
//! the order of [`ErrorCode`](super::ErrorCode)'s variants): each array is linked only where
//! it is used, so firmware that never shows a remedy carries none of their text.

/// The known `type` values, in the order of [`ErrorType`](super::ErrorType)'s variants.
pub(super) const TYPES: [&str; 8] = [
    "invalid_request_error",
    "authentication_error",
    "forbidden_error",
    "not_found_error",
    "conflict_error",
    "rate_limit_error",
    "billing_error",
    "server_error",
];

/// Index of each type in [`TYPES`].
mod ty {
    pub(super) const INVALID_REQUEST: u8 = 0;
    pub(super) const AUTHENTICATION: u8 = 1;
    pub(super) const FORBIDDEN: u8 = 2;
    pub(super) const NOT_FOUND: u8 = 3;
    pub(super) const CONFLICT: u8 = 4;
    pub(super) const RATE_LIMIT: u8 = 5;
    pub(super) const BILLING: u8 = 6;
    pub(super) const SERVER: u8 = 7;
}

/// The known `code` values, one per row of the table, in the order of
/// [`ErrorCode`](super::ErrorCode)'s variants.
pub(super) const CODES: [&str; 11] = [
    "missing_field",
    "invalid_api_key",
    "insufficient_credits",
    "key_revoked",
    "context_not_found",
    "duplicate_id",
    "payload_too_large",
    "invalid_role",
    "too_many_requests",
    "internal",
    "service_unavailable",
];

/// One row of the documented error table (spec §5.2), for the code at the same index of
/// [`CODES`].
pub(super) struct Row {
    pub(super) status: u16,
    /// Index of the row's type in [`TYPES`].
    pub(super) kind: u8,
    /// The status alone names the code: a body without one may be given it. Where one status
    /// covers several causes (403: revoked, paused, no billing account; 422: any validation
    /// error), a body without a code keeps `http_<status>` instead of a guess.
    pub(super) implied: bool,
}

const fn row(status: u16, kind: u8, implied: bool) -> Row {
    Row {
        status,
        kind,
        implied,
    }
}

/// The seed table, one row per entry of [`CODES`].
pub(super) const TABLE: [Row; 11] = [
    row(400, ty::INVALID_REQUEST, false), // missing_field
    row(401, ty::AUTHENTICATION, true),   // invalid_api_key
    // Not in the docs: the backend's answer when the account has no credit (spec §5.3).
    row(402, ty::BILLING, true),          // insufficient_credits
    row(403, ty::FORBIDDEN, false),       // key_revoked
    row(404, ty::NOT_FOUND, false),       // context_not_found
    row(409, ty::CONFLICT, false),        // duplicate_id
    row(413, ty::INVALID_REQUEST, true),  // payload_too_large
    row(422, ty::INVALID_REQUEST, false), // invalid_role
    row(429, ty::RATE_LIMIT, true),       // too_many_requests
    row(500, ty::SERVER, true),           // internal
    row(503, ty::SERVER, true),           // service_unavailable
];

/// The remedy of each code of [`CODES`], verbatim from the errors page.
pub(super) const HINTS: [&str; 11] = [
    "Check required fields (messages, model)",
    "Check x-api-key header",
    "Top up the account or subscribe to a plan",
    "Generate new key in console",
    "Verify context_id or model name",
    "Use unique IDs per message",
    "Reduce message size or split batch",
    "Use valid roles: user, assistant, system",
    "Retry with exponential backoff",
    "Retry; contact support if persistent",
    "Check status page, retry later",
];

/// [`TYPES`] as parsing reads them: every name's length, and the names one after the
/// other (no slice per name in flash).
pub(super) const TYPE_LENS: [u8; TYPES.len()] = lens(&TYPES);
pub(super) const TYPE_TEXT: [u8; total(&TYPES)] = packed(&TYPES);
/// [`CODES`] as parsing reads them.
pub(super) const CODE_LENS: [u8; CODES.len()] = lens(&CODES);
pub(super) const CODE_TEXT: [u8; total(&CODES)] = packed(&CODES);

const fn lens<const N: usize>(names: &[&str; N]) -> [u8; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        assert!(names[i].len() <= u8::MAX as usize);
        out[i] = names[i].len() as u8;
        i += 1;
    }
    out
}

const fn total(names: &[&str]) -> usize {
    let mut sum = 0;
    let mut i = 0;
    while i < names.len() {
        sum += names[i].len();
        i += 1;
    }
    sum
}

const fn packed<const T: usize, const N: usize>(names: &[&str; N]) -> [u8; T] {
    let mut out = [0; T];
    let (mut at, mut i) = (0, 0);
    while i < N {
        at = crate::packed::append(&mut out, at, names[i].as_bytes());
        i += 1;
    }
    assert!(at == T);
    out
}

/// Position of `s` among names stored as `lens` and `text`, ignoring ASCII case.
pub(super) fn position_ignore_case(lens: &[u8], text: &[u8], s: &str) -> Option<usize> {
    let mut at = 0;
    for (i, &len) in lens.iter().enumerate() {
        let end = at + usize::from(len);
        if text
            .get(at..end)
            .is_some_and(|name| name.eq_ignore_ascii_case(s.as_bytes()))
        {
            return Some(i);
        }
        at = end;
    }
    None
}
