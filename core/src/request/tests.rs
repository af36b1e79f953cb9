extern crate std;

use super::fault::{Fault, HEADER_MIN, LINE_MIN, Param, visible};
use super::sink::{Sink, copy_short};
#[cfg(feature = "fast")]
use super::wire::HEAD_CONSTANTS;
use super::*;
use proptest::prelude::*;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

const KEY: &str = "kaiko_live_xxxxxxxxxxxxx";

fn key() -> ApiKey<'static> {
    ApiKey::new(KEY).unwrap()
}

fn head<'a>(base: &'a BaseUrl<'a>, key: &'a ApiKey<'a>) -> RequestHead<'a> {
    let mut h = RequestHead::new(base, key, "7f65ab21d1-test-123");
    h.user_agent = "kaiko-rs/test";
    h
}

fn write(req: &Request<'_>, head: &RequestHead<'_>) -> Result<Vec<u8>, WriteError> {
    let mut buf = vec![0u8; 4 * MAX_BODY_BYTES];
    let n = req.write(head, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Writes with the production head and returns the request as text.
fn written(req: &Request<'_>) -> String {
    let k = key();
    text(&write(req, &head(&BaseUrl::PRODUCTION, &k)).unwrap())
}

/// The body of a written request, after the blank line.
fn body_of(req: &str) -> &str {
    req.split_once("\r\n\r\n").unwrap().1
}

fn invalid(req: &Request<'_>) -> Invalid {
    req.validate().unwrap_err()
}

fn other(code: &str) -> ErrorCode {
    ErrorCode::Other(Text::from_str_truncating(code))
}

#[test]
fn quickstart_request_byte_exact() {
    // spec §3.3, V2 quickstart.
    let messages = [Message::user("I feel a bit unsure about this")];
    assert_eq!(
        written(&Request::analyze(&messages)),
        "POST /v2/emotions/analysis HTTP/1.1\r\n\
         Host: api.kaikostudios.xyz\r\n\
         User-Agent: kaiko-rs/test\r\n\
         Accept: application/json\r\n\
         x-api-key: kaiko_live_xxxxxxxxxxxxx\r\n\
         Content-Type: application/json\r\n\
         Content-Length: 103\r\n\
         Idempotency-Key: 7f65ab21d1-test-123\r\n\
         \r\n\
         {\"model\":\"emotion-v2\",\"messages\":[{\"role\":\"user\",\
         \"content\":{\"text\":\"I feel a bit unsure about this\"}}]}"
    );
}

#[test]
fn context_analysis_request() {
    // spec §3.4, V2 quickstart: all four message fields, in the documented order.
    let messages = [
        Message::user("This is amazing! I never expected such great results!")
            .with_external_id("msg-1")
            .with_timestamp("2025-01-15T10:30:00Z"),
    ];
    let req = written(&Request::analyze_in_context("user-session-123", &messages));
    assert!(
        req.starts_with("POST /v2/emotions/user-session-123/analysis HTTP/1.1\r\n"),
        "{req}"
    );
    assert_eq!(
        body_of(&req),
        "{\"model\":\"emotion-v2\",\"messages\":[{\"role\":\"user\",\"externalId\":\"msg-1\",\
         \"content\":{\"text\":\"This is amazing! I never expected such great results!\"},\
         \"timestamp\":\"2025-01-15T10:30:00Z\"}]}"
    );
}

#[test]
fn role_omitted() {
    // spec §3.1 second test vector.
    let messages = [Message {
        role: None,
        text: "Hello!",
        external_id: None,
        timestamp: None,
    }];
    let req = written(&Request::analyze_in_context("c", &messages));
    assert_eq!(
        body_of(&req),
        "{\"model\":\"emotion-v2\",\"messages\":[{\"content\":{\"text\":\"Hello!\"}}]}"
    );
}

#[test]
fn get_requests_have_no_body_headers() {
    let want_state = "GET /v2/emotions/example-123 HTTP/1.1\r\n\
                      Host: api.kaikostudios.xyz\r\n\
                      User-Agent: kaiko-rs/test\r\n\
                      Accept: application/json\r\n\
                      x-api-key: kaiko_live_xxxxxxxxxxxxx\r\n\
                      \r\n";
    assert_eq!(written(&Request::context_state("example-123")), want_state);
    let lookup = written(&Request::message_lookup("example-123", "msg-1"));
    assert_eq!(
        lookup,
        want_state.replace("example-123", "example-123/message/msg-1")
    );
    assert_eq!(Request::context_state("x").method(), Method::Get);
    assert_eq!(Request::message_lookup("x", "y").method(), Method::Get);
}

#[test]
fn batch_request() {
    let messages = [Message::user("a"), Message::user("b")];
    let req = written(&Request::batch_analyze(&messages));
    assert!(
        req.starts_with("POST /v2/emotions/batch-analysis HTTP/1.1\r\n"),
        "{req}"
    );
    assert_eq!(
        body_of(&req),
        "{\"model\":\"emotion-v2\",\"messages\":[{\"role\":\"user\",\"content\":{\"text\":\"a\"}},\
         {\"role\":\"user\",\"content\":{\"text\":\"b\"}}]}"
    );
    assert_eq!(Request::batch_analyze(&messages).method(), Method::Post);
}

#[test]
fn chat_request_matches_spec_vector() {
    // spec §3.8 request test vector (`stream: false` is the default, so it is left out).
    let messages = [
        ChatMessage::system("You are a helpful and empathetic assistant."),
        ChatMessage::user("I am nervous about my interview tomorrow."),
    ];
    let mut chat = ChatRequest::new("gpt-4", &messages);
    chat.context_id = Some("chat-123");
    chat.temperature = Some(Score(7000));
    chat.max_tokens = Some(500);
    let req = written(&Request::chat(chat));
    assert!(
        req.starts_with("POST /v2/chat/completions HTTP/1.1\r\n"),
        "{req}"
    );
    assert!(req.contains("\r\nAccept: application/json\r\n"), "{req}");
    let body = body_of(&req);
    assert_eq!(
        body,
        "{\"model\":\"gpt-4\",\"emotion_model\":\"emotion-v2\",\"context_id\":\"chat-123\",\
         \"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful and empathetic assistant.\"},\
         {\"role\":\"user\",\"content\":\"I am nervous about my interview tomorrow.\"}],\
         \"model_params\":{\"temperature\":0.7,\"max_tokens\":500}}"
    );
    let spec: serde_json::Value = serde_json::from_str(
        r#"{"model": "gpt-4", "emotion_model": "emotion-v2", "context_id": "chat-123",
            "messages": [
              {"role": "system", "content": "You are a helpful and empathetic assistant."},
              {"role": "user", "content": "I am nervous about my interview tomorrow."}],
            "model_params": {"temperature": 0.7, "max_tokens": 500}}"#,
    )
    .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        spec
    );
}

#[test]
fn chat_optional_fields() {
    let messages = [ChatMessage::assistant("hi"), ChatMessage::user("yo")];
    let mut chat = ChatRequest::new("m", &messages);
    assert_eq!(
        body_of(&written(&Request::chat(chat))),
        "{\"model\":\"m\",\"emotion_model\":\"emotion-v2\",\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"},\
         {\"role\":\"user\",\"content\":\"yo\"}]}"
    );
    chat.max_tokens = Some(0);
    chat.stream = true;
    let req = written(&Request::chat(chat));
    assert!(
        req.contains("\r\nAccept: application/json, text/event-stream\r\n"),
        "{req}"
    );
    assert!(
        body_of(&req).ends_with("}],\"model_params\":{\"max_tokens\":0},\"stream\":true}"),
        "{req}"
    );
    chat.max_tokens = None;
    chat.temperature = Some(Score(-500));
    assert!(
        body_of(&written(&Request::chat(chat)))
            .ends_with("\"model_params\":{\"temperature\":-0.05},\"stream\":true}")
    );
}

#[test]
fn head_variants() {
    let k = key();
    let base = BaseUrl::parse("http://[::1]:9000/x/v2/").unwrap();
    let mut h = RequestHead::new(&base, &k, "");
    h.auth = Auth::Bearer;
    h.keep_alive = false;
    h.user_agent = "";
    let req = text(&write(&Request::analyze(&[Message::user("hi")]), &h).unwrap());
    assert_eq!(
        req,
        "POST /x/v2/emotions/analysis HTTP/1.1\r\n\
         Host: [::1]:9000\r\n\
         Accept: application/json\r\n\
         Authorization: Bearer kaiko_live_xxxxxxxxxxxxx\r\n\
         Content-Type: application/json\r\n\
         Content-Length: 75\r\n\
         Connection: close\r\n\
         \r\n\
         {\"model\":\"emotion-v2\",\"messages\":[{\"role\":\"user\",\"content\":{\"text\":\"hi\"}}]}"
    );
    assert_eq!(RequestHead::new(&base, &k, "").user_agent, USER_AGENT);
    assert!(USER_AGENT.starts_with("kaiko-rs/"));
}

#[test]
fn prefix_rule() {
    let k = key();
    for (url, line) in [
        (
            "http://127.0.0.1:8080",
            "GET /v2/emotions/c HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n",
        ),
        ("http://h:80/", "GET /v2/emotions/c HTTP/1.1\r\nHost: h\r\n"),
        (
            "https://h:8443/v2",
            "GET /v2/emotions/c HTTP/1.1\r\nHost: h:8443\r\n",
        ),
        (
            "http://h/kaiko",
            "GET /kaiko/v2/emotions/c HTTP/1.1\r\nHost: h\r\n",
        ),
        (
            "http://h/a/v2/",
            "GET /a/v2/emotions/c HTTP/1.1\r\nHost: h\r\n",
        ),
        (
            "https://h:80/av2",
            "GET /av2/v2/emotions/c HTTP/1.1\r\nHost: h:80\r\n",
        ),
    ] {
        let base = BaseUrl::parse(url).unwrap();
        let req = text(&write(&Request::context_state("c"), &head(&base, &k)).unwrap());
        assert!(req.starts_with(line), "{url}: {req}");
    }
    // A hand-built prefix without its leading slash still gives an origin-form target.
    let base = BaseUrl {
        prefix: "api",
        ..BaseUrl::PRODUCTION
    };
    let req = text(&write(&Request::context_state("c"), &head(&base, &k)).unwrap());
    assert!(
        req.starts_with("GET /api/v2/emotions/c HTTP/1.1\r\n"),
        "{req}"
    );
}

#[test]
fn json_escaping() {
    let cases = [
        ("say \"hi\"", r#""say \"hi\"""#),
        ("back\\slash", r#""back\\slash""#),
        ("line\nbreak\r\n", r#""line\nbreak\r\n""#),
        ("tab\t bs\x08 ff\x0c", r#""tab\t bs\b ff\f""#),
        ("\u{1}\u{1f}\0", r#""\u0001\u001f\u0000""#),
        ("del \x7f stays", "\"del \x7f stays\""),
        ("emoji 😀 é ü 日本", "\"emoji 😀 é ü 日本\""),
        ("</script> ' /", "\"</script> ' /\""),
        ("", "\"\""),
    ];
    for (input, want) in cases {
        let mut buf = [0u8; 64];
        let mut w = Sink::new(&mut buf);
        w.field(super::pieces::NOTHING, input);
        let n = w.len;
        assert_eq!(core::str::from_utf8(&buf[..n]).unwrap(), want, "{input:?}");
        assert_eq!(serde_json::from_str::<String>(want).unwrap(), input);
    }
    // And inside a whole request.
    let messages = [Message::user("a \"q\" \\ \n \u{1} 😀")];
    let body = String::from(body_of(&written(&Request::analyze(&messages))));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["messages"][0]["content"]["text"],
        "a \"q\" \\ \n \u{1} 😀"
    );
}

#[test]
fn percent_encoding_table() {
    let cases = [
        ("AZaz09-._~", "AZaz09-._~"),
        ("!$&'()*+,;=:@", "!$&'()*+,;=:@"),
        ("a/b", "a%2Fb"),
        ("a?b#c", "a%3Fb%23c"),
        ("100%", "100%25"),
        ("a b", "a%20b"),
        ("\"<>\\^`{|}[]", "%22%3C%3E%5C%5E%60%7B%7C%7D%5B%5D"),
        ("é", "%C3%A9"),
        ("😀", "%F0%9F%98%80"),
        (".", "%2E"),
        ("..", "%2E%2E"),
        ("...", "%2E%2E%2E"),
        ("a.b", "a.b"),
        ("..a", "..a"),
    ];
    for (input, want) in cases {
        let mut buf = [0u8; 64];
        let mut w = Sink::new(&mut buf);
        w.path_segment(input);
        let n = w.len;
        assert_eq!(core::str::from_utf8(&buf[..n]).unwrap(), want, "{input:?}");
    }
    let req = written(&Request::message_lookup("a/b c", "id?#%"));
    assert!(
        req.starts_with("GET /v2/emotions/a%2Fb%20c/message/id%3F%23%25 HTTP/1.1\r\n"),
        "{req}"
    );
}

#[test]
fn numbers() {
    for (v, want) in [
        (0u32, "0"),
        (7, "7"),
        (10, "10"),
        (1_048_576, "1048576"),
        (u32::MAX, "4294967295"),
    ] {
        let mut buf = [0u8; 32];
        let mut w = Sink::new(&mut buf);
        w.uint(v);
        let n = w.len;
        assert_eq!(&buf[..n], want.as_bytes());
    }
    for (s, want) in [
        (7000, "0.7"),
        (10_000, "1"),
        (500, "0.05"),
        (0, "0"),
        (1, "0.0001"),
        (-7000, "-0.7"),
        (-12_500, "-1.25"),
        (20_000, "2"),
        (12_340, "1.234"),
        (i32::MAX, "214748.3647"),
        (i32::MIN, "-214748.3648"),
    ] {
        let mut buf = [0u8; 32];
        let mut w = Sink::new(&mut buf);
        w.decimal(Score(s));
        let n = w.len;
        assert_eq!(core::str::from_utf8(&buf[..n]).unwrap(), want, "{s}");
    }
}

#[test]
fn validation_missing_and_empty() {
    let ok = [Message::user("x")];
    let empty_text = [Message::user("")];
    let cases: [(Request<'_>, &str, InvalidReason); 9] = [
        (
            Request::Analyze {
                model: "",
                messages: &ok,
            },
            "model",
            InvalidReason::Empty,
        ),
        (Request::analyze(&[]), "messages", InvalidReason::Missing),
        (
            Request::batch_analyze(&[]),
            "messages",
            InvalidReason::Missing,
        ),
        (
            Request::analyze_in_context("c", &[]),
            "messages",
            InvalidReason::Missing,
        ),
        (
            Request::analyze(&empty_text),
            "messages.content.text",
            InvalidReason::Empty,
        ),
        (
            Request::analyze_in_context("", &ok),
            "context_id",
            InvalidReason::Empty,
        ),
        (
            Request::context_state(""),
            "context_id",
            InvalidReason::Empty,
        ),
        (
            Request::message_lookup("", "e"),
            "context_id",
            InvalidReason::Empty,
        ),
        (
            Request::message_lookup("c", ""),
            "external_id",
            InvalidReason::Empty,
        ),
    ];
    for (req, param, reason) in cases {
        assert_eq!(
            invalid(&req),
            Invalid {
                status: 400,
                code: ErrorCode::MissingField,
                param,
                reason
            },
            "{req:?}"
        );
    }
    let chat_ok = [ChatMessage::user("x")];
    let chat_empty = [ChatMessage::user("")];
    let chat_cases = [
        (
            ChatRequest::new("", &chat_ok),
            "model",
            InvalidReason::Empty,
        ),
        (
            ChatRequest {
                emotion_model: "",
                ..ChatRequest::new("m", &chat_ok)
            },
            "emotion_model",
            InvalidReason::Empty,
        ),
        (
            ChatRequest {
                context_id: Some(""),
                ..ChatRequest::new("m", &chat_ok)
            },
            "context_id",
            InvalidReason::Empty,
        ),
        (
            ChatRequest::new("m", &[]),
            "messages",
            InvalidReason::Missing,
        ),
        (
            ChatRequest::new("m", &chat_empty),
            "messages.content",
            InvalidReason::Empty,
        ),
    ];
    for (chat, param, reason) in chat_cases {
        let want = Invalid {
            status: 400,
            code: ErrorCode::MissingField,
            param,
            reason,
        };
        assert_eq!(invalid(&Request::chat(chat)), want, "{chat:?}");
    }
}

#[test]
fn validation_roles() {
    for role in ["user", "assistant", "system"] {
        let m = [Message {
            role: Some(role),
            ..Message::user("x")
        }];
        assert_eq!(Request::analyze(&m).validate(), Ok(()));
        let c = [ChatMessage { role, content: "x" }];
        assert_eq!(Request::chat(ChatRequest::new("m", &c)).validate(), Ok(()));
    }
    let none = [Message {
        role: None,
        ..Message::user("x")
    }];
    assert_eq!(Request::analyze(&none).validate(), Ok(()));
    let long = "u".repeat(MAX_ROLE_BYTES + 1);
    for (role, reason) in [
        ("User", InvalidReason::BadRole),
        ("", InvalidReason::BadRole),
        ("tool", InvalidReason::BadRole),
        ("user ", InvalidReason::BadRole),
        (long.as_str(), InvalidReason::TooLong),
    ] {
        let want = Invalid {
            status: 422,
            code: ErrorCode::InvalidRole,
            param: "messages.role",
            reason,
        };
        let m = [
            Message::user("x"),
            Message {
                role: Some(role),
                ..Message::user("x")
            },
        ];
        assert_eq!(invalid(&Request::analyze(&m)), want, "{role:?}");
        assert_eq!(invalid(&Request::batch_analyze(&m)), want, "{role:?}");
        let c = [ChatMessage { role, content: "x" }];
        assert_eq!(
            invalid(&Request::chat(ChatRequest::new("m", &c))),
            want,
            "{role:?}"
        );
    }
}

#[test]
fn validation_sizes() {
    let too_large = |param, reason| Invalid {
        status: 413,
        code: ErrorCode::PayloadTooLarge,
        param,
        reason,
    };
    let hundred = [Message::user("x"); MAX_MESSAGES];
    assert_eq!(Request::analyze(&hundred).validate(), Ok(()));
    let many = [Message::user("x"); MAX_MESSAGES + 1];
    assert_eq!(
        invalid(&Request::analyze(&many)),
        too_large("messages", InvalidReason::TooMany)
    );
    assert_eq!(
        invalid(&Request::batch_analyze(&many)),
        too_large("messages", InvalidReason::TooMany)
    );
    let chat_many = [ChatMessage::user("x"); MAX_MESSAGES + 1];
    assert_eq!(
        invalid(&Request::chat(ChatRequest::new("m", &chat_many))),
        too_large("messages", InvalidReason::TooMany)
    );

    // 10 000 UTF-16 units: ASCII, 3-byte BMP characters, and emoji counting two each.
    let text_limit = [
        ("a".repeat(MAX_TEXT_CHARS), true),
        ("a".repeat(MAX_TEXT_CHARS + 1), false),
        ("日".repeat(MAX_TEXT_CHARS), true),
        ("😀".repeat(MAX_TEXT_CHARS / 2), true),
        (format!("{}a", "😀".repeat(MAX_TEXT_CHARS / 2)), false),
    ];
    for (t, ok) in &text_limit {
        let m = [Message::user(t)];
        let got = Request::analyze(&m).validate();
        let want = if *ok {
            Ok(())
        } else {
            Err(too_large("messages.content.text", InvalidReason::TooLong))
        };
        assert_eq!(got, want, "{} bytes", t.len());
        let c = [ChatMessage::user(t)];
        let got = Request::chat(ChatRequest::new("m", &c)).validate();
        let want = if *ok {
            Ok(())
        } else {
            Err(too_large("messages.content", InvalidReason::TooLong))
        };
        assert_eq!(got, want, "{} bytes", t.len());
    }

    // Each text is within its limit but 100 escaped control-byte texts exceed the body limit.
    let controls = "\u{1}".repeat(MAX_TEXT_CHARS);
    let heavy = [Message::user(&controls); MAX_MESSAGES];
    assert_eq!(
        invalid(&Request::analyze(&heavy)),
        too_large("messages", InvalidReason::TooLarge)
    );
    let light = [Message::user(&controls); 10];
    assert_eq!(Request::analyze(&light).validate(), Ok(()));
    // Exactly at the limit is fine; one byte over is not.
    let base = Request::Analyze {
        model: "m",
        messages: &[Message::user("x")],
    };
    let mut count = Sink::counting();
    base.body(&mut count).unwrap();
    let model = "m".repeat(MAX_BODY_BYTES - count.len + 1);
    assert_eq!(
        Request::Analyze {
            model: &model,
            messages: &[Message::user("x")]
        }
        .validate(),
        Ok(())
    );
    let model = "m".repeat(MAX_BODY_BYTES - count.len + 2);
    let req = Request::Analyze {
        model: &model,
        messages: &[Message::user("x")],
    };
    assert_eq!(
        invalid(&req),
        too_large("messages", InvalidReason::TooLarge)
    );
}

#[test]
fn validation_context_id() {
    let ok = [Message::user("x")];
    let at = "c".repeat(MAX_CONTEXT_ID_BYTES);
    let over = "c".repeat(MAX_CONTEXT_ID_BYTES + 1);
    // 64 two-byte characters are 128 bytes; one more is over, although only 65 characters.
    let multibyte = "é".repeat(MAX_CONTEXT_ID_BYTES / 2 + 1);
    let too_long = Invalid {
        status: 400,
        code: other(CONTEXT_ID_TOO_LONG),
        param: "context_id",
        reason: InvalidReason::TooLong,
    };
    assert_eq!(Request::analyze_in_context(&at, &ok).validate(), Ok(()));
    assert_eq!(Request::context_state(&at).validate(), Ok(()));
    for id in [&over, &multibyte] {
        assert_eq!(invalid(&Request::analyze_in_context(id, &ok)), too_long);
        assert_eq!(invalid(&Request::context_state(id)), too_long);
        assert_eq!(invalid(&Request::message_lookup(id, "e")), too_long);
        let c = [ChatMessage::user("x")];
        let chat = ChatRequest {
            context_id: Some(id),
            ..ChatRequest::new("m", &c)
        };
        assert_eq!(invalid(&Request::chat(chat)), too_long);
    }
    assert_eq!(too_long.code.as_str(), "context_id_too_long");
}

#[test]
fn control_bytes_never_reach_the_wire() {
    let ok = [Message::user("x")];
    let control = |param| Invalid {
        status: 400,
        code: other(CONTROL_BYTE),
        param,
        reason: InvalidReason::ControlByte,
    };
    for bad in ["a\r\nX-Evil: 1", "a\n", "\0", "a\tb", "a\x7f", "\x1b[0m"] {
        assert_eq!(
            invalid(&Request::analyze_in_context(bad, &ok)),
            control("context_id"),
            "{bad:?}"
        );
        assert_eq!(
            invalid(&Request::context_state(bad)),
            control("context_id"),
            "{bad:?}"
        );
        assert_eq!(
            invalid(&Request::message_lookup("c", bad)),
            control("external_id"),
            "{bad:?}"
        );
        assert_eq!(
            invalid(&Request::message_lookup(bad, "e")),
            control("context_id"),
            "{bad:?}"
        );

        let k = key();
        let req = Request::analyze(&ok);
        let mut h = head(&BaseUrl::PRODUCTION, &k);
        h.user_agent = bad;
        assert_eq!(
            req.write(&h, &mut [0; 512]),
            Err(WriteError::Invalid(control("User-Agent")))
        );
        let mut h = head(&BaseUrl::PRODUCTION, &k);
        h.idempotency_key = bad;
        assert_eq!(
            req.write(&h, &mut [0; 512]),
            Err(WriteError::Invalid(control("Idempotency-Key")))
        );
        let host = format!("h{bad}");
        let base = BaseUrl {
            host: &host,
            ..BaseUrl::PRODUCTION
        };
        assert_eq!(
            req.write(&head(&base, &k), &mut [0; 512]),
            Err(WriteError::Invalid(control("host")))
        );
        let prefix = format!("/p{bad}");
        let base = BaseUrl {
            prefix: &prefix,
            ..BaseUrl::PRODUCTION
        };
        assert_eq!(
            req.write(&head(&base, &k), &mut [0; 512]),
            Err(WriteError::Invalid(control("prefix")))
        );
    }
    // A space is fine in header values but not in the request target or the host.
    let k = key();
    let req = Request::analyze(&ok);
    let mut h = head(&BaseUrl::PRODUCTION, &k);
    h.user_agent = "my app/1.0 (kaiko-rs)";
    assert!(req.write(&h, &mut [0; 512]).is_ok());
    let base = BaseUrl {
        host: "a b",
        ..BaseUrl::PRODUCTION
    };
    assert_eq!(
        req.write(&head(&base, &k), &mut [0; 512]),
        Err(WriteError::Invalid(control("host")))
    );
    let base = BaseUrl {
        prefix: "/a b",
        ..BaseUrl::PRODUCTION
    };
    assert_eq!(
        req.write(&head(&base, &k), &mut [0; 512]),
        Err(WriteError::Invalid(control("prefix")))
    );
    let base = BaseUrl {
        host: "",
        ..BaseUrl::PRODUCTION
    };
    let want = Invalid {
        status: 400,
        code: ErrorCode::MissingField,
        param: "host",
        reason: InvalidReason::Empty,
    };
    assert_eq!(
        req.write(&head(&base, &k), &mut [0; 512]),
        Err(WriteError::Invalid(want))
    );
    // In the JSON body control bytes are escaped, so the chat context id may hold them.
    let c = [ChatMessage::user("x")];
    let chat = ChatRequest {
        context_id: Some("a\nb"),
        ..ChatRequest::new("m", &c)
    };
    assert!(body_of(&written(&Request::chat(chat))).contains("\"context_id\":\"a\\nb\""));
}

#[test]
fn every_buffer_size_up_to_needed() {
    let k = key();
    let messages = [Message::user("I feel a bit unsure about this")];
    let requests = [
        Request::analyze(&messages),
        Request::message_lookup("ctx", "msg"),
        Request::context_state("c"),
    ];
    for req in requests {
        let full = write(&req, &head(&BaseUrl::PRODUCTION, &k)).unwrap();
        let needed = full.len();
        for size in 0..=needed + 2 {
            let mut buf = vec![0xAAu8; size];
            match req.write(&head(&BaseUrl::PRODUCTION, &k), &mut buf) {
                Ok(n) => {
                    assert!(size >= needed);
                    assert_eq!(n, needed);
                    assert_eq!(&buf[..n], &full[..]);
                    assert!(buf[n..].iter().all(|&b| b == 0xAA));
                }
                Err(e) => {
                    assert!(size < needed);
                    assert_eq!(e, WriteError::BufferTooSmall { needed });
                    assert!(
                        buf.iter().all(|&b| b == 0xAA),
                        "buffer of {size} was touched"
                    );
                }
            }
        }
    }
}

#[test]
fn invalid_leaves_buffer_untouched() {
    let k = key();
    let mut buf = [0xAAu8; 256];
    let err = Request::analyze(&[]).write(&head(&BaseUrl::PRODUCTION, &k), &mut buf);
    assert!(matches!(err, Err(WriteError::Invalid(_))));
    assert!(buf.iter().all(|&b| b == 0xAA));
}

#[test]
fn error_texts_and_conversion() {
    let e = invalid(&Request::analyze(&[Message::user("")]));
    assert_eq!(
        format!("{e}"),
        "400 missing_field: messages.content.text is empty"
    );
    assert_eq!(
        format!("{}", WriteError::Invalid(e)),
        "invalid request: 400 missing_field: messages.content.text is empty"
    );
    assert_eq!(
        format!("{}", WriteError::BufferTooSmall { needed: 42 }),
        "request buffer too small: 42 bytes needed"
    );
    let api = e.to_api_error();
    assert_eq!(api.status, 400);
    assert_eq!(api.kind, ErrorType::InvalidRequest);
    assert_eq!(api.code, ErrorCode::MissingField);
    assert_eq!(api.param.as_str(), "messages.content.text");
    assert_eq!(api.message.as_str(), "messages.content.text is empty");
    let api = invalid(&Request::context_state(&"c".repeat(200))).to_api_error();
    assert_eq!(api.code.as_str(), CONTEXT_ID_TOO_LONG);
    assert_eq!(api.kind, ErrorType::InvalidRequest);
    assert_eq!(Method::Post.as_str(), "POST");
}

/// Percent-decoding of one path segment, for the round trip.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn header<'h>(headers: &'h [httparse::Header<'_>], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Parses a written request back with httparse: method, path, Content-Length; returns the
/// path and the body.
fn parse_back(buf: &[u8], method: &str) -> (String, Vec<u8>) {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head_len) = req.parse(buf).unwrap() else {
        panic!("incomplete head");
    };
    assert_eq!(req.method, Some(method));
    assert_eq!(req.version, Some(1));
    let body = buf[head_len..].to_vec();
    match header(req.headers, "content-length") {
        Some(v) => assert_eq!(
            core::str::from_utf8(v).unwrap().parse::<usize>().unwrap(),
            body.len()
        ),
        None => assert!(body.is_empty()),
    }
    assert_eq!(
        header(req.headers, "host"),
        Some(&b"api.kaikostudios.xyz"[..])
    );
    assert_eq!(header(req.headers, "x-api-key"), Some(KEY.as_bytes()));
    (String::from(req.path.unwrap()), body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any analysis that validates parses back with httparse and serde_json, with the text,
    /// role and context id intact.
    #[test]
    fn analysis_round_trip(
        t in "\\PC{0,40}|[\\x00-\\x7f]{0,40}",
        role in proptest::option::of("user|assistant|system|[a-z]{0,6}"),
        ctx in "\\PC{0,20}|[\\x00-\\x7f]{0,20}",
        id in proptest::option::of("\\PC{0,10}"),
    ) {
        let k = key();
        let messages = [Message { role: role.as_deref(), text: &t, external_id: id.as_deref(), timestamp: None }];
        let req = Request::analyze_in_context(&ctx, &messages);
        let Ok(()) = req.validate() else {
            // Refused: writing is refused too, and nothing panics.
            prop_assert!(matches!(req.write(&head(&BaseUrl::PRODUCTION, &k), &mut [0; 64]), Err(WriteError::Invalid(_))));
            return Ok(());
        };
        let buf = write(&req, &head(&BaseUrl::PRODUCTION, &k)).unwrap();
        let (path, body) = parse_back(&buf, "POST");
        let seg = path.strip_prefix("/v2/emotions/").unwrap().strip_suffix("/analysis").unwrap();
        prop_assert!(!seg.contains('/'));
        prop_assert_eq!(percent_decode(seg), ctx.as_bytes());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        prop_assert_eq!(v["messages"][0]["content"]["text"].as_str(), Some(t.as_str()));
        prop_assert_eq!(v["messages"][0]["role"].as_str(), role.as_deref());
        prop_assert_eq!(v["messages"][0]["externalId"].as_str(), id.as_deref());
        prop_assert_eq!(v["model"].as_str(), Some(EMOTION_MODEL));
    }

    /// Message lookups round-trip both path parameters.
    #[test]
    fn lookup_round_trip(ctx in "\\PC{1,20}", id in "\\PC{1,20}") {
        let k = key();
        let req = Request::message_lookup(&ctx, &id);
        if req.validate().is_ok() {
            let buf = write(&req, &head(&BaseUrl::PRODUCTION, &k)).unwrap();
            let (path, body) = parse_back(&buf, "GET");
            prop_assert!(body.is_empty());
            let rest = path.strip_prefix("/v2/emotions/").unwrap();
            let (c, e) = rest.split_once("/message/").unwrap();
            prop_assert_eq!(percent_decode(c), ctx.as_bytes());
            prop_assert_eq!(percent_decode(e), id.as_bytes());
        }
    }

    /// Chat requests round-trip every field that was set.
    #[test]
    fn chat_round_trip(
        content in "\\PC{1,30}",
        role in "user|assistant|system",
        model in "\\PC{1,10}",
        temp in proptest::option::of(-30_000i32..30_000),
        max in proptest::option::of(any::<u32>()),
        stream in any::<bool>(),
    ) {
        let k = key();
        let c = [ChatMessage { role: &role, content: &content }];
        let chat = ChatRequest { temperature: temp.map(Score), max_tokens: max, stream, ..ChatRequest::new(&model, &c) };
        let buf = write(&Request::chat(chat), &head(&BaseUrl::PRODUCTION, &k)).unwrap();
        let (path, body) = parse_back(&buf, "POST");
        prop_assert_eq!(path, "/v2/chat/completions");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        prop_assert_eq!(v["model"].as_str(), Some(model.as_str()));
        prop_assert_eq!(v["messages"][0]["content"].as_str(), Some(content.as_str()));
        prop_assert_eq!(v["stream"].as_bool(), stream.then_some(true));
        prop_assert_eq!(v["model_params"]["max_tokens"].as_u64(), max.map(u64::from));
        if let Some(t) = temp {
            // The decimal text is exact: compare it as text, scaled back to the integer.
            let text = v["model_params"]["temperature"].to_string();
            prop_assert_eq!(Score::parse(text.as_bytes()), Some(Score(t)));
        }
    }

    /// Arbitrary strings anywhere never panic, and a success always fits what was reported.
    #[test]
    fn never_panics(
        a in "\\PC{0,12}|[\\x00-\\xff]{0,12}", b in "\\PC{0,12}|[\\x00-\\x7f]{0,12}",
        c in "\\PC{0,12}", size in 0usize..400,
    ) {
        let k = key();
        let base = BaseUrl { host: &c, prefix: &b, ..BaseUrl::PRODUCTION };
        let mut h = head(&base, &k);
        h.user_agent = &a;
        h.idempotency_key = &b;
        let messages = [Message { role: Some(&a), text: &b, external_id: Some(&c), timestamp: Some(&a) }];
        let chat_messages = [ChatMessage { role: &a, content: &b }];
        let requests = [
            Request::Analyze { model: &a, messages: &messages },
            Request::AnalyzeInContext { model: &c, context_id: &a, messages: &messages },
            Request::context_state(&b),
            Request::message_lookup(&a, &c),
            Request::batch_analyze(&messages),
            Request::chat(ChatRequest { context_id: Some(&c), ..ChatRequest::new(&a, &chat_messages) }),
        ];
        for req in requests {
            let _ = req.validate();
            let mut buf = vec![0u8; size];
            match req.write(&h, &mut buf) {
                Ok(n) => prop_assert!(n <= size),
                Err(WriteError::BufferTooSmall { needed }) => prop_assert!(needed > size),
                Err(WriteError::Invalid(_)) => {}
            }
        }
    }
}

#[test]
fn short_copies_copy_every_length() {
    let src: Vec<u8> = (1..=80).collect();
    for n in 0..=src.len() {
        let mut dst = [0u8; 80];
        copy_short(&mut dst[..n], &src[..n]);
        assert_eq!(&dst[..n], &src[..n], "length {n}");
        assert!(dst[n..].iter().all(|&b| b == 0), "nothing past length {n}");
    }
}

#[test]
fn parameter_names() {
    let names = [
        (Param::Model, "model"),
        (Param::EmotionModel, "emotion_model"),
        (Param::Messages, "messages"),
        (Param::Role, "messages.role"),
        (Param::Text, "messages.content.text"),
        (Param::Content, "messages.content"),
        (Param::ContextId, "context_id"),
        (Param::ExternalId, "external_id"),
        (Param::Host, "host"),
        (Param::Prefix, "prefix"),
        (Param::UserAgent, "User-Agent"),
        (Param::IdempotencyKey, "Idempotency-Key"),
    ];
    for (param, name) in names {
        let e = Invalid::from(Fault::new(param, InvalidReason::Empty));
        assert_eq!(e.param, name, "{param:?}");
    }
}

/// The requests of the properties below: every kind, every string taken from the inputs.
fn every_kind<'a>(
    a: &'a str,
    b: &'a str,
    c: &'a str,
    messages: &'a [Message<'a>],
    chat_messages: &'a [ChatMessage<'a>],
    stream: bool,
) -> [Request<'a>; 6] {
    [
        Request::Analyze { model: a, messages },
        Request::AnalyzeInContext {
            model: c,
            context_id: a,
            messages,
        },
        Request::context_state(b),
        Request::message_lookup(a, c),
        Request::batch_analyze(messages),
        Request::chat(ChatRequest {
            context_id: Some(c),
            temperature: Some(Score(-12_345)),
            max_tokens: Some(u32::MAX),
            stream,
            ..ChatRequest::new(a, chat_messages)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A buffer of any size holds the whole request or is left as it was: every refusal is
    /// found before a byte is written, and a short buffer reports the exact length.
    #[test]
    fn all_or_nothing_at_every_size(
        a in "user|[a-z]{1,8}|\\PC{0,12}|[\\x00-\\x7f]{0,12}",
        b in "[a-z.]{1,8}|\\PC{0,12}|[\\x00-\\x7f]{0,12}",
        c in "[a-z]{1,8}|\\PC{0,12}",
        host in "h|\\PC{0,6}",
        prefix in "|/v2|/a b|/p[\\x00-\\x7f]{0,3}",
        idempotency_key in "k|[\\x00-\\x7f]{0,4}",
        stream in any::<bool>(),
        size in 0usize..700,
    ) {
        let k = key();
        let base = BaseUrl { host: &host, prefix: &prefix, ..BaseUrl::PRODUCTION };
        let mut h = head(&base, &k);
        h.user_agent = &b;
        h.idempotency_key = &idempotency_key;
        let messages = [Message { role: Some(&a), text: &b, external_id: Some(&c), timestamp: Some(&a) }];
        let chat_messages = [ChatMessage { role: &a, content: &b }];
        for req in every_kind(&a, &b, &c, &messages, &chat_messages, stream) {
            let whole = write(&req, &h);
            let mut buf = vec![0xAAu8; size];
            let got = req.write(&h, &mut buf);
            match got {
                Ok(n) => {
                    prop_assert_eq!(Ok(&buf[..n]), whole.as_deref());
                    prop_assert!(buf[n..].iter().all(|&x| x == 0xAA));
                }
                Err(e) => {
                    prop_assert!(buf.iter().all(|&x| x == 0xAA), "{:?} wrote into the buffer", e);
                    match e {
                        WriteError::BufferTooSmall { needed } => {
                            prop_assert!(needed > size);
                            prop_assert_eq!(whole.map(|w| w.len()), Ok(needed));
                        }
                        WriteError::Invalid(_) => prop_assert_eq!(whole, Err(e)),
                    }
                }
            }
            // The body's refusals are those of `validate`; the head's come after them.
            if let Err(e) = req.validate() {
                prop_assert_eq!(got, Err(WriteError::Invalid(e)));
            }
        }
    }
}

/// With `fast`, a buffer that holds the longest head the strings can make skips the count
/// of the head: the bound must never be below the head written.
#[cfg(feature = "fast")]
mod head_bound {
    use super::*;

    fn head_len(req: &Request<'_>, h: &RequestHead<'_>, body_len: usize) -> usize {
        let mut count = Sink::counting();
        req.head(h, body_len, &mut count);
        count.len
    }

    #[test]
    fn longest_constant_pieces() {
        let k = key();
        // One byte for each string, a prefix without its slash and without `/v2`, a port,
        // Bearer, streaming, a closing connection and a 7-digit Content-Length: every
        // optional piece at once.
        let base = BaseUrl {
            host: "h",
            prefix: "p",
            port: 65_535,
            ..BaseUrl::PRODUCTION
        };
        let mut h = RequestHead::new(&base, &k, "i");
        h.user_agent = "u";
        h.auth = Auth::Bearer;
        h.keep_alive = false;
        let strings = 4 + KEY.len();
        let m = [ChatMessage::user("x")];
        let chat = Request::chat(ChatRequest {
            stream: true,
            ..ChatRequest::new("m", &m)
        });
        for req in [chat, Request::batch_analyze(&[])] {
            let len = head_len(&req, &h, MAX_BODY_BYTES);
            assert!(len - strings <= HEAD_CONSTANTS, "{req:?}: {len}");
            assert!(len <= req.head_bound(&h));
        }
    }

    proptest! {
        #[test]
        fn bound_holds(
            a in "\\PC{0,20}|[\\x00-\\xff]{0,20}",
            b in "\\PC{0,20}|\\.{1,3}",
            prefix in "|/v2|p|/a/v2|/x",
            port in any::<u16>(),
            tls in any::<bool>(),
            bearer in any::<bool>(),
            keep_alive in any::<bool>(),
            stream in any::<bool>(),
            body_len in 0usize..=MAX_BODY_BYTES,
        ) {
            let k = key();
            let base = BaseUrl { host: &a, prefix: &prefix, port, tls };
            let mut h = head(&base, &k);
            h.user_agent = &b;
            h.idempotency_key = &a;
            h.keep_alive = keep_alive;
            if bearer {
                h.auth = Auth::Bearer;
            }
            let messages = [Message::user("x")];
            let chat_messages = [ChatMessage::user("x")];
            for req in every_kind(&a, &b, &b, &messages, &chat_messages, stream) {
                prop_assert!(head_len(&req, &h, body_len) <= req.head_bound(&h));
            }
        }
    }
}

proptest! {
    /// The check of the head strings (eight bytes at a time with `fast`) refuses exactly the
    /// strings with a byte below the limit or DEL, wherever that byte is.
    #[test]
    fn visible_is_its_definition(
        s in "[ -~]{0,24}[\\x00-\\x7f]?[ -~]{0,24}|\\PC{0,12}|[\\x00-\\x7f]{0,24}",
        line in any::<bool>(),
    ) {
        let min = if line { LINE_MIN } else { HEADER_MIN };
        let want = s.bytes().any(|b| b < min || b == 0x7F);
        prop_assert_eq!(visible(&s, Param::Host, min).is_err(), want);
    }
}
