//! The job of `size-probe` done with the usual crates, to compare flash cost: requests written
//! with `core::fmt::Write` into a `heapless::String` (the JSON body by serde-json-core), the
//! response head parsed by httparse and its fields read, the body (needed whole in RAM)
//! decoded by serde-json-core into heapless structs with the fields of kaiko's `Emotion`, and
//! the error envelope likewise. No chunked bodies, SSE, retries, timeouts or `Date` parsing:
//! `size-probe` has all of those, so the difference overstates what the peers save.
//! Input comes from a volatile read so nothing is constant-folded away.
#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m_rt::entry;
use heapless::{LinearMap, String, Vec};
use serde::{Deserialize, Serialize};

#[path = "../probe_io.rs"]
mod probe_io;
use probe_io::{input, output};

static mut RX: [u32; 512] = [0; 512];

#[inline(never)]
fn received() -> [u8; 2048] {
    let mut out = [0u8; 2048];
    for i in 0..512 {
        // SAFETY: single-threaded; `i` < 512 stays inside the buffer (read as `input` does).
        let word = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(RX[i])) };
        let [b0, b1, b2, b3] = word.to_ne_bytes();
        (out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3]) = (b0, b1, b2, b3);
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Emotion {
    text: Option<String<64>>,
    category: Option<String<24>>,
    intensity: Option<f32>,
    intensity_level: Option<String<24>>,
    valence: Option<f32>,
    arousal: Option<f32>,
    complexity: Option<String<24>>,
    wonder_index: Option<f32>,
    discovery_level: Option<String<24>>,
    raw: Option<LinearMap<String<24>, f32, 6>>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
    total_tokens: Option<u32>,
    analyse_token: Option<u32>,
}

#[derive(Deserialize)]
struct ChatMessage {
    content: Option<String<512>>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<ChatMessage>,
    finish_reason: Option<String<24>>,
}

#[derive(Deserialize)]
struct Success {
    object: Option<String<24>>,
    model: Option<String<24>>,
    id: Option<String<40>>,
    context_id: Option<String<128>>,
    emotions: Option<LinearMap<String<24>, Emotion, 2>>,
    choices: Option<Vec<Choice, 1>>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "type")]
    kind: Option<String<32>>,
    code: Option<String<32>>,
    message: Option<String<128>>,
    param: Option<String<32>>,
    request_id: Option<String<64>>,
}

#[derive(Deserialize)]
struct Envelope {
    error: ApiError,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: Text<'a>,
}

#[derive(Serialize)]
struct Analyze<'a> {
    model: &'a str,
    messages: &'a [Message<'a>],
}

#[derive(Serialize)]
struct ChatMsg<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct Chat<'a> {
    model: &'a str,
    emotion_model: &'a str,
    messages: &'a [ChatMsg<'a>],
}

/// Body with serde-json-core, then the head with `write!`.
fn write_request<B: Serialize>(
    host: &str,
    key: &str,
    path: &str,
    body: &B,
    out: &mut String<1024>,
) -> Option<usize> {
    let mut json = [0u8; 512];
    let n = serde_json_core::to_slice(body, &mut json).ok()?;
    out.clear();
    write!(
        out,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: kaiko-rs/0.1.0\r\nAccept: application/json\r\n\
         x-api-key: {key}\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n\
         Idempotency-Key: 7f65ab21-d1e4-4c8a-9b2f-0c1d2e3f4a5b\r\n\r\n"
    )
    .ok()?;
    out.push_str(core::str::from_utf8(json.get(..n)?).ok()?)
        .ok()?;
    Some(out.len())
}

#[derive(Default)]
struct Head {
    status: u16,
    len: usize,
    content_length: Option<usize>,
    keep_alive: bool,
    json: bool,
    limit: Option<u32>,
    remaining: Option<u32>,
    reset: Option<u64>,
    retry_after: Option<u32>,
    request_id: String<64>,
}

fn num<T: core::str::FromStr>(v: &[u8]) -> Option<T> {
    core::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn parse_head(wire: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 24];
    let mut r = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(len) = r.parse(wire).ok()? else {
        return None;
    };
    let mut h = Head {
        status: r.code?,
        len,
        keep_alive: r.version == Some(1),
        ..Head::default()
    };
    for header in r.headers.iter() {
        let (name, v) = (header.name, header.value);
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("content-length") {
            h.content_length = num(v);
        } else if is("connection") {
            h.keep_alive = !v.eq_ignore_ascii_case(b"close");
        } else if is("content-type") {
            h.json = v.starts_with(b"application/json");
        } else if is("retry-after") {
            h.retry_after = num(v);
        } else if is("x-ratelimit-limit") {
            h.limit = num(v);
        } else if is("x-ratelimit-remaining") {
            h.remaining = num(v);
        } else if is("x-ratelimit-reset") {
            h.reset = num(v);
        } else if (is("x-request-id") || is("apigw-requestid")) && h.request_id.is_empty() {
            let s = core::str::from_utf8(v).unwrap_or("");
            let _ = h
                .request_id
                .push_str(s.get(..s.len().min(64)).unwrap_or(""));
        }
    }
    Some(h)
}

fn score(x: Option<f32>) -> u32 {
    x.map_or(0, |v| (v * 10_000.0) as u32)
}

#[entry]
fn main() -> ! {
    let secret = input();
    let key = core::str::from_utf8(&secret[..20]).ok();
    let host = core::str::from_utf8(&secret[20..40]).ok();
    let (Some(key), Some(host)) = (key, host) else {
        loop {
            cortex_m::asm::wfi()
        }
    };
    let msgs = [Message {
        role: "user",
        content: Text { text: "hello" },
    }];
    let chat = [ChatMsg {
        role: "user",
        content: "hello",
    }];
    let mut out: String<1024> = String::new();
    let mut total = 0u32;
    total = total.wrapping_add(
        write_request(
            host,
            key,
            "/v2/emotions/analysis",
            &Analyze {
                model: "emotion-v2",
                messages: &msgs,
            },
            &mut out,
        )
        .unwrap_or(0) as u32,
    );
    let chat = Chat {
        model: "gpt-4o-mini",
        emotion_model: "emotion-v2",
        messages: &chat,
    };
    total = total.wrapping_add(
        write_request(host, key, "/v2/chat/completions", &chat, &mut out).unwrap_or(0) as u32,
    );
    for _ in 0..2 {
        // The whole response must be in RAM: httparse wants the head in one slice, serde-json-core
        // the body.
        let rx = received();
        let Some(head) = parse_head(&rx) else {
            continue;
        };
        total = total.wrapping_add(head.limit.unwrap_or(0) ^ head.remaining.unwrap_or(0));
        total = total.wrapping_add(head.reset.unwrap_or(0) as u32 ^ head.retry_after.unwrap_or(0));
        total = total
            .wrapping_add(head.request_id.len() as u32 + head.keep_alive as u32 + head.json as u32);
        let end = head.len.saturating_add(head.content_length.unwrap_or(0));
        let Some(body) = rx.get(head.len..end) else {
            continue;
        };
        let mut scratch = [0u8; 128];
        if (200..300).contains(&head.status) {
            let Ok((s, _)) = serde_json_core::from_slice_escaped::<Success>(body, &mut scratch)
            else {
                continue;
            };
            for (role, e) in s.emotions.iter().flatten() {
                total =
                    total.wrapping_add(role.len() as u32 + score(e.intensity) + score(e.valence));
                total = total.wrapping_add(score(e.arousal) + score(e.wonder_index));
                for t in [
                    &e.category,
                    &e.intensity_level,
                    &e.complexity,
                    &e.discovery_level,
                ] {
                    total = total.wrapping_add(t.as_ref().map_or(0, |t| t.len() as u32));
                }
                total = total.wrapping_add(e.text.as_ref().map_or(0, |t| t.len() as u32));
                for (label, v) in e.raw.iter().flatten() {
                    total = total.wrapping_add(label.len() as u32 + score(Some(*v)));
                }
            }
            for c in s.choices.iter().flatten() {
                let content = c.message.as_ref().and_then(|m| m.content.as_ref());
                total = total.wrapping_add(content.map_or(0, |t| t.len() as u32));
                total = total.wrapping_add(c.finish_reason.as_ref().map_or(0, |t| t.len() as u32));
            }
            for t in [&s.object, &s.model] {
                total = total.wrapping_add(t.as_ref().map_or(0, |t| t.len() as u32));
            }
            total = total.wrapping_add(
                s.id.map_or(0, |t| t.len() as u32) + s.context_id.map_or(0, |t| t.len() as u32),
            );
            if let Some(u) = s.usage {
                for n in [
                    u.prompt_tokens,
                    u.completion_tokens,
                    u.total_tokens,
                    u.analyse_token,
                ] {
                    total = total.wrapping_add(n.unwrap_or(0));
                }
            }
        } else if let Ok((e, _)) =
            serde_json_core::from_slice_escaped::<Envelope>(body, &mut scratch)
        {
            let e = e.error;
            for t in [e.kind.as_deref(), e.code.as_deref(), e.param.as_deref()] {
                total = total.wrapping_add(t.map_or(0, |t| t.len() as u32));
            }
            total = total.wrapping_add(e.message.map_or(0, |t| t.len() as u32));
            total = total.wrapping_add(e.request_id.map_or(0, |t| t.len() as u32));
        }
    }
    output(total);
    loop {
        cortex_m::asm::wfi()
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::asm::udf()
}
