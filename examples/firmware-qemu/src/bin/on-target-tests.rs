//! kaiko-core's call state machine on a Cortex-M4 (QEMU mps2-an386): every scenario runs the
//! real `Call` through `poll_action` against canned responses, fed one byte at a time or in
//! larger pieces (of which the call may take only part while an event waits: the driver
//! offers the rest again), and reports its peak stack. Prints `N passed, N failed` and exits
//! non-zero on any failure.
#![no_std]
#![no_main]

use cortex_m_rt::{ExceptionFrame, entry, exception};
use kaiko_core::analysis::Category;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Action, Call, Cause, Config, Event, Failure, OrderError};
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

fn config() -> Config<'static> {
    let key = match ApiKey::new("kaiko_test_firmware") {
        Ok(k) => k,
        Err(_) => fail("key"),
    };
    let base = match BaseUrl::parse("http://192.168.69.100:8080/v2") {
        Ok(b) => b,
        Err(_) => fail("base url"),
    };
    // A plain-HTTP test server on a private network: the opt-in is deliberate.
    Config::new(key, base).allow_cleartext_key()
}

fn fail(what: &str) -> ! {
    println!("setup failed: {}", what);
    process::exit(2)
}

/// How a scripted exchange ended (the outcome itself stays in the call: [`failure`]).
struct Ran {
    /// `Done(Ok(_))`.
    ok: bool,
    attempts: u8,
    retries: u32,
    /// `Close` actions seen.
    closes: u8,
    /// The instant of the last action (time advances only through deadlines and sleeps).
    now: Instant,
}

/// Drives `call` as an adapter would, against a server that answers the n-th request with
/// `responses[n]`, delivered at most `piece` bytes per read (what the call does not take is
/// offered again); past the script the server is silent, so time jumps to each deadline.
/// `on_event` sees every event and says what the caller does next. `None` if the call asked
/// for something a correct call never does here, or did not end within a bounded number of
/// steps.
fn run(
    call: &mut Call<'_>,
    responses: &[&[u8]],
    piece: usize,
    on_event: &mut dyn FnMut(Event<'_>) -> Then,
) -> Option<Ran> {
    // The transmit buffer is static, as a firmware gives it to kaiko-embassy's `Client`.
    cortex_m::interrupt::free(|cs| {
        let mut out = TX.borrow(cs).borrow_mut();
        drive(call, responses, piece, on_event, &mut out[..])
    })
}

/// The transmit buffer of [`run`].
static TX: cortex_m::interrupt::Mutex<core::cell::RefCell<[u8; 512]>> =
    cortex_m::interrupt::Mutex::new(core::cell::RefCell::new([0; 512]));

fn drive(
    call: &mut Call<'_>,
    responses: &[&[u8]],
    piece: usize,
    on_event: &mut dyn FnMut(Event<'_>) -> Then,
    out: &mut [u8],
) -> Option<Ran> {
    let (mut now, mut next, mut unread, mut retries, mut closes): (Instant, usize, &[u8], u32, u8) =
        (Instant::ZERO, 0, &[], 0, 0);
    for _ in 0..200_000 {
        match call.poll_action(now) {
            Action::Event(event) => {
                retries += u32::from(matches!(event, Event::RetryScheduled(_)));
                match on_event(event) {
                    Then::Go => {}
                    Then::Fail => return None,
                    Then::Cancel => call.cancel(now).ok()?,
                }
            }
            Action::Connect { .. } => call.handle_connected(now, false).ok()?,
            Action::Transmit { .. } => {
                call.poll_transmit(now, out).ok()?;
                call.handle_transmitted(now).ok()?;
                unread = responses.get(next).copied().unwrap_or(&[]);
                next += 1;
            }
            Action::Receive { deadline } => {
                if unread.is_empty() {
                    now = deadline;
                } else {
                    // One read: at most `piece` bytes; the call may take fewer.
                    let read = unread.get(..piece.min(unread.len()))?;
                    let used = call.handle_input(now, read).ok()?;
                    unread = unread.get(used..)?;
                }
            }
            Action::Sleep { until } => now = until,
            Action::Close => {
                unread = &[];
                closes += 1;
            }
            Action::Done(outcome) => {
                return Some(Ran {
                    ok: outcome.is_ok(),
                    attempts: call.attempts(),
                    retries,
                    closes,
                    now,
                });
            }
        }
    }
    None
}

/// How the call ended, if it failed.
fn failure<'c>(call: &'c Call<'_>) -> Option<&'c Failure> {
    call.outcome()?.err()
}

/// What the caller does after an event.
enum Then {
    /// Asks for the next action.
    Go,
    /// The event was wrong: the run fails.
    Fail,
    /// Cancels the call, then asks for the next action.
    Cancel,
}

impl From<bool> for Then {
    fn from(ok: bool) -> Self {
        if ok { Then::Go } else { Then::Fail }
    }
}

/// Counts the expected emotion item; any other item fails the run.
fn fear_item(emotions: &mut u32) -> impl FnMut(Event<'_>) -> Then + '_ {
    move |event| match event {
        Event::Emotion(e) => {
            let ok = e.category == Some(Category::Fear) && e.valence == Some(Score(-3500));
            *emotions += u32::from(ok);
            ok.into()
        }
        _ => Then::Go,
    }
}

fn success_byte_at_a_time() -> bool {
    let cfg = config();
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::analyze(&MSGS), 0x1234, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    let mut emotions = 0;
    let ran = run(call, &[OK], 1, &mut fear_item(&mut emotions));
    matches!(
        ran,
        Some(Ran {
            ok: true,
            attempts: 1,
            ..
        })
    ) && emotions == 1
}

fn success_in_pieces_of_7() -> bool {
    success_read(7)
}

fn success_in_one_read() -> bool {
    success_read(usize::MAX)
}

/// Runs the analysis with reads of at most `piece` bytes: one item, one attempt.
#[inline(always)]
fn success_read(piece: usize) -> bool {
    let cfg = config();
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::analyze(&MSGS), 0x77, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    let mut emotions = 0;
    let ran = run(call, &[OK], piece, &mut fear_item(&mut emotions));
    matches!(
        ran,
        Some(Ran {
            ok: true,
            attempts: 1,
            retries: 0,
            ..
        })
    ) && emotions == 1
}

fn rate_limited_then_success() -> bool {
    let cfg = config();
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::analyze(&MSGS), 7, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    let mut emotions = 0;
    let ran = run(call, &[TOO_MANY, OK], 1, &mut fear_item(&mut emotions));
    matches!(ran, Some(Ran { ok: true, attempts: 2, retries: 1, closes: 0, now })
        if now >= Instant::from_millis(2000))
        && emotions == 1
}

fn html_errors_exhaust_retries() -> bool {
    let cfg = config().with_policy(kaiko_core::retry::Policy {
        base_delay: Duration::from_millis(10),
        ..kaiko_core::retry::Policy::DEFAULT
    });
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::analyze(&MSGS), 9, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    let busy = [UNAVAILABLE; 4];
    let ran = run(call, &busy, 1, &mut |_| Then::Go);
    matches!(
        ran,
        Some(Ran {
            ok: false,
            attempts: 4,
            retries: 3,
            ..
        })
    ) && matches!(
        failure(call),
        Some(Failure {
            cause: Cause::Api(e),
            stop: Stop::RetriesExhausted,
            ..
        }) if e.status == 503 && e.code == ErrorCode::ServiceUnavailable
    )
}

fn deadline_ends_a_silent_server() -> bool {
    let cfg = config();
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::analyze(&MSGS), 3, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    let ran = run(call, &[], 1, &mut |_| Then::Go);
    matches!(ran, Some(Ran { ok: false, .. }))
        && matches!(
            failure(call),
            Some(Failure {
                cause: Cause::Timeout(_),
                stop: Stop::Deadline | Stop::RetriesExhausted,
                ..
            })
        )
}

/// Cancelled at the first piece of text, in the middle of the streamed body: no more events,
/// the connection (mid-exchange) is closed, and the call ends `Cancelled` after one attempt.
fn cancel_mid_body() -> bool {
    let cfg = config();
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::chat(STREAMED), 13, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    let mut events = 0u32;
    let ran = run(call, &[STREAM], 16, &mut |_| {
        events += 1;
        if events == 1 {
            Then::Cancel
        } else {
            Then::Fail
        }
    });
    matches!(
        ran,
        Some(Ran {
            ok: false,
            attempts: 1,
            retries: 0,
            closes: 1,
            ..
        })
    ) && matches!(
        failure(call),
        Some(Failure {
            cause: Cause::Cancelled,
            stop: Stop::Cancelled,
            ..
        })
    ) && events == 1
        && call.handle_input(Instant::ZERO, b"x") == Err(OrderError::Finished)
}

/// The streamed chat request of [`streamed_chat`] and [`cancel_mid_body`].
const STREAMED: ChatRequest<'static> = ChatRequest {
    stream: true,
    ..ChatRequest::new("gpt-4o-mini", &CHAT_MESSAGES)
};
static CHAT_MESSAGES: [ChatMessage<'static>; 1] = [ChatMessage {
    role: "user",
    content: "I am nervous about my interview tomorrow.",
}];

fn streamed_chat_in_order() -> bool {
    streamed_chat(1)
}

fn streamed_chat_in_pieces_of_5() -> bool {
    streamed_chat(5)
}

fn streamed_chat_in_one_read() -> bool {
    streamed_chat(usize::MAX)
}

/// Runs the streamed chat with reads of at most `piece` bytes: the whole text, in order, and
/// the one emotion item.
#[inline(always)]
fn streamed_chat(piece: usize) -> bool {
    let cfg = config();
    // The call is used where it was made (a move would copy all of it on the stack).
    let mut made = Call::new(&cfg, Request::chat(STREAMED), 11, Instant::ZERO);
    let Ok(call) = &mut made else {
        return false;
    };
    const WANT: &[u8] = b"It's natural to feel nervous.";
    // Each piece must continue the expected text where the previous one ended.
    let (mut matched, mut emotions) = (0usize, 0);
    let ran = run(call, &[STREAM], piece, &mut |event| {
        match event {
            Event::Content(c) => {
                let end = matched + c.len();
                if WANT.get(matched..end) != Some(c.as_bytes()) {
                    return Then::Fail;
                }
                matched = end;
            }
            Event::Emotion(e) => emotions += u32::from(e.category == Some(Category::Fear)),
            Event::RetryScheduled(_) => return Then::Fail,
            // Element events of the optional decoders (a `Choice` with kaiko-core/choices).
            _ => {}
        }
        Then::Go
    });
    matches!(ran, Some(Ran { ok: true, .. })) && emotions == 1 && matched == WANT.len()
}

/// A scenario: its name, and whether it passed.
type Test = (&'static str, fn() -> bool);

static TESTS: [Test; 10] = [
    ("streamed chat completion, in order", streamed_chat_in_order),
    (
        "streamed chat completion, in pieces of 5",
        streamed_chat_in_pieces_of_5,
    ),
    (
        "streamed chat completion, in one read",
        streamed_chat_in_one_read,
    ),
    ("success, one byte at a time", success_byte_at_a_time),
    ("success, in pieces of 7", success_in_pieces_of_7),
    ("success, in one read", success_in_one_read),
    ("cancel mid-body closes, then ends", cancel_mid_body),
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
    let (mut passed, mut failed, mut deepest) = (0, 0, 0);
    for &(name, test) in TESTS.iter() {
        stack::repaint();
        let ok = test();
        let peak = stack::peak();
        deepest = deepest.max(peak);
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
        "core size_of: Call {} B, Event {} B, Action {} B",
        core::mem::size_of::<Call<'static>>(),
        core::mem::size_of::<Event<'static>>(),
        core::mem::size_of::<Action<'static>>()
    );
    println!("peak stack of any scenario: {} bytes", deepest);
    println!(
        "parts: Request {} Config {} HeadParser {} ResponseHead {} Success {} Failure {} Emotion {} SuccessParser {} ErrorBody {} ApiError {} Retry {}",
        core::mem::size_of::<Request<'static>>(),
        core::mem::size_of::<Config<'static>>(),
        core::mem::size_of::<kaiko_core::http::HeadParser>(),
        core::mem::size_of::<kaiko_core::http::ResponseHead>(),
        core::mem::size_of::<kaiko_core::call::Success>(),
        core::mem::size_of::<kaiko_core::call::Failure>(),
        core::mem::size_of::<kaiko_core::analysis::Emotion>(),
        core::mem::size_of::<kaiko_core::analysis::SuccessParser>(),
        core::mem::size_of::<kaiko_core::error::ErrorBody>(),
        core::mem::size_of::<kaiko_core::error::ApiError>(),
        core::mem::size_of::<kaiko_core::call::Retry>(),
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
