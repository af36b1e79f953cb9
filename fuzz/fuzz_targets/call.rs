//! Arbitrary bytes as the server's answers to a whole call: never a panic, and the call
//! always ends when time runs on.
#![no_main]
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Call, Config, ConnectionLost};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::time::Instant;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = ApiKey::new("kaiko_test_fuzz").unwrap();
    let config = Config::new(key, BaseUrl::parse("http://127.0.0.1:1/v2").unwrap());
    let msgs = [Message::user("fuzz")];
    let mut call = Call::new(&config, Request::analyze(&msgs), 1, Instant::ZERO).unwrap();
    let mut now = Instant::ZERO;
    let mut out = [0u8; 512];
    let mut pieces = data.split(|&b| b == 0xff);
    for _ in 0..64 {
        if call.is_done() {
            return;
        }
        if let Ok(Some(_)) = call.poll_transmit(now, &mut out) {
            let mut rest = pieces.next().unwrap_or(&[]);
            while !rest.is_empty() && !call.is_done() {
                let n = call.handle_input(now, rest);
                rest = &rest[n..];
                while call.poll_event().is_some() {}
            }
            call.handle_connection_lost(now, ConnectionLost::Closed);
        }
        while call.poll_event().is_some() {}
        if let Some(at) = call.poll_timeout() {
            now = now.max(at);
        }
        call.handle_timeout(now);
        while call.poll_event().is_some() {}
    }
    assert!(call.is_done(), "the call must end");
});
