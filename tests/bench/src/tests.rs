use kaiko_core::http::{ContentType, Framing};
use kaiko_core::request::{Request, USER_AGENT};
use kaiko_core::score::Score;

use crate::fixtures::*;
use crate::{kaiko, peers};

fn target() -> peers::Target<'static> {
    peers::Target {
        host: "api.kaikostudios.xyz",
        user_agent: USER_AGENT,
        key: KEY,
        idempotency_key: IDEMPOTENCY_KEY,
    }
}

fn milli(x: Option<f64>) -> Option<Score> {
    x.map(|v| Score((v * 10_000.0).round() as i32))
}

#[test]
fn heads_agree() {
    let wire = response(QUICKSTART);
    let whole = kaiko::head(&wire, usize::MAX).unwrap();
    assert_eq!(kaiko::head(&wire, 64), Some(whole));
    let peer = peers::head_fields(&wire).unwrap();
    assert_eq!(peers::head_tokens(&wire), Some((200, peer.len)));
    assert_eq!(peer.len, head(QUICKSTART.len()).len());
    assert_eq!(whole.status, peer.status);
    assert_eq!(whole.framing, Framing::Length(peer.content_length.unwrap()));
    assert_eq!(whole.keep_alive, peer.keep_alive);
    assert_eq!(whole.content_type == ContentType::Json, peer.json);
    assert_eq!(whole.date.map(u64::from), peer.date);
    assert_eq!(whole.date, Some(1_736_937_000));
    assert_eq!(whole.rate_limit.limit, peer.limit);
    assert_eq!(whole.rate_limit.remaining, peer.remaining);
    assert_eq!(whole.rate_limit.reset.map(u64::from), peer.reset);
    assert_eq!(whole.request_id.as_str(), peer.request_id.as_str());
    assert_eq!(whole.deprecated, peer.deprecated);
}

fn check_body(body: &[u8], emotions: usize, content: usize) {
    let k = kaiko::body(body, usize::MAX).unwrap();
    let k64 = kaiko::body(body, 64).unwrap();
    assert_eq!(
        (k64.emotions, &k64.last, &k64.summary),
        (k.emotions, &k.last, &k.summary)
    );
    assert_eq!((k.emotions, k.content_bytes), (emotions, content));
    let j: peers::SuccessJson = serde_json::from_slice(body).unwrap();
    let mut scratch = [0u8; 256];
    let c: peers::SuccessCore = peers::core_from_slice(body, &mut scratch).unwrap();
    let e = k.last.unwrap();
    let je = &j.emotions[e.role.as_str()];
    let ce = c.emotions.as_ref().unwrap().get(e.role.as_str()).unwrap();
    assert_eq!(
        e.category.as_ref().map(|c| c.as_str()),
        je.category.as_deref()
    );
    assert_eq!(
        e.category.as_ref().map(|c| c.as_str()),
        ce.category.as_deref()
    );
    assert!(je.text.as_deref().unwrap().starts_with(e.text.as_str()));
    assert_eq!(je.text.as_deref(), ce.text.as_deref());
    assert_eq!(e.intensity, milli(je.intensity));
    assert_eq!(e.valence, milli(je.valence));
    assert_eq!(e.arousal, milli(je.arousal));
    assert_eq!(e.wonder_index, milli(je.wonder_index));
    assert_eq!(
        Some(e.intensity_level.unwrap().as_str()),
        je.intensity_level.as_deref()
    );
    assert_eq!(
        Some(e.complexity.unwrap().as_str()),
        je.complexity.as_deref()
    );
    assert_eq!(
        Some(e.discovery_level.unwrap().as_str()),
        je.discovery_level.as_deref()
    );
    assert_eq!(ce.intensity, je.intensity.map(|v| v as f32));
    assert_eq!(ce.raw.as_ref().unwrap().len(), je.raw.len());
    // kaiko keeps the six highest raw scores.
    assert_eq!(e.raw.len(), je.raw.len().min(6));
    for (category, score) in e.raw.iter() {
        assert_eq!(Some(score), milli(je.raw.get(category.as_str()).copied()));
    }
    assert_eq!(e.raw.is_truncated(), je.raw.len() > 6);
    assert_eq!(Some(k.summary.object.as_str()), j.object.as_deref());
    assert_eq!(Some(k.summary.model.as_str()), j.model.as_deref());
    assert_eq!(j.object.as_deref(), c.object.as_deref());
    let text: usize = j
        .choices
        .iter()
        .filter_map(|c| c.message.as_ref()?.content.as_ref())
        .map(String::len)
        .sum();
    assert_eq!(text, content);
}

#[test]
fn quickstart_bodies_agree() {
    check_body(QUICKSTART, 1, 0);
}

#[test]
fn code_shaped_bodies_agree() {
    assert!((4_000..5_000).contains(&ANALYSIS_CODE.len()));
    check_body(ANALYSIS_CODE, 1, 0);
    let k = kaiko::body(ANALYSIS_CODE, usize::MAX).unwrap();
    assert_eq!(k.summary.context_id.as_str(), "user-session-123");
    assert_eq!(k.summary.usage.analyse_tokens, Some(42));
}

#[test]
fn chat_bodies_agree() {
    let j: peers::SuccessJson = serde_json::from_slice(CHAT).unwrap();
    let content = j.choices[0]
        .message
        .as_ref()
        .unwrap()
        .content
        .as_ref()
        .unwrap()
        .len();
    check_body(CHAT, 1, content);
    let k = kaiko::body(CHAT, usize::MAX).unwrap();
    assert_eq!(k.summary.finish_reason.as_str(), "stop");
    assert_eq!(k.summary.usage.total_tokens, j.usage.unwrap().total_tokens);
}

#[test]
fn error_bodies_agree() {
    let head = kaiko_core::http::ResponseHead::new(400);
    let k = kaiko::error(ERROR_ENVELOPE, &head);
    let j: peers::ErrorEnvelopeJson = serde_json::from_slice(ERROR_ENVELOPE).unwrap();
    let mut scratch = [0u8; 256];
    let c: peers::ErrorEnvelopeCore = peers::core_from_slice(ERROR_ENVELOPE, &mut scratch).unwrap();
    assert_eq!(k.kind.as_str(), j.error.kind);
    assert_eq!(k.code.as_str(), j.error.code);
    assert_eq!(k.message.as_str(), j.error.message);
    assert_eq!(Some(k.param.as_str()), j.error.param.as_deref());
    assert_eq!(Some(k.request_id.as_str()), j.error.request_id.as_deref());
    assert_eq!(c.error.message.as_str(), j.error.message);
}

#[test]
fn requests_are_byte_identical() {
    let config = kaiko::config();
    let mut buf = [0u8; 1024];
    let (mut scratch, mut out) = (Vec::new(), Vec::new());

    let n = kaiko::write(&Request::analyze(&QUICKSTART_MESSAGES), &config, &mut buf).unwrap();
    let msgs = [peers::AnalyzeMessage {
        role: Some("user"),
        text: QUICKSTART_MESSAGES[0].text,
    }];
    peers::write_analyze(&target(), &msgs, &mut scratch, &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        std::str::from_utf8(&out).unwrap()
    );

    let chat = chat_request();
    let n = kaiko::write(&Request::chat(chat), &config, &mut buf).unwrap();
    let msgs: Vec<_> = CHAT_MESSAGES
        .iter()
        .map(|m| peers::ChatMessageJson {
            role: m.role,
            content: m.content,
        })
        .collect();
    let body = peers::ChatBody {
        model: chat.model,
        emotion_model: chat.emotion_model,
        context_id: chat.context_id,
        messages: &msgs,
    };
    peers::write_post(
        &target(),
        "/v2/chat/completions",
        &body,
        &mut scratch,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        std::str::from_utf8(&out).unwrap()
    );
}

#[test]
fn exchanges_agree() {
    let config = kaiko::config();
    let msgs = [peers::AnalyzeMessage {
        role: Some("user"),
        text: QUICKSTART_MESSAGES[0].text,
    }];
    let (mut scratch, mut out) = (Vec::new(), Vec::new());
    for body in [QUICKSTART, ANALYSIS_CODE] {
        let wire = response(body);
        let k = kaiko::exchange(&config, Request::analyze(&QUICKSTART_MESSAGES), &wire);
        let p = peers::exchange(&target(), &msgs, &wire, &mut scratch, &mut out);
        assert!(k.ok && p.ok);
        assert_eq!((k.sent, k.events), (p.sent, p.emotions));
        // The same exchange whatever the reads.
        for piece in [1, 7, 64] {
            let request = Request::analyze(&QUICKSTART_MESSAGES);
            let in_pieces = kaiko::exchange_in_pieces(&config, request, &wire, piece);
            assert_eq!(in_pieces, k, "reads of {piece} bytes");
        }
    }
}
