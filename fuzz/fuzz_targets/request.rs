//! Arbitrary strings in every field a caller controls: validation and writing never panic,
//! a too-small buffer is refused with the exact size, and what is written has a body as long
//! as its Content-Length says.
#![no_main]
use kaiko_core::base_url::BaseUrl;
use kaiko_core::key::ApiKey;
use kaiko_core::request::{ChatMessage, ChatRequest, Message, Request, RequestHead, WriteError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1f}');
    let mut next = || parts.next().unwrap_or("");
    let (body, role, context, external, agent, idem) =
        (next(), next(), next(), next(), next(), next());
    let Ok(key) = ApiKey::new("kaiko_test_fuzz") else {
        return;
    };
    let base = BaseUrl::PRODUCTION;
    let mut head = RequestHead::new(&base, &key, idem);
    head.user_agent = agent;
    let messages = [Message {
        role: Some(role),
        text: body,
        external_id: Some(external),
        timestamp: None,
    }];
    let chat = [ChatMessage {
        role,
        content: body,
    }];
    let requests = [
        Request::analyze(&messages),
        Request::analyze_in_context(context, &messages),
        Request::MessageLookup {
            context_id: context,
            external_id: external,
        },
        Request::ChatCompletion(ChatRequest {
            model: role,
            emotion_model: "emotion-v2",
            context_id: Some(context),
            messages: &chat,
            temperature: None,
            max_tokens: Some(data.len() as u32),
            stream: data.len() % 2 == 0,
        }),
    ];
    for request in requests {
        let _ = request.validate();
        let needed = match request.write(&head, &mut []) {
            Ok(n) => n,
            Err(WriteError::BufferTooSmall { needed }) => needed,
            Err(WriteError::Invalid(_)) => continue,
        };
        let mut out = vec![0u8; needed];
        let n = request
            .write(&head, &mut out)
            .expect("the size it asked for is enough");
        assert_eq!(n, needed);
        let written = &out[..n];
        let split = written
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head");
        let head_text = std::str::from_utf8(&written[..split]).expect("an ASCII head");
        assert!(
            !head_text
                .bytes()
                .any(|b| b < 0x20 && b != b'\r' && b != b'\n'),
            "no control bytes"
        );
        if let Some(len) = head_text
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
        {
            assert_eq!(len.parse::<usize>().unwrap(), n - split - 4);
        }
    }
});
