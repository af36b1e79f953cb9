//! Arbitrary bytes as the server's answers to a whole call, driven through `poll_action` as an
//! adapter drives it: never a panic, every refusal typed, and the call always ends, within a
//! bounded number of steps and by its deadline, when time runs on.
//!
//! Input: the first byte picks the request (bit 0: streamed chat, else analysis) and the
//! policy (bit 1: a 10 s call deadline, else the default 120 s). Then 0xff separates the
//! answers to successive requests; within an answer, a byte below 0x09 is a driver event
//! instead of data (0: the read times out, 1: the connection is reset, 2: the peer closes,
//! 3: the caller cancels, 4..=7: the next reads are 1, 3, 17 or 64 bytes, 8: the driver calls
//! what the call did not ask for). Before the first answer, 0 makes a connect time out and 1
//! makes it fail.
//!
//! Invariants checked on the way: a deadline handed out is in the future; a sleep ends in the
//! future; text pieces are whole, non-empty and at most `CHUNK_CAP` bytes; at most
//! `max_retries` retry notices, each due in the future; every request carries the call's one
//! `Idempotency-Key`; a too-small transmit buffer leaves the call unchanged and names the
//! size that works; calls out of order are refused and change nothing; the outcome is stable
//! once reached, counts at most `max_retries + 1` attempts, and a success reports as many
//! emotion items as its attempt delivered.
#![no_main]
// Outcomes are compared by value; their size does not matter here.
#![allow(clippy::result_large_err)]
use kaiko_core::analysis::CHUNK_CAP;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{
    Action, Call, Config, ConnectionLost, Event, OrderError, Success, TransmitError,
};
use kaiko_core::idempotency::IdempotencyKey;
use kaiko_core::key::ApiKey;
use kaiko_core::request::{ChatMessage, ChatRequest, Message, Request};
use kaiko_core::retry::Policy;
use kaiko_core::time::{Duration, Instant};
use libfuzzer_sys::fuzz_target;

/// The value of header `name` in the request `req`.
fn header<'a>(req: &'a [u8], name: &str) -> Option<&'a [u8]> {
    req.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.strip_prefix(name.as_bytes())?.strip_prefix(b": ")
    })
}

fuzz_target!(|data: &[u8]| {
    let mode = data.first().copied().unwrap_or(0);
    let key = ApiKey::new("kaiko_test_fuzz").unwrap();
    let policy = if mode & 2 == 2 {
        Policy {
            deadline: Some(Duration::from_secs(10)),
            ..Policy::DEFAULT
        }
    } else {
        Policy::DEFAULT
    };
    let config =
        Config::new(key, BaseUrl::parse("http://127.0.0.1:1/v2").unwrap()).with_policy(policy);
    let msgs = [Message::user("fuzz")];
    let chat = [ChatMessage::user("fuzz")];
    let request = if mode & 1 == 1 {
        Request::chat(ChatRequest {
            stream: true,
            ..ChatRequest::new("gpt-4o-mini", &chat)
        })
    } else {
        Request::analyze(&msgs)
    };
    let mut call = Call::new(&config, request, 1, Instant::ZERO).unwrap();
    let key = call.idempotency_key().as_bytes().to_vec();
    let deadline_at = Instant::ZERO + policy.deadline.unwrap();
    let max_attempts = u32::from(policy.max_retries) + 1;

    let mut now = Instant::ZERO;
    let mut out = [0u8; 512];
    let mut answers = data.get(1..).unwrap_or(&[]).split(|&b| b == 0xff);
    let mut unread: &[u8] = answers.next().unwrap_or(&[]);
    let mut piece = 64usize;
    let mut connected = false;
    let (mut retries, mut transmits, mut emotions) = (0u32, 0u32, 0u32);
    // Every action either advances time or consumes input, so this bound is generous.
    for _ in 0..(data.len() * 4 + 4096) {
        match call.poll_action(now) {
            Action::Event(Event::Emotion(_)) => emotions += 1,
            Action::Event(Event::Content(c)) => {
                assert!(!c.is_empty(), "an empty text piece");
                assert!(c.len() <= CHUNK_CAP, "a text piece above CHUNK_CAP");
            }
            Action::Event(Event::RetryScheduled(r)) => {
                retries += 1;
                assert!(retries <= u32::from(policy.max_retries), "too many retries");
                assert!(r.at > now, "a retry due in the past");
                assert_eq!(r.max_retries, policy.max_retries);
                // The attempt's results are void: a consumer starts over.
                emotions = 0;
            }
            Action::Event(_) => {}
            Action::Connect { deadline } => {
                assert!(deadline > now, "a connect deadline in the past");
                if connected {
                    call.handle_connected(now, true).unwrap();
                } else if unread.first() == Some(&0) {
                    now = deadline; // the connect times out
                    unread = &unread[1..];
                } else if unread.first() == Some(&1) {
                    unread = &unread[1..];
                    call.handle_connection_lost(now, ConnectionLost::Refused);
                } else {
                    connected = true;
                    call.handle_connected(now, false).unwrap();
                }
            }
            Action::Transmit { deadline } => {
                assert!(deadline > now, "a transmit deadline in the past");
                // A buffer that is too small first: typed, with the size that works, and the
                // call unchanged.
                let small = usize::from(mode >> 2);
                let n = match call.poll_transmit(now, &mut out[..small]) {
                    Ok(n) => n,
                    Err(TransmitError::BufferTooSmall { needed }) => {
                        assert!(needed > small && needed <= out.len(), "needed {needed}");
                        let n = call
                            .poll_transmit(now, &mut out)
                            .expect("512 bytes hold the request");
                        assert_eq!(n, needed);
                        n
                    }
                    Err(e) => panic!("transmit refused: {e:?}"),
                };
                assert!(n > 0 && n <= out.len());
                assert_eq!(
                    header(&out[..n], "Idempotency-Key"),
                    Some(&key[..]),
                    "every attempt carries the call's key"
                );
                transmits += 1;
                // At most one free resend per attempt.
                assert!(transmits <= 2 * max_attempts, "too many requests");
                call.handle_transmitted(now).unwrap();
                if transmits > 1 {
                    unread = answers.next().unwrap_or(&[]);
                }
            }
            Action::Receive { deadline } => {
                assert!(deadline > now, "a receive deadline in the past");
                match unread.first().copied() {
                    None => now = deadline,
                    Some(c @ 0..=8) => {
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
                            8 => {
                                // What the call did not ask for is refused and changes nothing.
                                let unexpected = Err(OrderError::Unexpected);
                                assert_eq!(call.handle_connected(now, false), unexpected);
                                assert_eq!(call.handle_transmitted(now), unexpected);
                                assert_eq!(
                                    call.poll_transmit(now, &mut out),
                                    Err(TransmitError::Order(OrderError::Unexpected))
                                );
                                assert_eq!(call.set_not_before(now), Err(OrderError::Started));
                                assert_eq!(
                                    call.set_idempotency_key(IdempotencyKey::from_seed(2)),
                                    Err(OrderError::Started)
                                );
                                assert!(matches!(
                                    call.poll_action(now),
                                    Action::Receive { deadline: d } if d == deadline
                                ));
                            }
                            _ => piece = [1, 3, 17, 64][usize::from(c - 4)],
                        }
                    }
                    Some(_) => {
                        let end = unread
                            .iter()
                            .position(|&b| b < 9 || b == 0xff)
                            .unwrap_or(unread.len());
                        let take = &unread[..end.min(piece)];
                        let used = call.handle_input(now, take).unwrap();
                        assert!(used <= take.len());
                        unread = &unread[used..];
                        // A little time passes with every read.
                        now = now + Duration::from_millis(1);
                    }
                }
            }
            Action::Sleep { until } => {
                assert!(until > now, "a sleep that ends at once or in the past");
                now = until;
            }
            Action::Close => connected = false,
            Action::Done(outcome) => {
                let outcome: Result<Success, _> = outcome.copied().map_err(|f| *f);
                assert!(call.is_done());
                assert!(
                    now <= deadline_at + Duration::from_millis(1),
                    "past the deadline"
                );
                let attempts = match &outcome {
                    Ok(s) => {
                        assert!(s.attempts >= 1);
                        assert!((200..300).contains(&s.status));
                        assert_eq!(
                            u32::from(s.summary.emotions),
                            emotions,
                            "the success counts the items it delivered"
                        );
                        s.attempts
                    }
                    Err(f) => f.attempts,
                };
                assert!(u32::from(attempts) <= max_attempts, "too many attempts");
                assert_eq!(attempts, call.attempts());
                // The end is stable and refuses everything else.
                assert_eq!(
                    call.outcome().map(|o| o.copied().map_err(|f| *f)),
                    Some(outcome)
                );
                assert!(matches!(
                    call.poll_action(now + Duration::from_secs(1)),
                    Action::Done(o) if o.copied().map_err(|f| *f) == outcome
                ));
                let finished = OrderError::Finished;
                assert_eq!(
                    call.poll_transmit(now, &mut out),
                    Err(TransmitError::Order(finished)),
                    "nothing to send after the end"
                );
                assert_eq!(call.handle_input(now, b"x"), Err(finished));
                assert_eq!(call.handle_connected(now, false), Err(finished));
                assert_eq!(call.handle_transmitted(now), Err(finished));
                assert_eq!(call.cancel(now), Err(finished));
                return;
            }
        }
    }
    panic!("the call did not end");
});
