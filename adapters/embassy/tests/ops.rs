//! The typed operations of [`Api`] against kaiko-sim over loopback TCP: each endpoint, its
//! results through the callback and into fixed storage ([`Collected`]).

use kaiko_core::analysis::{Category, Emotion};
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Config, Event, Success};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{ChatMessage, ChatRequest, Message};
use kaiko_core::time::Duration;
use kaiko_embassy::{Api, Client, Collected, Error};
use kaiko_sim::{Config as SimConfig, Sim};

mod common;

use common::Tokio;

fn config(url: &str) -> Config<'static> {
    let url: &'static str = Box::leak(url.to_owned().into_boxed_str());
    let mut config = Config::new(
        ApiKey::new("kaiko_test_ops").unwrap(),
        BaseUrl::parse(url).unwrap(),
    );
    config.policy.base_delay = Duration::from_millis(20);
    config.policy.max_jitter = Duration::from_millis(5);
    config
}

/// Storage a firmware would give: a few items, a small text buffer.
struct Storage {
    emotions: [Emotion; 4],
    content: [u8; 1024],
}

impl Storage {
    fn new() -> Self {
        Storage {
            emotions: Default::default(),
            content: [0; 1024],
        }
    }
}

fn categories(collected: &Collected<'_>) -> Vec<Option<Category>> {
    collected.emotions().iter().map(|e| e.category).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn stateless_analysis_into_fixed_storage() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let mut storage = Storage::new();
    let mut out = Collected::new(&mut storage.emotions, &mut storage.content);
    let ok = client
        .analyze("I am so happy today", None, None, 1, |e| out.on_event(e))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.summary.object.as_str(), "emotions.analysis");
    assert_eq!(categories(&out), [Some(Category::Joy)]);
    assert_eq!(out.emotions()[0].role.as_str(), "user");
    assert!(!out.is_truncated());
    assert_eq!(out.content(), "");
}

/// Analysis in a context under an external id, then the context's state and that message,
/// each through the callback.
#[tokio::test(flavor = "current_thread")]
async fn context_analysis_state_and_message_lookup() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let mut seen = Vec::new();
    let ok = client
        .analyze(
            "I am scared of the dark",
            Some("ctx 1/é"),
            Some("msg-1"),
            2,
            |e| {
                if let Event::Emotion(e) = e {
                    seen.push(e.category);
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(ok.summary.context_id.as_str(), "ctx 1/é");
    assert_eq!(seen, [Some(Category::Fear)]);

    let mut state = Vec::new();
    let ok = client
        .context_state("ctx 1/é", 3, |e| {
            if let Event::Emotion(e) = e {
                state.push(e.category);
            }
        })
        .await
        .unwrap();
    assert_eq!(ok.summary.object.as_str(), "emotions.state");
    assert_eq!(state, [Some(Category::Fear)]);

    let mut message = Vec::new();
    let ok = client
        .message("ctx 1/é", "msg-1", 4, |e| {
            if let Event::Emotion(e) = e {
                message.push(e.category);
            }
        })
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(message, [Some(Category::Fear)]);
    #[cfg(feature = "details")]
    assert_eq!(ok.summary.details.message_id.as_str(), "msg-1");

    // A message that was never stored is the server's typed 404.
    let missing = client.message("ctx 1/é", "msg-2", 5, |_| {}).await;
    match missing {
        Err(Error::Failed(f)) => match f.cause {
            kaiko_core::call::Cause::Api(e) => assert_eq!(e.status, 404),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // Every call went over the one kept connection.
    assert!(client.is_connected());
}

#[tokio::test(flavor = "current_thread")]
async fn batch_items_in_order_and_storage_that_is_too_small() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let texts = [
        "I am so happy today",
        "I am scared of the dark",
        "This makes me furious",
        "I love you",
        "What a surprise",
    ];
    let messages: Vec<Message<'_>> = texts.iter().map(|t| Message::user(t)).collect();
    let mut storage = Storage::new();
    let mut out = Collected::new(&mut storage.emotions, &mut storage.content);
    let ok = client
        .batch(&messages, 6, |e| out.on_event(e))
        .await
        .unwrap();
    assert_eq!(ok.summary.object.as_str(), "emotions.batch_analysis");
    assert_eq!(ok.summary.emotions, 5);
    // Four slots: the fifth item did not fit, and says so.
    assert!(out.is_truncated());
    let indexes: Vec<u16> = out.emotions().iter().map(|e| e.index).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    assert_eq!(
        categories(&out)[..2],
        [Some(Category::Joy), Some(Category::Fear)]
    );
}

const CHAT: [ChatMessage<'static>; 1] = [ChatMessage::user("I am nervous about my interview")];

async fn chat(streamed: bool) -> (Success, String, usize, Vec<Option<Category>>) {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let mut storage = Storage::new();
    let mut out = Collected::new(&mut storage.emotions, &mut storage.content);
    let mut pieces = 0;
    let request = ChatRequest::new("gpt-4o-mini", &CHAT);
    let on_event = |e: Event<'_>| {
        if matches!(e, Event::Content(_)) {
            pieces += 1;
        }
        out.on_event(e);
    };
    let ok = if streamed {
        client.chat_streamed(request, 8, on_event).await
    } else {
        client.chat(request, 8, on_event).await
    }
    .unwrap();
    let content = out.content().to_owned();
    let emotions = categories(&out);
    (ok, content, pieces, emotions)
}

#[tokio::test(flavor = "current_thread")]
async fn chat_content_emotions_and_usage() {
    let (ok, content, _, emotions) = chat(false).await;
    assert_eq!(ok.summary.object.as_str(), "chat.completion");
    assert!(!content.is_empty());
    assert_eq!(ok.summary.finish_reason.as_str(), "stop");
    assert_eq!(emotions.len(), 1);
    assert!(ok.summary.usage.total_tokens.is_some());
}

/// The streamed answer is the same text as the whole one, in more pieces.
#[tokio::test(flavor = "current_thread")]
async fn streamed_chat_gives_the_same_text_in_pieces() {
    let (whole, text, whole_pieces, _) = chat(false).await;
    let (streamed, streamed_text, pieces, emotions) = chat(true).await;
    assert_eq!(streamed_text, text);
    assert!(
        pieces > whole_pieces,
        "{pieces} pieces, {whole_pieces} unstreamed"
    );
    assert_eq!(streamed.summary.finish_reason.as_str(), "stop");
    assert_eq!(emotions.len(), 1);
    assert_eq!(whole.summary.finish_reason, streamed.summary.finish_reason);
}

/// Text that does not fit is dropped in whole pieces: what is kept is valid UTF-8 and a
/// prefix of the answer.
#[tokio::test(flavor = "current_thread")]
async fn content_storage_that_is_too_small_keeps_a_prefix() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let mut emotions: [Emotion; 1] = Default::default();
    let mut content = [0u8; 10];
    let mut out = Collected::new(&mut emotions, &mut content);
    let mut whole = String::new();
    client
        .chat_streamed(ChatRequest::new("gpt-4o-mini", &CHAT), 9, |e| {
            if let Event::Content(c) = e {
                whole.push_str(c);
            }
            out.on_event(e);
        })
        .await
        .unwrap();
    assert!(out.is_truncated());
    assert!(whole.starts_with(out.content()), "{:?}", out.content());
    assert!(out.content().len() <= 10);
}

/// A refused request (the server's codes, before anything is sent) comes back typed.
#[tokio::test(flavor = "current_thread")]
async fn an_invalid_operation_is_refused_before_sending() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let long = "c".repeat(129);
    let result = client.context_state(&long, 10, |_| {}).await;
    assert!(matches!(result, Err(Error::Refused(_))), "{result:?}");
    let result = client.batch(&[], 11, |_| {}).await;
    assert!(matches!(result, Err(Error::Refused(_))), "{result:?}");
    assert_eq!(sim.requests_received(), 0);
}

/// Items of an attempt cut off mid-body are discarded at the retry notice: the storage
/// ends with the final attempt's items only.
#[tokio::test(flavor = "current_thread")]
async fn a_retried_batch_keeps_only_the_final_attempts_items() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(kaiko_sim::Fault::ResetMidBody);
    let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::new(config(&sim.base_url()), &Tokio, &mut tx, &mut rx);
    let texts = [
        "I am so happy today",
        "I am scared of the dark",
        "What a surprise",
    ];
    let texts: Vec<String> = (0..12).map(|i| texts[i % 3].to_owned()).collect();
    let messages: Vec<Message<'_>> = texts.iter().map(|t| Message::user(t)).collect();
    let mut emotions: [Emotion; 16] = Default::default();
    let mut content = [0u8; 8];
    let mut out = Collected::new(&mut emotions, &mut content);
    let (mut items_seen, mut retries) = (0, 0);
    let ok = client
        .batch(&messages, 12, |e| {
            match e {
                Event::Emotion(_) => items_seen += 1,
                Event::RetryScheduled(_) => retries += 1,
                _ => {}
            }
            out.on_event(e)
        })
        .await
        .unwrap();
    assert_eq!((ok.attempts, retries), (2, 1));
    assert!(items_seen > 12, "the cut attempt delivered no item first");
    let indexes: Vec<u16> = out.emotions().iter().map(|e| e.index).collect();
    assert_eq!(indexes, (0..12).collect::<Vec<u16>>());
    assert!(!out.is_truncated());
}

/// A typed operation's future is the call's plus its few arguments (measured on the host,
/// where pointers are twice a microcontroller's): it never holds a second call.
#[test]
fn typed_operation_futures_cost_little_more_than_the_call() {
    let connector = Tokio;
    let (mut tx, mut rx) = ([0u8; 16], [0u8; 16]);
    let mut client = Client::new(
        config("http://127.0.0.1:1/v2"),
        &connector,
        &mut tx,
        &mut rx,
    );
    let messages = [Message::user("x")];
    let call = std::mem::size_of_val(&client.call(
        kaiko_core::request::Request::analyze(&messages),
        1,
        |_| {},
    ));
    let analyze = std::mem::size_of_val(&Api::analyze(
        &mut client,
        "x",
        Some("c"),
        Some("m"),
        1,
        |_| {},
    ));
    let batch = std::mem::size_of_val(&client.batch(&messages, 1, |_| {}));
    let state = std::mem::size_of_val(&client.context_state("c", 1, |_| {}));
    let message = std::mem::size_of_val(&client.message("c", "m", 1, |_| {}));
    let chat =
        std::mem::size_of_val(&client.chat_streamed(ChatRequest::new("m", &CHAT), 1, |_| {}));
    let sizes = [
        ("analyze", analyze),
        ("batch", batch),
        ("context_state", state),
        ("message", message),
        ("chat_streamed", chat),
    ];
    println!("Client::call {call} B; {sizes:?}");
    for (name, size) in sizes {
        assert!(
            size <= call + 192,
            "{name}: {size} B against the call's {call} B"
        );
    }
}
