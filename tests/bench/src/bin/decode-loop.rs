//! Runs one case of the bench report's kaiko side N times, for instruction counts that code
//! layout and other processes do not move:
//!
//! ```sh
//! cargo build --release -p kaiko-bench --bin decode-loop
//! valgrind --tool=cachegrind --cache-sim=no target/release/decode-loop error 1000
//! ```
//!
//! Instructions per decode: the difference between runs of 2 000 and 1 000, over 1 000.
//! Cases: `head`, `head64`, `error`, `quickstart`, `quickstart64`, `analysis`, `analysis64`,
//! `chat`, `chat64` (64: in 64-byte pieces).

use std::hint::black_box;
use std::process::ExitCode;

use kaiko_bench::fixtures::{ANALYSIS_CODE, CHAT, ERROR_ENVELOPE, QUICKSTART, head};
use kaiko_bench::kaiko;
use kaiko_core::http::ResponseHead;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(case), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u32>().ok()))
    else {
        eprintln!("usage: decode-loop CASE N (see the source for the cases)");
        return ExitCode::from(2);
    };
    let wire = head(QUICKSTART.len());
    let error_head = ResponseHead::new(400);
    let (body, piece) = match case.as_str() {
        "quickstart" => (QUICKSTART, usize::MAX),
        "quickstart64" => (QUICKSTART, 64),
        "analysis" => (ANALYSIS_CODE, usize::MAX),
        "analysis64" => (ANALYSIS_CODE, 64),
        "chat" => (CHAT, usize::MAX),
        "chat64" => (CHAT, 64),
        _ => (&[][..], 0),
    };
    for _ in 0..n {
        match case.as_str() {
            "head" => drop(black_box(kaiko::head(black_box(&wire), usize::MAX))),
            "head64" => drop(black_box(kaiko::head(black_box(&wire), 64))),
            "error" => drop(black_box(kaiko::error(
                black_box(ERROR_ENVELOPE),
                &error_head,
            ))),
            _ if piece > 0 => drop(black_box(kaiko::body(black_box(body), piece))),
            _ => {
                eprintln!("decode-loop: unknown case {case:?}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
