//! `kaiko-client BASE_URL N`: N analysis calls through one kaiko-std client (keep-alive, a
//! fresh Idempotency-Key per call), then this process's CPU time and peak RSS. One side of
//! `process-compare`.

use kaiko_bench::process::{ANALYSIS_TEXT, KEY, args, print_usage};

fn main() -> std::process::ExitCode {
    let Some((base, n)) = args() else {
        eprintln!("usage: kaiko-client BASE_URL N");
        return std::process::ExitCode::FAILURE;
    };
    let mut client = match kaiko_std::Client::builder(KEY)
        .base_url(&base)
        .without_proxy()
        .build()
    {
        Ok(c) => c.allow_cleartext_key(),
        Err(e) => {
            eprintln!("kaiko-client: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut items = 0;
    for _ in 0..n {
        match client.analyze(ANALYSIS_TEXT, None, None, |_| {}) {
            Ok(a) => items += a.emotions.len(),
            Err(e) => {
                eprintln!("kaiko-client: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    println!(
        "calls {n} items {items} connections {}",
        client.connections_opened()
    );
    print_usage();
    std::process::ExitCode::SUCCESS
}
