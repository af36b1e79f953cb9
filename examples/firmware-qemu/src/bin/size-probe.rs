//! Links the whole client core path (request writing, head and body parsing, JSON decoding,
//! error envelopes, retries, SSE) into a minimal image, to measure its flash cost:
//! `cargo size --release --bin size-probe` minus the empty image is the core's share.
//! Input comes from a volatile read so nothing is constant-folded away. The image also proves
//! at link time that no panic is reachable on that path (see the panic handler).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Action, Call, Config, ConnectionLost, Event};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{ChatMessage, ChatRequest, Message, Request};
use kaiko_core::time::Instant;

#[path = "../probe_io.rs"]
mod probe_io;
use probe_io::{input, output};

#[entry]
fn main() -> ! {
    let secret = input();
    let key = core::str::from_utf8(&secret[..20])
        .ok()
        .and_then(|s| ApiKey::new(s).ok());
    let base = core::str::from_utf8(&secret[20..40])
        .ok()
        .and_then(|s| BaseUrl::parse(s).ok());
    let (Some(key), Some(base)) = (key, base) else {
        loop {
            cortex_m::asm::wfi()
        }
    };
    let config = Config::new(key, base).allow_cleartext_key();
    let msgs = [Message::user("hello")];
    let chat = [ChatMessage {
        role: "user",
        content: "hello",
    }];
    let requests = [
        Request::analyze(&msgs),
        Request::ChatCompletion(ChatRequest {
            stream: true,
            ..ChatRequest::new("gpt-4o-mini", &chat)
        }),
    ];
    let mut score = 0u32;
    for (i, request) in requests.into_iter().enumerate() {
        let Ok(mut call) = Call::new(&config, request, i as u64, Instant::ZERO) else {
            continue;
        };
        let mut out = [0u8; 512];
        let mut now = Instant::ZERO;
        // The driving loop of an adapter, every action taken, input from the volatile cell.
        loop {
            match call.poll_action(now) {
                Action::Event(Event::Emotion(e)) => {
                    score = score.wrapping_add(e.intensity.map_or(0, |s| s.0 as u32));
                }
                Action::Event(Event::Content(c)) => score = score.wrapping_add(c.len() as u32),
                Action::Event(_) => {}
                Action::Connect { .. } => {
                    let _ = call.handle_connected(now, input()[0] & 1 == 1);
                }
                Action::Transmit { deadline } => match call.poll_transmit(now, &mut out) {
                    Ok(n) => {
                        score = score.wrapping_add(n as u32);
                        let _ = call.handle_transmitted(now);
                    }
                    Err(_) => now = deadline,
                },
                Action::Receive { deadline } => {
                    let bytes = input();
                    match bytes[0] {
                        0 => now = deadline,
                        1 => call.handle_connection_lost(now, ConnectionLost::Reset),
                        2 => {
                            let _ = call.cancel(now);
                        }
                        _ => {
                            let _ = call.handle_input(now, &bytes);
                        }
                    }
                }
                Action::Sleep { until } => now = until,
                Action::Close => {}
                Action::Done(outcome) => {
                    score = score.wrapping_add(outcome.is_ok() as u32);
                    break;
                }
            }
        }
    }
    output(score);
    loop {
        cortex_m::asm::wfi()
    }
}

/// The proof that the client path cannot panic: this handler calls a function that does not
/// exist, so the image links only if the optimiser removed every call to it, i.e. no panic is
/// reachable from anything above (release build; the check needs optimisation).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        #[link_name = "\n\nERROR: a panic path is reachable in kaiko-core's client path (size-probe).\nBuild with a `loop {}` panic handler and look for `bl ...panic` in arm-none-eabi-objdump -d.\n"]
        fn panic_path_is_reachable() -> !;
    }
    // SAFETY: never executed when the image links (see above).
    unsafe { panic_path_is_reachable() }
}
