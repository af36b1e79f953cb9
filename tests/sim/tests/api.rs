//! The documented V2 behaviour, checked over raw sockets.

mod common;

use std::time::Duration;

use common::*;
use kaiko_sim::{Config, Sim};
use serde_json::Value;

fn sim() -> kaiko_sim::SimHandle {
    Sim::start(Config::default()).expect("start")
}

/// Every number in the JSON has at most 4 decimals.
fn assert_short_numbers(v: &Value) {
    match v {
        Value::Number(n) => {
            let s = n.to_string();
            let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 4 && !s.contains('e'), "{s}");
        }
        Value::Array(a) => a.iter().for_each(assert_short_numbers),
        Value::Object(o) => o.values().for_each(assert_short_numbers),
        _ => {}
    }
}

fn assert_item(item: &Value, category: &str) {
    assert_eq!(item["category"], category, "{item}");
    let intensity = item["intensity"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&intensity));
    assert!((-1.0..=1.0).contains(&item["valence"].as_f64().unwrap()));
    assert!((0.0..=1.0).contains(&item["arousal"].as_f64().unwrap()));
    assert!((0.0..=1.0).contains(&item["wonderIndex"].as_f64().unwrap()));
    let level = match intensity {
        x if x >= 0.90 => "critical",
        x if x >= 0.75 => "high",
        x if x >= 0.55 => "moderate",
        x if x >= 0.35 => "subtle",
        _ => "minimal",
    };
    assert_eq!(item["intensityLevel"], level);
    assert!(
        ["simple", "layered", "paradoxical", "transcendent"]
            .contains(&item["complexity"].as_str().unwrap())
    );
    assert!(
        [
            "routine",
            "normal",
            "significant",
            "breakthrough",
            "transcendent"
        ]
        .contains(&item["discoveryLevel"].as_str().unwrap())
    );
    let raw = item["raw"].as_object().unwrap();
    assert_eq!(raw.len(), 6);
    let sum: f64 = raw.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 0.001, "{sum}");
    let max = raw
        .iter()
        .max_by(|a, b| a.1.as_f64().partial_cmp(&b.1.as_f64()).unwrap())
        .unwrap();
    assert_eq!(max.0, category);
    assert_short_numbers(item);
}

fn assert_common_headers(r: &Resp) {
    for h in [
        "Date",
        "Content-Type",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "x-request-id",
    ] {
        assert!(r.header(h).is_some(), "{h} missing in {}", r.head);
    }
    assert!(is_request_id(r.header("x-request-id").unwrap()));
    assert!(r.header("Date").unwrap().ends_with(" GMT"));
    let reset: u64 = r.header("X-RateLimit-Reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset > now && reset <= now + 61, "{reset} vs {now}");
}

#[test]
fn stateless_analysis_matches_the_quickstart() {
    let sim = sim();
    let r = post(&sim, "/v2/emotions/analysis", FEAR);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_common_headers(&r);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["object"], "emotions.analysis");
    assert_eq!(v["model"], "emotion-v2");
    let user = &v["emotions"]["user"];
    assert_item(user, "fear");
    assert_eq!(user["text"], "I feel a bit unsure about this");
    assert_eq!(user["intensityLevel"], "subtle");
    assert_eq!(user["discoveryLevel"], "normal");
    assert!(user["valence"].as_f64().unwrap() < 0.0);
    // Deterministic: the same text scores the same.
    assert_eq!(post(&sim, "/v2/emotions/analysis", FEAR).json(), v);
}

#[test]
fn role_is_optional_and_keys_the_result() {
    let sim = sim();
    let r = post(
        &sim,
        "/v2/emotions/analysis/",
        r#"{"model":"emotion-v2","messages":[{"content":{"text":"Hello!"}},{"role":"assistant","content":{"text":"I love that"}}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert!(v["emotions"]["user"].is_object());
    assert_item(&v["emotions"]["assistant"], "love");
}

#[test]
fn context_analysis_state_and_message() {
    let sim = sim();
    let ctx = "/v2/emotions/user%20session%2F123";
    let r = post(
        &sim,
        &format!("{ctx}/analysis"),
        r#"{"model":"emotion-v2","messages":[{"role":"user","externalId":"msg-1","content":{"text":"I'm really excited about this opportunity!"},"timestamp":"2025-01-15T10:30:00Z"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["object"], "emotions.analysis");
    assert_eq!(v["metadata"]["context_id"], "user session/123");
    assert_item(&v["emotions"]["user"], "joy");
    assert_eq!(v["emotions"]["user"]["intensityLevel"], "high");
    assert_eq!(v["trajectory"]["trend"]["direction"], "stable");
    assert_short_numbers(&v);

    let r = post(
        &sim,
        &format!("{ctx}/analysis"),
        r#"{"model":"emotion-v2","messages":[{"role":"user","externalId":"msg-2","content":{"text":"Now I am sad and lonely"}}]}"#,
    );
    let v = r.json();
    assert_eq!(v["trajectory"]["trend"]["direction"], "declining", "{v}");
    assert!(v["trajectory"]["trend"]["valenceTrend"].as_f64().unwrap() < 0.0);

    let s = get(&sim, ctx);
    assert_eq!(s.status, 200, "{}", s.text());
    let v = s.json();
    assert_eq!(v["object"], "emotions.state");
    assert_eq!(v["model"], "emotion-v2");
    assert_eq!(v["metadata"]["context_id"], "user session/123");
    assert_eq!(v["emotions"]["user"]["category"], "sadness");
    assert!(v["emotions"]["user"]["intensity"].is_number());
    assert!(v["trajectory"]["baseline"]["averageIntensity"].is_number());
    assert!(v["trajectory"]["baseline"]["baselineValence"].is_number());
    assert_eq!(v["trajectory"]["trend"]["direction"], "declining");

    let m = get(&sim, &format!("{ctx}/message/msg-1/"));
    assert_eq!(m.status, 200, "{}", m.text());
    let v = m.json();
    assert_eq!(v["object"], "emotions.state");
    assert_eq!(v["metadata"]["context_id"], "user session/123");
    assert_eq!(v["metadata"]["message_id"], "msg-1");
    assert_item(&v["emotions"]["user"], "joy");

    // 409: an externalId already used in this context; the context is unchanged.
    let d = post(
        &sim,
        &format!("{ctx}/analysis"),
        r#"{"model":"emotion-v2","messages":[{"externalId":"msg-1","content":{"text":"again"}}]}"#,
    );
    let e = d.error(409, "conflict_error", "duplicate_id");
    assert_eq!(e["param"], "messages[0].externalId");
    // …and twice within one request.
    let d = post(
        &sim,
        "/v2/emotions/other/analysis",
        r#"{"model":"emotion-v2","messages":[{"externalId":"a","content":{"text":"x"}},{"externalId":"a","content":{"text":"y"}}]}"#,
    );
    d.error(409, "conflict_error", "duplicate_id");
    assert_eq!(get(&sim, "/v2/emotions/other").status, 404);
    // The same id in another context is fine.
    let ok = post(
        &sim,
        "/v2/emotions/third/analysis",
        r#"{"model":"emotion-v2","messages":[{"externalId":"msg-1","content":{"text":"fine"}}]}"#,
    );
    assert_eq!(ok.status, 200);
}

#[test]
fn unknown_context_and_message_are_404() {
    let sim = sim();
    let e = get(&sim, "/v2/emotions/nope").error(404, "not_found_error", "context_not_found");
    assert_eq!(e["param"], "context_id");
    get(&sim, "/v2/emotions/nope/message/m1").error(404, "not_found_error", "context_not_found");
    post(
        &sim,
        "/v2/emotions/c1/analysis",
        r#"{"model":"emotion-v2","messages":[{"externalId":"m1","content":{"text":"hi"}}]}"#,
    );
    let e =
        get(&sim, "/v2/emotions/c1/message/m2").error(404, "not_found_error", "context_not_found");
    assert_eq!(e["param"], "external_id");
    for (m, p) in [
        ("GET", "/v2/nothing"),
        ("DELETE", "/v2/emotions/c1"),
        ("GET", "/"),
    ] {
        call(&sim, m, p, &[], "").error(404, "not_found_error", "not_found");
    }
}

#[test]
fn batch_analysis_returns_an_array() {
    let sim = sim();
    let r = post(
        &sim,
        "/v2/emotions/batch-analysis",
        r#"{"model":"emotion-v2","messages":[{"content":{"text":"I am so happy"}},{"content":{"text":"I am furious"}},{"content":{"text":"I am scared"}}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["object"], "emotions.batch_analysis");
    let items = v["emotions"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for (item, cat) in items.iter().zip(["joy", "anger", "fear"]) {
        assert_item(item, cat);
    }
    assert!(v["usage"]["total_tokens"].as_u64().unwrap() > 0);

    let many: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"content":{{"text":"m{i}"}}}}"#))
        .collect();
    let body = format!(
        r#"{{"model":"emotion-v2","messages":[{}]}}"#,
        many.join(",")
    );
    let e = post(&sim, "/v2/emotions/batch-analysis", &body).error(
        413,
        "invalid_request_error",
        "payload_too_large",
    );
    assert_eq!(e["param"], "messages");
}

const CHAT: &str = r#"{"model":"gpt-4","emotion_model":"emotion-v2","context_id":"chat-123","messages":[{"role":"system","content":"You are a helpful and empathetic assistant."},{"role":"user","content":"I am nervous about my interview tomorrow."}],"model_params":{"temperature":0.7,"max_tokens":500},"stream":false}"#;

#[test]
fn chat_completion() {
    let sim = sim();
    let r = post(&sim, "/v2/chat/completions", CHAT);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_common_headers(&r);
    let v = r.json();
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert!(v["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(v["model"], "gpt-4");
    assert_eq!(v["emotion_model"], "emotion-v2");
    let choice = &v["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(!choice["message"]["content"].as_str().unwrap().is_empty());
    assert_eq!(choice["finish_reason"], "stop");
    assert_item(&v["emotions"]["user"], "fear");
    let u = &v["usage"];
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );
    // The context_id feeds the context state.
    assert_eq!(
        get(&sim, "/v2/emotions/chat-123").json()["emotions"]["user"]["category"],
        "fear"
    );

    let e = post(
        &sim,
        "/v2/chat/completions",
        r#"{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .error(400, "invalid_request_error", "missing_field");
    assert_eq!(e["param"], "emotion_model");
    let e = post(
        &sim,
        "/v2/chat/completions",
        r#"{"model":"gpt-4","emotion_model":"emotion-v2","messages":[{"role":"bot","content":"hi"}]}"#,
    )
    .error(422, "invalid_request_error", "invalid_role");
    assert_eq!(e["param"], "messages[0].role");
    let e = post(
        &sim,
        "/v2/chat/completions",
        r#"{"model":"gpt-4","emotion_model":"emotion-v2","messages":[{"role":"user"}]}"#,
    )
    .error(400, "invalid_request_error", "missing_field");
    assert_eq!(e["param"], "messages[0].content");
}

#[test]
fn chat_stream_is_sse_over_chunks() {
    let sim = sim();
    let body = CHAT.replace(r#""stream":false"#, r#""stream":true"#);
    let r = post(&sim, "/v2/chat/completions", &body);
    assert_eq!(r.status, 200);
    assert_common_headers(&r);
    assert_eq!(r.header("Content-Type"), Some("text/event-stream"));
    assert_eq!(r.header("Transfer-Encoding"), Some("chunked"));
    assert!(r.header("Content-Length").is_none());
    let text = r.text();
    let events: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("data: line"))
        .collect();
    assert!(events.len() >= 4, "{text}");
    assert_eq!(*events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let mut content = String::new();
    for c in &chunks[..chunks.len() - 1] {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert!(c["choices"][0]["finish_reason"].is_null());
        content.push_str(c["choices"][0]["delta"]["content"].as_str().unwrap());
    }
    assert!(chunks.len() > 2, "several content pieces");
    let fin = chunks.last().unwrap();
    assert_eq!(fin["choices"][0]["finish_reason"], "stop");
    assert_item(&fin["emotions"]["user"], "fear");
    assert!(fin["usage"]["total_tokens"].as_u64().unwrap() > 0);
    // The pieces add up to the non-streamed answer.
    let whole = post(&sim, "/v2/chat/completions", CHAT).json();
    assert_eq!(whole["choices"][0]["message"]["content"], content.as_str());
}

#[test]
fn health_routes() {
    let sim = sim();
    let r = get(&sim, "/v2/emotions");
    assert_eq!(r.status, 200);
    assert!(r.json()["message"].as_str().unwrap().contains("Emotion V2"));
    assert!(
        get(&sim, "/v2/chat/").json()["message"]
            .as_str()
            .unwrap()
            .contains("Chat V2")
    );
}

#[test]
fn authentication_rows() {
    let sim = Sim::start(Config {
        revoked_keys: vec!["kaiko_live_revoked".into()],
        accepted_keys: Some(vec![KEY.into(), "kaiko_live_revoked".into()]),
        ..Config::default()
    })
    .unwrap();
    let mut c = Client::connect(sim.addr());
    let r = c.request("POST", "/v2/emotions/analysis", &[], FEAR.as_bytes());
    r.error(401, "authentication_error", "invalid_api_key");
    assert_common_headers(&r);
    let r = c.request(
        "POST",
        "/v2/emotions/analysis",
        &[("x-api-key", "kaiko_live_unknown")],
        FEAR.as_bytes(),
    );
    r.error(401, "authentication_error", "invalid_api_key");
    let r = c.request(
        "POST",
        "/v2/emotions/analysis",
        &[("x-api-key", "kaiko_live_revoked")],
        FEAR.as_bytes(),
    );
    r.error(403, "forbidden_error", "key_revoked");
    let bearer = format!("Bearer {KEY}");
    let r = c.request(
        "POST",
        "/v2/emotions/analysis",
        &[("Authorization", &bearer)],
        FEAR.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Nothing here was processed but the last request.
    assert_eq!(sim.ledger().total_processed(), 1);
}

#[test]
fn validation_rows() {
    let sim = sim();
    let cases = [
        (
            r#"{"model":"emotion-v2"}"#,
            400,
            "missing_field",
            "messages",
        ),
        (
            r#"{"model":"emotion-v2","messages":[]}"#,
            400,
            "missing_field",
            "messages",
        ),
        (
            r#"{"messages":[{"content":{"text":"hi"}}]}"#,
            400,
            "missing_field",
            "model",
        ),
        (
            r#"{"model":"emotion-v2","messages":[{"role":"user","content":{}}]}"#,
            400,
            "missing_field",
            "messages[0].content.text",
        ),
        (
            r#"{"model":"emotion-v2","messages":[{"content":{"text":"a"}},{"role":"robot","content":{"text":"hi"}}]}"#,
            422,
            "invalid_role",
            "messages[1].role",
        ),
    ];
    for (body, status, code, param) in cases {
        for path in [
            "/v2/emotions/analysis",
            "/v2/emotions/ctx/analysis",
            "/v2/emotions/batch-analysis",
        ] {
            let e = post(&sim, path, body).error(status, "invalid_request_error", code);
            assert_eq!(e["param"], param, "{path} {body}");
        }
    }
    post(&sim, "/v2/emotions/analysis", "{not json").error(
        400,
        "invalid_request_error",
        "invalid_json",
    );
    post(&sim, "/v2/emotions/analysis", "").error(400, "invalid_request_error", "missing_field");
    // Failed validation stores nothing.
    assert_eq!(get(&sim, "/v2/emotions/ctx").status, 404);
    let long = format!("/v2/emotions/{}/analysis", "x".repeat(129));
    let e = post(&sim, &long, FEAR).error(400, "invalid_request_error", "invalid_context_id");
    assert_eq!(e["param"], "context_id");
}

#[test]
fn body_and_head_limits() {
    let sim = Sim::start(Config {
        max_body: 64,
        ..Config::default()
    })
    .unwrap();
    let mut c = Client::connect(sim.addr());
    let r = c.request(
        "POST",
        "/v2/emotions/analysis",
        &[("x-api-key", KEY)],
        FEAR.as_bytes(),
    );
    r.error(413, "invalid_request_error", "payload_too_large");
    assert_common_headers(&r);
    assert_eq!(r.header("Connection"), Some("close"));
    assert!(c.is_closed());

    let mut c = Client::connect(sim.addr());
    let big = "a".repeat(17 * 1024);
    c.send(
        "GET",
        "/v2/emotions",
        &[("x-api-key", KEY), ("X-Big", &big)],
        b"",
    );
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 431);

    let mut c = Client::connect(sim.addr());
    c.send_raw(
        b"POST /v2/emotions/analysis HTTP/1.1\r\nHost: s\r\nx-api-key: k\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    );
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 411);
    assert!(c.is_closed());

    let mut c = Client::connect(sim.addr());
    c.send_raw(b"GET /v2/emotions HTTP/1.1\r\nx-api-key: k\r\n\r\n");
    assert_eq!(c.read_response().unwrap().status, 400);
}

#[test]
fn rate_limit_headers_then_429() {
    let sim = Sim::start(Config {
        rate_limit: 3,
        ..Config::default()
    })
    .unwrap();
    for left in [2, 1, 0] {
        let r = get(&sim, "/v2/emotions");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-RateLimit-Limit"), Some("3"));
        assert_eq!(
            r.header("X-RateLimit-Remaining"),
            Some(left.to_string().as_str())
        );
    }
    let r = get(&sim, "/v2/emotions");
    r.error(429, "rate_limit_error", "too_many_requests");
    assert_common_headers(&r);
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
    let secs: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    // Another key has its own window.
    let other = call(
        &sim,
        "GET",
        "/v2/emotions",
        &[("x-api-key", "kaiko_test_other")],
        "",
    );
    // `call` sends the test key first; the authorizer reads x-api-key's first value.
    assert_eq!(other.status, 429);
    let mut c = Client::connect(sim.addr());
    let r = c.request(
        "GET",
        "/v2/emotions",
        &[("x-api-key", "kaiko_test_other")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("2"));
}

#[test]
fn rate_window_resets() {
    let sim = Sim::start(Config {
        rate_limit: 1,
        rate_window: Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    assert_eq!(get(&sim, "/v2/emotions").status, 200);
    let r = get(&sim, "/v2/emotions");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    std::thread::sleep(Duration::from_millis(1050));
    assert_eq!(get(&sim, "/v2/emotions").status, 200);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let sim = sim();
    let mut c = Client::connect(sim.addr());
    let h = [("x-api-key", KEY)];
    let a = c.request("POST", "/v2/emotions/analysis", &h, FEAR.as_bytes());
    let b = c.request("GET", "/v2/emotions", &h, b"");
    assert_eq!((a.status, b.status), (200, 200));
    assert!(a.header("Connection").is_none());
    assert_eq!(sim.connections_accepted(), 1);
    assert_eq!(sim.requests_received(), 2);
    // Pipelined: two requests in one write, two responses in order.
    let mut two = Vec::new();
    for _ in 0..2 {
        two.extend_from_slice(
            format!("GET /v2/emotions HTTP/1.1\r\nHost: s\r\nx-api-key: {KEY}\r\n\r\n").as_bytes(),
        );
    }
    c.send_raw(&two);
    assert_eq!(c.read_response().unwrap().status, 200);
    assert_eq!(c.read_response().unwrap().status, 200);
    // Connection: close is honoured.
    let r = c.request(
        "GET",
        "/v2/emotions",
        &[("x-api-key", KEY), ("Connection", "close")],
        b"",
    );
    assert_eq!(r.header("Connection"), Some("close"));
    assert!(c.is_closed());
    assert_eq!(sim.connections_accepted(), 1);
    assert_eq!(sim.requests_received(), 5);
}

#[test]
fn expect_continue_is_answered() {
    let sim = sim();
    let mut c = Client::connect(sim.addr());
    let head = format!(
        "POST /v2/emotions/analysis HTTP/1.1\r\nHost: s\r\nx-api-key: {KEY}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        FEAR.len()
    );
    c.send_raw(head.as_bytes());
    assert!(c.read_head().unwrap().starts_with("HTTP/1.1 100 Continue"));
    c.send_raw(FEAR.as_bytes());
    assert_eq!(c.read_response().unwrap().status, 200);
}

#[test]
fn idempotent_replay_and_ledger() {
    let sim = sim();
    let key = [("Idempotency-Key", "7f65ab21d1-test-123")];
    let a = call(&sim, "POST", "/v2/chat/completions", &key, CHAT);
    let b = call(&sim, "POST", "/v2/chat/completions", &key, CHAT);
    assert_eq!((a.status, b.status), (200, 200));
    assert!(a.header("Idempotent-Replayed").is_none());
    assert_eq!(b.header("Idempotent-Replayed"), Some("true"));
    // Same body byte for byte (a fresh completion would have a new id).
    assert_eq!(a.body, b.body);
    assert_eq!(a.header("x-request-id"), b.header("x-request-id"));
    let l = sim.ledger();
    assert_eq!(l.processed("7f65ab21d1-test-123"), 1);
    assert_eq!(l.replayed("7f65ab21d1-test-123"), 1);
    assert_eq!(l.max_processed(), 1);
    assert_eq!(
        l.entry("7f65ab21d1-test-123").unwrap().path,
        "/v2/chat/completions"
    );

    // Without the header every request is processed, and counted per path.
    let c = post(&sim, "/v2/chat/completions", CHAT);
    let d = post(&sim, "/v2/chat/completions", CHAT);
    assert_ne!(c.json()["id"], d.json()["id"]);
    assert_eq!(
        sim.ledger().processed_without_key("/v2/chat/completions"),
        2
    );

    // An error answer is stored and replayed too.
    let k2 = [("Idempotency-Key", "bad-1")];
    let e1 = call(&sim, "POST", "/v2/emotions/analysis", &k2, "{}");
    let e2 = call(&sim, "POST", "/v2/emotions/analysis", &k2, FEAR);
    assert_eq!((e1.status, e2.status), (400, 400));
    assert_eq!(e1.body, e2.body);
    assert_eq!(sim.ledger().processed("bad-1"), 1);
    assert_eq!(sim.ledger().total_processed(), 4);
}

#[test]
fn idempotency_key_in_flight_conflicts() {
    let sim = Sim::start(Config {
        latency: Duration::from_millis(800),
        ..Config::default()
    })
    .unwrap();
    let addr = sim.addr();
    let first = std::thread::spawn(move || {
        let mut c = Client::connect(addr);
        c.request(
            "POST",
            "/v2/emotions/analysis",
            &[("x-api-key", KEY), ("Idempotency-Key", "slow")],
            FEAR.as_bytes(),
        )
    });
    // Once the first request is read, its key is claimed before the latency starts.
    while sim.requests_received() == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = call(
        &sim,
        "POST",
        "/v2/emotions/analysis",
        &[("Idempotency-Key", "slow")],
        FEAR,
    );
    let e = second.error(409, "conflict_error", "idempotency_in_flight");
    assert_eq!(e["param"], "Idempotency-Key");
    assert_eq!(first.join().unwrap().status, 200);
    let third = call(
        &sim,
        "POST",
        "/v2/emotions/analysis",
        &[("Idempotency-Key", "slow")],
        FEAR,
    );
    assert_eq!(third.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(sim.ledger().processed("slow"), 1);
    assert_eq!(sim.ledger().replayed("slow"), 1);
}
