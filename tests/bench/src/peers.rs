//! The same jobs done the usual way: httparse for heads, serde_json (owned, typed) and
//! serde-json-core (heapless, typed) for bodies, `write!` plus `serde_json::to_writer` for
//! requests.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde::{Deserialize, Serialize};

/// Headers httparse has room for; API Gateway sends about a dozen.
const MAX_HEADERS: usize = 32;

/// Tokenizes a whole response head with httparse. Returns the status and the head length;
/// `None` if the head is incomplete or invalid. Header values stay uninterpreted.
pub fn head_tokens(wire: &[u8]) -> Option<(u16, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(wire).ok()? {
        httparse::Status::Complete(n) => Some((r.code?, n)),
        httparse::Status::Partial => None,
    }
}

/// The facts kaiko's `ResponseHead` keeps, read from httparse's headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerHead {
    /// Status code.
    pub status: u16,
    /// Head length in bytes.
    pub len: usize,
    /// `Content-Length`.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Connection: close` absent.
    pub keep_alive: bool,
    /// `Content-Type` is JSON.
    pub json: bool,
    /// `Date` as Unix seconds.
    pub date: Option<u64>,
    /// `Retry-After` seconds.
    pub retry_after: Option<u32>,
    /// `X-RateLimit-Limit`.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset`.
    pub reset: Option<u64>,
    /// The first request-id header.
    pub request_id: heapless::String<64>,
    /// A deprecation header was present.
    pub deprecated: bool,
}

fn num<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// httparse, then the same header interpretation kaiko's head parser does (framing,
/// keep-alive, content type, `Date` through httpdate, rate limits, request id).
pub fn head_fields(wire: &[u8]) -> Option<PeerHead> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(len) = r.parse(wire).ok()? else {
        return None;
    };
    let mut h = PeerHead {
        status: r.code?,
        len,
        keep_alive: r.version == Some(1),
        ..PeerHead::default()
    };
    for header in r.headers.iter() {
        let name = header.name;
        let v = header.value;
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("content-length") {
            h.content_length = num(v);
        } else if is("transfer-encoding") {
            h.chunked = v.eq_ignore_ascii_case(b"chunked");
        } else if is("connection") {
            if v.eq_ignore_ascii_case(b"close") {
                h.keep_alive = false;
            } else if v.eq_ignore_ascii_case(b"keep-alive") {
                h.keep_alive = true;
            }
        } else if is("content-type") {
            let t = v.split(|&b| b == b';').next().unwrap_or(v);
            h.json = t.trim_ascii().eq_ignore_ascii_case(b"application/json");
        } else if is("date") {
            h.date = std::str::from_utf8(v)
                .ok()
                .and_then(|s| httpdate::parse_http_date(s).ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
        } else if is("retry-after") {
            h.retry_after = num(v);
        } else if is("x-ratelimit-limit") {
            h.limit = num(v);
        } else if is("x-ratelimit-remaining") {
            h.remaining = num(v);
        } else if is("x-ratelimit-reset") {
            h.reset = num(v);
        } else if is("x-request-id")
            || is("request-id")
            || is("x-amzn-requestid")
            || is("apigw-requestid")
        {
            if h.request_id.is_empty()
                && let Ok(s) = std::str::from_utf8(v)
            {
                let _ = h
                    .request_id
                    .push_str(s.get(..s.len().min(64)).unwrap_or(""));
            }
        } else if is("deprecation") || is("kaiko-deprecation") {
            h.deprecated = true;
        }
    }
    Some(h)
}

/// An emotion item (spec §3.2) as a serde_json user would type it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmotionJson {
    /// `text`.
    pub text: Option<String>,
    /// `category`.
    pub category: Option<String>,
    /// `intensity`.
    pub intensity: Option<f64>,
    /// `intensityLevel`.
    pub intensity_level: Option<String>,
    /// `valence`.
    pub valence: Option<f64>,
    /// `arousal`.
    pub arousal: Option<f64>,
    /// `complexity`.
    pub complexity: Option<String>,
    /// `wonderIndex`.
    pub wonder_index: Option<f64>,
    /// `discoveryLevel`.
    pub discovery_level: Option<String>,
    /// `raw`.
    #[serde(default)]
    pub raw: BTreeMap<String, f64>,
}

/// `usage` (spec §6, §10 item 9).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UsageJson {
    /// `prompt_tokens`.
    pub prompt_tokens: Option<u32>,
    /// `completion_tokens`.
    pub completion_tokens: Option<u32>,
    /// `total_tokens`.
    pub total_tokens: Option<u32>,
    /// `analyse_token` (the backend's name; the docs say `analyse_tokens`).
    #[serde(alias = "analyse_tokens")]
    pub analyse_token: Option<u32>,
}

/// `choices[].message`.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageJson {
    /// `content`.
    pub content: Option<String>,
}

/// `choices[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChoiceJson {
    /// `message`.
    pub message: Option<MessageJson>,
    /// `finish_reason`.
    pub finish_reason: Option<String>,
}

/// Any success body of spec §3, the fields kaiko's `SuccessParser` reads.
#[derive(Debug, Clone, Deserialize)]
pub struct SuccessJson {
    /// `object`.
    pub object: Option<String>,
    /// `model`.
    pub model: Option<String>,
    /// `id`.
    pub id: Option<String>,
    /// `context_id`.
    pub context_id: Option<String>,
    /// `emotions`, keyed by role.
    #[serde(default)]
    pub emotions: BTreeMap<String, EmotionJson>,
    /// `choices`.
    #[serde(default)]
    pub choices: Vec<ChoiceJson>,
    /// `usage`.
    pub usage: Option<UsageJson>,
}

/// The error envelope (spec §5.1).
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEnvelopeJson {
    /// `error`.
    pub error: ErrorJson,
}

/// The error envelope's `error` (spec §5.1).
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorJson {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `code`.
    pub code: String,
    /// `message`.
    pub message: String,
    /// `param`.
    pub param: Option<String>,
    /// `request_id`.
    pub request_id: Option<String>,
}

/// An emotion item with heapless fields, the capacities of kaiko's `Emotion` (the text has
/// room for 128 bytes: a longer string is an error here, where kaiko truncates).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmotionCore {
    /// `text`.
    pub text: Option<heapless::String<128>>,
    /// `category`.
    pub category: Option<heapless::String<24>>,
    /// `intensity`.
    pub intensity: Option<f32>,
    /// `intensityLevel`.
    pub intensity_level: Option<heapless::String<24>>,
    /// `valence`.
    pub valence: Option<f32>,
    /// `arousal`.
    pub arousal: Option<f32>,
    /// `complexity`.
    pub complexity: Option<heapless::String<24>>,
    /// `wonderIndex`.
    pub wonder_index: Option<f32>,
    /// `discoveryLevel`.
    pub discovery_level: Option<heapless::String<24>>,
    /// `raw` (the backend may send the 6 legacy and 27 GoEmotions labels, spec §3.2).
    pub raw: Option<heapless::LinearMap<heapless::String<24>, f32, 16>>,
}

/// `usage`, heapless.
#[derive(Debug, Clone, Deserialize)]
pub struct UsageCore {
    /// `prompt_tokens`.
    pub prompt_tokens: Option<u32>,
    /// `completion_tokens`.
    pub completion_tokens: Option<u32>,
    /// `total_tokens`.
    pub total_tokens: Option<u32>,
    /// `analyse_token`.
    #[serde(alias = "analyse_tokens")]
    pub analyse_token: Option<u32>,
}

/// `choices[].message`, heapless: the whole completion text must fit.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageCore {
    /// `content`.
    pub content: Option<heapless::String<1024>>,
}

/// `choices[]`, heapless.
#[derive(Debug, Clone, Deserialize)]
pub struct ChoiceCore {
    /// `message`.
    pub message: Option<MessageCore>,
    /// `finish_reason`.
    pub finish_reason: Option<heapless::String<24>>,
}

/// Any success body, heapless.
#[derive(Debug, Clone, Deserialize)]
pub struct SuccessCore {
    /// `object`.
    pub object: Option<heapless::String<24>>,
    /// `model`.
    pub model: Option<heapless::String<24>>,
    /// `id`.
    pub id: Option<heapless::String<40>>,
    /// `context_id`.
    pub context_id: Option<heapless::String<128>>,
    /// `emotions`, keyed by role.
    pub emotions: Option<heapless::LinearMap<heapless::String<24>, EmotionCore, 2>>,
    /// `choices`.
    pub choices: Option<heapless::Vec<ChoiceCore, 1>>,
    /// `usage`.
    pub usage: Option<UsageCore>,
}

/// The error envelope's `error`, heapless.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorCore {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: heapless::String<32>,
    /// `code`.
    pub code: heapless::String<32>,
    /// `message`.
    pub message: heapless::String<128>,
    /// `param`.
    pub param: Option<heapless::String<32>>,
    /// `request_id`.
    pub request_id: Option<heapless::String<64>>,
}

/// The error envelope, heapless.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEnvelopeCore {
    /// `error`.
    pub error: ErrorCore,
}

/// serde-json-core over a whole buffered body, escapes decoded through a scratch buffer as
/// kaiko decodes them.
pub fn core_from_slice<'a, T: Deserialize<'a>>(body: &'a [u8], scratch: &mut [u8]) -> Option<T> {
    serde_json_core::from_slice_escaped(body, scratch)
        .ok()
        .map(|(v, _)| v)
}

#[derive(Serialize)]
struct Content<'a> {
    text: &'a str,
}

/// A §3.1 message.
#[derive(Debug, Serialize)]
pub struct AnalyzeMessage<'a> {
    /// `role`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'a str>,
    /// `content.text`.
    #[serde(rename = "content", serialize_with = "as_content")]
    pub text: &'a str,
}

fn as_content<S: serde::Serializer>(text: &&str, s: S) -> Result<S::Ok, S::Error> {
    // `content` is an object with `text` (spec §3.1).
    Content { text }.serialize(s)
}

#[derive(Serialize)]
struct AnalyzeBody<'a> {
    model: &'a str,
    messages: &'a [AnalyzeMessage<'a>],
}

/// A §3.8 message.
#[derive(Debug, Serialize)]
pub struct ChatMessageJson<'a> {
    /// `role`.
    pub role: &'a str,
    /// `content`.
    pub content: &'a str,
}

/// A §3.8 request body.
#[derive(Debug, Serialize)]
pub struct ChatBody<'a> {
    /// `model`.
    pub model: &'a str,
    /// `emotion_model`.
    pub emotion_model: &'a str,
    /// `context_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_id: Option<&'a str>,
    /// `messages`.
    pub messages: &'a [ChatMessageJson<'a>],
}

/// Where a request goes and as whom.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `Host`.
    pub host: &'a str,
    /// `User-Agent`.
    pub user_agent: &'a str,
    /// `x-api-key`.
    pub key: &'a str,
    /// `Idempotency-Key`.
    pub idempotency_key: &'a str,
}

/// A POST with a JSON body: the body serialised first (the head needs its length), then the
/// head with `write!`. Both buffers are reused by the caller; `out` receives the request.
pub fn write_post<B: Serialize>(
    t: &Target<'_>,
    path: &str,
    body: &B,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Option<usize> {
    scratch.clear();
    out.clear();
    serde_json::to_writer(&mut *scratch, body).ok()?;
    write!(
        out,
        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: application/json\r\nx-api-key: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nIdempotency-Key: {}\r\n\r\n",
        t.host,
        t.user_agent,
        t.key,
        scratch.len(),
        t.idempotency_key
    )
    .ok()?;
    out.extend_from_slice(scratch);
    Some(out.len())
}

/// The JSON body of a stateless analysis request (spec §3.3), serialised into `out`.
pub fn analyze_body(messages: &[AnalyzeMessage<'_>], out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.clear();
    serde_json::to_writer(
        out,
        &AnalyzeBody {
            model: "emotion-v2",
            messages,
        },
    )
}

/// The stateless analysis request (spec §3.3).
pub fn write_analyze(
    t: &Target<'_>,
    messages: &[AnalyzeMessage<'_>],
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Option<usize> {
    let body = AnalyzeBody {
        model: "emotion-v2",
        messages,
    };
    write_post(t, "/v2/emotions/analysis", &body, scratch, out)
}

/// What the peer pipeline got out of one exchange.
#[derive(Debug, Clone, Default)]
pub struct PeerExchange {
    /// Request bytes.
    pub sent: usize,
    /// Emotion items in the body.
    pub emotions: usize,
    /// The status was 2xx and the body decoded.
    pub ok: bool,
}

/// One full exchange the usual way: the request written with [`write_analyze`], the head
/// with [`head_fields`], the `Content-Length` body (already whole in `response`) with
/// serde_json into [`SuccessJson`].
pub fn exchange(
    t: &Target<'_>,
    messages: &[AnalyzeMessage<'_>],
    response: &[u8],
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> PeerExchange {
    let mut x = PeerExchange {
        sent: write_analyze(t, messages, scratch, out).unwrap_or(0),
        ..PeerExchange::default()
    };
    let Some(head) = head_fields(response) else {
        return x;
    };
    let len = head.content_length.unwrap_or(0) as usize;
    let Some(body) = response.get(head.len..head.len.saturating_add(len)) else {
        return x;
    };
    if let Ok(s) = serde_json::from_slice::<SuccessJson>(body) {
        x.emotions = s.emotions.len();
        x.ok = (200..300).contains(&head.status);
    }
    x
}
