//! The error table: the documented rows (spec §5.2) and the 402 the backend sends (spec
//! §5.3): status, type, code, the remedy, and whether the status alone implies the code.

/// One row of the documented error table (spec §5.2).
pub(super) struct Row {
    pub(super) status: u16,
    pub(super) kind: &'static str,
    pub(super) code: &'static str,
    pub(super) hint: &'static str,
    /// The status alone names the code: a body without one may be given it. Where one status
    /// covers several causes (403: revoked, paused, no billing account; 422: any validation
    /// error), a body without a code keeps `http_<status>` instead of a guess.
    pub(super) implied: bool,
}

/// The seed table, verbatim remedies from the errors page.
pub(super) const TABLE: [Row; 11] = [
    Row {
        status: 400,
        kind: "invalid_request_error",
        code: "missing_field",
        hint: "Check required fields (messages, model)",
        implied: false,
    },
    Row {
        status: 401,
        kind: "authentication_error",
        code: "invalid_api_key",
        hint: "Check x-api-key header",
        implied: true,
    },
    // Not in the docs: the backend's answer when the account has no credit (spec §5.3).
    Row {
        status: 402,
        kind: "billing_error",
        code: "insufficient_credits",
        hint: "Top up the account or subscribe to a plan",
        implied: true,
    },
    Row {
        status: 403,
        kind: "forbidden_error",
        code: "key_revoked",
        hint: "Generate new key in console",
        implied: false,
    },
    Row {
        status: 404,
        kind: "not_found_error",
        code: "context_not_found",
        hint: "Verify context_id or model name",
        implied: false,
    },
    Row {
        status: 409,
        kind: "conflict_error",
        code: "duplicate_id",
        hint: "Use unique IDs per message",
        implied: false,
    },
    Row {
        status: 413,
        kind: "invalid_request_error",
        code: "payload_too_large",
        hint: "Reduce message size or split batch",
        implied: true,
    },
    Row {
        status: 422,
        kind: "invalid_request_error",
        code: "invalid_role",
        hint: "Use valid roles: user, assistant, system",
        implied: false,
    },
    Row {
        status: 429,
        kind: "rate_limit_error",
        code: "too_many_requests",
        hint: "Retry with exponential backoff",
        implied: true,
    },
    Row {
        status: 500,
        kind: "server_error",
        code: "internal",
        hint: "Retry; contact support if persistent",
        implied: true,
    },
    Row {
        status: 503,
        kind: "server_error",
        code: "service_unavailable",
        hint: "Check status page, retry later",
        implied: true,
    },
];
