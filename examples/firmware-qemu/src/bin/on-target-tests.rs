//! kaiko-core's call state machine on a Cortex-M4 (QEMU mps2-an386): every scenario runs the
//! real `Call` against canned responses, fed one byte at a time, and reports its peak stack.
//! Prints `N passed, N failed` and exits non-zero on any failure.
#![no_std]
#![no_main]

use cortex_m_rt::{ExceptionFrame, entry, exception};
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Call, Cause, Config, Event};
use kaiko_core::error::ErrorCode;
use kaiko_core::key::ApiKey;
use kaiko_core::request::{ChatMessage, ChatRequest, Message, Request};
use kaiko_core::retry::Stop;
use kaiko_core::score::Score;
use kaiko_core::time::{Duration, Instant};
use semihosting::{println, process};

static MSGS: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
3f\r\n{\"object\":\"emotions.analysis\",\"model\":\"emotion-v2\",\"emotions\":{\r\n\
a1\r\n\"user\":{\"category\":\"fear\",\"intensity\":0.52,\"intensityLevel\":\"subtle\",\"valence\":-0.35,\"arousal\":0.45,\"raw\":{\"fear\":0.52,\"sadness\":0.21,\"joy\":0.09}}}}             \r\n\
0\r\n\r\n";

const TOO_MANY: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Type: application/json\r\nContent-Length: 104\r\n\r\n\
{\"error\":{\"type\":\"rate_limit_error\",\"code\":\"too_many_requests\",\"message\":\"slow down\",\"request_id\":\"r1\"}}";

/// A streamed chat completion (`stream: true`): Server-Sent Events in 37-byte chunks.
const STREAM: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n25\r\ndata: {\"object\":\"chat.completion.chun\r\n25\r\nk\",\"choices\":[{\"index\":0,\"delta\":{\"co\r\n25\r\nntent\":\"It's natural \"}}]}\n\ndata: {\"o\r\n25\r\nbject\":\"chat.completion.chunk\",\"choic\r\n25\r\nes\":[{\"index\":0,\"delta\":{\"content\":\"t\r\n25\r\no feel nervous.\"},\"finish_reason\":\"st\r\n25\r\nop\"}],\"emotions\":{\"user\":{\"category\":\r\n25\r\n\"fear\",\"valence\":-0.35}}}\n\ndata: [DON\r\n4\r\nE]\n\n\r\n0\r\n\r\n";

const UNAVAILABLE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\n<html>busy</html>\r\n";

/// Outcome of feeding one response to the call, byte by byte.
enum Step {
    Retry(Instant),
    Done(Result<(), Cause>),
}

fn config() -> Config<'static> {
    let key = match ApiKey::new("kaiko_test_firmware") {
        Ok(k) => k,
        Err(_) => fail("key"),
    };
    let base = match BaseUrl::parse("http://192.168.69.100:8080/v2") {
        Ok(b) => b,
        Err(_) => fail("base url"),
    };
    Config::new(key, base)
}

fn fail(what: &str) -> ! {
    println!("setup failed: {}", what);
    process::exit(2)
}

/// Sends the due request and feeds `response` one byte at a time; checks emotion items.
fn exchange(
    call: &mut Call<'_>,
    now: Instant,
    response: &[u8],
    emotions: &mut u32,
) -> Option<Step> {
    let mut out = [0u8; 512];
    match call.poll_transmit(now, &mut out) {
        Ok(Some(_)) => {}
        _ => return None,
    }
    let mut step = None;
    for byte in response.chunks(1) {
        let mut rest = byte;
        while !rest.is_empty() {
            let n = call.handle_input(now, rest);
            rest = rest.get(n..).unwrap_or(&[]);
            while let Some(event) = call.poll_event() {
                match event {
                    Event::Emotion(e)
                        if e.category.eq_str("fear") && e.valence == Some(Score(-3500)) =>
                    {
                        *emotions += 1
                    }
                    Event::Emotion(_) => return None,
                    Event::RetryScheduled { at, .. } => step = Some(Step::Retry(at)),
                    Event::Done(r) => step = Some(Step::Done(r.map(|_| ()).map_err(|f| f.cause))),
                    Event::Content(_) => {}
                }
            }
        }
    }
    while let Some(event) = call.poll_event() {
        if let Event::Done(r) = event {
            step = Some(Step::Done(r.map(|_| ()).map_err(|f| f.cause)));
        }
    }
    step
}

fn success_byte_at_a_time() -> bool {
    let cfg = config();
    let Ok(mut call) = Call::new(&cfg, Request::analyze(&MSGS), 0x1234, Instant::ZERO) else {
        return false;
    };
    let mut emotions = 0;
    matches!(
        exchange(&mut call, Instant::ZERO, OK, &mut emotions),
        Some(Step::Done(Ok(())))
    ) && emotions == 1
}

fn rate_limited_then_success() -> bool {
    let cfg = config();
    let Ok(mut call) = Call::new(&cfg, Request::analyze(&MSGS), 7, Instant::ZERO) else {
        return false;
    };
    let mut emotions = 0;
    let Some(Step::Retry(at)) = exchange(&mut call, Instant::ZERO, TOO_MANY, &mut emotions) else {
        return false;
    };
    if at < Instant::from_millis(2000) {
        return false;
    }
    call.handle_timeout(at);
    matches!(
        exchange(&mut call, at, OK, &mut emotions),
        Some(Step::Done(Ok(())))
    ) && emotions == 1
}

fn html_errors_exhaust_retries() -> bool {
    let mut cfg = config();
    cfg.policy.base_delay = Duration::from_millis(10);
    let Ok(mut call) = Call::new(&cfg, Request::analyze(&MSGS), 9, Instant::ZERO) else {
        return false;
    };
    let mut now = Instant::ZERO;
    let mut emotions = 0;
    for _ in 0..4 {
        match exchange(&mut call, now, UNAVAILABLE, &mut emotions) {
            Some(Step::Retry(at)) => {
                now = at;
                call.handle_timeout(now);
            }
            Some(Step::Done(Err(Cause::Api(e)))) => {
                return e.status == 503
                    && e.code == ErrorCode::ServiceUnavailable
                    && call.attempts() == 4;
            }
            _ => return false,
        }
    }
    false
}

fn deadline_ends_a_silent_server() -> bool {
    let cfg = config();
    let Ok(mut call) = Call::new(&cfg, Request::analyze(&MSGS), 3, Instant::ZERO) else {
        return false;
    };
    let mut now = Instant::ZERO;
    let mut out = [0u8; 512];
    for _ in 0..64 {
        let _ = call.poll_transmit(now, &mut out);
        match call.poll_timeout() {
            Some(at) => now = at,
            None => break,
        }
        call.handle_timeout(now);
        while let Some(event) = call.poll_event() {
            if let Event::Done(Err(f)) = event {
                return f.stop == Stop::Deadline || f.stop == Stop::RetriesExhausted;
            }
        }
    }
    false
}

fn streamed_chat_in_order() -> bool {
    let cfg = config();
    let chat = [ChatMessage {
        role: "user",
        content: "I am nervous about my interview tomorrow.",
    }];
    let request = Request::ChatCompletion(ChatRequest {
        model: "gpt-4o-mini",
        emotion_model: "emotion-v2",
        context_id: None,
        messages: &chat,
        temperature: None,
        max_tokens: None,
        stream: true,
    });
    let Ok(mut call) = Call::new(&cfg, request, 11, Instant::ZERO) else {
        return false;
    };
    let mut out = [0u8; 512];
    if !matches!(call.poll_transmit(Instant::ZERO, &mut out), Ok(Some(_))) {
        return false;
    }
    const WANT: &[u8] = b"It's natural to feel nervous.";
    let (mut text, mut len, mut emotions, mut done) = ([0u8; 64], 0, 0, false);
    for byte in STREAM.chunks(1) {
        let mut rest = byte;
        while !rest.is_empty() {
            let n = call.handle_input(Instant::ZERO, rest);
            rest = rest.get(n..).unwrap_or(&[]);
            while let Some(event) = call.poll_event() {
                match event {
                    Event::Content(c) => {
                        for &b in c.bytes.iter() {
                            if let Some(slot) = text.get_mut(len) {
                                *slot = b;
                                len += 1;
                            }
                        }
                    }
                    Event::Emotion(e) => emotions += u32::from(e.category.eq_str("fear")),
                    Event::Done(r) => done = r.is_ok(),
                    Event::RetryScheduled { .. } => return false,
                }
            }
        }
    }
    done && emotions == 1 && text.get(..len) == Some(WANT)
}

const TESTS: [(&str, fn() -> bool); 5] = [
    ("streamed chat completion, in order", streamed_chat_in_order),
    ("success, one byte at a time", success_byte_at_a_time),
    (
        "429 with Retry-After, then success",
        rate_limited_then_success,
    ),
    (
        "HTML 503 until retries are exhausted",
        html_errors_exhaust_retries,
    ),
    (
        "silent server ends at a deadline",
        deadline_ends_a_silent_server,
    ),
];

#[entry]
fn main() -> ! {
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in TESTS {
        stack::repaint();
        let ok = test();
        let peak = stack::peak();
        println!(
            "test {} ... {} (peak stack {} bytes)",
            name,
            if ok { "ok" } else { "FAILED" },
            peak
        );
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!(
        "core size_of: Call {} B, Event {} B",
        core::mem::size_of::<Call<'static>>(),
        core::mem::size_of::<Event>()
    );
    println!("{} passed, {} failed", passed, failed);
    process::exit(if failed == 0 { 0 } else { 1 })
}

/// Peak stack measurement on top of cortex-m-rt's `paint-stack` (0xCCCCCCCC fill).
mod stack {
    const PAINT: u32 = 0xCCCC_CCCC;
    unsafe extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }

    fn bounds() -> (usize, usize) {
        (
            core::ptr::addr_of!(_stack_end) as usize,
            core::ptr::addr_of!(_stack_start) as usize,
        )
    }

    /// Re-paints the unused stack below the current frame (with a margin for this function).
    pub fn repaint() {
        let (bottom, _) = bounds();
        let sp = cortex_m::register::msp::read() as usize - 256;
        let mut p = bottom;
        while p < sp {
            // SAFETY: [bottom, sp) is stack memory below every live frame.
            unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
            p += 4;
        }
    }

    /// Bytes between the stack top and the deepest word that was written.
    pub fn peak() -> usize {
        let (bottom, top) = bounds();
        let mut p = bottom;
        // SAFETY: reads of stack memory within the linker's bounds.
        while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
            p += 4;
        }
        top - p
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("panic: {}", info);
    process::exit(101)
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    println!("hard fault");
    process::exit(102)
}
