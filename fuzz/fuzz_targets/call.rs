//! Arbitrary bytes as the server's answers to a whole call, driven as an adapter drives it:
//! never a panic, every refusal typed, and the call always ends when time runs on.
//!
//! Input: 0xff separates the answers to successive requests; within an answer, a byte below
//! 0x08 is a driver event instead of data (0: the read times out, 1: the connection is reset,
//! 2: the peer closes, 3: the caller cancels, 4..=7: the next read is 1, 3, 17 or 64 bytes).
#![no_main]
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Action, Call, Config, ConnectionLost};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{ChatMessage, ChatRequest, Message, Request};
use kaiko_core::time::{Duration, Instant};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = ApiKey::new("kaiko_test_fuzz").unwrap();
    let config = Config::new(key, BaseUrl::parse("http://127.0.0.1:1/v2").unwrap());
    let msgs = [Message::user("fuzz")];
    let chat = [ChatMessage::user("fuzz")];
    let request = match data.first() {
        Some(b) if b & 1 == 1 => Request::chat(ChatRequest {
            stream: true,
            ..ChatRequest::new("gpt-4o-mini", &chat)
        }),
        _ => Request::analyze(&msgs),
    };
    let mut call = Call::new(&config, request, 1, Instant::ZERO).unwrap();
    let mut now = Instant::ZERO;
    let mut out = [0u8; 512];
    let mut answers = data.split(|&b| b == 0xff);
    let mut unread: &[u8] = &[];
    let mut piece = 64usize;
    let mut connected = false;
    // Every action either advances time or consumes input, so this bound is generous.
    for _ in 0..(data.len() * 4 + 4096) {
        match call.poll_action(now) {
            Action::Event(_) => {}
            Action::Connect { deadline } => {
                if connected {
                    call.handle_connected(now, true).unwrap();
                } else if unread.first() == Some(&0) {
                    now = deadline; // the connect times out
                    unread = &unread[1..];
                } else {
                    connected = true;
                    call.handle_connected(now, false).unwrap();
                }
            }
            Action::Transmit { .. } => {
                let n = call
                    .poll_transmit(now, &mut out)
                    .expect("512 bytes hold the request");
                assert!(n > 0 && n <= out.len());
                call.handle_transmitted(now).unwrap();
                unread = answers.next().unwrap_or(&[]);
            }
            Action::Receive { deadline } => match unread.first().copied() {
                None => now = deadline,
                Some(c @ 0..=7) => {
                    unread = &unread[1..];
                    match c {
                        0 => now = deadline,
                        1 | 2 => {
                            connected = false;
                            let lost = if c == 1 {
                                ConnectionLost::Reset
                            } else {
                                ConnectionLost::Closed
                            };
                            call.handle_connection_lost(now, lost);
                        }
                        3 => call.cancel(now).unwrap(),
                        _ => piece = [1, 3, 17, 64][usize::from(c - 4)],
                    }
                }
                Some(_) => {
                    let end = unread
                        .iter()
                        .position(|&b| b < 8 || b == 0xff)
                        .unwrap_or(unread.len());
                    let take = &unread[..end.min(piece)];
                    let used = call.handle_input(now, take).unwrap();
                    assert!(used <= take.len());
                    unread = &unread[used..];
                    // A little time passes with every read.
                    now = now + Duration::from_millis(1);
                }
            },
            Action::Sleep { until } => {
                assert!(until >= now, "a sleep into the past");
                now = until;
            }
            Action::Close => connected = false,
            Action::Done(_) => {
                assert!(call.is_done());
                assert!(
                    call.poll_transmit(now, &mut out).is_err(),
                    "nothing to send after the end"
                );
                return;
            }
        }
    }
    panic!("the call did not end");
});
