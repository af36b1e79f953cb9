//! Typed operations for every V2 endpoint, over a plain [`Client`](crate::Client) and a TLS
//! [`TlsClient`](crate::tls::TlsClient) alike: results arrive through a callback as they are
//! decoded, or land in caller-provided fixed storage ([`Collected`]). Nothing allocates.

use kaiko_core::analysis::Emotion;
use kaiko_core::call::{Event, Success};
use kaiko_core::request::{ChatRequest, Message, Request};

use crate::Error;

/// The operations of the API, on anything that can make a call.
///
/// Every method makes one call (all of its attempts). `seed` must come from the device's
/// entropy: it fixes the `Idempotency-Key` and the backoff jitter. Events (emotion items,
/// content pieces, retry notices, and the list elements of kaiko-core's decoding features)
/// arrive in `on_event` as they are decoded; after [`Event::RetryScheduled`] the results of
/// the abandoned attempt are to be discarded ([`Collected`] does so).
#[allow(async_fn_in_trait)] // Executors on microcontrollers are single-threaded: no `Send` bound.
#[allow(clippy::result_large_err)] // the core's fixed-size `Failure`, once per call; no allocator
pub trait Api {
    /// Makes one call of any request. (The client's own call future, not one wrapping it: a
    /// typed operation costs only its arguments on top.)
    fn call(
        &mut self,
        request: Request<'_>,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> impl Future<Output = Result<Success, Error>>;

    /// Analyses one text (`POST /v2/emotions/analysis`), or, with a `context`, analyses and
    /// stores it in that context (`POST /v2/emotions/{context}/analysis`) under an optional
    /// `external_id` for a later [`Api::message`] lookup.
    async fn analyze(
        &mut self,
        text: &str,
        context: Option<&str>,
        external_id: Option<&str>,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        let mut message = Message::user(text);
        if let Some(id) = external_id {
            message = message.with_external_id(id);
        }
        let messages = [message];
        let request = match context {
            Some(context_id) => Request::analyze_in_context(context_id, &messages),
            None => Request::analyze(&messages),
        };
        self.call(request, seed, on_event).await
    }

    /// Analyses many messages in one call (`POST /v2/emotions/batch-analysis`, at most
    /// [`MAX_MESSAGES`](kaiko_core::request::MAX_MESSAGES)): one emotion item per message,
    /// in order, each with its [`Emotion::index`].
    async fn batch(
        &mut self,
        messages: &[Message<'_>],
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        self.call(Request::batch_analyze(messages), seed, on_event)
            .await
    }

    /// The latest state of a context (`GET /v2/emotions/{context_id}`); its trajectory is in
    /// the summary's details (feature `details`).
    async fn context_state(
        &mut self,
        context_id: &str,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        self.call(Request::context_state(context_id), seed, on_event)
            .await
    }

    /// One stored message (`GET /v2/emotions/{context_id}/message/{external_id}`).
    async fn message(
        &mut self,
        context_id: &str,
        external_id: &str,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        self.call(
            Request::message_lookup(context_id, external_id),
            seed,
            on_event,
        )
        .await
    }

    /// A chat completion (`POST /v2/chat/completions`) answered as one document: the
    /// assistant's text arrives as [`Event::Content`] pieces once the response is read, the
    /// emotion items as [`Event::Emotion`], the usage in the summary.
    async fn chat(
        &mut self,
        request: ChatRequest<'_>,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        let request = ChatRequest {
            stream: false,
            ..request
        };
        self.call(Request::chat(request), seed, on_event).await
    }

    /// A chat completion asked for as a stream (`"stream": true`): each [`Event::Content`]
    /// piece arrives as soon as it is decoded (show it as it comes). A server that answers
    /// with one document is read the same way.
    async fn chat_streamed(
        &mut self,
        request: ChatRequest<'_>,
        seed: u64,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Success, Error> {
        let request = ChatRequest {
            stream: true,
            ..request
        };
        self.call(Request::chat(request), seed, on_event).await
    }
}

/// Caller-provided storage that keeps a call's emotion items and completion text: pass
/// `|e| collected.on_event(e)` as the callback. What does not fit is dropped and reported by
/// [`Collected::is_truncated`] (the text kept is then the answer's beginning); a retry notice empties it (the results belonged to an
/// abandoned attempt).
#[derive(Debug)]
pub struct Collected<'s> {
    emotions: &'s mut [Emotion],
    emotion_count: usize,
    content: &'s mut [u8],
    content_len: usize,
    /// An item did not fit.
    items_cut: bool,
    /// A piece of text did not fit: later pieces are dropped too, so the text kept is a
    /// prefix of the answer.
    content_cut: bool,
}

impl<'s> Collected<'s> {
    /// Storage for up to `emotions.len()` items and `content.len()` bytes of text.
    pub fn new(emotions: &'s mut [Emotion], content: &'s mut [u8]) -> Self {
        Collected {
            emotions,
            emotion_count: 0,
            content,
            content_len: 0,
            items_cut: false,
            content_cut: false,
        }
    }

    /// Takes one event of the call.
    pub fn on_event(&mut self, event: Event<'_>) {
        match event {
            Event::Emotion(e) => match self.emotions.get_mut(self.emotion_count) {
                Some(slot) => {
                    slot.clone_from(e);
                    self.emotion_count += 1;
                }
                None => self.items_cut = true,
            },
            Event::Content(_) if self.content_cut => {}
            Event::Content(piece) => {
                // Pieces are whole characters: one that does not fit is dropped whole, so the
                // kept text stays valid UTF-8.
                let end = self.content_len + piece.len();
                match self.content.get_mut(self.content_len..end) {
                    Some(slot) => {
                        slot.copy_from_slice(piece.as_bytes());
                        self.content_len = end;
                    }
                    None => self.content_cut = true,
                }
            }
            Event::RetryScheduled(_) => self.clear(),
            _ => {}
        }
    }

    /// Forgets everything kept.
    pub fn clear(&mut self) {
        self.emotion_count = 0;
        self.content_len = 0;
        self.items_cut = false;
        self.content_cut = false;
    }

    /// The emotion items kept, in order.
    pub fn emotions(&self) -> &[Emotion] {
        self.emotions.get(..self.emotion_count).unwrap_or(&[])
    }

    /// The completion text kept.
    pub fn content(&self) -> &str {
        let bytes = self.content.get(..self.content_len).unwrap_or(&[]);
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// Whether an item or a piece of text did not fit.
    pub fn is_truncated(&self) -> bool {
        self.items_cut || self.content_cut
    }
}
