//! Every row of the documented error table (spec §5.2) surfaces as a typed `ApiError`, and
//! the bodies real proxies send (HTML, flat, empty) are typed from the status.

mod common;

use common::{client, policy, run, sim};
use kaiko_core::error::{ErrorCode, ErrorType};
use kaiko_sim::{Config, Fault, Sim};
use kaiko_std::{CallError, Client, Policy, Request, Stop};

fn no_retries() -> Policy {
    Policy {
        max_retries: 0,
        ..policy()
    }
}

fn status_fault(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
    }
}

/// One call against a fault; returns the error after checking it was not retried.
fn api_error_for(fault: Fault, policy: Policy) -> kaiko_core::error::ApiError {
    let sim = sim();
    sim.push_fault(fault);
    let mut c = common::client_with(&sim, policy);
    let r = run(
        &mut c,
        Request::analyze(&[kaiko_core::request::Message::user("hi")]),
    );
    r.api_error()
}

#[test]
fn missing_field_400_via_fault() {
    let e = api_error_for(status_fault(400), policy());
    assert_eq!(
        (e.status, e.kind, e.code),
        (400, ErrorType::InvalidRequest, ErrorCode::MissingField)
    );
    assert!(!e.request_id.is_empty());
    assert_eq!(e.hint(), Some("Check required fields (messages, model)"));
}

#[test]
fn invalid_key_401_is_not_retried() {
    let sim = Sim::start(Config {
        accepted_keys: Some(vec!["kaiko_test_good".into()]),
        ..Config::default()
    })
    .unwrap();
    let mut c = Client::with_base_url("kaiko_test_bad", &sim.base_url())
        .unwrap()
        .policy(policy());
    let err = c.analyze("hi", None, None, |_| {}).unwrap_err();
    let CallError::Failed(f) = err else {
        panic!("{err:?}")
    };
    assert_eq!(f.stop, Stop::NotRetryable);
    assert_eq!(f.attempts, 1);
    let kaiko_std::Cause::Api(e) = f.cause else {
        panic!()
    };
    assert_eq!(
        (e.status, e.kind, e.code),
        (401, ErrorType::Authentication, ErrorCode::InvalidApiKey)
    );
    assert_eq!(sim.requests_received(), 1);
}

#[test]
fn revoked_key_403() {
    let sim = Sim::start(Config {
        revoked_keys: vec!["kaiko_test_old".into()],
        ..Config::default()
    })
    .unwrap();
    let mut c = Client::with_base_url("kaiko_test_old", &sim.base_url())
        .unwrap()
        .policy(policy());
    let r = run(
        &mut c,
        Request::analyze(&[kaiko_core::request::Message::user("hi")]),
    );
    let e = r.api_error();
    assert_eq!(
        (e.status, e.kind, e.code),
        (403, ErrorType::Forbidden, ErrorCode::KeyRevoked)
    );
    assert_eq!(r.failure().stop, Stop::NotRetryable);
}

#[test]
fn unknown_context_404() {
    let sim = sim();
    let mut c = client(&sim);
    let r = run(&mut c, Request::context_state("never-seen"));
    let e = r.api_error();
    assert_eq!(
        (e.status, e.kind, e.code),
        (404, ErrorType::NotFound, ErrorCode::ContextNotFound)
    );
    assert_eq!(r.failure().attempts, 1);
}

#[test]
fn duplicate_external_id_409() {
    let sim = sim();
    let mut c = client(&sim);
    let id = "0b6f1c2a-8e0d-4f59-9a57-6b1d0c3e2f10";
    c.analyze("first", Some("ctx-dup"), Some(id), |_| {})
        .unwrap();
    let err = c
        .analyze("second", Some("ctx-dup"), Some(id), |_| {})
        .unwrap_err();
    let CallError::Failed(f) = err else {
        panic!("{err:?}")
    };
    let kaiko_std::Cause::Api(e) = f.cause else {
        panic!()
    };
    assert_eq!(
        (e.status, e.kind, e.code),
        (409, ErrorType::Conflict, ErrorCode::DuplicateId)
    );
    assert_eq!(f.stop, Stop::NotRetryable);
}

#[test]
fn payload_too_large_413_from_the_server_limit() {
    let sim = Sim::start(Config {
        max_body: 256,
        ..Config::default()
    })
    .unwrap();
    let mut c = client(&sim);
    let text = "word ".repeat(200);
    let err = c.analyze(&text, None, None, |_| {}).unwrap_err();
    let CallError::Failed(f) = err else {
        panic!("{err:?}")
    };
    let kaiko_std::Cause::Api(e) = f.cause else {
        panic!("{f:?}")
    };
    assert_eq!((e.status, e.code), (413, ErrorCode::PayloadTooLarge));
    assert_eq!(f.stop, Stop::NotRetryable);
}

#[test]
fn invalid_role_422_via_fault_and_client_validation() {
    let e = api_error_for(status_fault(422), policy());
    assert_eq!(
        (e.status, e.kind, e.code),
        (422, ErrorType::InvalidRequest, ErrorCode::InvalidRole)
    );
    // The client refuses a bad role itself, with the code the server would use.
    let sim = sim();
    let mut c = client(&sim);
    let msgs = [kaiko_core::request::Message {
        role: Some("robot"),
        ..kaiko_core::request::Message::user("hi")
    }];
    match c.call(Request::analyze(&msgs), |_| {}) {
        Err(CallError::Invalid(i)) => assert_eq!((i.status, i.code), (422, ErrorCode::InvalidRole)),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.requests_received(), 0);
}

#[test]
fn rate_limited_429_without_retries() {
    let e = api_error_for(status_fault(429), no_retries());
    assert_eq!(
        (e.status, e.kind, e.code),
        (429, ErrorType::RateLimit, ErrorCode::TooManyRequests)
    );
}

#[test]
fn real_rate_limit_429_after_the_window_is_used() {
    let sim = Sim::start(Config {
        rate_limit: 2,
        ..Config::default()
    })
    .unwrap();
    let mut c = common::client_with(&sim, no_retries());
    c.analyze("one", None, None, |_| {}).unwrap();
    // The second call saw Remaining: 0 and would wait for the reset; skip that wait here.
    let mut c = common::client_with(
        &sim,
        Policy {
            respect_rate_limit: false,
            ..no_retries()
        },
    );
    c.analyze("two", None, None, |_| {}).unwrap();
    let r = run(
        &mut c,
        Request::analyze(&[kaiko_core::request::Message::user("three")]),
    );
    let e = r.api_error();
    assert_eq!(e.status, 429);
    assert_eq!(e.rate_limit.remaining, Some(0));
    assert!(e.retry_after.is_some());
}

#[test]
fn server_errors_500_and_503() {
    let e = api_error_for(status_fault(500), no_retries());
    assert_eq!(
        (e.status, e.kind, e.code),
        (500, ErrorType::Server, ErrorCode::Internal)
    );
    let e = api_error_for(status_fault(503), no_retries());
    assert_eq!(
        (e.status, e.kind, e.code),
        (503, ErrorType::Server, ErrorCode::ServiceUnavailable)
    );
}

#[test]
fn html_flat_status_and_empty_bodies_are_typed_from_the_status() {
    let e = api_error_for(Fault::Html { status: 502 }, no_retries());
    assert_eq!((e.status, e.kind), (502, ErrorType::Server));
    assert_eq!(e.code.as_str(), "http_502");

    let e = api_error_for(Fault::FlatError { status: 500 }, no_retries());
    assert_eq!((e.status, e.code), (500, ErrorCode::Internal));
    assert!(!e.message.is_empty(), "the flat message is kept");

    let e = api_error_for(Fault::StatusError { status: 500 }, no_retries());
    assert_eq!((e.status, e.code), (500, ErrorCode::Internal));
    assert!(!e.message.is_empty());

    let e = api_error_for(Fault::Empty { status: 503 }, no_retries());
    assert_eq!((e.status, e.code), (503, ErrorCode::ServiceUnavailable));
    assert!(e.message.is_empty());
}
