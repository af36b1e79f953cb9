extern crate std;

use super::*;
use crate::http::ResponseHead;
use proptest::prelude::*;
use std::string::String;
use std::vec::Vec;

fn decode(body: &[u8], head: &ResponseHead, cuts: &[usize]) -> ApiError {
    let mut d = ErrorBody::new();
    let mut start = 0;
    for &c in cuts.iter().chain([body.len()].iter()) {
        d.feed(&body[start..c]);
        start = c;
    }
    d.finish(head)
}

/// Decodes `body` whole, at every split point and byte by byte; all must agree.
fn decode_all(body: &[u8], status: u16) -> ApiError {
    let head = ResponseHead::new(status);
    let want = decode(body, &head, &[]);
    for cut in 0..=body.len() {
        assert_eq!(decode(body, &head, &[cut]), want, "cut at {cut}");
    }
    let every: Vec<usize> = (1..body.len()).collect();
    assert_eq!(decode(body, &head, &every), want, "byte at a time");
    want
}

const ENVELOPE: &[u8] = br#"{
  "error": {
"type": "invalid_request_error",
"code": "missing_field",
"message": "The 'messages' field is required",
"param": "messages",
"request_id": "req-7f65ab21d1"
  }
}"#;

const ENVELOPE_V1: &[u8] = br#"{
  "error": {
"type": "invalid_request_error",
"code": "invalid_model",
"message": "The requested model 'gpt-4.1-micro' does not exist.",
"request_id": "req-7f65ab21d1"
  }
}"#;

#[test]
fn documented_envelope() {
    let e = decode_all(ENVELOPE, 400);
    assert_eq!(e.status, 400);
    assert_eq!(e.kind, ErrorType::InvalidRequest);
    assert_eq!(e.code, ErrorCode::MissingField);
    assert_eq!(e.message.as_str(), "The 'messages' field is required");
    assert_eq!(e.param.as_str(), "messages");
    assert_eq!(e.request_id.as_str(), "req-7f65ab21d1");
    assert_eq!(e.retry_after, None);
    assert_eq!(e.hint(), Some("Check required fields (messages, model)"));

    let e = decode_all(ENVELOPE_V1, 404);
    assert_eq!(
        e.kind,
        ErrorType::InvalidRequest,
        "the body's type wins over the status"
    );
    assert_eq!(
        e.code,
        ErrorCode::Other(Text::from_str_truncating("invalid_model"))
    );
    assert_eq!(
        e.message.as_str(),
        "The requested model 'gpt-4.1-micro' does not exist."
    );
    assert!(e.param.is_empty());
}

/// The bodies the deployed backend sends (spec §5.3).
#[test]
fn backend_bodies() {
    let rows: [(u16, &[u8], &str, ErrorType, ErrorCode); 10] = [
        (
            422,
            br#"{"message": "Validation error", "details": [{"field": "messages", "message": "The messages field must be defined", "rule": "required", "meta": {"a": [1, {"b": null}]}}]}"#,
            "Validation error",
            ErrorType::InvalidRequest,
            ErrorCode::Other(Text::from_str_truncating("http_422")),
        ),
        (403, br#"{"message": "Access denied: API key is paused"}"#, "Access denied: API key is paused", ErrorType::Forbidden, ErrorCode::Other(Text::from_str_truncating("http_403"))),
        (403, br#"{"message": "User billing account not found"}"#, "User billing account not found", ErrorType::Forbidden, ErrorCode::Other(Text::from_str_truncating("http_403"))),
        (
            402,
            br#"{"message": "Insufficient credits. Please top up your account or subscribe to a plan."}"#,
            "Insufficient credits. Please top up your account or subscribe to a plan.",
            ErrorType::Billing,
            ErrorCode::InsufficientCredits,
        ),
        (
            429,
            br#"{"message": "Rate limit exceeded. Please retry after the reset window."}"#,
            "Rate limit exceeded. Please retry after the reset window.",
            ErrorType::RateLimit,
            ErrorCode::TooManyRequests,
        ),
        (404, br#"{"message": "Message not found"}"#, "Message not found", ErrorType::NotFound, ErrorCode::Other(Text::from_str_truncating("http_404"))),
        (500, br#"{"status": "error", "message": "Model gpt-9 not found"}"#, "Model gpt-9 not found", ErrorType::Server, ErrorCode::Internal),
        (
            413,
            br#"{"status": "error", "code": "PAYLOAD_TOO_LARGE", "message": "Request body exceeds maximum size of 1048576 bytes"}"#,
            "Request body exceeds maximum size of 1048576 bytes",
            ErrorType::InvalidRequest,
            ErrorCode::PayloadTooLarge,
        ),
        (401, br#"{"message":"Unauthorized"}"#, "Unauthorized", ErrorType::Authentication, ErrorCode::InvalidApiKey),
        (403, br#"{"message":"Forbidden"}"#, "Forbidden", ErrorType::Forbidden, ErrorCode::Other(Text::from_str_truncating("http_403"))),
    ];
    for (status, body, message, kind, code) in rows {
        let e = decode_all(body, status);
        assert_eq!(e.message.as_str(), message);
        assert_eq!(e.kind, kind, "{message}");
        assert_eq!(e.code, code, "{message}");
        assert!(!e.message.is_truncated());
    }
}

#[test]
fn html_text_and_empty_bodies() {
    let e = decode_all(b"<html><body>502 Bad Gateway</body></html>", 502);
    assert_eq!(e.message.as_str(), "502 Bad Gateway");
    assert_eq!(e.kind, ErrorType::Server);
    assert_eq!(
        e.code,
        ErrorCode::Other(Text::from_str_truncating("http_502"))
    );

    let nginx = b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n";
    let e = decode_all(nginx, 504);
    assert_eq!(
        e.message.as_str(),
        "504 Gateway Time-out 504 Gateway Time-out"
    );

    let e = decode_all(b"  Internal Server Error\n", 500);
    assert_eq!(e.message.as_str(), "Internal Server Error");

    let e = decode_all(b"", 503);
    assert_eq!(e, ApiError::from_status(503));
    assert_eq!(e.code, ErrorCode::ServiceUnavailable);
    assert_eq!(decode_all(b" \r\n", 503), ApiError::from_status(503));

    let long = std::format!("<p>{}</p>", "word ".repeat(60));
    let e = decode_all(long.as_bytes(), 500);
    assert!(e.message.is_truncated());
    assert!(e.message.as_str().len() <= MESSAGE_CAP);
    assert!(!e.message.as_str().ends_with(' '));
}

#[test]
fn escapes_are_decoded() {
    let e = decode_all(
        br#"{"error":{"message":"caf\u00e9 \ud83d\ude00 \"q\" \\ \n"}}"#,
        400,
    );
    assert_eq!(e.message.as_str(), "caf\u{e9} \u{1F600} \"q\" \\ \n");
}

#[test]
fn long_message_is_truncated_with_the_flag() {
    let text: String = "é".repeat(250); // 500 bytes, each character two bytes
    let body = std::format!(r#"{{"error":{{"message":"{text}","code":"internal"}}}}"#);
    let e = decode_all(body.as_bytes(), 500);
    assert_eq!(e.message.as_str(), "é".repeat(MESSAGE_CAP / 2));
    assert!(e.message.is_truncated());
    assert_eq!(e.code, ErrorCode::Internal);

    let ascii = "m".repeat(500);
    let body = std::format!(r#"{{"message":"{ascii}"}}"#);
    let e = decode_all(body.as_bytes(), 429);
    assert_eq!(e.message.as_str(), &ascii[..MESSAGE_CAP]);
    assert!(e.message.is_truncated());
}

#[test]
fn envelope_wins_over_flat_fields_in_any_order() {
    for body in [
        &br#"{"message":"flat","code":"flat_code","error":{"message":"env","code":"env_code"}}"#[..],
        br#"{"error":{"message":"env","code":"env_code"},"message":"flat","code":"flat_code"}"#,
    ] {
        let e = decode_all(body, 400);
        assert_eq!(e.message.as_str(), "env");
        assert_eq!(e.code.as_str(), "env_code");
    }
    // A bare string under `error` is a message of last resort.
    assert_eq!(
        decode_all(br#"{"error":"Not Found"}"#, 404)
            .message
            .as_str(),
        "Not Found"
    );
    let e = decode_all(br#"{"error":"x","message":"Not Found"}"#, 404);
    assert_eq!(e.message.as_str(), "Not Found");
}

#[test]
fn unknown_fields_are_skipped_at_any_depth() {
    let body = br#"{"x":{"message":"no","error":{"message":"no"}},"error":{"details":{"message":"no","code":"no"},"message":"yes","extra":[{"message":"no"}]},"list":[{"message":"no"}]}"#;
    let e = decode_all(body, 400);
    assert_eq!(e.message.as_str(), "yes");
    assert_eq!(
        e.code,
        ErrorCode::Other(Text::from_str_truncating("http_400"))
    );
    // Non-string values of known fields are ignored; a numeric code keeps its text.
    let e = decode_all(br#"{"message":{"text":"no"},"code":429,"param":null}"#, 429);
    assert!(e.message.is_empty());
    assert_eq!(e.code.as_str(), "429");
    // A top-level array has no fields.
    assert_eq!(
        decode_all(br#"[{"message":"no"}]"#, 500),
        ApiError::from_status(500)
    );
}

#[test]
fn request_id_and_rate_limit_from_the_head() {
    let mut head = ResponseHead::new(429);
    head.request_id = Text::from_str_truncating("apigw-abc");
    head.rate_limit = RateLimit {
        limit: Some(60),
        remaining: Some(0),
        reset: Some(1_735_862_400),
    };
    let e = decode(br#"{"message":"Rate limit exceeded."}"#, &head, &[]);
    assert_eq!(e.request_id.as_str(), "apigw-abc");
    assert_eq!(e.rate_limit, head.rate_limit);
    assert_eq!(e.retry_after, None);
    let e = decode(ENVELOPE, &head, &[7]);
    assert_eq!(
        e.request_id.as_str(),
        "req-7f65ab21d1",
        "the body's id wins"
    );
}

#[test]
fn malformed_json_keeps_what_was_read() {
    let e = decode_all(br#"{"error":{"code":"duplicate_id","message":"Dup"#, 409);
    assert_eq!(e.code, ErrorCode::DuplicateId);
    assert_eq!(e.message.as_str(), "Dup");
    assert!(e.message.is_truncated());
    // A cut code is dropped; 409 alone does not say which conflict it was.
    let e = decode_all(br#"{"error":{"code":"duplic"#, 409);
    assert_eq!(
        e.code,
        ErrorCode::Other(Text::from_str_truncating("http_409"))
    );
    let e = decode_all(br#"{"message":"ok"} trailing"#, 500);
    assert_eq!(e.message.as_str(), "ok");
    assert!(!e.message.is_truncated());
    let e = decode_all(br#"{"message" "x"}"#, 500);
    assert_eq!(e, ApiError::from_status(500));
}

/// The ten rows of the documented table (spec §5.2), from the status alone.
#[test]
fn status_table() {
    let rows: [(u16, ErrorType, ErrorCode, &str); 11] = [
        (
            402,
            ErrorType::Billing,
            ErrorCode::InsufficientCredits,
            "Top up the account or subscribe to a plan",
        ),
        (
            400,
            ErrorType::InvalidRequest,
            ErrorCode::MissingField,
            "Check required fields (messages, model)",
        ),
        (
            401,
            ErrorType::Authentication,
            ErrorCode::InvalidApiKey,
            "Check x-api-key header",
        ),
        (
            403,
            ErrorType::Forbidden,
            ErrorCode::KeyRevoked,
            "Generate new key in console",
        ),
        (
            404,
            ErrorType::NotFound,
            ErrorCode::ContextNotFound,
            "Verify context_id or model name",
        ),
        (
            409,
            ErrorType::Conflict,
            ErrorCode::DuplicateId,
            "Use unique IDs per message",
        ),
        (
            413,
            ErrorType::InvalidRequest,
            ErrorCode::PayloadTooLarge,
            "Reduce message size or split batch",
        ),
        (
            422,
            ErrorType::InvalidRequest,
            ErrorCode::InvalidRole,
            "Use valid roles: user, assistant, system",
        ),
        (
            429,
            ErrorType::RateLimit,
            ErrorCode::TooManyRequests,
            "Retry with exponential backoff",
        ),
        (
            500,
            ErrorType::Server,
            ErrorCode::Internal,
            "Retry; contact support if persistent",
        ),
        (
            503,
            ErrorType::Server,
            ErrorCode::ServiceUnavailable,
            "Check status page, retry later",
        ),
    ];
    for (status, kind, code, hint) in rows {
        assert_eq!(code.hint(), Some(hint), "{status}");
        assert_eq!(code.status(), Some(status));
        // A body without a code gets the table's only where the status implies it.
        let e = decode_all(b"", status);
        let implied = matches!(status, 401 | 402 | 413 | 429 | 500 | 503);
        let derived = if implied {
            code
        } else {
            ErrorCode::Other(Text::from_str_truncating(&std::format!("http_{status}")))
        };
        assert_eq!((e.kind, e.code), (kind, derived), "{status}");
        assert_eq!(e.hint().is_some(), implied, "{status}");
        assert!(e.message.is_empty() && e.param.is_empty() && e.request_id.is_empty());
    }
    // Codes match case-insensitively; unknown codes keep their text and get no hint.
    assert_eq!(
        ErrorCode::parse("PAYLOAD_TOO_LARGE"),
        ErrorCode::PayloadTooLarge
    );
    assert_eq!(ErrorType::parse("Server_Error"), ErrorType::Server);
    assert_eq!(ErrorCode::parse("invalid_model").hint(), None);
    assert_eq!(ErrorCode::parse("invalid_model").as_str(), "invalid_model");
}

#[test]
fn backend_bodies_are_not_given_misleading_codes() {
    // VineJS validation: the first detail's field and rule become the param.
    let body = br#"{"message":"Validation error","details":[{"message":"The role field must be one of user, assistant, system","rule":"enum","field":"messages.0.role"},{"rule":"required","field":"model"}]}"#;
    for cut in 0..=body.len() {
        let e = decode(body, &ResponseHead::new(422), &[cut]);
        assert_eq!(e.code.as_str(), "http_422");
        assert_ne!(e.code, ErrorCode::InvalidRole);
        assert_eq!(e.hint(), None);
        assert_eq!(e.message.as_str(), "Validation error");
        assert_eq!(e.param.as_str(), "messages.0.role (enum)", "cut at {cut}");
    }
    // A documented param wins over a detail, whatever the order.
    let e = decode_all(
        br#"{"details":[{"field":"a","rule":"b"}],"param":"model"}"#,
        422,
    );
    assert_eq!(e.param.as_str(), "model");
    let e = decode_all(br#"{"details":"oops","message":"m"}"#, 422);
    assert_eq!(e.param.as_str(), "");
    // A paused key is not a revoked one.
    let e = decode_all(br#"{"message":"Access denied: API key is paused"}"#, 403);
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorType::Forbidden, "http_403")
    );
    assert_eq!(e.hint(), None);
    // No credit: its own kind and code.
    let e = decode_all(
        br#"{"message":"Insufficient credits. Please top up your account or subscribe to a plan."}"#,
        402,
    );
    assert_eq!(
        (e.kind, e.code),
        (ErrorType::Billing, ErrorCode::InsufficientCredits)
    );
    // The body-size middleware's upper-case code.
    let e = decode_all(
        br#"{"status":"error","code":"PAYLOAD_TOO_LARGE","message":"Request body exceeds maximum size of 1048576 bytes"}"#,
        413,
    );
    assert_eq!(e.code, ErrorCode::PayloadTooLarge);
}

const PARTS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\"error\"",
    b"\"message\"",
    b"\"code\"",
    b"\"x\\u00e9\"",
    b"1",
    b"null",
    b" ",
];

proptest! {
    /// Arbitrary bytes never panic and give the same error however they are split.
    #[test]
    fn arbitrary_bytes_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        cut in any::<usize>(),
        status in 100u16..600,
    ) {
        let head = ResponseHead::new(status);
        let whole = decode(&body, &head, &[]);
        prop_assert_eq!(decode(&body, &head, &[cut % (body.len() + 1)]), whole);
        prop_assert_eq!(whole.status, status);
        prop_assert!(whole.message.as_str().len() <= MESSAGE_CAP);
    }

    /// JSON-shaped noise around the known keys never panics either.
    #[test]
    fn jsonish_bytes_never_panic(parts in proptest::collection::vec(proptest::sample::select(PARTS), 0..40)) {
        let body: Vec<u8> = parts.concat();
        let _ = decode_all(&body, 400);
    }
}

/// The name arrays, the variant order and the table rows agree: every known name parses to a
/// known variant that writes the same name back, and each code's row is its own.
#[test]
fn name_tables_match_the_variants() {
    for (i, name) in super::table::TYPES.iter().enumerate() {
        let kind = ErrorType::parse(name);
        assert!(!matches!(kind, ErrorType::Other(_)), "{name}");
        assert_eq!(kind.as_str(), *name);
        assert_eq!(ErrorType::known(i), kind);
    }
    for (i, name) in super::table::CODES.iter().enumerate() {
        let code = ErrorCode::parse(name);
        assert!(!matches!(code, ErrorCode::Other(_)), "{name}");
        assert_eq!(code.as_str(), *name);
        assert_eq!(code.index(), Some(i));
        assert_eq!(code.status(), super::table::TABLE.get(i).map(|r| r.status));
    }
    // A code spelled out as `Other` still finds its row; any other text does not.
    let spelled = ErrorCode::Other(Text::from_str_truncating("duplicate_id"));
    assert_eq!(spelled.status(), Some(409));
    assert_eq!(
        ErrorCode::Other(Text::from_str_truncating("http_418")).status(),
        None
    );
}

/// Every key spelling the decoder knows, flat and in the envelope (the key table is packed).
#[test]
fn every_known_key_is_read() {
    let flat = decode_all(
        br#"{"type":"conflict_error","code":"duplicate_id","message":"m","param":"p","requestId":"r-1"}"#,
        409,
    );
    assert_eq!(flat.kind, ErrorType::Conflict);
    assert_eq!(flat.code, ErrorCode::DuplicateId);
    assert_eq!(flat.message.as_str(), "m");
    assert_eq!(flat.param.as_str(), "p");
    assert_eq!(flat.request_id.as_str(), "r-1");
    let envelope = decode_all(
        br#"{"error":{"type":"conflict_error","code":"duplicate_id","message":"m","param":"p","request_id":"r-2"}}"#,
        409,
    );
    assert_eq!(envelope.code, ErrorCode::DuplicateId);
    assert_eq!(envelope.request_id.as_str(), "r-2");
    // A key that is a prefix or an extension of a known one names nothing.
    let other = decode_all(br#"{"messag":"a","messages":"b","request":"c"}"#, 409);
    assert!(other.message.is_empty());
    assert!(other.request_id.is_empty());
}
