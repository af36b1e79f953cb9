//! Every endpoint succeeds end to end and decodes to the expected shape.

mod common;

use common::{client, run, sim};
use kaiko_core::analysis::Category;
use kaiko_core::request::{ChatMessage, ChatRequest, EMOTION_MODEL, Message};
use kaiko_std::{Auth, Request};

#[test]
fn stateless_analysis() {
    let sim = sim();
    let mut c = client(&sim);
    let a = c
        .analyze("I feel a bit unsure about this", None, None, |_| {})
        .unwrap();
    assert_eq!(a.success.status, 200);
    assert_eq!(a.success.summary.object.as_str(), "emotions.analysis");
    assert_eq!(a.success.attempts, 1);
    assert!(!a.success.request_id.is_empty());
    assert_eq!(a.emotions.len(), 1);
    let e = &a.emotions[0];
    assert_eq!(e.role.as_str(), "user");
    assert_eq!(e.category, Some(Category::Fear));
    assert!(e.intensity.is_some() && e.valence.is_some() && e.arousal.is_some());
    assert_eq!(e.raw.iter().next().map(|r| r.0), Some(Category::Fear));
}

#[test]
fn context_analysis_then_state_then_message_lookup() {
    let sim = sim();
    let mut c = client(&sim);
    let id = "3f2b8c1e-9d4a-4e6b-8f7a-1c2d3e4f5a6b";
    let a = c
        .analyze("I am so happy today", Some("ctx-42"), Some(id), |_| {})
        .unwrap();
    assert_eq!(a.success.summary.context_id.as_str(), "ctx-42");
    assert_eq!(a.emotions[0].category, Some(Category::Joy));

    let state = run(&mut c, Request::context_state("ctx-42"));
    assert_eq!(state.ok().summary.object.as_str(), "emotions.state");
    assert!(!state.emotions().is_empty());

    let msg = run(&mut c, Request::message_lookup("ctx-42", id));
    assert_eq!(msg.ok().status, 200);
    assert!(!msg.emotions().is_empty());
}

#[test]
fn context_ids_are_percent_encoded() {
    let sim = sim();
    let mut c = client(&sim);
    let a = c.analyze("hello", Some("a b/c?d#é"), None, |_| {}).unwrap();
    assert_eq!(a.success.summary.context_id.as_str(), "a b/c?d#é");
}

#[test]
fn batch_analysis_yields_one_item_per_message() {
    let sim = sim();
    let mut c = client(&sim);
    let messages = [
        Message::user("I am happy"),
        Message::user("I am scared"),
        Message::user("I am angry"),
    ];
    let r = run(&mut c, Request::batch_analyze(&messages));
    r.ok();
    let items = r.emotions();
    assert_eq!(items.len(), 3);
    assert_eq!(items.iter().map(|e| e.index).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn chat_completion_delivers_content_and_emotions() {
    let sim = sim();
    let mut c = client(&sim);
    let messages = [ChatMessage::user(
        "I am nervous about my interview tomorrow.",
    )];
    let r = run(&mut c, Request::chat(ChatRequest::new("gpt-4", &messages)));
    let s = r.ok();
    assert_eq!(s.summary.object.as_str(), "chat.completion");
    assert_eq!(s.summary.finish_reason.as_str(), "stop");
    assert!(!r.content().is_empty());
    assert!(r.emotions().iter().any(|e| e.role.as_str() == "user"));
}

#[test]
fn streamed_chat_delivers_the_same_text_in_order() {
    let sim = sim();
    let mut c = client(&sim);
    let messages = [ChatMessage::user(
        "I am nervous about my interview tomorrow.",
    )];
    let plain = run(&mut c, Request::chat(ChatRequest::new("gpt-4", &messages)));
    let streamed = run(
        &mut c,
        Request::chat(ChatRequest {
            stream: true,
            ..ChatRequest::new("gpt-4", &messages)
        }),
    );
    streamed.ok();
    assert!(
        streamed.content_chunks() > 1,
        "a stream arrives in several pieces"
    );
    assert_eq!(streamed.content(), plain.content());
    assert!(
        streamed
            .emotions()
            .iter()
            .any(|e| e.role.as_str() == "user")
    );
}

#[test]
fn bearer_auth_is_accepted() {
    let sim = sim();
    let mut c = client(&sim).auth(Auth::Bearer);
    let r = run(
        &mut c,
        Request::Analyze {
            model: EMOTION_MODEL,
            messages: &[Message::user("fine")],
        },
    );
    assert_eq!(r.ok().status, 200);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let sim = sim();
    let mut c = client(&sim);
    for _ in 0..5 {
        c.analyze("hello again", None, None, |_| {}).unwrap();
    }
    assert_eq!(sim.connections_accepted(), 1);
    assert_eq!(c.connections_opened(), 1);
    assert_eq!(sim.requests_received(), 5);
}
