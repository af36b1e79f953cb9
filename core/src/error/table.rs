//! The documented error table (spec §5.2): status, type, code and the remedy the errors page
//! gives for it, one row per status.

/// One row of the documented error table (spec §5.2).
pub(super) struct Row {
    pub(super) status: u16,
    pub(super) kind: &'static str,
    pub(super) code: &'static str,
    pub(super) hint: &'static str,
}

/// The seed table, verbatim remedies from the errors page.
pub(super) const TABLE: [Row; 10] = [
    Row {
        status: 400,
        kind: "invalid_request_error",
        code: "missing_field",
        hint: "Check required fields (messages, model)",
    },
    Row {
        status: 401,
        kind: "authentication_error",
        code: "invalid_api_key",
        hint: "Check x-api-key header",
    },
    Row {
        status: 403,
        kind: "forbidden_error",
        code: "key_revoked",
        hint: "Generate new key in console",
    },
    Row {
        status: 404,
        kind: "not_found_error",
        code: "context_not_found",
        hint: "Verify context_id or model name",
    },
    Row {
        status: 409,
        kind: "conflict_error",
        code: "duplicate_id",
        hint: "Use unique IDs per message",
    },
    Row {
        status: 413,
        kind: "invalid_request_error",
        code: "payload_too_large",
        hint: "Reduce message size or split batch",
    },
    Row {
        status: 422,
        kind: "invalid_request_error",
        code: "invalid_role",
        hint: "Use valid roles: user, assistant, system",
    },
    Row {
        status: 429,
        kind: "rate_limit_error",
        code: "too_many_requests",
        hint: "Retry with exponential backoff",
    },
    Row {
        status: 500,
        kind: "server_error",
        code: "internal",
        hint: "Retry; contact support if persistent",
    },
    Row {
        status: 503,
        kind: "server_error",
        code: "service_unavailable",
        hint: "Check status page, retry later",
    },
];
