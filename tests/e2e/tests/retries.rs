//! Retries: spacing, Retry-After in both forms, the cap, and exactly-once processing.

#[macro_use]
mod common;

use common::{
    BASE_MS, Dialect, assert_spacing, client, client_in, client_with, policy, run, sim, sim_in,
};
use kaiko_core::analysis::Category;
use kaiko_core::error::ErrorCode;
use kaiko_core::request::{ChatMessage, ChatRequest, Message};
use kaiko_core::time::Duration;
use kaiko_sim::{Fault, RetryAfterValue};
use kaiko_std::{Cause, Policy, Request, Stop};

fn status(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
    }
}

/// Exactly one keyed ledger entry, processed once; returns its replay count.
fn processed_once(sim: &kaiko_sim::SimHandle) -> u32 {
    let ledger = sim.ledger();
    let keyed: Vec<_> = ledger
        .entries
        .iter()
        .filter(|e| e.idempotency_key.is_some())
        .collect();
    assert_eq!(
        keyed.len(),
        1,
        "one Idempotency-Key for all attempts: {ledger:?}"
    );
    assert_eq!(keyed[0].processed, 1, "{ledger:?}");
    keyed[0].replayed
}

#[test]
fn burst_of_503_then_success_is_processed_once() {
    let sim = sim();
    sim.push_faults([status(503), status(503), status(503)]);
    let mut c = client(&sim);
    let r = run(&mut c, Request::analyze(&[Message::user("I am happy")]));
    assert_eq!(r.ok().attempts, 4);
    let retries = r.retries();
    assert_eq!(retries.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3]);
    for (i, (_, delay, cause)) in retries.iter().enumerate() {
        // 20 ms × 2^i plus at most 5 ms of jitter.
        let base = BASE_MS << i;
        assert!((base..=base + 5).contains(delay), "retry {i}: {delay} ms");
        assert!(matches!(cause, Cause::Api(e) if e.code == ErrorCode::ServiceUnavailable));
    }
    assert_spacing(&r);
    assert!(r.elapsed_ms >= u128::from(BASE_MS * 7));
    assert_eq!(r.emotions().len(), 1);
    assert_eq!(processed_once(&sim), 0);
}

#[test]
fn internal_error_500_is_retried() {
    let sim = sim();
    sim.push_fault(status(500));
    let mut c = client(&sim);
    let a = c.analyze("fine", None, None, |_| {}).unwrap();
    assert_eq!(a.success.attempts, 2);
}

#[test]
fn retries_exhausted_after_max_attempts() {
    let sim = sim();
    sim.push_faults([status(503), status(503), status(503), status(503)]);
    let mut c = client(&sim);
    let r = run(&mut c, Request::analyze(&[Message::user("hi")]));
    let f = r.failure();
    assert_eq!((f.stop, f.attempts), (Stop::RetriesExhausted, 4));
    assert_eq!(r.retries().len(), 3);
    assert_spacing(&r);
    assert_eq!(sim.requests_received(), 4);
}

#[test]
fn retry_after_seconds_is_honoured() {
    let sim = sim();
    sim.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(RetryAfterValue::Seconds(1)),
    });
    // The injected 429 also says `X-RateLimit-Remaining: 0` until the window resets (a
    // minute away); look at Retry-After alone here.
    let mut c = client_with(
        &sim,
        Policy {
            respect_rate_limit: false,
            ..policy()
        },
    );
    let r = run(&mut c, Request::analyze(&[Message::user("hi")]));
    assert_eq!(r.ok().attempts, 2);
    let (_, delay, cause) = r.retries()[0];
    assert!((1000..=1005).contains(&delay), "{delay}");
    let Cause::Api(e) = cause else {
        panic!("{cause:?}")
    };
    assert_eq!(e.code, ErrorCode::TooManyRequests);
    assert_eq!(e.retry_after, Some(Duration::from_secs(1)));
    assert!(r.elapsed_ms >= 1000);
}

#[test]
fn retry_after_http_date_is_honoured() {
    let sim = sim();
    sim.push_fault(Fault::Status {
        status: 503,
        retry_after: Some(RetryAfterValue::HttpDate { secs_from_now: 1 }),
    });
    let mut c = client(&sim);
    let r = run(&mut c, Request::analyze(&[Message::user("hi")]));
    assert_eq!(r.ok().attempts, 2);
    let (_, delay, _) = r.retries()[0];
    // Measured against the response's own Date header: exactly one second.
    assert!((1000..=1005).contains(&delay), "{delay}");
    assert!(r.elapsed_ms >= 1000);
}

#[test]
fn retry_after_above_the_cap_stops_without_sleeping() {
    let sim = sim();
    sim.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(RetryAfterValue::Seconds(120)),
    });
    let mut c = client(&sim);
    let r = run(&mut c, Request::analyze(&[Message::user("hi")]));
    let f = r.failure();
    assert_eq!(
        f.stop,
        Stop::WaitAboveCap {
            wait: Duration::from_secs(120)
        }
    );
    assert_eq!(f.attempts, 1);
    assert!(r.retries().is_empty());
    assert!(r.elapsed_ms < 1000, "no sleep: {} ms", r.elapsed_ms);
}

#[test]
fn reset_mid_body_is_replayed_not_reprocessed() {
    let sim = sim();
    sim.push_fault(Fault::ResetMidBody);
    let mut c = client(&sim);
    let r = run(
        &mut c,
        Request::analyze(&[Message::user("I feel a bit unsure about this")]),
    );
    assert_eq!(r.ok().attempts, 2);
    assert!(
        matches!(r.retries()[0].2, Cause::Connection(_) | Cause::Protocol(_)),
        "{:?}",
        r.retries()
    );
    assert_eq!(
        r.emotions().len(),
        1,
        "results of the abandoned attempt are discarded"
    );
    assert_eq!(processed_once(&sim), 1);
}

in_both_dialects! {
    fn analysis_reset_after_processing_is_retried(d: Dialect) {
        let sim = sim_in(d);
        sim.push_fault(Fault::ResetAfterProcessing);
        let mut c = client_in(&sim, d);
        let r = run(
            &mut c,
            Request::analyze(&[Message::user("I am so happy today")]),
        );
        assert_eq!(r.ok().attempts, 2);
        assert_eq!(r.emotions()[0].category, Some(Category::Joy));
        let keyed: Vec<_> = sim
            .ledger()
            .entries
            .into_iter()
            .filter(|e| e.idempotency_key.is_some())
            .collect();
        assert_eq!(keyed.len(), 1, "one Idempotency-Key for both attempts");
        // The docs' server replays the stored answer; the backend, which does not
        // deduplicate (spec §10.16), processes the retry again.
        let (processed, replayed) = match d {
            Dialect::Docs => (1, 1),
            Dialect::Backend => (2, 0),
        };
        assert_eq!((keyed[0].processed, keyed[0].replayed), (processed, replayed));
    }

    fn chat_unanswered_after_sending_is_not_retried(d: Dialect) {
        // A completion the server may have run is not sent again: the backend would bill it
        // twice.
        let sim = sim_in(d);
        sim.push_fault(Fault::ResetAfterProcessing);
        let mut c = client_in(&sim, d);
        let messages = [ChatMessage::user("hello")];
        let r = run(&mut c, Request::chat(ChatRequest::new("gpt-4o-mini", &messages)));
        let f = r.failure();
        assert_eq!((f.stop, f.attempts, f.sent), (Stop::Unanswered, 1, true), "{f:?}");
        assert_eq!(sim.ledger().total_processed(), 1);
    }
}

#[test]
fn each_call_has_its_own_idempotency_key() {
    let sim = sim();
    let mut c = client_with(&sim, Policy { ..policy() });
    c.analyze("one", None, None, |_| {}).unwrap();
    c.analyze("two", None, None, |_| {}).unwrap();
    let ledger = sim.ledger();
    let keys: Vec<_> = ledger
        .entries
        .iter()
        .filter_map(|e| e.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
    assert_eq!(ledger.max_processed(), 1);
}

#[test]
fn remaining_zero_delays_the_next_call_until_the_reset() {
    let sim = kaiko_sim::Sim::start(kaiko_sim::Config {
        rate_limit: 1,
        rate_window: std::time::Duration::from_secs(1),
        ..kaiko_sim::Config::default()
    })
    .unwrap();
    let mut c = client(&sim);
    let first = run(&mut c, Request::analyze(&[Message::user("one")]));
    assert_eq!(first.ok().rate_limit.remaining, Some(0));
    assert!(first.ok().resume_at.is_some());
    // Without the wait this request would meet a 429 in the same window.
    let second = run(&mut c, Request::analyze(&[Message::user("two")]));
    assert_eq!(second.ok().attempts, 1);
    assert!(second.retries().is_empty());
    assert!(second.elapsed_ms >= 900, "waited {} ms", second.elapsed_ms);
}

in_both_dialects! {
    fn rate_limited_429_waits_for_the_window_then_succeeds(d: Dialect) {
        // A 429 without Retry-After (backend, spec §6) is waited out until X-RateLimit-Reset;
        // with it (docs) for its seconds.
        let sim = common::sim_with(
            d,
            kaiko_sim::Config {
                rate_limit: 1,
                rate_window: std::time::Duration::from_secs(1),
                ..kaiko_sim::Config::default()
            },
        );
        common::client_in(&sim, d).analyze("one", None, None, |_| {}).unwrap();
        let mut c = client_in(&sim, d);
        let r = run(&mut c, Request::analyze(&[Message::user("two")]));
        assert_eq!(r.ok().attempts, 2, "{:?}", r.retries());
        let (_, delay, cause) = r.retries()[0];
        assert!(matches!(cause, Cause::Api(e) if e.status == 429), "{cause:?}");
        assert!((1..=2_100).contains(&delay), "{delay} ms");
        assert_spacing(&r);
    }
}
