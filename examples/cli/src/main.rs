//! `kaiko`: analyse a text with the Kaiko V2 emotion API from the command line, or run the
//! local simulator. `kaiko help` prints the contract (options, output, exit codes); the
//! command line itself is defined in `args.rs`.

use std::io::Write;
use std::process::ExitCode;

/// One line on standard error. A closed or full stderr is ignored: there is nowhere left to
/// report it, and a diagnostic must never turn into a panic.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod commands;
mod key;
mod texts;
mod usage;

use kaiko_std::kaiko_core::analysis::{Complexity, DiscoveryLevel, IntensityLevel};
use kaiko_std::kaiko_core::score::Score;
use kaiko_std::kaiko_core::time::Duration;
use kaiko_std::{Analysis, CallError, Cause, Client, ClientError, Emotion, Failure, Policy, Stop};

use args::{Call, Cli, Command};

/// Key sent to the built-in simulator (it accepts any non-empty key).
const SIM_KEY: &str = "kaiko_test_simulator";

/// What `kaiko --version` and `kaiko version` print.
const VERSION_LINE: &str = concat!("kaiko ", env!("CARGO_PKG_VERSION"), "\n");

/// Exit codes of the contract.
const EXIT_API: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_EXHAUSTED: u8 = 3;
const EXIT_TRANSPORT: u8 = 4;
const EXIT_OUTPUT: u8 = 5;

/// Writes `text` to standard output; [`EXIT_OUTPUT`] when it is closed or full.
fn emit(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(_) => EXIT_OUTPUT,
    }
}

fn main() -> ExitCode {
    // A non-UTF-8 argument is refused without echoing it (it may be a key).
    let Some(args) = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string().ok())
        .collect::<Option<Vec<String>>>()
    else {
        note!("kaiko: an argument is not valid UTF-8 (see `kaiko help`)");
        return ExitCode::from(EXIT_USAGE);
    };
    // The simulator's flags are defined by its own parser only, so they cannot fall out of
    // sync: everything after `sim` reaches it untouched.
    if let Some((first, rest)) = args.split_first()
        && first == "sim"
    {
        return ExitCode::from(sim(rest.to_vec()));
    }
    let cli = match <Cli as clap::Parser>::try_parse_from(
        std::iter::once("kaiko".to_owned()).chain(args),
    ) {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(usage::report(&e)),
    };
    ExitCode::from(match cli.command {
        Command::Analyze(a) => api(a.into_call()),
        Command::Chat(c) => api(c.into_call()),
        Command::Batch(b) => api(b.into_call()),
        Command::Context(c) => api(c.into_call()),
        Command::Sim(s) => sim(s.args),
        Command::Completions { shell } => completions(shell),
        Command::Version => emit(VERSION_LINE),
    })
}

/// `kaiko completions SHELL`: the completion script on standard output.
fn completions(shell: clap_complete::Shell) -> u8 {
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "kaiko",
        &mut script,
    );
    emit(&String::from_utf8_lossy(&script))
}

/// The API commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Analyze,
    Chat,
    Batch,
    ContextShow,
    ContextMessage,
}

/// The options of an API call, as parsed from the command line (unset: the default).
#[derive(Debug, Default)]
struct CallOptions {
    model: Option<String>,
    emotion_model: Option<String>,
    temperature: Option<Score>,
    max_tokens: Option<u32>,
    stream: bool,
    base_url: Option<String>,
    api_key: Option<String>,
    api_key_file: Option<String>,
    ca_file: Option<String>,
    context: Option<String>,
    external_id: Option<String>,
    max_retries: Option<u8>,
    timeout_ms: Option<u64>,
    json: bool,
    insecure_http: bool,
}

fn api(call: Call) -> u8 {
    let Call {
        op,
        options: args,
        operands,
    } = call;
    // Checked before anything is read: both would consume the same standard input.
    if op == Op::Batch
        && texts::from_stdin(&operands)
        && let Some(msg) = key::conflicts_with_stdin_texts(&args)
    {
        note!("kaiko: {msg} (see `kaiko batch --help`)");
        return EXIT_USAGE;
    }
    let operands = match texts::operands(op, operands) {
        Ok(o) => o,
        Err(msg) => {
            note!("kaiko: {msg} (see `kaiko help`)");
            return EXIT_USAGE;
        }
    };
    // Refuse what the server would refuse before anything is started or connected.
    if let Err(i) = check(op, &args, &operands) {
        note!("kaiko: request refused before sending: {i}");
        return EXIT_USAGE;
    }
    // The simulator lives until the end of this function.
    let (mut client, sim) = match client_for(&args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let code = match op {
        Op::Analyze => commands::analyze(&mut client, &args, &operands[0]),
        Op::Chat => commands::chat(&mut client, &args, &operands[0]),
        Op::Batch => commands::batch(&mut client, &args, &operands),
        Op::ContextShow => commands::context_show(&mut client, &args, &operands[0]),
        Op::ContextMessage => {
            commands::context_message(&mut client, &args, &operands[0], &operands[1])
        }
    };
    drop(sim);
    code
}

/// The core's own validation of the request `op` will send.
fn check(op: Op, args: &CallOptions, operands: &[String]) -> Result<(), kaiko_std::Invalid> {
    commands::with_request(op, args, operands, |request| request.validate())
}

/// The client the options ask for: the built-in simulator when there is neither a key nor a
/// base URL (its handle must outlive the client's calls).
fn client_for(args: &CallOptions) -> Result<(Client, Option<kaiko_sim::SimHandle>), u8> {
    let key = match key::api_key(args) {
        Ok(key) => key,
        Err(msg) => {
            note!("kaiko: {msg}");
            return Err(EXIT_USAGE);
        }
    };

    let mut sim = None;
    let built = match (&key, &args.base_url) {
        (None, None) => match kaiko_sim::Sim::start(kaiko_sim::Config::default()) {
            Ok(handle) => {
                let url = handle.base_url();
                note!("kaiko: no API key set; using the built-in simulator at {url}");
                sim = Some(handle);
                // The simulator runs in this process: never through a proxy.
                Client::builder(SIM_KEY)
                    .base_url(&url)
                    .without_proxy()
                    .build()
            }
            Err(e) => {
                note!("kaiko: could not start the built-in simulator: {e}");
                return Err(EXIT_TRANSPORT);
            }
        },
        (key, Some(url)) => Client::with_base_url(key.as_deref().unwrap_or(SIM_KEY), url),
        (Some(key), None) => Client::new(key),
    };
    let client = match built {
        Ok(c) => c,
        Err(ClientError::UnknownEnvironment) => {
            note!(
                "kaiko: the API key's prefix is neither kaiko_live_ nor kaiko_test_; pass --base-url"
            );
            return Err(EXIT_USAGE);
        }
        Err(e) => {
            note!("kaiko: {e}");
            return Err(EXIT_USAGE);
        }
    };
    let mut policy = Policy::DEFAULT;
    if let Some(n) = args.max_retries {
        policy.max_retries = n;
    }
    if let Some(ms) = args.timeout_ms {
        policy.deadline = Some(Duration::from_millis(ms));
    }
    let mut client = client.policy(policy);
    if let Some(path) = &args.ca_file {
        let trusted = std::fs::read(path)
            .map_err(|e| format!("could not read --ca-file: {}", e.kind()))
            .and_then(|text| {
                client
                    .with_root_certificates_pem(&text)
                    .map_err(|e| format!("could not use --ca-file: {e}"))
            });
        client = match trusted {
            Ok(c) => c,
            Err(msg) => {
                note!("kaiko: {msg}");
                return Err(EXIT_USAGE);
            }
        };
    }
    if args.insecure_http {
        client = client.allow_cleartext_key();
    }
    Ok((client, sim))
}

/// One stderr line for a call that did not succeed; returns the exit code.
fn call_error(e: CallError) -> u8 {
    match e {
        CallError::Invalid(i) => {
            note!("kaiko: request refused before sending: {i}");
            EXIT_USAGE
        }
        CallError::CleartextKey => {
            note!(
                "kaiko: refusing to send the API key over http:// to a host that is not loopback \
                 (use https://, or --insecure-http to allow it)"
            );
            EXIT_USAGE
        }
        e @ CallError::TooManyItems { .. } => {
            note!("kaiko: transport error: {e}");
            EXIT_TRANSPORT
        }
        CallError::Setup(e) => {
            note!("kaiko: {e}");
            EXIT_USAGE
        }
        CallError::Failed(f) => report_failure(&f),
        CallError::Proxy(e) => {
            note!("kaiko: {e}");
            EXIT_TRANSPORT
        }
        // Refused, IdempotencyKey, and any refusal added later: nothing was sent.
        e => {
            note!("kaiko: {e}");
            EXIT_USAGE
        }
    }
}

/// One stderr line per failure; returns the exit code.
fn report_failure(f: &Failure) -> u8 {
    let attempts = format!(
        "{} attempt{}",
        f.attempts,
        if f.attempts == 1 { "" } else { "s" }
    );
    match &f.cause {
        Cause::Api(e) => {
            let or_dash = |s: &str| {
                if s.is_empty() {
                    "-".to_owned()
                } else {
                    one_line(s)
                }
            };
            note!(
                "kaiko: API error: status {} type {} code {} message {:?} param {} request_id {} ({}, {}){}",
                e.status,
                one_line(e.kind.as_str()),
                one_line(e.code.as_str()),
                e.message.as_str(),
                or_dash(e.param.as_str()),
                or_dash(e.request_id.as_str()),
                f.stop,
                attempts,
                e.hint().map(|h| format!("; hint: {h}")).unwrap_or_default(),
            );
            match f.stop {
                Stop::NotRetryable => EXIT_API,
                _ => EXIT_EXHAUSTED,
            }
        }
        other => {
            note!(
                "kaiko: transport error: {} ({}, {})",
                one_line(&other.to_string()),
                f.stop,
                attempts
            );
            EXIT_TRANSPORT
        }
    }
}

/// A server string made safe for a terminal: control characters (escape sequences, line
/// breaks that could forge a line) are written as `\u{..}` escapes, so output stays one line
/// per field and nothing the server sends can drive the terminal.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn score(s: Score) -> f64 {
    f64::from(s.0) / f64::from(Score::SCALE)
}

fn intensity_level(l: &IntensityLevel) -> &str {
    match l {
        IntensityLevel::Critical => "critical",
        IntensityLevel::High => "high",
        IntensityLevel::Moderate => "moderate",
        IntensityLevel::Subtle => "subtle",
        IntensityLevel::Minimal => "minimal",
        IntensityLevel::Other(t) => t.as_str(),
    }
}

fn complexity(c: &Complexity) -> &str {
    match c {
        Complexity::Simple => "simple",
        Complexity::Layered => "layered",
        Complexity::Paradoxical => "paradoxical",
        Complexity::Transcendent => "transcendent",
        Complexity::Other(t) => t.as_str(),
    }
}

fn discovery_level(d: &DiscoveryLevel) -> &str {
    match d {
        DiscoveryLevel::Routine => "routine",
        DiscoveryLevel::Normal => "normal",
        DiscoveryLevel::Significant => "significant",
        DiscoveryLevel::Breakthrough => "breakthrough",
        DiscoveryLevel::Transcendent => "transcendent",
        DiscoveryLevel::Other(t) => t.as_str(),
    }
}

fn emotion_json(e: &Emotion) -> serde_json::Value {
    let raw: serde_json::Map<String, serde_json::Value> = e
        .raw
        .iter()
        .map(|(category, s)| (category.as_str().to_owned(), serde_json::json!(score(s))))
        .collect();
    serde_json::json!({
        "role": e.role.as_str(),
        "index": e.index,
        "text": e.text.as_str(),
        "category": e.category.as_ref().map(|c| c.as_str()),
        "intensity": e.intensity.map(score),
        "intensity_level": e.intensity_level.as_ref().map(intensity_level),
        "valence": e.valence.map(score),
        "arousal": e.arousal.map(score),
        "complexity": e.complexity.as_ref().map(complexity),
        "wonder_index": e.wonder_index.map(score),
        "discovery_level": e.discovery_level.as_ref().map(discovery_level),
        "raw": raw,
        "raw_truncated": e.raw.is_truncated(),
    })
}

fn to_json(a: &Analysis) -> String {
    let s = &a.success;
    let text_or_null = |t: &str| {
        if t.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::json!(t)
        }
    };
    serde_json::json!({
        "status": s.status,
        "object": text_or_null(s.summary.object.as_str()),
        "model": text_or_null(s.summary.model.as_str()),
        "context_id": text_or_null(s.summary.context_id.as_str()),
        "request_id": text_or_null(s.request_id.as_str()),
        "attempts": s.attempts,
        "emotions": a.emotions.iter().map(emotion_json).collect::<Vec<_>>(),
    })
    .to_string()
}

fn to_text(a: &Analysis) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let opt = |s: Option<Score>| s.map_or_else(|| "-".to_owned(), |s| s.to_string());
    if a.emotions.is_empty() {
        out.push_str("no emotion items in the response\n");
    }
    for e in &a.emotions {
        if a.emotions.len() > 1 || !e.role.eq_str("user") {
            let _ = writeln!(
                out,
                "[{}]",
                if e.role.is_empty() {
                    "item".to_owned()
                } else {
                    one_line(e.role.as_str())
                }
            );
        }
        let level = one_line(e.intensity_level.as_ref().map_or("-", intensity_level));
        let _ = writeln!(
            out,
            "category         {}",
            e.category
                .as_ref()
                .map_or("-".to_owned(), |c| one_line(c.as_str()))
        );
        let _ = writeln!(out, "intensity        {}", opt(e.intensity));
        let _ = writeln!(out, "intensity level  {level}");
        let _ = writeln!(out, "valence          {}", opt(e.valence));
        let _ = writeln!(out, "arousal          {}", opt(e.arousal));
        let raw: Vec<String> = e
            .raw
            .iter()
            .take(5)
            .map(|(c, s)| format!("{} {s}", one_line(c.as_str())))
            .collect();
        let _ = writeln!(
            out,
            "top raw scores   {}",
            if raw.is_empty() {
                "-".to_owned()
            } else {
                raw.join(", ")
            }
        );
    }
    let s = &a.success;
    if !s.summary.context_id.is_empty() {
        let _ = writeln!(
            out,
            "context          {}",
            one_line(s.summary.context_id.as_str())
        );
    }
    if !s.request_id.is_empty() {
        let _ = writeln!(out, "request id       {}", one_line(s.request_id.as_str()));
    }
    if s.attempts > 1 {
        let _ = writeln!(out, "attempts         {}", s.attempts);
    }
    out
}

/// `kaiko sim`: the simulator's own command line (`kaiko sim --help`), arguments untouched.
fn sim(args: Vec<String>) -> u8 {
    u8::try_from(kaiko_sim::run_cli(args.into_iter())).unwrap_or(1)
}
