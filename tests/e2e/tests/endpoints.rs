//! Every endpoint succeeds end to end and decodes to the expected shape, against the
//! simulator's `docs` and `backend` dialects.

#[macro_use]
mod common;

use common::{Dialect, client_in, run, sim_in};
use kaiko_core::analysis::Category;
use kaiko_core::request::{ChatMessage, ChatRequest, EMOTION_MODEL, Message};
use kaiko_std::{Auth, Request};

/// A model both dialects serve (the backend refuses models it has not registered, so not
/// the docs' `gpt-4`).
const CHAT_MODEL: &str = "gpt-4o-mini";
/// External ids are UUIDs: the backend refuses other shapes (spec §10.1).
const EXTERNAL_ID: &str = "3f2b8c1e-9d4a-4e6b-8f7a-1c2d3e4f5a6b";

in_both_dialects! {
    fn stateless_analysis(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let a = c
            .analyze("I feel a bit unsure about this", None, None, |_| {})
            .unwrap();
        assert_eq!(a.success.status, 200);
        assert_eq!(a.success.summary.object.as_str(), "emotions.analysis");
        assert_eq!(a.success.summary.model.as_str(), "emotion-v2");
        assert_eq!(a.success.attempts, 1);
        // `x-request-id` in the docs dialect, API Gateway's `apigw-requestid` in the backend's.
        assert!(!a.success.request_id.is_empty());
        assert_eq!(a.emotions.len(), 1);
        let e = &a.emotions[0];
        // The backend keys a stateless result `_default`, not by role (spec §10.2).
        let key = match d {
            Dialect::Docs => "user",
            Dialect::Backend => "_default",
        };
        assert_eq!(e.role.as_str(), key);
        assert_eq!(e.category, Some(Category::Fear));
        assert!(e.intensity.is_some() && e.valence.is_some() && e.arousal.is_some());
        assert_eq!(e.raw.iter().next().map(|r| r.0), Some(Category::Fear));
        // The docs echo the text; the backend writes a descriptor (spec §10.3).
        let text = match d {
            Dialect::Docs => "I feel a bit unsure about this",
            Dialect::Backend => "somewhat fear",
        };
        assert_eq!(e.text.as_str(), text);
        // `analyse_tokens` (docs) and `analyse_token` (backend) are the same count.
        assert_eq!(a.success.summary.usage.analyse_tokens, Some(7));
        if d == Dialect::Backend {
            let details = &a.success.summary.details;
            assert_eq!(details.is_fallback, Some(false));
            assert_eq!(details.data_quality.as_str(), "rule_derived");
        }
    }

    fn context_analysis_then_state_then_message_lookup(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let a = c
            .analyze("I am so happy today", Some("ctx-42"), Some(EXTERNAL_ID), |_| {})
            .unwrap();
        // `metadata.context_id` (docs) or the top-level `context_id` (backend).
        assert_eq!(a.success.summary.context_id.as_str(), "ctx-42");
        assert_eq!(a.emotions[0].role.as_str(), "user");
        assert_eq!(a.emotions[0].category, Some(Category::Joy));
        let details = &a.success.summary.details;
        assert_eq!(details.trend.direction.as_str(), "stable");
        assert_eq!(details.baseline.data_point_count, Some(1));
        if d == Dialect::Backend {
            assert_eq!(details.context_message_count, Some(1));
            assert_eq!(details.baseline.window.as_str(), "week");
        }

        let state = run(&mut c, Request::context_state("ctx-42"));
        assert_eq!(state.ok().summary.object.as_str(), "emotions.state");
        assert_eq!(state.ok().summary.context_id.as_str(), "ctx-42");
        let emotions = state.emotions();
        assert_eq!(emotions.len(), 1);
        assert_eq!(emotions[0].category, Some(Category::Joy));

        let msg = run(&mut c, Request::message_lookup("ctx-42", EXTERNAL_ID));
        let s = msg.ok();
        assert_eq!(s.status, 200);
        // The backend answers a lookup as `emotions.analysis` (spec §3.6).
        let object = match d {
            Dialect::Docs => "emotions.state",
            Dialect::Backend => "emotions.analysis",
        };
        assert_eq!(s.summary.object.as_str(), object);
        assert_eq!(s.summary.details.message_id.as_str(), EXTERNAL_ID);
        // Only the backend repeats the id at the top level.
        let top_level = if d == Dialect::Backend { EXTERNAL_ID } else { "" };
        assert_eq!(s.summary.details.external_id.as_str(), top_level);
        let emotions = msg.emotions();
        assert_eq!(emotions.len(), 1);
        assert_eq!(emotions[0].category, Some(Category::Joy));
    }

    fn context_ids_are_percent_encoded(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let a = c.analyze("hello", Some("a b/c?d#é"), None, |_| {}).unwrap();
        assert_eq!(a.success.summary.context_id.as_str(), "a b/c?d#é");
        let state = run(&mut c, Request::context_state("a b/c?d#é"));
        assert_eq!(state.ok().summary.context_id.as_str(), "a b/c?d#é");
    }

    fn batch_analysis_yields_one_item_per_message(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let messages = [
            Message::user("I am happy"),
            Message::user("I am scared"),
            Message::user("I am angry"),
        ];
        let r = run(&mut c, Request::batch_analyze(&messages));
        assert_eq!(r.ok().summary.object.as_str(), "emotions.batch_analysis");
        assert_eq!(r.ok().summary.usage.total_tokens, Some(9));
        let items = r.emotions();
        assert_eq!(items.iter().map(|e| e.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(
            items.iter().map(|e| e.category).collect::<Vec<_>>(),
            [Some(Category::Joy), Some(Category::Fear), Some(Category::Anger)]
        );
    }

    fn chat_completion_delivers_content_and_emotions(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let messages = [ChatMessage::user(
            "I am nervous about my interview tomorrow.",
        )];
        let r = run(&mut c, Request::chat(ChatRequest::new(CHAT_MODEL, &messages)));
        let s = r.ok();
        assert_eq!(s.summary.object.as_str(), "chat.completion");
        assert_eq!(s.summary.model.as_str(), CHAT_MODEL);
        assert_eq!(s.summary.finish_reason.as_str(), "stop");
        assert!(s.summary.id.as_str().starts_with("chatcmpl-"));
        assert!(s.summary.usage.total_tokens.is_some());
        assert!(s.summary.details.created.is_some());
        assert!(r.content().starts_with("It's completely natural to feel nervous."));
        let emotions = r.emotions();
        assert_eq!(emotions.len(), 1);
        assert_eq!(emotions[0].role.as_str(), "user");
        assert_eq!(emotions[0].category, Some(Category::Fear));
        // The backend's chat response has no `emotion_model` (spec §3.8).
        let emotion_model = match d {
            Dialect::Docs => "emotion-v2",
            Dialect::Backend => "",
        };
        assert_eq!(s.summary.details.emotion_model.as_str(), emotion_model);
    }

    fn streamed_chat_delivers_the_same_text_in_order(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let messages = [ChatMessage::user(
            "I am nervous about my interview tomorrow.",
        )];
        let plain = run(&mut c, Request::chat(ChatRequest::new(CHAT_MODEL, &messages)));
        let streamed = run(
            &mut c,
            Request::chat(ChatRequest {
                stream: true,
                ..ChatRequest::new(CHAT_MODEL, &messages)
            }),
        );
        assert_eq!(streamed.ok().summary.finish_reason.as_str(), "stop");
        // The backend has no `stream` in its schema and answers one JSON document (spec §4):
        // the client reads it by its Content-Type, in the pieces of a plain answer.
        match d {
            Dialect::Docs => assert!(
                streamed.content_chunks() > plain.content_chunks(),
                "a stream arrives in more pieces"
            ),
            Dialect::Backend => assert_eq!(streamed.content_chunks(), plain.content_chunks()),
        }
        assert_eq!(streamed.content(), plain.content());
        assert!(
            streamed
                .emotions()
                .iter()
                .any(|e| e.role.as_str() == "user")
        );
    }

    fn bearer_auth_is_accepted(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d).auth(Auth::Bearer);
        let r = run(
            &mut c,
            Request::Analyze {
                model: EMOTION_MODEL,
                messages: &[Message::user("fine")],
            },
        );
        assert_eq!(r.ok().status, 200);
    }

    fn keep_alive_reuses_one_connection(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        for _ in 0..5 {
            c.analyze("hello again", None, None, |_| {}).unwrap();
        }
        assert_eq!(sim.connections_accepted(), 1);
        assert_eq!(c.connections_opened(), 1);
        assert_eq!(sim.requests_received(), 5);
    }
}

in_both_dialects! {
    fn typed_methods_cover_every_operation(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let b = c.batch(&["I am happy", "I am scared"], |_| {}).unwrap();
        assert_eq!(
            b.emotions.iter().map(|e| e.category).collect::<Vec<_>>(),
            [Some(Category::Joy), Some(Category::Fear)]
        );
        c.analyze("I am angry", Some("ctx-typed"), Some(EXTERNAL_ID), |_| {})
            .unwrap();
        let state = c.context_state("ctx-typed", |_| {}).unwrap();
        assert_eq!(state.emotions[0].category, Some(Category::Anger));
        let msg = c.message("ctx-typed", EXTERNAL_ID, |_| {}).unwrap();
        assert_eq!(msg.emotions[0].category, Some(Category::Anger));

        let messages = [ChatMessage::user("I love my family")];
        let chat = c.chat(ChatRequest::new(CHAT_MODEL, &messages), |_| {}).unwrap();
        assert!(chat.content.starts_with("That's lovely to hear."));
        assert_eq!(chat.emotions[0].category, Some(Category::Love));
        let mut pieces = Vec::new();
        let streamed = c
            .chat(
                ChatRequest {
                    stream: true,
                    ..ChatRequest::new(CHAT_MODEL, &messages)
                },
                |e| {
                    if let kaiko_std::Event::Content(p) = e {
                        pieces.push(p.to_owned());
                    }
                },
            )
            .unwrap();
        assert_eq!(streamed.content, chat.content);
        assert_eq!(pieces.concat(), chat.content, "pieces arrive in order");
    }
}
