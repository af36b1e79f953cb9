//! The backend dialect ([`crate::Dialect::Backend`]): VineJS validation and the response
//! shapes of the public backend source (spec §3.3–§3.8, §5.3).

use serde_json::{Map, Value, json};

use crate::api::{ApiErr, Context, Stored, baseline, reply_for, trend};
use crate::emotion::{self, Scores, intensity_level};
use crate::server::Shared;
use crate::time::unix_now;

/// The analysis model the backend names in every analysis response (spec §3.3).
const ANALYSIS_MODEL: &str = "emotion-v2";
/// VineJS limits of the analysis schema (spec §3.1).
const MAX_MESSAGES: usize = 100;
const MAX_TEXT: usize = 10_000;
const MAX_ROLE: usize = 32;
const MAX_AUDIO_URL: usize = 2048;
const MAX_TIMESTAMP: usize = 64;
/// VineJS limits of the chat schema (spec §3.8).
const MAX_MODEL: usize = 64;
const MAX_CHAT_CONTEXT_ID: usize = 128;
const MAX_TOOLS: usize = 20;
const MAX_TOOL: usize = 256;
const CHAT_ROLES: [&str; 2] = ["user", "assistant"];
const GRANULARITIES: [&str; 2] = ["detailed", "basic"];
/// The LLMs the backend registers; any other `model` throws (spec §3.8).
const MODELS: [&str; 16] = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4-turbo",
    "gpt-3.5-turbo",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-1-20250805",
    "claude-opus-4-20250514",
    "claude-sonnet-4-20250514",
    "claude-3-5-haiku-latest",
    "grok-4",
    "grok-3",
    "grok-3-mini",
    "grok-code-fast-1",
    "kimi-k2-thinking-turbo",
    "kimi-k2-thinking",
];

/// Collects errors as VineJS's `SimpleErrorReporter` does: `{message, rule, field, index?,
/// meta?}`, `field` the dotted path, `index` only for an array element, messages from
/// VineJS's defaults naming the field by its last segment. Every failing field is reported.
#[derive(Debug, Default)]
struct Vine {
    details: Vec<Value>,
}

impl Vine {
    fn report(&mut self, path: &str, rule: &str, message: String, meta: Option<Value>) {
        let mut e = Map::new();
        e.insert("message".into(), message.into());
        e.insert("rule".into(), rule.into());
        e.insert("field".into(), path.into());
        if let Some(m) = meta {
            e.insert("meta".into(), m);
        }
        self.details.push(Value::Object(e));
    }

    fn name(path: &str) -> &str {
        path.rsplit('.').next().unwrap_or(path)
    }

    fn required(&mut self, path: &str) {
        let msg = format!("The {} field must be defined", Self::name(path));
        self.report(path, "required", msg, None);
    }

    fn wrong_type(&mut self, path: &str, rule: &str, what: &str) {
        let msg = format!("The {} field must be {what}", Self::name(path));
        self.report(path, rule, msg, None);
    }

    /// A string field no longer than `max` characters; `None` when absent or invalid.
    fn string<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
        max: usize,
    ) -> Option<&'a str> {
        match obj.get(key) {
            // VineJS's `optional()` lets both `undefined` and `null` through.
            None | Some(Value::Null) => {
                if required {
                    self.required(path);
                }
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                let msg = format!(
                    "The {} field must not be greater than {max} characters",
                    Self::name(path)
                );
                self.report(path, "maxLength", msg, Some(json!({ "max": max })));
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.wrong_type(path, "string", "a string");
                None
            }
        }
    }

    /// A string field that must be one of `choices`.
    fn choice<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
        choices: &[&str],
    ) -> Option<&'a str> {
        let v = self.string(obj, key, path, required, usize::MAX)?;
        if choices.contains(&v) {
            return Some(v);
        }
        let msg = format!("The selected {} is invalid", Self::name(path));
        self.report(path, "enum", msg, Some(json!({ "choices": choices })));
        None
    }

    /// An optional object field.
    fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.wrong_type(path, "object", "an object");
                None
            }
        }
    }

    /// A required array of at most `max` items; items beyond `max` are not looked at.
    fn array<'a>(&mut self, obj: &'a Map<String, Value>, key: &str, max: usize) -> &'a [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => {
                self.required(key);
                &[]
            }
            Some(Value::Array(a)) => {
                if a.len() > max {
                    let msg = format!("The {key} field must not have more than {max} items");
                    self.report(key, "array.maxLength", msg, Some(json!({ "max": max })));
                }
                a.get(..max.min(a.len())).unwrap_or(&[])
            }
            Some(_) => {
                self.wrong_type(key, "array", "an array");
                &[]
            }
        }
    }

    /// Element `i` of array `key`, which must be an object.
    fn element<'a>(&mut self, v: &'a Value, key: &str, i: usize) -> Option<&'a Map<String, Value>> {
        match v {
            Value::Object(o) => Some(o),
            _ => {
                let path = format!("{key}.{i}");
                self.wrong_type(&path, "object", "an object");
                if let Some(Value::Object(e)) = self.details.last_mut() {
                    e.insert("index".into(), i.into());
                }
                None
            }
        }
    }

    fn finish(self) -> Result<(), ApiErr> {
        if self.details.is_empty() {
            return Ok(());
        }
        Err(ApiErr::flat(
            422,
            "validation_error",
            json!({ "message": "Validation error", "details": self.details }),
        ))
    }
}

/// Whether `s` has the 8-4-4-4-12 hex digit shape of a UUID.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What a thrown error becomes in the backend's error middleware (spec §5.3).
fn thrown(message: &str) -> ApiErr {
    ApiErr::flat(
        500,
        "internal",
        json!({ "status": "error", "message": message }),
    )
}

/// One message of an analysis request.
#[derive(Debug)]
pub(crate) struct Msg {
    external_id: Option<String>,
    text: String,
}

/// A validated analysis body.
#[derive(Debug)]
pub(crate) struct Analysis {
    params: Value,
    messages: Vec<Msg>,
}

impl Analysis {
    /// The one message the backend analyses (spec §3.1: only `messages[0]`). An empty list
    /// passes validation (no minimum) and then fails when the handler reads `messages[0]`.
    fn first(&self) -> Result<&Msg, ApiErr> {
        self.messages
            .first()
            .ok_or_else(|| thrown("Cannot read properties of undefined (reading 'content')"))
    }
}

/// Validates an analysis body like the backend's VineJS schema (spec §3.1). Unknown keys
/// are dropped, `external_id` (snake case) among them.
pub(crate) fn analysis_request(obj: &Map<String, Value>) -> Result<Analysis, ApiErr> {
    let mut v = Vine::default();
    v.string(obj, "model", "model", true, usize::MAX);
    let params = v
        .object(obj, "params", "params")
        .cloned()
        .unwrap_or_default();
    let mut messages = Vec::new();
    for (i, m) in v.array(obj, "messages", MAX_MESSAGES).iter().enumerate() {
        let Some(m) = v.element(m, "messages", i) else {
            continue;
        };
        let at = |f: &str| format!("messages.{i}.{f}");
        v.string(m, "role", &at("role"), false, MAX_ROLE);
        let external_id = v.string(m, "externalId", &at("externalId"), false, usize::MAX);
        if external_id.is_some_and(|e| !is_uuid(e)) {
            let msg = "The externalId field must be a valid UUID".to_owned();
            v.report(&at("externalId"), "uuid", msg, None);
        }
        v.string(m, "timestamp", &at("timestamp"), false, MAX_TIMESTAMP);
        let text = match m.get("content") {
            None | Some(Value::Null) => {
                v.required(&at("content"));
                None
            }
            Some(Value::Object(c)) => {
                v.string(c, "audioUrl", &at("content.audioUrl"), false, MAX_AUDIO_URL);
                v.string(c, "text", &at("content.text"), true, MAX_TEXT)
            }
            Some(_) => {
                v.wrong_type(&at("content"), "object", "an object");
                None
            }
        };
        messages.push(Msg {
            external_id: external_id.filter(|e| is_uuid(e)).map(str::to_owned),
            text: text.unwrap_or_default().to_owned(),
        });
    }
    v.finish()?;
    Ok(Analysis {
        params: Value::Object(params),
        messages,
    })
}

/// The analysis usage block of the backend (spec §3.3, §10.9).
fn usage(tokens: u64) -> Value {
    json!({
        "analyse_token": tokens,
        "analyse_token_details": { "cached_tokens": 0, "audio_tokens": 0 },
    })
}

/// An EmotionItemV2 as the backend writes it: `text` is a descriptor of the dominant
/// emotion, not the input (spec §10.3: "really JOY" … "slightly joy"; the thresholds are not
/// in the source, so the intensity levels pick the word here).
pub(crate) fn item(scores: &Scores) -> Value {
    let mut item = scores.item();
    let name = scores.category_name();
    let descriptor = match intensity_level(scores.intensity) {
        "critical" => format!("really {}", name.to_uppercase()),
        "high" => format!("pretty {}", name.to_uppercase()),
        "moderate" => name.to_uppercase(),
        "subtle" => format!("somewhat {name}"),
        _ => format!("slightly {name}"),
    };
    if let Value::Object(m) = &mut item {
        m.insert("text".into(), descriptor.into());
        m.insert("dimensionalSource".into(), "rule_derived".into());
    }
    item
}

/// The fields every backend analysis response starts with (spec §3.3).
fn analysis_head() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("object".into(), "emotions.analysis".into());
    m.insert("model".into(), ANALYSIS_MODEL.into());
    m.insert("response_type".into(), "per_message".into());
    m.insert("isFallback".into(), false.into());
    m.insert("dataQuality".into(), "rule_derived".into());
    m
}

/// POST /v2/emotions/analysis: `messages[0]` only, keyed `_default` (spec §3.3).
pub(crate) fn analysis(obj: &Map<String, Value>) -> Result<Value, ApiErr> {
    let req = analysis_request(obj)?;
    let first = req.first()?;
    let scores = emotion::analyse(&first.text);
    let mut m = analysis_head();
    m.insert("emotions".into(), json!({ "_default": item(&scores) }));
    m.insert("metadata".into(), json!({}));
    m.insert("usage".into(), usage(emotion::tokens(&first.text)));
    m.insert("params".into(), req.params);
    Ok(Value::Object(m))
}

/// POST /v2/emotions/batch-analysis: the V2 type the source declares (spec §3.7).
pub(crate) fn batch(obj: &Map<String, Value>) -> Result<Value, ApiErr> {
    let req = analysis_request(obj)?;
    let items: Vec<Value> = req
        .messages
        .iter()
        .map(|m| item(&emotion::analyse(&m.text)))
        .collect();
    let tokens: u64 = req.messages.iter().map(|m| emotion::tokens(&m.text)).sum();
    Ok(json!({
        "object": "emotions.batch_analysis",
        "model": ANALYSIS_MODEL,
        "emotions": items,
        "metadata": {},
        "usage": { "total_tokens": tokens },
        "params": req.params,
    }))
}

fn trajectory(ctx: &Context, prev: Option<f64>, now: f64) -> Value {
    let (direction, valence_trend) = trend(prev, now);
    let mut base = baseline(ctx);
    if let Value::Object(b) = &mut base {
        b.insert("window".into(), "week".into());
    }
    json!({
        "baseline": base,
        "trend": { "direction": direction, "valenceTrend": valence_trend },
    })
}

/// POST /v2/emotions/{context_id}/analysis (spec §3.4): top-level `context_id`, empty
/// `metadata`. A reused `externalId` replaces the message stored under it (the V1 source
/// upserts; spec §10.13).
pub(crate) fn context_analysis(
    sh: &Shared,
    ctx_id: &str,
    obj: &Map<String, Value>,
) -> Result<Value, ApiErr> {
    let req = analysis_request(obj)?;
    let first = req.first()?;
    let scores = emotion::analyse(&first.text);
    let body_item = item(&scores);
    let tokens = emotion::tokens(&first.text);
    let now = scores.valence;
    let (count, trajectory) = sh.state().with_context(ctx_id, |ctx| {
        let prev = ctx.messages.back().map(|s| s.scores.valence);
        if let Some(e) = &first.external_id {
            ctx.remove_external_id(e);
        }
        ctx.model = ANALYSIS_MODEL.to_owned();
        ctx.push(Stored {
            external_id: first.external_id.clone(),
            role: "user".into(),
            scores,
        });
        (ctx.messages.len(), trajectory(ctx, prev, now))
    });
    let mut m = analysis_head();
    m.insert("context_id".into(), ctx_id.into());
    m.insert("context_message_count".into(), count.into());
    m.insert("emotions".into(), json!({ "user": body_item }));
    m.insert("metadata".into(), json!({}));
    m.insert("usage".into(), usage(tokens));
    m.insert("trajectory".into(), trajectory);
    Ok(Value::Object(m))
}

/// GET /v2/emotions/{context_id} (spec §3.5). The source answers every context with mock
/// scores; an unknown one gets 404 here, in the flat shape (an inference).
pub(crate) fn state(sh: &Shared, ctx_id: &str) -> Result<Value, ApiErr> {
    let st = sh.state();
    let not_found = || {
        ApiErr::flat(
            404,
            "context_not_found",
            json!({ "message": "Context not found" }),
        )
    };
    let ctx = st.context(ctx_id).ok_or_else(not_found)?;
    let last = ctx.messages.back().ok_or_else(not_found)?;
    let prev = ctx
        .messages
        .len()
        .checked_sub(2)
        .and_then(|i| ctx.messages.get(i))
        .map(|s| s.scores.valence);
    Ok(json!({
        "object": "emotions.state",
        "model": ctx.model,
        "emotions": { "user": item(&last.scores) },
        "metadata": { "context_id": ctx_id },
        "usage": {},
        "trajectory": trajectory(ctx, prev, last.scores.valence),
    }))
}

/// GET /v2/emotions/{context_id}/message/{external_id} (spec §3.6): `emotions.analysis`,
/// ids at the top level and in `metadata`; unknown → the V1 source's 404.
pub(crate) fn message(sh: &Shared, ctx_id: &str, ext: &str) -> Result<Value, ApiErr> {
    let st = sh.state();
    let not_found = || {
        ApiErr::flat(
            404,
            "context_not_found",
            json!({ "message": "Message not found" }),
        )
    };
    let ctx = st.context(ctx_id).ok_or_else(not_found)?;
    let m = ctx
        .messages
        .iter()
        .rev()
        .find(|s| s.external_id.as_deref() == Some(ext))
        .ok_or_else(not_found)?;
    Ok(json!({
        "object": "emotions.analysis",
        "model": ctx.model,
        "context_id": ctx_id,
        "external_id": ext,
        "emotions": { "user": item(&m.scores) },
        "metadata": { "context_id": ctx_id, "message_id": ext },
        "usage": usage(0),
    }))
}

/// Validates a chat body like the backend's schema (spec §3.8) and returns the model and the
/// first `user` message, the only one the backend sends to the LLM.
fn chat_request(obj: &Map<String, Value>) -> Result<(String, String), ApiErr> {
    let mut v = Vine::default();
    let model = v.string(obj, "model", "model", true, MAX_MODEL);
    v.string(obj, "emotion_model", "emotion_model", true, MAX_MODEL);
    v.string(obj, "context_id", "context_id", false, MAX_CHAT_CONTEXT_ID);
    let mut first_user = None;
    for (i, m) in v.array(obj, "messages", MAX_MESSAGES).iter().enumerate() {
        let Some(m) = v.element(m, "messages", i) else {
            continue;
        };
        let role = v.choice(m, "role", &format!("messages.{i}.role"), true, &CHAT_ROLES);
        let content = v.string(
            m,
            "content",
            &format!("messages.{i}.content"),
            true,
            MAX_TEXT,
        );
        if role == Some("user") && first_user.is_none() {
            first_user = content.map(str::to_owned);
        }
    }
    if let Some(p) = v.object(obj, "model_params", "model_params")
        && !matches!(
            p.get("temperature"),
            None | Some(Value::Null | Value::Number(_))
        )
    {
        v.wrong_type("model_params.temperature", "number", "a number");
    }
    if let Some(p) = v.object(obj, "emotion_model_params", "emotion_model_params") {
        let path = "emotion_model_params.granularity";
        v.choice(p, "granularity", path, false, &GRANULARITIES);
    }
    if !matches!(
        obj.get("stream_options"),
        None | Some(Value::Null | Value::Bool(_))
    ) {
        v.wrong_type("stream_options", "boolean", "a boolean");
    }
    if !matches!(obj.get("tools"), None | Some(Value::Null)) {
        for (i, t) in v.array(obj, "tools", MAX_TOOLS).iter().enumerate() {
            if !matches!(t, Value::String(s) if s.chars().count() <= MAX_TOOL) {
                let msg =
                    format!("The {i} field must be a string of at most {MAX_TOOL} characters");
                v.report(&format!("tools.{i}"), "string", msg, None);
            }
        }
    }
    v.finish()?;
    let model = model.unwrap_or_default().to_owned();
    if !MODELS.contains(&model.as_str()) {
        return Err(thrown(&format!("Unsupported model: {model}")));
    }
    let text = first_user.ok_or_else(|| thrown("No user message to send to the model"))?;
    Ok((model, text))
}

/// POST /v2/chat/completions (spec §3.8): one JSON `chat.completion` whatever `stream` says
/// (the schema has no `stream`, §4), no `emotion_model`, `emotions.user` only; `context_id`
/// is only logged, so no context is written.
pub(crate) fn chat(obj: &Map<String, Value>) -> Result<Value, ApiErr> {
    let (model, text) = chat_request(obj)?;
    let scores = emotion::analyse(&text);
    let reply = reply_for(scores.category_name());
    let prompt_tokens = emotion::tokens(&text);
    let completion_tokens = emotion::tokens(reply);
    let now = unix_now();
    Ok(json!({
        "id": format!("chatcmpl-{}", now.as_millis()),
        "object": "chat.completion",
        "created": now.as_secs(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": reply },
            "finish_reason": "stop",
        }],
        "emotions": { "user": item(&scores) },
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn details(e: &ApiErr) -> Vec<Value> {
        e.flat_body()["details"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn validation_reports_every_field_in_vinejs_shape() {
        let body = obj(json!({
            "messages": [
                "nope",
                {"role": 7, "externalId": "msg-1", "content": {"text": "x".repeat(10_001)}},
                {"content": "flat"},
            ],
        }));
        let e = analysis_request(&body).unwrap_err();
        assert_eq!(e.status(), 422);
        assert_eq!(e.flat_body()["message"], "Validation error");
        let d = details(&e);
        let fields: Vec<(&str, &str)> = d
            .iter()
            .map(|x| (x["field"].as_str().unwrap(), x["rule"].as_str().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [
                ("model", "required"),
                ("messages.0", "object"),
                ("messages.1.role", "string"),
                ("messages.1.externalId", "uuid"),
                ("messages.1.content.text", "maxLength"),
                ("messages.2.content", "object"),
            ]
        );
        assert_eq!(d[0]["message"], "The model field must be defined");
        assert_eq!(d[1]["index"], 0);
        assert!(d[2].get("index").is_none());
        assert_eq!(d[4]["meta"], json!({ "max": 10_000 }));
        assert_eq!(
            d[4]["message"],
            "The text field must not be greater than 10000 characters"
        );
    }

    #[test]
    fn too_many_messages_and_empty_lists() {
        let many: Vec<Value> = (0..101)
            .map(|_| json!({"content": {"text": "hi"}}))
            .collect();
        let e = analysis_request(&obj(json!({"model": "m", "messages": many}))).unwrap_err();
        let d = details(&e);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0]["rule"].as_str(), d[0]["meta"]["max"].as_u64()),
            (Some("array.maxLength"), Some(100))
        );
        // No minimum: an empty list validates, then the handler throws.
        let e = analysis(&obj(json!({"model": "m", "messages": []}))).unwrap_err();
        assert_eq!(e.status(), 500);
        assert_eq!(e.flat_body()["status"], "error");
    }

    #[test]
    fn stateless_analysis_reads_only_the_first_message() {
        let body = obj(json!({
            "model": "anything",
            "params": {"a": 1},
            "messages": [
                {"content": {"text": "I feel a bit unsure about this"}},
                {"role": "assistant", "content": {"text": "I am so happy"}},
            ],
        }));
        let v = analysis(&body).unwrap();
        assert_eq!(v["model"], "emotion-v2");
        assert_eq!(v["emotions"].as_object().unwrap().len(), 1);
        assert_eq!(v["emotions"]["_default"]["category"], "fear");
        assert_eq!(v["emotions"]["_default"]["text"], "somewhat fear");
        assert_eq!(v["usage"]["analyse_token"], 7);
        assert_eq!(v["params"], json!({"a": 1}));
        assert_eq!(v["metadata"], json!({}));
    }

    #[test]
    fn chat_schema() {
        let ok = obj(json!({
            "model": "gpt-4o-mini",
            "emotion_model": "emotion-v2",
            "stream": true,
            "messages": [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "I am nervous"}],
        }));
        let v = chat(&ok).unwrap();
        assert_eq!(v["object"], "chat.completion");
        assert!(v.get("emotion_model").is_none());
        assert_eq!(v["emotions"]["user"]["category"], "fear");
        let system = obj(json!({
            "model": "gpt-4o-mini",
            "emotion_model": "emotion-v2",
            "messages": [{"role": "system", "content": "be kind"}],
            "tools": [1],
        }));
        let e = chat(&system).unwrap_err();
        let d = details(&e);
        assert_eq!(d[0]["field"], "messages.0.role");
        assert_eq!(d[0]["rule"], "enum");
        assert_eq!(d[0]["message"], "The selected role is invalid");
        assert_eq!(d[1]["field"], "tools.0");
        let unknown = obj(json!({
            "model": "gpt-4",
            "emotion_model": "emotion-v2",
            "messages": [{"role": "user", "content": "hi"}],
        }));
        let e = chat(&unknown).unwrap_err();
        assert_eq!(
            (e.status(), e.flat_body()["status"].as_str()),
            (500, Some("error"))
        );
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("3f2b8c1e-9d4a-4e6b-8f7a-1c2d3e4f5a6b"));
        for bad in [
            "msg-1",
            "3f2b8c1e-9d4a-4e6b-8f7a-1c2d3e4f5a6",
            "3f2b8c1e9d4a4e6b8f7a1c2d3e4f5a6b",
            "g0000000-0000-0000-0000-000000000000",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }
}
