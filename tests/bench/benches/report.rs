//! `cargo bench -p kaiko-bench`: every case once, a markdown table on stdout and in
//! `target/bench-report.md`. Ratio = peer ns / kaiko ns (above 1: kaiko is faster).

use std::fmt::Write as _;
use std::hint::black_box;

use kaiko_bench::fixtures::{
    self, ANALYSIS_CODE, CHAT, ERROR_ENVELOPE, QUICKSTART, QUICKSTART_MESSAGES,
};
use kaiko_bench::harness::{Budget, Case, Measurement, case, measure_group};
use kaiko_bench::{kaiko, peers};
use kaiko_core::http::ResponseHead;
use kaiko_core::request::{Request, USER_AGENT};

struct Row {
    case: String,
    kaiko: Measurement,
    /// One `memchr` pass over the same bytes: the one-pass limit.
    floor: Measurement,
    peer_name: &'static str,
    peer: Measurement,
}

struct Report {
    budget: Budget,
    rows: Vec<Row>,
}

impl Report {
    fn row(
        &mut self,
        case: &str,
        (kaiko, floor): (Measurement, Measurement),
        peer_name: &'static str,
        peer: Measurement,
    ) {
        eprintln!(
            "  {case} vs {peer_name}: {:.0} ns / {:.0} ns",
            kaiko.ns, peer.ns
        );
        self.rows.push(Row {
            case: case.to_owned(),
            kaiko,
            floor,
            peer_name,
            peer,
        });
    }

    /// Times the cases of one group, interleaved.
    fn group<const N: usize>(&self, cases: [(usize, Case<'_>); N]) -> [Measurement; N] {
        let m = measure_group(self.budget, cases.into());
        std::array::from_fn(|i| m[i])
    }
}

/// One `memchr` pass over `bytes` for a byte none of the inputs holds (NUL): how fast a
/// single pass over the same bytes can be.
fn floor(bytes: &[u8]) -> (usize, Case<'_>) {
    (
        bytes.len(),
        case(move || memchr::memchr(0, black_box(bytes))),
    )
}

fn target() -> peers::Target<'static> {
    peers::Target {
        host: "api.kaikostudios.xyz",
        user_agent: USER_AGENT,
        key: fixtures::KEY,
        idempotency_key: fixtures::IDEMPOTENCY_KEY,
    }
}

fn heads(r: &mut Report) {
    let wire = fixtures::head(QUICKSTART.len());
    let n = wire.len();
    let [pass, whole, pieces, tokens, fields] = r.group([
        floor(&wire),
        (n, case(|| kaiko::head(black_box(&wire), usize::MAX))),
        (n, case(|| kaiko::head(black_box(&wire), 64))),
        (n, case(|| peers::head_tokens(black_box(&wire)))),
        (n, case(|| peers::head_fields(black_box(&wire)))),
    ]);
    let case = format!("head, 11 headers ({n} B), one slice");
    r.row(&case, (whole, pass), "httparse (tokens only)", tokens);
    r.row(&case, (whole, pass), "httparse + same fields", fields);
    let case = format!("head, 11 headers ({n} B), 64-B pieces");
    r.row(
        &case,
        (pieces, pass),
        "httparse (tokens only, whole head)",
        tokens,
    );
    r.row(
        &case,
        (pieces, pass),
        "httparse + same fields (whole head)",
        fields,
    );
}

fn body(r: &mut Report, name: &str, body: &[u8]) {
    let n = body.len();
    let mut scratch = [0u8; 256];
    let [pass, whole, pieces, json, core] = r.group([
        floor(body),
        (n, case(|| kaiko::body(black_box(body), usize::MAX))),
        (n, case(|| kaiko::body(black_box(body), 64))),
        (
            n,
            case(|| serde_json::from_slice::<peers::SuccessJson>(black_box(body)).ok()),
        ),
        (
            n,
            case(|| peers::core_from_slice::<peers::SuccessCore>(black_box(body), &mut scratch)),
        ),
    ]);
    let case = format!("{name} ({n} B), one slice");
    r.row(&case, (whole, pass), "serde_json typed", json);
    r.row(
        &case,
        (whole, pass),
        "serde-json-core heapless (whole body)",
        core,
    );
    let case = format!("{name} ({n} B), 64-B pieces");
    r.row(&case, (pieces, pass), "serde_json typed (whole body)", json);
    r.row(
        &case,
        (pieces, pass),
        "serde-json-core heapless (whole body)",
        core,
    );
}

fn error(r: &mut Report) {
    let head = ResponseHead::new(400);
    let n = ERROR_ENVELOPE.len();
    let mut scratch = [0u8; 256];
    let [pass, k, json, core] = r.group([
        floor(ERROR_ENVELOPE),
        (n, case(|| kaiko::error(black_box(ERROR_ENVELOPE), &head))),
        (
            n,
            case(|| {
                serde_json::from_slice::<peers::ErrorEnvelopeJson>(black_box(ERROR_ENVELOPE)).ok()
            }),
        ),
        (
            n,
            case(|| {
                peers::core_from_slice::<peers::ErrorEnvelopeCore>(
                    black_box(ERROR_ENVELOPE),
                    &mut scratch,
                )
            }),
        ),
    ]);
    let case = format!("error envelope ({n} B)");
    r.row(&case, (k, pass), "serde_json typed", json);
    r.row(&case, (k, pass), "serde-json-core heapless", core);
}

fn requests(r: &mut Report) {
    let config = kaiko::config();
    let t = target();
    let mut buf = [0u8; 1024];
    let (mut scratch, mut out) = (Vec::with_capacity(1024), Vec::with_capacity(1024));

    let request = Request::analyze(&QUICKSTART_MESSAGES);
    let n = kaiko::write(&request, &config, &mut buf).unwrap_or(0);
    let written = buf.get(..n).unwrap_or(&[]).to_vec();
    let msgs = [peers::AnalyzeMessage {
        role: Some("user"),
        text: QUICKSTART_MESSAGES[0].text,
    }];
    let [pass, k, p] = r.group([
        floor(&written),
        (
            n,
            case(|| kaiko::write(black_box(&request), &config, &mut buf)),
        ),
        (
            n,
            case(|| peers::write_analyze(&t, black_box(&msgs), &mut scratch, &mut out)),
        ),
    ]);
    r.row(
        &format!("request, analysis ({n} B)"),
        (k, pass),
        "write! + serde_json::to_writer",
        p,
    );

    let chat = fixtures::chat_request();
    let request = Request::chat(chat);
    let n = kaiko::write(&request, &config, &mut buf).unwrap_or(0);
    let written = buf.get(..n).unwrap_or(&[]).to_vec();
    let msgs: Vec<_> = fixtures::CHAT_MESSAGES
        .iter()
        .map(|m| peers::ChatMessageJson {
            role: m.role,
            content: m.content,
        })
        .collect();
    let body = peers::ChatBody {
        model: chat.model,
        emotion_model: chat.emotion_model,
        context_id: chat.context_id,
        messages: &msgs,
    };
    let [pass, k, p] = r.group([
        floor(&written),
        (
            n,
            case(|| kaiko::write(black_box(&request), &config, &mut buf)),
        ),
        (
            n,
            case(|| {
                peers::write_post(
                    &t,
                    "/v2/chat/completions",
                    black_box(&body),
                    &mut scratch,
                    &mut out,
                )
            }),
        ),
    ]);
    r.row(
        &format!("request, chat ({n} B)"),
        (k, pass),
        "write! + serde_json::to_writer",
        p,
    );
}

fn exchanges(r: &mut Report) {
    let config = kaiko::config();
    let t = target();
    let msgs = [peers::AnalyzeMessage {
        role: Some("user"),
        text: QUICKSTART_MESSAGES[0].text,
    }];
    let (mut scratch, mut out) = (Vec::with_capacity(1024), Vec::with_capacity(1024));
    for (name, body) in [
        ("quickstart", QUICKSTART),
        ("code-shaped analysis", ANALYSIS_CODE),
    ] {
        let wire = fixtures::response(body);
        let n = wire.len();
        let [pass, k, p] = r.group([
            floor(&wire),
            (
                n,
                case(|| {
                    kaiko::exchange(
                        &config,
                        Request::analyze(&QUICKSTART_MESSAGES),
                        black_box(&wire),
                    )
                }),
            ),
            (
                n,
                case(|| peers::exchange(&t, &msgs, black_box(&wire), &mut scratch, &mut out)),
            ),
        ]);
        r.row(
            &format!("whole Call, {name} ({n} B response)"),
            (k, pass),
            "write!/serde_json + httparse + serde_json",
            p,
        );
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cpu}, {} threads, load average {}; {rustc}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn render(r: &Report, elapsed: std::time::Duration) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# kaiko-core vs httparse / serde_json / serde-json-core\n"
    );
    let _ = writeln!(
        s,
        "Median of {} runs per case after {} ms warm-up, {} ms of timed runs per case, the runs of \
         the cases compared with each other interleaved; {}.\n",
        r.budget.runs,
        r.budget.warm_up.as_millis(),
        r.budget.measure.as_millis(),
        machine()
    );
    let _ = writeln!(
        s,
        "| case | kaiko ns/op | kaiko MB/s | kaiko ns/B | memchr ns/B | peer | peer ns/op | peer MB/s | ratio (peer/kaiko) | ratio of fastest runs | spread k/p |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    for row in &r.rows {
        let per_byte = |m: &Measurement| m.ns / m.bytes.max(1) as f64;
        let _ = writeln!(
            s,
            "| {} | {:.0} | {:.0} | {:.2} | {:.3} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.0}%/{:.0}% |",
            row.case,
            row.kaiko.ns,
            row.kaiko.mb_per_s(),
            per_byte(&row.kaiko),
            per_byte(&row.floor),
            row.peer_name,
            row.peer.ns,
            row.peer.mb_per_s(),
            row.peer.ns / row.kaiko.ns,
            row.peer.min / row.kaiko.min,
            row.kaiko.spread_pct(),
            row.peer.spread_pct(),
        );
    }
    let _ = writeln!(
        s,
        "\nns/op and the first ratio are medians. The ratio of fastest runs is less sensitive to \
         other processes on the machine (they only ever add time); spread = (slowest run − \
         fastest run) / median, for kaiko and the peer. memchr ns/B is one `memchr::memchr` \
         pass over the same bytes (for a byte they do not hold): the limit a one-pass parser \
         approaches."
    );
    let slower: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| row.peer.ns < row.kaiko.ns)
        .collect();
    let _ = writeln!(s);
    if slower.is_empty() {
        let _ = writeln!(s, "kaiko was not slower than the peer in any row.");
    } else {
        let _ = writeln!(
            s,
            "kaiko is slower in {} of {} rows:",
            slower.len(),
            r.rows.len()
        );
        for row in slower {
            let _ = writeln!(
                s,
                "- {} vs {}: {:.2}x the peer's time",
                row.case,
                row.peer_name,
                row.kaiko.ns / row.peer.ns
            );
        }
    }
    let _ = writeln!(
        s,
        "\nWhat each side does:\n\
         - head: kaiko's `HeadParser` tokenizes and interprets (framing, keep-alive, content type, \
         `Date` parsed, rate limits and request id kept); \"httparse (tokens only)\" only splits \
         the head into name/value slices; \"+ same fields\" adds that interpretation \
         (`str::parse`, httpdate). httparse needs the whole head in one buffer, so its \
         64-B-pieces rows compare against httparse on the whole head.\n\
         - bodies: kaiko's `SuccessParser` validates every byte, produces a finished `Emotion` \
         (scores as fixed-point, six highest raw scores, text cut at 64 B) and the summary. \
         serde_json builds owned `String`s/`BTreeMap`s (allocates). serde-json-core fills \
         heapless fields from a body it needs whole in RAM, and skips unknown scalars without \
         validating them. Neither peer can take the body in pieces.\n\
         - error envelope: `ErrorBody::feed` + `finish` (enums parsed, `ApiError` built) vs a \
         plain typed deserialisation.\n\
         - request: `Request::write` validates the request (limits, roles, control bytes), \
         counts the length, then writes into a fixed buffer; the peer serialises the body into \
         a reused `Vec`, then `write!`s the head into another, without validation.\n\
         - whole Call: `Call::new` (validation, idempotency key) + `poll_transmit` + \
         `handle_input` over the whole response + every event until `Done`; the peer pipeline \
         is the request writer above, httparse + same fields, serde_json typed. It has no \
         retry policy, deadlines or event queue.\n"
    );
    let _ = writeln!(s, "Total bench time {:.1} s.", elapsed.as_secs_f64());
    s
}

fn main() {
    // `cargo bench -p kaiko-bench -- WORD`: only the groups whose name contains WORD
    // (head, body, error, request, call).
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |group: &str| filter.is_empty() || filter.iter().any(|f| group.contains(f.as_str()));
    let start = std::time::Instant::now();
    let mut r = Report {
        budget: Budget::from_env(),
        rows: Vec::new(),
    };
    eprintln!("measuring (about 0.35 s per case)...");
    if want("head") {
        heads(&mut r);
    }
    if want("body") {
        body(&mut r, "quickstart body", QUICKSTART);
        body(&mut r, "code-shaped analysis body", ANALYSIS_CODE);
        body(&mut r, "chat completion body", CHAT);
    }
    if want("error") {
        error(&mut r);
    }
    if want("request") {
        requests(&mut r);
    }
    if want("call") {
        exchanges(&mut r);
    }
    let text = render(&r, start.elapsed());
    println!("{text}");
    // target/release/deps/report-<hash> → target/bench-report.md
    let exe = std::env::current_exe().ok();
    if let Some(dir) = exe.as_deref().and_then(|p| p.ancestors().nth(3)) {
        let path = dir.join("bench-report.md");
        match std::fs::write(&path, &text) {
            Ok(()) => eprintln!("written to {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
}
