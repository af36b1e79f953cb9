//! Shared helpers: short policies so the suite runs in seconds, event collection, and
//! [`in_both_dialects!`] for tests that run against the simulator's `docs` and `backend`
//! dialects.
#![allow(dead_code, unreachable_pub, unused_macros)]

use std::time::Instant as StdInstant;

use kaiko_core::error::ApiError;
use kaiko_core::time::Duration;
pub use kaiko_sim::Dialect;
use kaiko_sim::{Config, Sim, SimHandle};
use kaiko_std::{
    CallError, Cause, Client, Emotion, Event, Failure, Policy, Request, Retry, Success, Timeouts,
};

/// Base delay of the test policy (backoff 20, 40, 80 ms + up to 5 ms jitter).
pub const BASE_MS: u64 = 20;

pub fn policy() -> Policy {
    Policy {
        max_retries: 3,
        base_delay: Duration::from_millis(BASE_MS),
        max_backoff: Duration::from_millis(500),
        max_jitter: Duration::from_millis(5),
        retry_after_cap: Duration::from_secs(5),
        deadline: Some(Duration::from_secs(10)),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            first_byte: Duration::from_secs(2),
            response: Duration::from_secs(4),
        },
        respect_rate_limit: true,
        unanswered: kaiko_std::kaiko_core::retry::Unanswered::ByOperation,
    }
}

pub fn sim() -> SimHandle {
    Sim::start(Config::default()).expect("sim starts")
}

/// A simulator speaking `dialect`, otherwise with `config`.
pub fn sim_with(dialect: Dialect, config: Config) -> SimHandle {
    Sim::start(Config { dialect, ..config }).expect("sim starts")
}

/// A simulator speaking `dialect` with the default configuration.
pub fn sim_in(dialect: Dialect) -> SimHandle {
    sim_with(dialect, Config::default())
}

/// A key of the shape each dialect accepts: the documented `kaiko_test_…`, or the
/// backend's `sk_<env>_…` (its authorizer refuses other shapes, spec §2).
pub fn key_for(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Docs => "kaiko_test_e2e",
        Dialect::Backend => "sk_test_e2e0123456789abcdefABCDEF0123",
    }
}

/// A client of `sim` with the test policy and the key its dialect accepts.
pub fn client_in(sim: &SimHandle, dialect: Dialect) -> Client {
    client_with_key(sim, key_for(dialect), policy())
}

pub fn client_with_key(sim: &SimHandle, key: &str, policy: Policy) -> Client {
    direct_client(key, &sim.base_url(), policy)
}

/// A client of the server at `url`, never through a proxy: a proxy set in the developer's
/// environment must not see the test traffic.
pub fn direct_client(key: &str, url: &str, policy: Policy) -> Client {
    Client::builder(key)
        .base_url(url)
        .without_proxy()
        .build()
        .expect("client")
        .policy(policy)
}

/// Defines a test run once per dialect, as `NAME::docs` and `NAME::backend`, so that a
/// failure names its dialect. The body sees the dialect as the named parameter. Attributes
/// written `#[backend ATTR]` apply to the backend test only, e.g.
/// `#[backend ignore = "the client cannot decode …"]`.
macro_rules! in_both_dialects {
    ($($(#[backend $battr:meta])* fn $name:ident($d:ident: Dialect) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn check($d: Dialect) $body

                #[test]
                fn docs() {
                    check(Dialect::Docs)
                }

                #[test]
                $(#[$battr])*
                fn backend() {
                    check(Dialect::Backend)
                }
            }
        )*
    };
}

pub fn client(sim: &SimHandle) -> Client {
    client_with(sim, policy())
}

pub fn client_with(sim: &SimHandle, policy: Policy) -> Client {
    direct_client("kaiko_test_e2e", &sim.base_url(), policy)
}

/// An owned copy of an [`Event`] (events borrow from the call).
#[allow(clippy::large_enum_variant)] // test-only copies, one per event
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Emotion(Emotion),
    Content(String),
    Retry(Retry),
    /// A list element of the decoders kaiko-std enables (a chat choice, a trajectory moment,
    /// ...), as its debug text.
    Element(String),
}

impl Seen {
    pub fn of(event: Event<'_>) -> Seen {
        match event {
            Event::Emotion(e) => Seen::Emotion(e.clone()),
            Event::Content(c) => Seen::Content(c.to_owned()),
            Event::RetryScheduled(r) => Seen::Retry(*r),
            other => Seen::Element(format!("{other:?}")),
        }
    }
}

/// Everything one call reported.
pub struct Run {
    pub result: Result<Success, CallError>,
    pub events: Vec<Seen>,
    pub elapsed_ms: u128,
}

impl Run {
    pub fn ok(&self) -> &Success {
        match &self.result {
            Ok(s) => s,
            Err(e) => panic!("call failed: {e}"),
        }
    }

    pub fn failure(&self) -> Failure {
        match &self.result {
            Err(CallError::Failed(f)) => *f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    pub fn api_error(&self) -> ApiError {
        match self.failure().cause {
            Cause::Api(e) => e,
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    /// `(retry, delay ms, cause)` of every retry notice.
    pub fn retries(&self) -> Vec<(u8, u64, Cause)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Seen::Retry(r) => Some((r.retry, r.delay.as_millis(), r.cause)),
                _ => None,
            })
            .collect()
    }

    /// Emotions of the final attempt (earlier attempts' results are discarded).
    pub fn emotions(&self) -> Vec<kaiko_std::Emotion> {
        let mut out = Vec::new();
        for e in &self.events {
            match e {
                Seen::Emotion(x) => out.push(x.clone()),
                Seen::Retry(_) => out.clear(),
                _ => {}
            }
        }
        out
    }

    /// Completion text of the final attempt.
    pub fn content(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            match e {
                Seen::Content(c) => out.push_str(c),
                Seen::Retry(_) => out.clear(),
                _ => {}
            }
        }
        out
    }

    pub fn content_chunks(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Seen::Content(_)))
            .count()
    }
}

pub fn run(client: &mut Client, request: Request<'_>) -> Run {
    let start = StdInstant::now();
    let mut events = Vec::new();
    let result = client.call(request, |e| events.push(Seen::of(e)));
    Run {
        result,
        events,
        elapsed_ms: start.elapsed().as_millis(),
    }
}

/// Retries are spaced at least by the delays the client announced.
pub fn assert_spacing(run: &Run) {
    let announced: u64 = run.retries().iter().map(|r| r.1).sum();
    assert!(
        run.elapsed_ms >= u128::from(announced),
        "elapsed {} ms < announced backoff {} ms",
        run.elapsed_ms,
        announced
    );
}
