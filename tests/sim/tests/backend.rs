//! The backend dialect on the wire: the shapes of spec §3.3–§3.8 and §5.3, byte for byte
//! where the source fixes them.

mod common;

use std::time::Duration;

use common::*;
use kaiko_sim::{Config, Dialect, Sim, SimHandle};
use serde_json::{Value, json};

fn sim() -> SimHandle {
    sim_with(Config::default())
}

fn sim_with(config: Config) -> SimHandle {
    Sim::start(Config {
        dialect: Dialect::Backend,
        ..config
    })
    .expect("start")
}

fn post(sim: &SimHandle, path: &str, body: &str) -> Resp {
    backend_call(sim, "POST", path, &[], body)
}

/// A flat error body: exactly `expected`, with the rate-limit headers and the gateway's
/// request id, and no documented envelope.
fn assert_flat(r: &Resp, status: u16, expected: Value) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.json(), expected);
    assert!(r.header("apigw-requestid").is_some(), "{}", r.head);
    assert!(r.header("x-request-id").is_none(), "{}", r.head);
    assert!(r.header("X-RateLimit-Limit").is_some(), "{}", r.head);
}

#[test]
fn stateless_analysis_has_the_source_keys() {
    let sim = sim();
    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 200);
    assert!(r.header("apigw-requestid").is_some());
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "dataQuality",
        "emotions",
        "isFallback",
        "metadata",
        "model",
        "object",
        "params",
        "response_type",
        "usage",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(v["response_type"], "per_message");
    assert_eq!(
        v["usage"],
        json!({ "analyse_token": 7, "analyse_token_details": { "cached_tokens": 0, "audio_tokens": 0 } })
    );
    let item = &v["emotions"]["_default"];
    assert_eq!(item["category"], "fear");
    assert_eq!(item["dimensionalSource"], "rule_derived");
}

#[test]
fn validation_error_is_422_with_vinejs_details() {
    let sim = sim();
    let body = r#"{"messages":[{"role":"user","externalId":"msg-1","content":{}}]}"#;
    let r = post(&sim, "/v2/emotions/analysis", body);
    assert_flat(
        &r,
        422,
        json!({
            "message": "Validation error",
            "details": [
                { "message": "The model field must be defined", "rule": "required", "field": "model" },
                { "message": "The externalId field must be a valid UUID", "rule": "uuid", "field": "messages.0.externalId" },
                { "message": "The text field must be defined", "rule": "required", "field": "messages.0.content.text" },
            ],
        }),
    );
    // More than 100 messages is a validation error too, not 413.
    let many = format!(
        r#"{{"model":"m","messages":[{}]}}"#,
        vec![r#"{"content":{"text":"hi"}}"#; 101].join(",")
    );
    let r = post(&sim, "/v2/emotions/analysis", &many);
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["details"][0]["rule"], "array.maxLength");
}

#[test]
fn thrown_errors_are_500_status_error() {
    let sim = sim();
    let r = post(
        &sim,
        "/v2/emotions/analysis",
        r#"{"model":"m","messages":[]}"#,
    );
    assert_flat(
        &r,
        500,
        json!({ "status": "error", "message": "Cannot read properties of undefined (reading 'content')" }),
    );
    let r = post(&sim, "/v2/emotions/analysis", "{nope");
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["status"], "error");
    let r = post(&sim, "/v2/emotions/analysis", "[1]");
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["details"][0]["message"],
        "The data field must be an object"
    );
}

#[test]
fn authorizer_and_key_states() {
    let sim = sim_with(Config {
        revoked_keys: vec!["sk_test_revoked".into()],
        paused_keys: vec!["sk_test_paused".into()],
        unfunded_keys: vec!["sk_test_broke".into()],
        ..Config::default()
    });
    let with_key = |key: &str, method: &str, path: &str| {
        Client::connect(sim.addr()).request(method, path, &[("x-api-key", key)], FEAR.as_bytes())
    };
    let unauthorized = json!({ "message": "Unauthorized" });
    assert_flat(
        &with_key("kaiko_test_x", "POST", "/v2/emotions/analysis"),
        401,
        unauthorized.clone(),
    );
    assert_flat(
        &with_key("sk_nounderscore", "POST", "/v2/emotions/analysis"),
        401,
        unauthorized,
    );
    let r = Client::connect(sim.addr()).request("GET", "/v2/emotions", &[], b"");
    assert_eq!(
        (r.status, r.json()),
        (401, json!({ "message": "Unauthorized" }))
    );
    assert_flat(
        &with_key("sk_test_revoked", "POST", "/v2/emotions/analysis"),
        403,
        json!({ "message": "Forbidden" }),
    );
    assert_flat(
        &with_key("sk_test_paused", "POST", "/v2/emotions/analysis"),
        403,
        json!({ "message": "Access denied: API key is paused" }),
    );
    assert_flat(
        &with_key("sk_test_broke", "POST", "/v2/chat/completions"),
        402,
        json!({ "message": "Insufficient credits. Please top up your account or subscribe to a plan." }),
    );
    // GETs are not checked for status or balance; console tokens pass the authorizer.
    assert_eq!(
        with_key("sk_test_paused", "GET", "/v2/emotions").status,
        200
    );
    assert_eq!(
        with_key("eyJhbGciOi.x.y", "POST", "/v2/emotions/analysis").status,
        200
    );
}

#[test]
fn rate_limit_429_has_no_retry_after() {
    let sim = sim_with(Config {
        rate_limit: 1,
        ..Config::default()
    });
    assert_eq!(post(&sim, "/v2/emotions/analysis", FEAR).status, 200);
    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_flat(
        &r,
        429,
        json!({ "message": "Rate limit exceeded. Please retry after the reset window." }),
    );
    assert!(r.header("Retry-After").is_none());
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
    assert!(r.header("X-RateLimit-Reset").is_some());
}

#[test]
fn idempotency_keys_are_not_honoured() {
    let sim = sim();
    let key = [("Idempotency-Key", "same")];
    let a = backend_call(&sim, "POST", "/v2/chat/completions", &key, CHAT_BACKEND);
    std::thread::sleep(Duration::from_millis(2));
    let b = backend_call(&sim, "POST", "/v2/chat/completions", &key, CHAT_BACKEND);
    assert_eq!((a.status, b.status), (200, 200));
    assert!(b.header("Idempotent-Replayed").is_none());
    assert_ne!(
        a.json()["id"],
        b.json()["id"],
        "a fresh completion each time"
    );
    assert_eq!(sim.ledger().processed("same"), 2);
}

const CHAT_BACKEND: &str = r#"{"model":"gpt-4o-mini","emotion_model":"emotion-v2","stream":true,"messages":[{"role":"user","content":"I am nervous"},{"role":"user","content":"I am happy"}]}"#;

#[test]
fn chat_is_one_json_document_about_the_first_user_message() {
    let sim = sim();
    let r = post(&sim, "/v2/chat/completions", CHAT_BACKEND);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let v = r.json();
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(v.get("emotion_model").is_none());
    assert_eq!(v["emotions"]["user"]["category"], "fear");
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    let system = r#"{"model":"gpt-4o-mini","emotion_model":"emotion-v2","messages":[{"role":"system","content":"x"},{"role":"user","content":"hi"}]}"#;
    let r = post(&sim, "/v2/chat/completions", system);
    assert_flat(
        &r,
        422,
        json!({
            "message": "Validation error",
            "details": [{
                "message": "The selected role is invalid",
                "rule": "enum",
                "field": "messages.0.role",
                "meta": { "choices": ["user", "assistant"] },
            }],
        }),
    );
}

#[test]
fn context_lookups_in_the_source_shapes() {
    let sim = sim();
    let id = "3f2b8c1e-9d4a-4e6b-8f7a-1c2d3e4f5a6b";
    let body = format!(
        r#"{{"model":"emotion-v2","messages":[{{"role":"assistant","externalId":"{id}","content":{{"text":"I am so happy"}}}}]}}"#
    );
    let long = "c".repeat(200);
    let r = post(&sim, &format!("/v2/emotions/{long}/analysis"), &body);
    assert_eq!(r.status, 200, "the path's length is not checked");
    let v = r.json();
    assert_eq!(v["context_id"], long.as_str());
    assert_eq!(v["context_message_count"], 1);
    assert_eq!(v["metadata"], json!({}));
    assert_eq!(v["emotions"]["user"]["category"], "joy");

    let s = backend_call(&sim, "GET", &format!("/v2/emotions/{long}"), &[], "").json();
    assert_eq!(s["object"], "emotions.state");
    assert_eq!(s["usage"], json!({}));
    assert_eq!(s["metadata"]["context_id"], long.as_str());

    let m = backend_call(
        &sim,
        "GET",
        &format!("/v2/emotions/{long}/message/{id}"),
        &[],
        "",
    );
    let m = m.json();
    assert_eq!(m["object"], "emotions.analysis");
    assert_eq!(
        (m["context_id"].as_str(), m["external_id"].as_str()),
        (Some(long.as_str()), Some(id))
    );
    assert_eq!(m["metadata"]["message_id"], id);
    assert_eq!(m["usage"]["analyse_token"], 0);

    let r = backend_call(
        &sim,
        "GET",
        &format!("/v2/emotions/{long}/message/other"),
        &[],
        "",
    );
    assert_flat(&r, 404, json!({ "message": "Message not found" }));
    let r = backend_call(&sim, "GET", "/v2/nowhere", &[], "");
    assert_flat(&r, 404, json!({ "message": "Not Found" }));
}

#[test]
fn oversized_body_is_the_middleware_413() {
    let sim = sim_with(Config {
        max_body: 64,
        ..Config::default()
    });
    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json(),
        json!({ "status": "error", "code": "PAYLOAD_TOO_LARGE", "message": "Request body exceeds maximum size of 64 bytes" })
    );
}

#[test]
fn the_binary_speaks_the_backend_dialect_on_a_port() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaiko-sim"))
        .args(["--port", "0", "--dialect", "backend"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("kaiko-sim listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{line}"));
    let port: u16 = url.strip_suffix("/v2").unwrap().parse().unwrap();
    let mut c = Client::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    let r = c.request(
        "POST",
        "/v2/emotions/analysis",
        &[("x-api-key", BACKEND_KEY)],
        FEAR.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["emotions"]["_default"].is_object());
    child.kill().unwrap();
    child.wait().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_kaiko-sim"))
        .args(["--dialect", "openai"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dialect `openai`"));
}
