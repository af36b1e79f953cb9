//! The V2 API: authentication, rate limit, idempotency, routing and the handlers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::bounded::Bounded;
use crate::emotion::{self, Scores, round4};
use crate::http::{Body, Request, Response};
use crate::server::Shared;
use crate::time::{http_date, unix_now};
use crate::{Config, Dialect, Fault, LedgerEntry, RetryAfterValue, backend};

/// Most messages in one request (spec §3.1, §6: batch size 100).
const MAX_MESSAGES: usize = 100;
/// Longest `context_id` in bytes (spec §3).
const MAX_CONTEXT_ID: usize = 128;
/// Roles the errors page lists as valid (spec §5.2, 422 row).
const ROLES: [&str; 3] = ["user", "assistant", "system"];
/// Messages remembered per context; older ones are forgotten (their lookup gets 404).
const MAX_CONTEXT_MESSAGES: usize = 1000;
/// Bytes of stored messages (their texts plus [`STORED_OVERHEAD`] each) kept over all
/// contexts; beyond it the oldest contexts are forgotten, and one context alone keeps at most
/// this much of its newest messages.
const MAX_CONTEXT_BYTES: usize = 64 * 1024 * 1024;
/// What one stored message or answer costs besides its text or body, roughly.
const STORED_OVERHEAD: usize = 256;
/// Bytes of answers kept for idempotent replay; beyond it the oldest are forgotten.
const MAX_STORED_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Everything the server remembers, each map bounded by [`Config::capacity`].
#[derive(Debug)]
pub(crate) struct State {
    contexts: Bounded<String, Context>,
    /// The sum of the contexts' `bytes`.
    context_bytes: usize,
    capacity: usize,
    buckets: Bounded<String, Bucket>,
    idem: Bounded<String, Slot>,
    /// The sum of [`Slot::bytes`] over `idem`.
    idem_bytes: usize,
    ledger: Bounded<LedgerKey, LedgerEntry>,
}

/// What a ledger entry counts: one idempotency key, or the keyless requests of one path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LedgerKey {
    Idempotency(String),
    Path(String),
}

impl State {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            // Evicted by `with_context`, which also watches the bytes.
            contexts: Bounded::new(usize::MAX),
            context_bytes: 0,
            capacity: capacity.max(1),
            buckets: Bounded::new(capacity),
            // Evicted by `set_idem`, which also watches the bytes.
            idem: Bounded::new(usize::MAX),
            idem_bytes: 0,
            ledger: Bounded::new(capacity),
        }
    }

    pub(crate) fn context(&self, id: &str) -> Option<&Context> {
        self.contexts.get(id)
    }

    /// Runs `f` on the context `id`, created empty if absent, which becomes the most recently
    /// written; then forgets the least recently written contexts while more than the capacity
    /// or [`MAX_CONTEXT_BYTES`] are kept.
    pub(crate) fn with_context<R>(&mut self, id: &str, f: impl FnOnce(&mut Context) -> R) -> R {
        let mut ctx = self.contexts.remove(id).unwrap_or_default();
        let before = ctx.bytes;
        let out = f(&mut ctx);
        self.context_bytes = self.context_bytes - before + ctx.bytes;
        self.contexts.insert(id.to_owned(), ctx);
        // The context just written is the newest, so never the one forgotten.
        while self.contexts.len() > 1
            && (self.contexts.len() > self.capacity || self.context_bytes > MAX_CONTEXT_BYTES)
        {
            match self.contexts.pop_oldest() {
                Some((_, old)) => self.context_bytes -= old.bytes,
                None => break,
            }
        }
        out
    }

    /// Stores the progress of an idempotency key as the newest, then forgets the oldest
    /// keys while more than the capacity or [`MAX_STORED_ANSWER_BYTES`] are kept.
    fn set_idem(&mut self, key: &str, slot: Slot) {
        self.clear_idem(key);
        self.idem_bytes += slot.bytes(key);
        self.idem.insert(key.to_owned(), slot);
        while self.idem.len() > 1
            && (self.idem.len() > self.capacity || self.idem_bytes > MAX_STORED_ANSWER_BYTES)
        {
            match self.idem.pop_oldest() {
                Some((k, old)) => self.idem_bytes -= old.bytes(&k),
                None => break,
            }
        }
    }

    fn clear_idem(&mut self, key: &str) {
        if let Some(old) = self.idem.remove(key) {
            self.idem_bytes -= old.bytes(key);
        }
    }

    /// The ledger's entries, oldest first.
    pub(crate) fn ledger(&self) -> Vec<LedgerEntry> {
        self.ledger.iter().map(|(_, e)| e.clone()).collect()
    }

    fn ledger_entry(&mut self, key: Option<&str>, path: &str) -> &mut LedgerEntry {
        let k = match key {
            Some(k) => LedgerKey::Idempotency(k.to_owned()),
            None => LedgerKey::Path(path.to_owned()),
        };
        self.ledger.get_or_insert_with(&k, || LedgerEntry {
            idempotency_key: key.map(str::to_owned),
            path: path.to_owned(),
            processed: 0,
            replayed: 0,
        })
    }
}

/// A fixed rate-limit window of one key.
#[derive(Debug)]
struct Bucket {
    opened: Instant,
    reset_unix: u64,
    count: u32,
}

/// An idempotency key's progress.
#[derive(Debug)]
enum Slot {
    InFlight,
    /// The response without `Date` and rate-limit headers, which are fresh on each replay.
    Done(Response),
}

impl Slot {
    /// What keeping it under `key` costs, roughly.
    fn bytes(&self, key: &str) -> usize {
        let answer = match self {
            Slot::InFlight => 0,
            Slot::Done(r) => {
                let head: usize = r.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
                let body = match &r.body {
                    Body::Full(b) => b.len(),
                    Body::Chunked(pieces) => pieces.iter().map(Vec::len).sum(),
                };
                head + body
            }
        };
        key.len() + STORED_OVERHEAD + answer
    }
}

#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) model: String,
    /// At most [`MAX_CONTEXT_MESSAGES`], oldest first. Changed only through the methods, which
    /// keep `bytes`.
    pub(crate) messages: VecDeque<Stored>,
    /// What the messages cost (see [`MAX_CONTEXT_BYTES`]).
    bytes: usize,
}

impl Context {
    pub(crate) fn push(&mut self, m: Stored) {
        self.bytes += m.bytes();
        self.messages.push_back(m);
        while self.messages.len() > 1
            && (self.messages.len() > MAX_CONTEXT_MESSAGES || self.bytes > MAX_CONTEXT_BYTES)
        {
            if let Some(old) = self.messages.pop_front() {
                self.bytes -= old.bytes();
            }
        }
    }

    /// Forgets the messages stored under `external_id`.
    pub(crate) fn remove_external_id(&mut self, external_id: &str) {
        let mut freed = 0;
        self.messages.retain(|s| {
            let keep = s.external_id.as_deref() != Some(external_id);
            if !keep {
                freed += s.bytes();
            }
            keep
        });
        self.bytes -= freed;
    }
}

#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) external_id: Option<String>,
    pub(crate) role: String,
    pub(crate) scores: Scores,
}

impl Stored {
    fn bytes(&self) -> usize {
        self.scores.text.len() + STORED_OVERHEAD
    }
}

/// Values of the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    limit: u32,
    remaining: u32,
    reset_unix: u64,
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A full, untouched window: what requests that are not counted report.
fn idle_rate(cfg: &Config) -> Rate {
    Rate {
        limit: cfg.rate_limit,
        remaining: cfg.rate_limit,
        reset_unix: ceil_secs(unix_now() + cfg.rate_window),
    }
}

/// Counts a request against `key`'s window; on excess returns the rate and the seconds
/// until the window resets (at least 1).
fn take_rate(st: &mut State, cfg: &Config, key: &str) -> Result<Rate, (Rate, u64)> {
    let now = Instant::now();
    let fresh = || Bucket {
        opened: now,
        reset_unix: ceil_secs(unix_now() + cfg.rate_window),
        count: 0,
    };
    let b = st.buckets.get_or_insert_with(&key.to_owned(), fresh);
    if now.duration_since(b.opened) >= cfg.rate_window {
        *b = fresh();
    }
    if b.count >= cfg.rate_limit {
        let left = cfg.rate_window.saturating_sub(now.duration_since(b.opened));
        let rate = Rate {
            limit: cfg.rate_limit,
            remaining: 0,
            reset_unix: b.reset_unix,
        };
        return Err((rate, ceil_secs(left).max(1)));
    }
    b.count += 1;
    Ok(Rate {
        limit: cfg.rate_limit,
        remaining: cfg.rate_limit - b.count,
        reset_unix: b.reset_unix,
    })
}

/// Adds the headers every response carries. The backend's request id is API Gateway's
/// `apigw-requestid` header (spec §8).
fn finish(mut resp: Response, rate: &Rate, dialect: Dialect) -> Response {
    let h = &mut resp.headers;
    if dialect == Dialect::Backend {
        for (name, _) in h.iter_mut().filter(|(n, _)| n == "x-request-id") {
            *name = "apigw-requestid".into();
        }
    }
    h.push(("Date".into(), http_date(unix_now().as_secs())));
    h.push(("X-RateLimit-Limit".into(), rate.limit.to_string()));
    h.push(("X-RateLimit-Remaining".into(), rate.remaining.to_string()));
    h.push(("X-RateLimit-Reset".into(), rate.reset_unix.to_string()));
    resp
}

fn json_response(status: u16, body: &Value, request_id: &str) -> Response {
    Response {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("x-request-id".into(), request_id.into()),
        ],
        body: Body::Full(serde_json::to_vec(body).unwrap_or_default()),
    }
}

/// The documented `type` for a status (spec §5.2).
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        // Not in the docs' table (the backend sends 402 flat, spec §5.3); named like the rest.
        402 => "billing_error",
        403 => "forbidden_error",
        404 => "not_found_error",
        409 => "conflict_error",
        429 => "rate_limit_error",
        500.. => "server_error",
        _ => "invalid_request_error",
    }
}

/// The documented `code` for a status (spec §5.2), for injected errors.
fn default_code(status: u16) -> String {
    match status {
        400 => "missing_field".into(),
        401 => "invalid_api_key".into(),
        403 => "key_revoked".into(),
        404 => "context_not_found".into(),
        409 => "duplicate_id".into(),
        413 => "payload_too_large".into(),
        422 => "invalid_role".into(),
        429 => "too_many_requests".into(),
        500 => "internal".into(),
        502 => "bad_gateway".into(),
        503 => "service_unavailable".into(),
        504 => "gateway_timeout".into(),
        s => format!("http_{s}"),
    }
}

/// An error answer: the documented envelope (spec §5.1), or in the backend dialect a flat
/// body (spec §5.3).
#[derive(Debug)]
pub(crate) struct ApiErr {
    status: u16,
    code: String,
    message: String,
    param: Option<String>,
    /// The backend dialect's body; `None`: `{"message": message}`.
    flat: Option<Value>,
}

impl ApiErr {
    fn new(status: u16, code: &str, message: impl Into<String>, param: Option<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            param,
            flat: None,
        }
    }

    /// An error only the backend dialect produces, with its body.
    pub(crate) fn flat(status: u16, code: &str, body: Value) -> Self {
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        Self {
            flat: Some(body),
            ..Self::new(status, code, message, None)
        }
    }

    /// An error with one message per dialect.
    fn per_dialect(dialect: Dialect, status: u16, code: &str, docs: &str, backend: &str) -> Self {
        match dialect {
            Dialect::Docs => Self::new(status, code, docs, None),
            Dialect::Backend => Self::new(status, code, backend, None),
        }
    }

    #[cfg(test)]
    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    /// The backend dialect's body.
    pub(crate) fn flat_body(&self) -> Value {
        self.flat
            .clone()
            .unwrap_or_else(|| json!({ "message": self.message }))
    }

    fn missing(param: &str) -> Self {
        Self::new(
            400,
            "missing_field",
            format!("The '{param}' field is required"),
            Some(param.to_owned()),
        )
    }

    fn wrong_type(param: &str, want: &str) -> Self {
        Self::new(
            400,
            "invalid_type",
            format!("The '{param}' field must be {want}"),
            Some(param.to_owned()),
        )
    }

    fn response(&self, dialect: Dialect, request_id: &str) -> Response {
        if dialect == Dialect::Backend {
            return json_response(self.status, &self.flat_body(), request_id);
        }
        let mut err = Map::new();
        err.insert("type".into(), error_type(self.status).into());
        err.insert("code".into(), self.code.clone().into());
        err.insert("message".into(), self.message.clone().into());
        if let Some(p) = &self.param {
            err.insert("param".into(), p.clone().into());
        }
        err.insert("request_id".into(), request_id.into());
        json_response(self.status, &json!({ "error": err }), request_id)
    }
}

/// An error in the dialect's shape with all common headers; `rate` `None` reports an
/// untouched window.
pub(crate) fn error_response(
    sh: &Shared,
    rate: Option<Rate>,
    status: u16,
    code: &str,
    message: &str,
    param: Option<String>,
) -> Response {
    let rid = sh.request_id();
    let rate = rate.unwrap_or_else(|| idle_rate(&sh.config));
    let dialect = sh.config.dialect;
    let mut err = ApiErr::new(status, code, message, param);
    if status == 413 {
        // The backend's body-size middleware (spec §5.3).
        err.flat =
            Some(json!({ "status": "error", "code": "PAYLOAD_TOO_LARGE", "message": message }));
    }
    finish(err.response(dialect, &rid), &rate, dialect)
}

/// The response of a fault that replaces the normal one.
pub(crate) fn fault_response(sh: &Shared, fault: Fault) -> Response {
    let date = ("Date".to_owned(), http_date(unix_now().as_secs()));
    let json = ("Content-Type".to_owned(), "application/json".to_owned());
    let text = |status: u16| match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        429 => "Rate limit exceeded. Please retry after the reset window.",
        _ => "Error",
    };
    match fault {
        Fault::Status {
            status,
            retry_after,
        } => {
            let rid = sh.request_id();
            let msg = format!("Injected {status}: {}", text(status));
            // Injected errors keep the documented envelope in both dialects; the flat shapes
            // have faults of their own.
            let mut resp =
                ApiErr::new(status, &default_code(status), msg, None).response(Dialect::Docs, &rid);
            match retry_after {
                Some(RetryAfterValue::Seconds(s)) => {
                    resp.headers.push(("Retry-After".into(), s.to_string()));
                }
                Some(RetryAfterValue::HttpDate { secs_from_now }) => {
                    let at = unix_now().as_secs() + u64::from(secs_from_now);
                    resp.headers.push(("Retry-After".into(), http_date(at)));
                }
                None => {}
            }
            let mut rate = idle_rate(&sh.config);
            if status == 429 {
                rate.remaining = 0;
            }
            finish(resp, &rate, Dialect::Docs)
        }
        Fault::Html { status } => {
            let t = format!("{status} {}", text(status));
            let page = format!(
                "<html>\r\n<head><title>{t}</title></head>\r\n<body>\r\n<center><h1>{t}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            Response {
                status,
                headers: vec![
                    ("Content-Type".into(), "text/html; charset=utf-8".into()),
                    date,
                ],
                body: Body::Full(page.into_bytes()),
            }
        }
        Fault::FlatError { status } => Response {
            status,
            headers: vec![json, date],
            body: Body::Full(
                serde_json::to_vec(&json!({ "message": text(status) })).unwrap_or_default(),
            ),
        },
        Fault::StatusError { status } => Response {
            status,
            headers: vec![json, date],
            body: Body::Full(
                serde_json::to_vec(&json!({ "status": "error", "message": text(status) }))
                    .unwrap_or_default(),
            ),
        },
        Fault::Empty { status } => Response {
            status,
            headers: vec![date],
            body: Body::Full(Vec::new()),
        },
        // The shaping faults never get here; answer like an overloaded proxy.
        _ => Response {
            status: 503,
            headers: vec![date],
            body: Body::Full(Vec::new()),
        },
    }
}

/// The key from `Authorization` (a leading `Bearer ` stripped) or `x-api-key`, trimmed
/// (spec §2: the authorizer reads `Authorization` first).
fn api_key(req: &Request) -> Option<String> {
    let from_auth = req.header("authorization").map(|v| {
        let v = v.trim();
        match v.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") => v.get(7..).unwrap_or("").trim(),
            _ => v,
        }
    });
    let key = match from_auth {
        Some(k) if !k.is_empty() => k,
        _ => req.header("x-api-key").map(str::trim).unwrap_or(""),
    };
    (!key.is_empty()).then(|| key.to_owned())
}

/// Clears an in-flight idempotency key if processing ends without storing a result.
struct InFlight<'a> {
    sh: &'a Shared,
    key: Option<&'a str>,
    armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let (true, Some(k)) = (self.armed, self.key) {
            let mut st = self.sh.state();
            if matches!(st.idem.get(k), Some(Slot::InFlight)) {
                st.clear_idem(k);
            }
        }
    }
}

/// Whether the backend's authorizer accepts the token's shape: a console JWT (`eyJ…`) or an
/// API key `sk_<env>_<rest>` (spec §2).
fn backend_token_shape(key: &str) -> bool {
    if key.starts_with("eyJ") {
        return true;
    }
    key.strip_prefix("sk_")
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(env, rest)| !env.is_empty() && !rest.is_empty())
}

/// Answers a request that was read completely.
pub(crate) fn respond(sh: &Shared, req: &Request) -> Response {
    let rid = sh.request_id();
    let cfg = &sh.config;
    let dialect = cfg.dialect;
    let backend = dialect == Dialect::Backend;
    let reject = |e: ApiErr| finish(e.response(dialect, &rid), &idle_rate(cfg), dialect);
    let unauthorized = |docs: &str| {
        reject(ApiErr::per_dialect(
            dialect,
            401,
            "invalid_api_key",
            docs,
            "Unauthorized",
        ))
    };
    let Some(key) = api_key(req) else {
        return unauthorized("Missing API key: send x-api-key or Authorization: Bearer");
    };
    if backend && !backend_token_shape(&key) {
        return unauthorized("Invalid API key");
    }
    if cfg.revoked_keys.contains(&key) {
        return reject(ApiErr::per_dialect(
            dialect,
            403,
            "key_revoked",
            "This API key has been revoked",
            "Forbidden",
        ));
    }
    if cfg
        .accepted_keys
        .as_ref()
        .is_some_and(|ks| !ks.contains(&key))
    {
        return unauthorized("Invalid API key");
    }
    let rate = match take_rate(&mut sh.state(), cfg, &key) {
        Ok(r) => r,
        Err((rate, secs)) => {
            let docs = format!(
                "Rate limit of {} requests per {} s exceeded; retry after {secs} s",
                cfg.rate_limit,
                cfg.rate_window.as_secs()
            );
            let backend_msg = "Rate limit exceeded. Please retry after the reset window.";
            let e = ApiErr::per_dialect(dialect, 429, "too_many_requests", &docs, backend_msg);
            let mut resp = e.response(dialect, &rid);
            // The backend's limiter sets no Retry-After (spec §6).
            if !backend {
                resp.headers.push(("Retry-After".into(), secs.to_string()));
            }
            return finish(resp, &rate, dialect);
        }
    };
    let path = req.path().to_owned();
    let route = match route(&req.method, &path, dialect) {
        Ok(r) => r,
        Err(e) => return finish(e.response(dialect, &rid), &rate, dialect),
    };
    if req.method == "POST" {
        // The backend checks key status and balance on the analysis and chat POSTs (spec §2).
        let refusal = if cfg.paused_keys.contains(&key) {
            Some(ApiErr::new(
                403,
                "key_paused",
                "Access denied: API key is paused",
                None,
            ))
        } else if cfg.unfunded_keys.contains(&key) {
            Some(ApiErr::new(
                402,
                "insufficient_credits",
                "Insufficient credits. Please top up your account or subscribe to a plan.",
                None,
            ))
        } else {
            None
        };
        if let Some(e) = refusal {
            return finish(e.response(dialect, &rid), &rate, dialect);
        }
    }
    let idem_key = if req.method == "POST" {
        req.header("idempotency-key")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
    } else {
        None
    };
    // The backend does not deduplicate (spec §10.16): every request is processed, and the
    // ledger shows how often.
    let store = idem_key.as_deref().filter(|_| !backend);
    if let Some(k) = store {
        let mut st = sh.state();
        match st.idem.get(k) {
            Some(Slot::Done(stored)) => {
                let mut r = stored.clone();
                r.headers
                    .push(("Idempotent-Replayed".into(), "true".into()));
                st.ledger_entry(Some(k), &path).replayed += 1;
                return finish(r, &rate, dialect);
            }
            Some(Slot::InFlight) => {
                let e = ApiErr::new(
                    409,
                    "idempotency_in_flight",
                    "A request with this Idempotency-Key is still being processed",
                    Some("Idempotency-Key".into()),
                );
                return finish(e.response(dialect, &rid), &rate, dialect);
            }
            None => {
                st.set_idem(k, Slot::InFlight);
            }
        }
    }
    let mut guard = InFlight {
        sh,
        key: store,
        armed: true,
    };
    sh.sleep(cfg.latency);
    // Parsing and scoring run outside the state lock; handlers lock it only to read or
    // update a context.
    let core = handle(sh, route, req, &rid).unwrap_or_else(|e| e.response(dialect, &rid));
    {
        let mut st = sh.state();
        st.ledger_entry(idem_key.as_deref(), &path).processed += 1;
        if let Some(k) = store {
            st.set_idem(k, Slot::Done(core.clone()));
        }
    }
    guard.armed = false;
    finish(core, &rate, dialect)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Health,
    ChatHealth,
    Analysis,
    ContextAnalysis(String),
    State(String),
    Message(String, String),
    Batch,
    Chat,
}

/// Percent-decodes a path segment (RFC 3986 §2.1); malformed escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|h| (*h as char).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A decoded `context_id` path segment; the backend does not check its length (spec §3).
fn context_id(raw: &str, dialect: Dialect) -> Result<String, ApiErr> {
    let id = percent_decode(raw);
    if id.len() > MAX_CONTEXT_ID && dialect == Dialect::Docs {
        return Err(ApiErr::new(
            400,
            "invalid_context_id",
            format!(
                "context_id is {} bytes; at most {MAX_CONTEXT_ID} are allowed",
                id.len()
            ),
            Some("context_id".into()),
        ));
    }
    Ok(id)
}

fn route(method: &str, path: &str, dialect: Dialect) -> Result<Route, ApiErr> {
    let not_found = || {
        let docs = format!("No route for {method} {path}");
        ApiErr::per_dialect(dialect, 404, "not_found", &docs, "Not Found")
    };
    let rest = path.strip_prefix("/v2/").ok_or_else(not_found)?;
    // The backend's router is not strict: one trailing slash is tolerated (spec §1).
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    Ok(match (method, segs.as_slice()) {
        ("GET", ["emotions"]) => Route::Health,
        ("GET", ["chat"]) => Route::ChatHealth,
        ("POST", ["emotions", "analysis"]) => Route::Analysis,
        ("POST", ["emotions", "batch-analysis"]) => Route::Batch,
        ("POST", ["chat", "completions"]) => Route::Chat,
        ("POST", ["emotions", c, "analysis"]) => Route::ContextAnalysis(context_id(c, dialect)?),
        ("GET", ["emotions", c]) => Route::State(context_id(c, dialect)?),
        ("GET", ["emotions", c, "message", m]) => {
            Route::Message(context_id(c, dialect)?, percent_decode(m))
        }
        _ => return Err(not_found()),
    })
}

fn handle(sh: &Shared, route: Route, req: &Request, rid: &str) -> Result<Response, ApiErr> {
    let ok = |v: Value| json_response(200, &v, rid);
    match route {
        Route::Health => Ok(ok(
            json!({ "message": "Emotion V2 service is running with enhanced EQ analysis." }),
        )),
        Route::ChatHealth => Ok(ok(
            json!({ "message": "Chat V2 service is running with enhanced EQ analysis." }),
        )),
        _ if sh.config.dialect == Dialect::Backend => handle_backend(sh, route, req).map(ok),
        Route::Analysis => analysis(&body(req)?).map(ok),
        Route::Batch => batch(&body(req)?).map(ok),
        Route::ContextAnalysis(c) => context_analysis(sh, &c, &body(req)?).map(ok),
        Route::State(c) => state(&sh.state(), &c).map(ok),
        Route::Message(c, m) => message(&sh.state(), &c, &m).map(ok),
        Route::Chat => chat(sh, &body(req)?, rid),
    }
}

fn handle_backend(sh: &Shared, route: Route, req: &Request) -> Result<Value, ApiErr> {
    match route {
        Route::Analysis => backend::analysis(&backend_body(req)?),
        Route::Batch => backend::batch(&backend_body(req)?),
        Route::ContextAnalysis(c) => backend::context_analysis(sh, &c, &backend_body(req)?),
        Route::State(c) => backend::state(sh, &c),
        Route::Message(c, m) => backend::message(sh, &c, &m),
        Route::Chat => backend::chat(&backend_body(req)?),
        // Answered before the dialects part.
        Route::Health | Route::ChatHealth => Ok(json!({})),
    }
}

/// The body as the backend reads it: malformed JSON throws in the handler (500), a body
/// that is not an object fails validation at the root, which VineJS calls `data`.
fn backend_body(req: &Request) -> Result<Map<String, Value>, ApiErr> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiErr::flat(
            422,
            "validation_error",
            json!({
                "message": "Validation error",
                "details": [{ "message": "The data field must be an object", "rule": "object", "field": "" }],
            }),
        )),
        Err(e) => Err(ApiErr::flat(
            500,
            "internal",
            json!({ "status": "error", "message": e.to_string() }),
        )),
    }
}

/// The JSON object of the body; an empty body reads as `{}`.
fn body(req: &Request) -> Result<Map<String, Value>, ApiErr> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiErr::new(
            400,
            "invalid_json",
            "The body must be a JSON object",
            None,
        )),
        Err(e) => Err(ApiErr::new(
            400,
            "invalid_json",
            format!("The body is not valid JSON: {e}"),
            None,
        )),
    }
}

/// One message of an analysis request.
#[derive(Debug)]
struct Msg {
    role: String,
    text: String,
    external_id: Option<String>,
}

fn required_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, ApiErr> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(ApiErr::missing(field)),
        Some(Value::String(s)) if s.is_empty() => Err(ApiErr::missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiErr::wrong_type(field, "a string")),
    }
}

fn messages(obj: &Map<String, Value>) -> Result<&Vec<Value>, ApiErr> {
    match obj.get("messages") {
        None | Some(Value::Null) => Err(ApiErr::missing("messages")),
        Some(Value::Array(a)) if a.is_empty() => Err(ApiErr::new(
            400,
            "missing_field",
            "The 'messages' field must not be empty",
            Some("messages".into()),
        )),
        Some(Value::Array(a)) if a.len() > MAX_MESSAGES => Err(ApiErr::new(
            413,
            "payload_too_large",
            format!("At most {MAX_MESSAGES} messages per request; split the batch"),
            Some("messages".into()),
        )),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(ApiErr::wrong_type("messages", "an array")),
    }
}

/// The role of message `i`; `required` decides whether absence is an error.
fn role(m: &Map<String, Value>, i: usize, required: bool) -> Result<String, ApiErr> {
    let param = format!("messages[{i}].role");
    match m.get("role") {
        None | Some(Value::Null) if required => Err(ApiErr::missing(&param)),
        None | Some(Value::Null) => Ok("user".into()),
        Some(Value::String(r)) if ROLES.contains(&r.as_str()) => Ok(r.clone()),
        Some(other) => Err(ApiErr::new(
            422,
            "invalid_role",
            format!("Invalid role {other}: use user, assistant or system"),
            Some(param),
        )),
    }
}

/// Validates the common analysis body (spec §3.1).
fn analysis_request(obj: &Map<String, Value>) -> Result<(String, Vec<Msg>), ApiErr> {
    let list = messages(obj)?;
    let model = required_str(obj, "model")?.to_owned();
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let Value::Object(m) = m else {
            return Err(ApiErr::wrong_type(&format!("messages[{i}]"), "an object"));
        };
        let role = role(m, i, false)?;
        let text = match m.get("content").and_then(|c| c.get("text")) {
            Some(Value::String(t)) => t.clone(),
            None | Some(Value::Null) => {
                return Err(ApiErr::missing(&format!("messages[{i}].content.text")));
            }
            Some(_) => {
                return Err(ApiErr::wrong_type(
                    &format!("messages[{i}].content.text"),
                    "a string",
                ));
            }
        };
        let external_id = match m.get("externalId").or_else(|| m.get("external_id")) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        out.push(Msg {
            role,
            text,
            external_id,
        });
    }
    Ok((model, out))
}

fn analysis(obj: &Map<String, Value>) -> Result<Value, ApiErr> {
    let (model, msgs) = analysis_request(obj)?;
    let mut emotions = Map::new();
    let mut tokens = 0;
    for m in &msgs {
        tokens += emotion::tokens(&m.text);
        emotions.insert(m.role.clone(), emotion::analyse(&m.text).item());
    }
    Ok(json!({
        "object": "emotions.analysis",
        "model": model,
        "emotions": emotions,
        "usage": { "analyse_tokens": tokens },
    }))
}

fn batch(obj: &Map<String, Value>) -> Result<Value, ApiErr> {
    let (model, msgs) = analysis_request(obj)?;
    let items: Vec<Value> = msgs
        .iter()
        .map(|m| emotion::analyse(&m.text).item())
        .collect();
    let tokens: u64 = msgs.iter().map(|m| emotion::tokens(&m.text)).sum();
    Ok(json!({
        "object": "emotions.batch_analysis",
        "model": model,
        "emotions": items,
        "metadata": {},
        "usage": { "total_tokens": tokens },
    }))
}

/// Direction and size of the valence change (spec §3.4 `trajectory.trend`).
pub(crate) fn trend(prev: Option<f64>, now: f64) -> (&'static str, f64) {
    let diff = prev.map_or(0.0, |p| now - p);
    let dir = if diff > 0.05 {
        "improving"
    } else if diff < -0.05 {
        "declining"
    } else {
        "stable"
    };
    (dir, round4(diff))
}

pub(crate) fn baseline(ctx: &Context) -> Value {
    let n = ctx.messages.len().max(1) as f64;
    let avg =
        |f: fn(&Scores) -> f64| round4(ctx.messages.iter().map(|s| f(&s.scores)).sum::<f64>() / n);
    json!({
        "dataPointCount": ctx.messages.len(),
        "averageIntensity": avg(|s| s.intensity),
        "baselineValence": avg(|s| s.valence),
        "baselineArousal": avg(|s| s.arousal),
    })
}

fn context_analysis(sh: &Shared, ctx_id: &str, obj: &Map<String, Value>) -> Result<Value, ApiErr> {
    let (model, msgs) = analysis_request(obj)?;
    let scored: Vec<(Msg, Scores)> = msgs
        .into_iter()
        .map(|m| {
            let s = emotion::analyse(&m.text);
            (m, s)
        })
        .collect();
    let mut st = sh.state();
    let existing = st.contexts.get(ctx_id);
    let mut seen: Vec<&str> = Vec::new();
    for (i, (m, _)) in scored.iter().enumerate() {
        let Some(e) = m.external_id.as_deref() else {
            continue;
        };
        let stored = existing.is_some_and(|c| {
            c.messages
                .iter()
                .any(|s| s.external_id.as_deref() == Some(e))
        });
        if stored || seen.contains(&e) {
            return Err(ApiErr::new(
                409,
                "duplicate_id",
                format!("externalId '{e}' was already used in context '{ctx_id}'"),
                Some(format!("messages[{i}].externalId")),
            ));
        }
        seen.push(e);
    }
    let prev = existing
        .and_then(|c| c.messages.back())
        .map(|s| s.scores.valence);
    let mut emotions = Map::new();
    let mut tokens = 0;
    let mut last = 0.0;
    let base = st.with_context(ctx_id, |ctx| {
        ctx.model.clone_from(&model);
        for (m, scores) in scored {
            tokens += emotion::tokens(&m.text);
            emotions.insert(m.role.clone(), scores.item());
            last = scores.valence;
            ctx.push(Stored {
                external_id: m.external_id,
                role: m.role,
                scores,
            });
        }
        baseline(ctx)
    });
    let (direction, valence_trend) = trend(prev, last);
    Ok(json!({
        "object": "emotions.analysis",
        "model": model,
        "metadata": { "context_id": ctx_id },
        "emotions": emotions,
        "trajectory": {
            "baseline": base,
            "trend": { "direction": direction, "valenceTrend": valence_trend },
        },
        "usage": { "analyse_tokens": tokens },
    }))
}

fn context_not_found(ctx_id: &str) -> ApiErr {
    ApiErr::new(
        404,
        "context_not_found",
        format!("Context '{ctx_id}' was not found or has expired"),
        Some("context_id".into()),
    )
}

fn state(st: &State, ctx_id: &str) -> Result<Value, ApiErr> {
    let ctx = st
        .contexts
        .get(ctx_id)
        .ok_or_else(|| context_not_found(ctx_id))?;
    let n = ctx.messages.len();
    let last = ctx
        .messages
        .back()
        .ok_or_else(|| context_not_found(ctx_id))?;
    let prev = n
        .checked_sub(2)
        .and_then(|i| ctx.messages.get(i))
        .map(|s| s.scores.valence);
    let (direction, valence_trend) = trend(prev, last.scores.valence);
    let mut emotions = Map::new();
    emotions.insert(last.role.clone(), last.scores.brief_item());
    Ok(json!({
        "object": "emotions.state",
        "model": ctx.model,
        "emotions": emotions,
        "trajectory": {
            "baseline": baseline(ctx),
            "trend": { "direction": direction, "valenceTrend": valence_trend },
            "similarMoments": similar_moments(ctx, last),
        },
        "metadata": { "context_id": ctx_id },
    }))
}

/// Most similar moments shown with a context's state.
const SIMILAR_MOMENTS: usize = 5;

/// `trajectory.similarMoments` (spec §3.4): the earlier messages of the context, newest
/// first, ranked by how close their valence is to the latest one's.
fn similar_moments(ctx: &Context, last: &Stored) -> Value {
    let earlier = ctx.messages.len().saturating_sub(1);
    let moments: Vec<Value> = ctx
        .messages
        .iter()
        .take(earlier)
        .enumerate()
        .rev()
        .take(SIMILAR_MOMENTS)
        .map(|(i, m)| {
            let similarity = 1.0 - (m.scores.valence - last.scores.valence).abs() / 2.0;
            json!({
                "memoryId": m.external_id.clone().unwrap_or_else(|| format!("message-{i}")),
                "similarity": round4(similarity.clamp(0.0, 1.0)),
                "emotion": m.scores.category_name(),
                "intensity": round4(m.scores.intensity),
                "tags": [m.role],
            })
        })
        .collect();
    json!({ "moments": moments, "patterns": [], "insights": "" })
}

fn message(st: &State, ctx_id: &str, ext: &str) -> Result<Value, ApiErr> {
    let ctx = st
        .contexts
        .get(ctx_id)
        .ok_or_else(|| context_not_found(ctx_id))?;
    let m = ctx
        .messages
        .iter()
        .rev()
        .find(|s| s.external_id.as_deref() == Some(ext))
        .ok_or_else(|| {
            ApiErr::new(
                404,
                "context_not_found",
                format!("Message '{ext}' was not found in context '{ctx_id}'"),
                Some("external_id".into()),
            )
        })?;
    let mut emotions = Map::new();
    emotions.insert(m.role.clone(), m.scores.item());
    Ok(json!({
        "object": "emotions.state",
        "model": ctx.model,
        "metadata": { "context_id": ctx_id, "message_id": ext },
        "emotions": emotions,
    }))
}

/// The assistant's canned answer to a message whose dominant emotion is `category`.
pub(crate) fn reply_for(category: &str) -> &'static str {
    match category {
        "sadness" => {
            "I'm sorry you're going through this. It's okay to feel down, and I'm here to listen whenever you want to talk."
        }
        "anger" => {
            "That sounds really frustrating. Your feelings are valid; let's look at what could help you move forward."
        }
        "fear" => {
            "It's completely natural to feel nervous. Let me share some tips to help you feel more prepared and confident."
        }
        "love" => {
            "That's lovely to hear. It's clear how much this means to you, and that kind of connection is worth cherishing."
        }
        "surprise" => {
            "Wow, that is unexpected! Tell me more about what happened and how you feel about it."
        }
        _ => {
            "That's wonderful to hear! It sounds like things are going really well, and I'm glad you shared it."
        }
    }
}

/// POST /v2/chat/completions (spec §3.8; the stream shape is this server's assumption, §4).
fn chat(sh: &Shared, obj: &Map<String, Value>, rid: &str) -> Result<Response, ApiErr> {
    let list = messages(obj)?;
    let model = required_str(obj, "model")?.to_owned();
    let emotion_model = required_str(obj, "emotion_model")?.to_owned();
    let mut msgs: Vec<(String, String)> = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let Value::Object(m) = m else {
            return Err(ApiErr::wrong_type(&format!("messages[{i}]"), "an object"));
        };
        let role = role(m, i, true)?;
        let content = match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => {
                return Err(ApiErr::missing(&format!("messages[{i}].content")));
            }
            Some(_) => {
                return Err(ApiErr::wrong_type(
                    &format!("messages[{i}].content"),
                    "a string",
                ));
            }
        };
        msgs.push((role, content));
    }
    let ctx_id = match obj.get("context_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) if c.len() > MAX_CONTEXT_ID => {
            return Err(ApiErr::new(
                400,
                "invalid_context_id",
                format!(
                    "context_id is {} bytes; at most {MAX_CONTEXT_ID} are allowed",
                    c.len()
                ),
                Some("context_id".into()),
            ));
        }
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(ApiErr::wrong_type("context_id", "a string")),
    };
    let stream = matches!(obj.get("stream"), Some(Value::Bool(true)));

    let analysed = msgs
        .iter()
        .rev()
        .find(|(r, _)| r == "user")
        .or(msgs.last())
        .map(|(_, t)| t.as_str())
        .unwrap_or("");
    let scores = emotion::analyse(analysed);
    let reply = reply_for(scores.category_name());
    let prompt_tokens: u64 = msgs.iter().map(|(_, t)| emotion::tokens(t)).sum();
    let completion_tokens = emotion::tokens(reply);
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    let emotions = json!({ "user": scores.item() });
    if let Some(c) = ctx_id {
        sh.state().with_context(&c, |ctx| {
            ctx.model.clone_from(&emotion_model);
            ctx.push(Stored {
                external_id: None,
                role: "user".into(),
                scores,
            });
        });
    }
    let id = format!("chatcmpl-{:012x}", sh.next_id() & 0xffff_ffff_ffff);
    let created = unix_now().as_secs();
    if !stream {
        return Ok(json_response(
            200,
            &json!({
                "id": id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "emotion_model": emotion_model,
                "choices": [{
                    "index": 0,
                    "message": { "role": "assistant", "content": reply },
                    "finish_reason": "stop",
                }],
                "emotions": emotions,
                "usage": usage,
            }),
            rid,
        ));
    }
    let words: Vec<&str> = reply.split_inclusive(' ').collect();
    let mut events: Vec<Vec<u8>> = Vec::new();
    let event = |v: &Value| format!("data: {v}\n\n").into_bytes();
    for (i, piece) in words.chunks(3).enumerate() {
        let content = piece.concat();
        let delta = if i == 0 {
            json!({ "role": "assistant", "content": content })
        } else {
            json!({ "content": content })
        };
        events.push(event(&json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": null }],
        })));
    }
    events.push(event(&json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }],
        "emotions": emotions,
        "usage": usage,
    })));
    events.push(b"data: [DONE]\n\n".to_vec());
    Ok(Response {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/event-stream".into()),
            ("Cache-Control".into(), "no-cache".into()),
            ("x-request-id".into(), rid.into()),
        ],
        body: Body::Chunked(events),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_decode_and_tolerate_trailing_slash() {
        assert_eq!(
            route("GET", "/v2/emotions/", Dialect::Docs).ok(),
            Some(Route::Health)
        );
        assert_eq!(
            route("POST", "/v2/emotions/a%20b%2Fc/analysis/", Dialect::Docs).ok(),
            Some(Route::ContextAnalysis("a b/c".into()))
        );
        assert_eq!(
            route("GET", "/v2/emotions/ctx/message/m%2D1", Dialect::Docs).ok(),
            Some(Route::Message("ctx".into(), "m-1".into()))
        );
        assert_eq!(
            route("GET", "/v2/emotions/%zz", Dialect::Docs).ok(),
            Some(Route::State("%zz".into()))
        );
        for (m, p) in [
            ("GET", "/v2/nothing"),
            ("DELETE", "/v2/emotions/x"),
            ("GET", "/v1/emotions"),
            ("POST", "/v2/emotions//analysis"),
            ("GET", "/v2"),
        ] {
            assert_eq!(
                route(m, p, Dialect::Docs).err().map(|e| e.status),
                Some(404),
                "{m} {p}"
            );
        }
        let long = format!("/v2/emotions/{}", "x".repeat(129));
        assert_eq!(
            route("GET", &long, Dialect::Docs).err().map(|e| e.status),
            Some(400)
        );
        let ok = format!("/v2/emotions/{}", "x".repeat(128));
        assert!(route("GET", &ok, Dialect::Docs).is_ok());
        // The backend does not check the path's length.
        assert!(route("GET", &long, Dialect::Backend).is_ok());
    }

    fn stored(text: &str, external_id: Option<&str>) -> Stored {
        Stored {
            external_id: external_id.map(str::to_owned),
            role: "user".into(),
            scores: emotion::analyse(text),
        }
    }

    #[test]
    fn context_bytes_are_accounted_and_bounded() {
        let mut st = State::new(2);
        st.with_context("a", |c| {
            c.push(stored("hello", Some("m1")));
            c.push(stored("hi", Some("m2")));
            c.push(stored("hey", Some("m1")));
            assert_eq!(c.bytes, 10 + 3 * STORED_OVERHEAD);
            c.remove_external_id("m1");
            assert_eq!(c.bytes, 2 + STORED_OVERHEAD);
            assert_eq!(c.messages.len(), 1);
        });
        assert_eq!(st.context_bytes, 2 + STORED_OVERHEAD);
        st.with_context("b", |c| c.push(stored("four", None)));
        st.with_context("c", |c| c.push(stored("five5", None)));
        // Capacity 2: "a" is forgotten and its bytes with it.
        assert!(st.context("a").is_none());
        assert_eq!(st.context_bytes, 9 + 2 * STORED_OVERHEAD);
        // Writing the oldest keeps it, as the newest.
        st.with_context("b", |c| c.push(stored("x", None)));
        st.with_context("d", |_| {});
        assert!(st.context("b").is_some() && st.context("c").is_none());
        let total: usize = ["b", "d"]
            .iter()
            .filter_map(|k| st.context(k))
            .map(|c| c.bytes)
            .sum();
        assert_eq!(st.context_bytes, total);
    }

    #[test]
    fn stored_answers_are_bounded_in_count_and_bytes() {
        let answer = |n: usize| Response {
            status: 200,
            headers: vec![("x-request-id".into(), "req-1".into())],
            body: Body::Full(vec![b'x'; n]),
        };
        let mut st = State::new(3);
        for k in ["a", "b", "c", "d"] {
            st.set_idem(k, Slot::InFlight);
            st.set_idem(k, Slot::Done(answer(10)));
        }
        assert!(st.idem.get("a").is_none(), "beyond the capacity");
        assert_eq!(st.idem_bytes, 3 * (1 + STORED_OVERHEAD + 17 + 10));
        // One answer larger than the budget pushes out all the others but stays itself.
        st.set_idem("big", Slot::Done(answer(MAX_STORED_ANSWER_BYTES)));
        assert_eq!(st.idem.len(), 1);
        st.clear_idem("big");
        assert_eq!((st.idem.len(), st.idem_bytes), (0, 0));
    }

    #[test]
    fn idle_and_counted_rate() {
        let cfg = Config {
            rate_limit: 2,
            ..Config::default()
        };
        let mut st = State::new(10);
        assert_eq!(
            take_rate(&mut st, &cfg, "k").map(|r| r.remaining).ok(),
            Some(1)
        );
        assert_eq!(
            take_rate(&mut st, &cfg, "k").map(|r| r.remaining).ok(),
            Some(0)
        );
        let (rate, secs) = take_rate(&mut st, &cfg, "k").err().unwrap();
        assert_eq!(rate.remaining, 0);
        assert!((1..=60).contains(&secs));
        assert!(take_rate(&mut st, &cfg, "other").is_ok());
    }
}
