//! Shared helpers: short policies so the suite runs in seconds, and event collection.
#![allow(dead_code, unreachable_pub)]

use std::time::Instant as StdInstant;

use kaiko_core::error::ApiError;
use kaiko_core::time::Duration;
use kaiko_sim::{Config, Sim, SimHandle};
use kaiko_std::{CallError, Cause, Client, Event, Failure, Policy, Request, Success, Timeouts};

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
    }
}

pub fn sim() -> SimHandle {
    Sim::start(Config::default()).expect("sim starts")
}

pub fn client(sim: &SimHandle) -> Client {
    client_with(sim, policy())
}

pub fn client_with(sim: &SimHandle, policy: Policy) -> Client {
    Client::with_base_url("kaiko_test_e2e", &sim.base_url())
        .expect("client")
        .policy(policy)
}

/// Everything one call reported.
pub struct Run {
    pub result: Result<Success, CallError>,
    pub events: Vec<Event>,
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
                Event::RetryScheduled {
                    retry,
                    delay,
                    cause,
                    ..
                } => Some((*retry, delay.as_millis(), *cause)),
                _ => None,
            })
            .collect()
    }

    /// Emotions of the final attempt (earlier attempts' results are discarded).
    pub fn emotions(&self) -> Vec<kaiko_std::Emotion> {
        let mut out = Vec::new();
        for e in &self.events {
            match e {
                Event::Emotion(x) => out.push(x.clone()),
                Event::RetryScheduled { .. } => out.clear(),
                _ => {}
            }
        }
        out
    }

    /// Completion text of the final attempt.
    pub fn content(&self) -> String {
        let mut out = Vec::new();
        for e in &self.events {
            match e {
                Event::Content(c) => out.extend_from_slice(&c.bytes),
                Event::RetryScheduled { .. } => out.clear(),
                _ => {}
            }
        }
        String::from_utf8(out).expect("utf-8 content")
    }

    pub fn content_chunks(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Content(_)))
            .count()
    }
}

pub fn run(client: &mut Client, request: Request<'_>) -> Run {
    let start = StdInstant::now();
    let mut events = Vec::new();
    let result = client.call(request, |e| events.push(e.clone()));
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
