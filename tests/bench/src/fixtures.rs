//! The inputs every case runs on: bodies from the spec and a response head shaped like the
//! ones API Gateway sends.

use kaiko_core::request::{ChatMessage, ChatRequest, Message};

/// The V2 quickstart response (spec §3.3), compact as the backend's `c.json` sends it.
pub const QUICKSTART: &[u8] = br#"{"object":"emotions.analysis","model":"emotion-v2","emotions":{"user":{"text":"I feel a bit unsure about this","category":"fear","intensity":0.52,"intensityLevel":"subtle","valence":-0.35,"arousal":0.45,"complexity":"simple","wonderIndex":0.20,"discoveryLevel":"normal","raw":{"fear":0.52,"sadness":0.21,"joy":0.09,"anger":0.08,"love":0.05,"surprise":0.05}}}}"#;

/// A context analysis as the backend code builds it (spec §3.4, backend source): one emotion item with
/// the optional extras of §3.2, ten raw scores, and `trajectory`, `growth` and
/// `conversationMode` (about 4.5 KB) that a client skips.
pub const ANALYSIS_CODE: &[u8] = include_bytes!("../fixtures/analysis-code.json");

/// A non-streamed chat completion as the backend code builds it (spec §3.8, backend source).
pub const CHAT: &[u8] = include_bytes!("../fixtures/chat-completion.json");

/// The documented error envelope (spec §5.1).
pub const ERROR_ENVELOPE: &[u8] = br#"{"error":{"type":"invalid_request_error","code":"missing_field","message":"The 'messages' field is required","param":"messages","request_id":"req-7f65ab21d1"}}"#;

/// The API key of every request.
pub const KEY: &str = "kaiko_live_0123456789abcdef";
/// The base URL of every request.
pub const BASE: &str = "https://api.kaikostudios.xyz/v2";
/// The `Idempotency-Key` of every request.
pub const IDEMPOTENCY_KEY: &str = "7f65ab21-d1e4-4c8a-9b2f-0c1d2e3f4a5b";

/// The quickstart request's message (spec §3.3).
pub static QUICKSTART_MESSAGES: [Message<'static>; 1] =
    [Message::user("I feel a bit unsure about this")];

/// The chat request's messages (spec §3.8 test vector).
pub static CHAT_MESSAGES: [ChatMessage<'static>; 2] = [
    ChatMessage::system("You are a helpful and empathetic assistant."),
    ChatMessage::user("I am nervous about my interview tomorrow."),
];

/// The chat request of spec §3.8 (model from the backend's registry, no `model_params`).
pub fn chat_request() -> ChatRequest<'static> {
    ChatRequest {
        context_id: Some("chat-123"),
        ..ChatRequest::new("gpt-4o-mini", &CHAT_MESSAGES)
    }
}

/// A 200 head with the eleven headers an API Gateway HTTP API in front of the backend sends
/// (spec §1, §6, §8), for a JSON body of `body_len` bytes.
pub fn head(body_len: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\n\
         Date: Wed, 15 Jan 2025 10:30:00 GMT\r\n\
         Content-Type: application/json\r\n\
         Content-Length: {body_len}\r\n\
         Connection: keep-alive\r\n\
         Apigw-Requestid: Dk3pXjQ8IAMEVxA=\r\n\
         X-RateLimit-Limit: 60\r\n\
         X-RateLimit-Remaining: 59\r\n\
         X-RateLimit-Reset: 1736937060\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Credentials: true\r\n\
         Vary: Origin\r\n\
         \r\n"
    )
    .into_bytes()
}

/// A whole 200 response: [`head`] then `body`.
pub fn response(body: &[u8]) -> Vec<u8> {
    let mut r = head(body.len());
    r.extend_from_slice(body);
    r
}
