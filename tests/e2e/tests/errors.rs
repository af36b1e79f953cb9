//! Every row of the documented error table (spec §5.2) and every error the backend source
//! sends (spec §5.3) surfaces as a typed `ApiError`, against both dialects of the simulator;
//! the bodies real proxies send (HTML, flat, empty) are typed from the status.

#[macro_use]
mod common;

use common::{Dialect, client_in, client_with_key, key_for, policy, run, sim, sim_in, sim_with};
use kaiko_core::error::{ApiError, ErrorCode, ErrorType};
use kaiko_core::request::{ChatMessage, ChatRequest, Message};
use kaiko_sim::{Config, Fault};
use kaiko_std::{CallError, Cause, Client, Policy, Request, Stop};

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
fn api_error_for(fault: Fault, policy: Policy) -> ApiError {
    let sim = sim();
    sim.push_fault(fault);
    let mut c = common::client_with(&sim, policy);
    let r = run(&mut c, Request::analyze(&[Message::user("hi")]));
    r.api_error()
}

/// One stateless analysis by `c`, expected to fail with an API error that is not retried.
fn refused(c: &mut Client) -> ApiError {
    let r = run(c, Request::analyze(&[Message::user("hi")]));
    let f = r.failure();
    assert_eq!((f.stop, f.attempts), (Stop::NotRetryable, 1), "{f:?}");
    let e = r.api_error();
    // From `error.request_id` (docs) or the `apigw-requestid` header (backend).
    assert!(!e.request_id.is_empty());
    e
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

in_both_dialects! {
    fn missing_key_401_is_not_retried(d: Dialect) {
        let sim = sim_with(
            d,
            Config {
                accepted_keys: Some(vec![key_for(d).to_owned()]),
                ..Config::default()
            },
        );
        let bad = match d {
            Dialect::Docs => "kaiko_test_bad",
            Dialect::Backend => "sk_test_bad",
        };
        let e = refused(&mut client_with_key(&sim, bad, policy()));
        // The backend's authorizer answers `{"message":"Unauthorized"}`: 401 names its code.
        assert_eq!(
            (e.status, e.kind, e.code),
            (401, ErrorType::Authentication, ErrorCode::InvalidApiKey)
        );
        assert_eq!(sim.requests_received(), 1);
    }

    fn key_of_the_wrong_shape_401(d: Dialect) {
        // The backend's authorizer takes only `sk_<env>_…` keys and console tokens (spec §2).
        let sim = sim_in(d);
        let mut c = client_with_key(&sim, "kaiko_test_e2e", policy());
        let r = run(&mut c, Request::analyze(&[Message::user("hi")]));
        match d {
            Dialect::Docs => assert_eq!(r.ok().status, 200),
            Dialect::Backend => {
                let e = r.api_error();
                assert_eq!((e.status, e.code), (401, ErrorCode::InvalidApiKey));
                assert_eq!(e.message.as_str(), "Unauthorized");
            }
        }
    }

    fn revoked_key_403(d: Dialect) {
        let sim = sim_with(
            d,
            Config {
                revoked_keys: vec![key_for(d).to_owned()],
                ..Config::default()
            },
        );
        let e = refused(&mut client_in(&sim, d));
        assert_eq!((e.status, e.kind), (403, ErrorType::Forbidden));
        match d {
            Dialect::Docs => assert_eq!(e.code, ErrorCode::KeyRevoked),
            // API Gateway's `{"message":"Forbidden"}` names no cause: no guess.
            Dialect::Backend => {
                assert_eq!((e.code.as_str(), e.message.as_str()), ("http_403", "Forbidden"));
                assert_eq!(e.hint(), None);
            }
        }
    }

    fn paused_key_403_is_not_a_revoked_key(d: Dialect) {
        let sim = sim_with(
            d,
            Config {
                paused_keys: vec![key_for(d).to_owned()],
                ..Config::default()
            },
        );
        let e = refused(&mut client_in(&sim, d));
        assert_eq!((e.status, e.kind), (403, ErrorType::Forbidden));
        assert_ne!(e.code, ErrorCode::KeyRevoked);
        assert_eq!(e.hint(), None);
        assert_eq!(e.message.as_str(), "Access denied: API key is paused");
        let code = match d {
            Dialect::Docs => "key_paused",
            Dialect::Backend => "http_403",
        };
        assert_eq!(e.code.as_str(), code);
        // Reads are not checked for key status (spec §2).
        let mut c = client_in(&sim, d);
        c.analyze("hi", Some("ctx-p"), None, |_| {}).unwrap_err();
        let state = run(&mut c, Request::context_state("ctx-p"));
        assert_eq!(state.api_error().status, 404);
    }

    fn insufficient_credits_402_has_its_own_kind(d: Dialect) {
        let sim = sim_with(
            d,
            Config {
                unfunded_keys: vec![key_for(d).to_owned()],
                ..Config::default()
            },
        );
        let e = refused(&mut client_in(&sim, d));
        assert_eq!(
            (e.status, e.kind, e.code),
            (402, ErrorType::Billing, ErrorCode::InsufficientCredits)
        );
        assert!(e.message.as_str().starts_with("Insufficient credits."));
    }

    fn unknown_context_404(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let r = run(&mut c, Request::context_state("never-seen"));
        let e = r.api_error();
        assert_eq!((e.status, e.kind), (404, ErrorType::NotFound));
        let code = match d {
            Dialect::Docs => "context_not_found",
            // A flat body without a code: 404 covers more than contexts, so no guess.
            Dialect::Backend => "http_404",
        };
        assert_eq!(e.code.as_str(), code);
        assert_eq!(r.failure().attempts, 1);
        let r = run(&mut c, Request::message_lookup("never-seen", "3f2b8c1e-9d4a-4e6b-8f7a-1c2d3e4f5a6b"));
        assert_eq!(r.api_error().status, 404);
    }

    fn reused_external_id_409_or_replaced(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let id = "0b6f1c2a-8e0d-4f59-9a57-6b1d0c3e2f10";
        c.analyze("I am happy", Some("ctx-dup"), Some(id), |_| {})
            .unwrap();
        let second = c.analyze("I am scared", Some("ctx-dup"), Some(id), |_| {});
        match d {
            Dialect::Docs => {
                let Err(CallError::Failed(f)) = second else {
                    panic!("{second:?}")
                };
                let Cause::Api(e) = f.cause else { panic!("{f:?}") };
                assert_eq!(
                    (e.status, e.kind, e.code),
                    (409, ErrorType::Conflict, ErrorCode::DuplicateId)
                );
                assert_eq!(f.stop, Stop::NotRetryable);
            }
            // The backend replaces the message stored under the id (spec §10.13).
            Dialect::Backend => {
                second.unwrap();
                let msg = run(&mut c, Request::message_lookup("ctx-dup", id));
                assert_eq!(
                    msg.emotions()[0].category,
                    Some(kaiko_core::analysis::Category::Fear)
                );
            }
        }
    }

    fn payload_too_large_413_from_the_server_limit(d: Dialect) {
        let sim = sim_with(
            d,
            Config {
                max_body: 256,
                ..Config::default()
            },
        );
        let mut c = client_in(&sim, d);
        let text = "word ".repeat(200);
        let r = run(&mut c, Request::analyze(&[Message::user(&text)]));
        let e = r.api_error();
        // The backend middleware's upper-case `PAYLOAD_TOO_LARGE` matches too.
        assert_eq!((e.status, e.code), (413, ErrorCode::PayloadTooLarge));
        assert_eq!(r.failure().stop, Stop::NotRetryable);
    }

    fn server_validation_error_422_keeps_field_and_rule(d: Dialect) {
        // The docs' examples use `msg-1`; the backend requires a UUID (spec §10.1).
        let sim = sim_in(d);
        let mut c = client_in(&sim, d);
        let r = c.analyze("hi", Some("ctx-v"), Some("msg-1"), |_| {});
        match d {
            Dialect::Docs => assert_eq!(r.unwrap().success.status, 200),
            Dialect::Backend => {
                let Err(CallError::Failed(f)) = r else { panic!("{r:?}") };
                let Cause::Api(e) = f.cause else { panic!("{f:?}") };
                assert_eq!((e.status, e.kind), (422, ErrorType::InvalidRequest));
                assert_ne!(e.code, ErrorCode::InvalidRole);
                assert_eq!(e.code.as_str(), "http_422");
                assert_eq!(e.message.as_str(), "Validation error");
                assert_eq!(e.param.as_str(), "messages.0.externalId (uuid)");
                assert_eq!(e.hint(), None);
                assert_eq!(f.stop, Stop::NotRetryable);
            }
        }
    }

    fn real_rate_limit_429_after_the_window_is_used(d: Dialect) {
        let sim = sim_with(
            d,
            Config {
                rate_limit: 2,
                ..Config::default()
            },
        );
        let mut c = client_with_key(&sim, key_for(d), no_retries());
        c.analyze("one", None, None, |_| {}).unwrap();
        // The second call saw Remaining: 0 and would wait for the reset; skip that wait here.
        let mut c = client_with_key(
            &sim,
            key_for(d),
            Policy {
                respect_rate_limit: false,
                ..no_retries()
            },
        );
        c.analyze("two", None, None, |_| {}).unwrap();
        let r = run(&mut c, Request::analyze(&[Message::user("three")]));
        let e = r.api_error();
        assert_eq!(
            (e.status, e.kind, e.code),
            (429, ErrorType::RateLimit, ErrorCode::TooManyRequests)
        );
        assert_eq!(e.rate_limit.remaining, Some(0));
        assert!(e.rate_limit.reset.is_some());
        // The backend's limiter sets no Retry-After (spec §6): the reset header remains.
        assert_eq!(e.retry_after.is_some(), d == Dialect::Docs);
    }

    fn chat_with_an_unregistered_model(d: Dialect) {
        let sim = sim_in(d);
        let mut c = client_with_key(&sim, key_for(d), no_retries());
        let messages = [ChatMessage::user("hi")];
        let r = run(&mut c, Request::chat(ChatRequest::new("gpt-4", &messages)));
        match d {
            Dialect::Docs => assert_eq!(r.ok().status, 200),
            // The backend throws: 500 `{"status":"error","message":…}` (spec §3.8).
            Dialect::Backend => {
                let e = r.api_error();
                assert_eq!((e.status, e.kind, e.code), (500, ErrorType::Server, ErrorCode::Internal));
                assert_eq!(e.message.as_str(), "Unsupported model: gpt-4");
            }
        }
    }
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
    let mut c = common::client(&sim);
    let msgs = [Message {
        role: Some("robot"),
        ..Message::user("hi")
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
