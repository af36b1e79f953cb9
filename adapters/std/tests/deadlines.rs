//! Deadlines on a kept-alive connection. The client sets socket timeouts only when the time
//! left no longer fits the one set, so these check both sides of that: a call whose deadline
//! is much nearer than the previous call's still ends at it, and a timeout that fires before
//! the deadline (the one set may be shorter than the time left) does not end the call.

use std::time::{Duration as StdDuration, Instant as StdInstant};

use kaiko_core::call::Phase;
use kaiko_core::time::Duration;
use kaiko_sim::{Config, Fault, Sim};
use kaiko_std::{CallError, Cause, Client, Policy, Timeouts};

const KEY: &str = "kaiko_test_deadlines";

/// No retries, `first_byte_ms` to the first byte, four times that for the response.
fn policy(first_byte_ms: u64) -> Policy {
    Policy {
        max_retries: 0,
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_millis(first_byte_ms),
            response: Duration::from_millis(4 * first_byte_ms),
        },
        ..Policy::DEFAULT
    }
}

#[allow(clippy::result_large_err)] // the client's own error type, once per call
fn analyze(c: &mut Client) -> Result<u16, CallError> {
    c.analyze("hi", None, None, |_| {})
        .map(|a| a.success.status)
}

#[test]
fn a_stalled_server_ends_a_short_call_after_a_long_one_at_its_own_deadline() {
    let sim = Sim::start(Config::default()).unwrap();
    // The default policy: 35 s to the first byte, so the timeouts set are long.
    let mut c = Client::builder(KEY)
        .base_url(&sim.base_url())
        .without_proxy()
        .build()
        .unwrap();
    assert_eq!(analyze(&mut c).unwrap(), 200);
    let mut c = c.policy(policy(600));
    sim.push_fault(Fault::Stall {
        after_head: false,
        duration: StdDuration::from_secs(5),
    });
    let started = StdInstant::now();
    let err = analyze(&mut c).unwrap_err();
    let elapsed = started.elapsed();
    match err {
        CallError::Failed(f) => assert_eq!(f.cause, Cause::Timeout(Phase::FirstByte), "{f:?}"),
        other => panic!("{other:?}"),
    }
    assert!(
        (StdDuration::from_millis(540)..=StdDuration::from_millis(660)).contains(&elapsed),
        "the call took {elapsed:?}, its first-byte deadline was 600 ms"
    );
    assert_eq!(c.connections_opened(), 1, "both calls on one connection");
}

#[test]
fn a_reply_late_in_its_window_is_still_read() {
    // The reply comes after 90 % of the first-byte timeout, later than the shorter timeout
    // the client may have set: the read goes on until the deadline.
    let sim = Sim::start(Config {
        latency: StdDuration::from_millis(1800),
        ..Config::default()
    })
    .unwrap();
    let mut c = Client::builder(KEY)
        .base_url(&sim.base_url())
        .without_proxy()
        .build()
        .unwrap()
        .policy(policy(2000));
    for _ in 0..2 {
        let started = StdInstant::now();
        assert_eq!(analyze(&mut c).unwrap(), 200);
        assert!(started.elapsed() >= StdDuration::from_millis(1800));
    }
    assert_eq!(c.connections_opened(), 1);
}
