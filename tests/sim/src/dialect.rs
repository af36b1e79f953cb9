//! Which of the two published descriptions of the API the simulator serves.

use std::fmt;
use std::str::FromStr;

/// The shapes the simulator answers in.
///
/// The documentation and the public backend source disagree in many places (spec §10). A
/// client has to cope with both, so the simulator can speak either:
///
/// | | [`Dialect::Docs`] (default) | [`Dialect::Backend`] |
/// |---|---|---|
/// | error bodies | `{"error":{type,code,message,param,request_id}}` (§5.1) | flat `{"message": …}` (§5.3) |
/// | invalid body | 400 `missing_field` / `invalid_type`, 422 `invalid_role`, 413 over 100 messages | 422 `{"message":"Validation error","details":[{message,rule,field,index?,meta?}]}` (VineJS, every failing field) |
/// | limits checked | ≤ 100 messages, roles `user`/`assistant`/`system`, `context_id` ≤ 128 bytes in the path | also `text` ≤ 10 000 chars, `role` ≤ 32 chars (any string), `externalId` a UUID, `audioUrl` ≤ 2 048, `timestamp` ≤ 64; chat roles `user`/`assistant` only, `model`/`emotion_model` ≤ 64, `context_id` ≤ 128 chars in the body; path `context_id` unchecked |
/// | API key | any non-empty key | `sk_<env>_<rest>` or a token starting `eyJ`; others 401 `{"message":"Unauthorized"}` (the authorizer, §2) |
/// | missing / revoked key | 401 `invalid_api_key` / 403 `key_revoked` | 401 `{"message":"Unauthorized"}` / 403 `{"message":"Forbidden"}` (API Gateway's bodies, an inference of §2) |
/// | paused key, no credit ([`crate::Config::paused_keys`], [`crate::Config::unfunded_keys`]) | 403 `forbidden_error`/`key_paused`, 402 `billing_error`/`insufficient_credits` in the envelope | 403 `{"message":"Access denied: API key is paused"}`, 402 `{"message":"Insufficient credits. …"}` |
/// | 429 | envelope, `Retry-After` in seconds | `{"message":"Rate limit exceeded. Please retry after the reset window."}`, no `Retry-After` (§6) |
/// | request id | `x-request-id: req-…` and `error.request_id` | `apigw-requestid` header only (§8) |
/// | stateless analysis | `emotions` keyed by role, every message analysed, `usage.analyse_tokens` | only `messages[0]`, keyed `_default`; `response_type`, `isFallback`, `dataQuality`, `metadata: {}`, `params`, `usage.analyse_token` + `analyse_token_details` (§3.3) |
/// | context analysis | `metadata.context_id`, 409 `duplicate_id` for a reused `externalId` | top-level `context_id`, `context_message_count`, `metadata: {}`, keyed `user`; a reused `externalId` replaces the stored message (§3.4, §10.13) |
/// | context state | partial item keyed by the last message's role | full item keyed `user`, `usage: {}` (§3.5) |
/// | message lookup | `emotions.state`, `metadata.message_id` | `emotions.analysis`, top-level `context_id`/`external_id`, `metadata.message_id`, zero `usage` (§3.6); unknown id 404 `{"message":"Message not found"}` |
/// | batch | `emotions.batch_analysis`, `usage.total_tokens` | the same (the type the source declares; its route is absent from the excerpt, §3.7), plus `params` |
/// | chat | `emotion_model` echoed; the last `user` message analysed; `"stream": true` streams | no `emotion_model`; the first `user` message; `stream` is not in the schema, so the answer is one `chat.completion` JSON; an unregistered `model` is 500 `{"status":"error","message":…}` (§3.8, §4); `context_id` stores nothing |
/// | `Idempotency-Key` | processed once, replayed after | ignored: every request is processed (§2, §10.16); the ledger still counts per key |
/// | body over the size limit | 413 `payload_too_large` | 413 `{"status":"error","code":"PAYLOAD_TOO_LARGE","message":…}` (§5.3) |
/// | unknown route | 404 `not_found` | 404 `{"message":"Not Found"}` |
///
/// Both dialects send the `X-RateLimit-*` headers and share the rate limit, the contexts, the
/// faults and the HTTP behaviour. Where the backend's answer is not stated (an unknown context,
/// the text descriptor of an item), the backend dialect says so in its source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// The documentation site's shapes.
    #[default]
    Docs,
    /// The shapes the public backend source sends.
    Backend,
}

impl Dialect {
    /// Both, in a fixed order (for tests that run against each).
    pub const ALL: [Dialect; 2] = [Dialect::Docs, Dialect::Backend];

    /// `docs` or `backend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Docs => "docs",
            Dialect::Backend => "backend",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dialect name that is neither `docs` nor `backend`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDialect(pub String);

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown dialect `{}`: docs or backend", self.0)
    }
}

impl std::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "docs" => Ok(Dialect::Docs),
            "backend" => Ok(Dialect::Backend),
            other => Err(UnknownDialect(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Dialect::ALL {
            assert_eq!(d.to_string().parse::<Dialect>(), Ok(d));
        }
        assert_eq!(
            "Backend".parse::<Dialect>().unwrap_err().to_string(),
            "unknown dialect `Backend`: docs or backend"
        );
        assert_eq!(Dialect::default(), Dialect::Docs);
    }
}
