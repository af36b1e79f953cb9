//! `ureq-client BASE_URL N`: N analysis calls through one ureq 3 agent (keep-alive, a fresh
//! Idempotency-Key per call), the body written and read with serde_json, then this process's CPU
//! time and peak RSS. The other side of `process-compare`.

use kaiko_bench::peers::{AnalyzeMessage, SuccessJson, analyze_body};
use kaiko_bench::process::{ANALYSIS_TEXT, KEY, Keys, args, print_usage};

fn call(
    agent: &ureq::Agent,
    url: &str,
    key: &str,
    body: &[u8],
) -> Result<SuccessJson, Box<dyn std::error::Error>> {
    let mut response = agent
        .post(url)
        .header("x-api-key", KEY)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .send(body)?;
    let bytes = response.body_mut().read_to_vec()?;
    Ok(serde_json::from_slice(&bytes)?)
}

fn main() -> std::process::ExitCode {
    let Some((base, n)) = args() else {
        eprintln!("usage: ureq-client BASE_URL N");
        return std::process::ExitCode::FAILURE;
    };
    let url = format!("{}/emotions/analysis", base.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let messages = [AnalyzeMessage {
        role: Some("user"),
        text: ANALYSIS_TEXT,
    }];
    let mut keys = Keys::new();
    let mut body = Vec::with_capacity(256);
    let mut items = 0;
    for _ in 0..n {
        // Serialised per call, as kaiko writes its request per call.
        let written = analyze_body(&messages, &mut body);
        let result = written
            .map_err(Into::into)
            .and_then(|()| call(&agent, &url, &keys.next_key(), &body));
        match result {
            Ok(s) => items += s.emotions.len(),
            Err(e) => {
                eprintln!("ureq-client: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    println!("calls {n} items {items}");
    print_usage();
    std::process::ExitCode::SUCCESS
}
