//! `kaiko`: analyse a text with the Kaiko V2 emotion API from the command line, or run the
//! local simulator. See [`USAGE`] for the contract (options, output, exit codes).

use std::io::{BufRead, Write};
use std::process::ExitCode;

/// One line on standard error. A closed or full stderr is ignored: there is nowhere left to
/// report it, and a diagnostic must never turn into a panic.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// [`note!`] without the newline.
macro_rules! note_raw {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod commands;

use kaiko_std::kaiko_core::analysis::{Complexity, DiscoveryLevel, IntensityLevel};
use kaiko_std::kaiko_core::score::Score;
use kaiko_std::kaiko_core::time::Duration;
use kaiko_std::{Analysis, CallError, Cause, Client, ClientError, Emotion, Failure, Policy, Stop};

const USAGE: &str = "\
kaiko: the Kaiko V2 emotion API from the command line

USAGE:
    kaiko analyze [OPTIONS] [--context ID] [--external-id ID] TEXT
    kaiko chat [OPTIONS] [--model M] [--emotion-model E] [--context ID] [--temperature T]
               [--max-tokens N] [--stream] TEXT
    kaiko batch [OPTIONS] TEXT...        (a single `-` reads one text per line from stdin)
    kaiko context show [OPTIONS] CONTEXT_ID
    kaiko context message [OPTIONS] CONTEXT_ID EXTERNAL_ID
    kaiko sim [--port P | --addr ADDR] [--rate-limit N] [--tls [--ca-out PATH]] [--fault SPEC]...
    kaiko help | --help
    kaiko version | --version

OPTIONS (every API command):
    --base-url URL      API base URL, e.g. http://127.0.0.1:8787/v2 (default: from the key prefix,
                        kaiko_live_ -> https://api.kaikostudios.xyz/v2, kaiko_test_ -> staging)
    --api-key KEY       API key; `-` reads it from standard input. A key on the command line is
                        visible to other users (ps): prefer $KAIKO_API_KEY or --api-key-file.
                        With no key and no --base-url, a built-in simulator is started on
                        127.0.0.1
    --api-key-file PATH read the API key from the file's first line
    --ca-file PATH      also trust the CA certificate(s) in this PEM or DER file (https)
    --context ID        analyze: analyse within this context (stored server-side, at most
                        128 bytes); chat: the session id sent in the body
    --external-id ID    analyze: message id for later lookup (with --context)
    --model M           chat: the LLM (default gpt-4o-mini)
    --emotion-model E   chat: the emotion model (default emotion-v2)
    --temperature T     chat: sampling temperature, e.g. 0.7
    --max-tokens N      chat: longest completion
    --stream            chat: ask for a streamed answer; each piece is printed as it arrives
    --max-retries N     retries after the first attempt (default 3)
    --timeout SECS      deadline for the whole call, all retries included (default 120)
    --json              print the result as one JSON line
    --insecure-http     allow sending the key over http:// to a host that is not loopback
                        (without it such a call is refused before connecting)

OUTPUT:
    analyze, context: the emotion items and the summary, one field per line
    chat: the assistant's text only, then a newline (the emotion and usage go to stderr)
    batch: one line per result in order: its 0-based index, category and scores
    --json: one JSON line (batch: one JSON object per result)

EXIT CODES:
    0 success   1 API error (not retried)   2 usage error or refused request
    3 retries exhausted, or the server asked to wait longer than the cap
    4 transport error (connect, timeout, malformed response)
    5 standard output is closed or full
    A chat completion that was sent and got no answer is not sent again (it may have been
    billed): exit 4 with `sent without an answer, not sent again`.
";

/// Key sent to the built-in simulator (it accepts any non-empty key).
const SIM_KEY: &str = "kaiko_test_simulator";

/// Exit codes of the contract.
const EXIT_API: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_EXHAUSTED: u8 = 3;
const EXIT_TRANSPORT: u8 = 4;
const EXIT_OUTPUT: u8 = 5;

/// Messages per batch request (spec §6: batch size 100).
const MAX_BATCH: usize = 100;

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
        return usage_error("an argument is not valid UTF-8");
    };
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("analyze") => ExitCode::from(api(Op::Analyze, args.collect())),
        Some("chat") => ExitCode::from(api(Op::Chat, args.collect())),
        Some("batch") => ExitCode::from(api(Op::Batch, args.collect())),
        Some("context") => match args.next().as_deref() {
            Some("show") => ExitCode::from(api(Op::ContextShow, args.collect())),
            Some("message") => ExitCode::from(api(Op::ContextMessage, args.collect())),
            Some("--help" | "-h" | "help") => ExitCode::from(emit(USAGE)),
            Some(other) => usage_error(&format!(
                "unknown context command `{}` (show or message)",
                option_name(other)
            )),
            None => usage_error("context needs `show` or `message`"),
        },
        Some("sim") => ExitCode::from(sim(args.collect())),
        Some("help" | "--help" | "-h") => ExitCode::from(emit(USAGE)),
        Some("version" | "--version" | "-V") => {
            ExitCode::from(emit(concat!("kaiko ", env!("CARGO_PKG_VERSION"), "\n")))
        }
        Some(other) => usage_error(&format!("unknown command `{}`", option_name(other))),
        None => {
            note_raw!("{USAGE}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    note!("kaiko: {msg} (see `kaiko help`)");
    ExitCode::from(EXIT_USAGE)
}

/// The part of an argument before `=`, so an error message never echoes a value (a key).
fn option_name(arg: &str) -> &str {
    arg.split('=').next().unwrap_or(arg)
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

#[derive(Debug, Default)]
struct AnalyzeArgs {
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
    help: bool,
    text: Vec<String>,
}

#[cfg(test)]
fn parse_analyze(args: Vec<String>) -> Result<AnalyzeArgs, String> {
    parse_args(Op::Analyze, args)
}

fn parse_args(op: Op, args: Vec<String>) -> Result<AnalyzeArgs, String> {
    let chat = op == Op::Chat;
    let mut out = AnalyzeArgs::default();
    let mut it = args.into_iter();
    let mut only_text = false;
    while let Some(arg) = it.next() {
        if only_text || !arg.starts_with("--") || arg == "-" {
            out.text.push(arg);
            continue;
        }
        if arg == "--" {
            only_text = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--base-url" => out.base_url = Some(value()?),
            "--api-key" => out.api_key = Some(value()?),
            "--api-key-file" => out.api_key_file = Some(value()?),
            "--ca-file" => out.ca_file = Some(value()?),
            "--context" if matches!(op, Op::Analyze | Op::Chat) => out.context = Some(value()?),
            "--external-id" if op == Op::Analyze => out.external_id = Some(value()?),
            "--model" if chat => out.model = Some(value()?),
            "--emotion-model" if chat => out.emotion_model = Some(value()?),
            "--temperature" if chat => {
                let v = value()?;
                let t = v
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && (0.0..=2.0).contains(t))
                    .and_then(|_| Score::parse(v.as_bytes()));
                out.temperature =
                    Some(t.ok_or_else(|| format!("--temperature takes 0..=2, not `{v}`"))?);
            }
            "--max-tokens" if chat => {
                let v = value()?;
                out.max_tokens =
                    Some(v.parse().ok().filter(|&n: &u32| n > 0).ok_or_else(|| {
                        format!("--max-tokens takes a positive count, not `{v}`")
                    })?);
            }
            "--stream" if chat && inline.is_none() => out.stream = true,
            "--max-retries" => {
                let v = value()?;
                out.max_retries = Some(
                    v.parse()
                        .map_err(|_| format!("--max-retries takes 0..=255, not `{v}`"))?,
                );
            }
            "--timeout" => {
                let v = value()?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--timeout takes seconds, not `{v}`"))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(format!("--timeout must be positive, not `{v}`"));
                }
                out.timeout_ms = Some((secs * 1000.0).ceil().min(u64::MAX as f64) as u64);
            }
            "--json" if inline.is_none() => out.json = true,
            "--insecure-http" if inline.is_none() => out.insecure_http = true,
            "--help" => out.help = true,
            _ => return Err(format!("unknown option `{name}`")),
        }
    }
    Ok(out)
}

fn api(op: Op, args: Vec<String>) -> u8 {
    let args = match parse_args(op, args) {
        Ok(a) => a,
        Err(msg) => {
            note!("kaiko: {msg} (see `kaiko help`)");
            return EXIT_USAGE;
        }
    };
    if args.help {
        return emit(USAGE);
    }
    let operands = match operands(op, &args.text) {
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

/// The positional arguments of `op`, checked for number (a batch's `-` read from stdin).
fn operands(op: Op, text: &[String]) -> Result<Vec<String>, String> {
    match op {
        Op::Analyze | Op::Chat if text.is_empty() => Err("needs a TEXT".into()),
        Op::Analyze | Op::Chat => Ok(vec![text.join(" ")]),
        Op::Batch => {
            let texts = if text.len() == 1 && text[0] == "-" {
                let mut lines = Vec::new();
                for line in std::io::stdin().lock().lines() {
                    let line = line.map_err(|_| "standard input is not UTF-8 text".to_owned())?;
                    if !line.trim().is_empty() {
                        lines.push(line);
                    }
                    if lines.len() > MAX_BATCH {
                        break;
                    }
                }
                lines
            } else {
                text.to_vec()
            };
            match texts.len() {
                0 => Err("batch needs at least one TEXT".into()),
                n if n > MAX_BATCH => Err(format!(
                    "batch takes at most {MAX_BATCH} texts (the API's limit), not more"
                )),
                _ => Ok(texts),
            }
        }
        Op::ContextShow if text.len() == 1 => Ok(text.to_vec()),
        Op::ContextShow => Err("context show needs exactly one CONTEXT_ID".into()),
        Op::ContextMessage if text.len() == 2 => Ok(text.to_vec()),
        Op::ContextMessage => Err("context message needs a CONTEXT_ID and an EXTERNAL_ID".into()),
    }
}

/// The core's own validation of the request `op` will send.
fn check(op: Op, args: &AnalyzeArgs, operands: &[String]) -> Result<(), kaiko_std::Invalid> {
    commands::with_request(op, args, operands, |request| request.validate())
}

/// The client the options ask for: the built-in simulator when there is neither a key nor a
/// base URL (its handle must outlive the client's calls).
fn client_for(args: &AnalyzeArgs) -> Result<(Client, Option<kaiko_sim::SimHandle>), u8> {
    let key = match api_key(args) {
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
                Client::with_base_url(SIM_KEY, &url)
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
    }
}

/// The key from `--api-key` (`-`: standard input), `--api-key-file`, or `KAIKO_API_KEY`, in
/// that order; `None` when none is set. Errors never contain the key.
fn api_key(args: &AnalyzeArgs) -> Result<Option<String>, String> {
    let key = match (args.api_key.as_deref(), args.api_key_file.as_deref()) {
        (Some(_), Some(_)) => return Err("give --api-key or --api-key-file, not both".into()),
        (Some("-"), None) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|_| "could not read the API key from standard input".to_owned())?;
            Some(line)
        }
        (Some(key), None) => {
            note!(
                "kaiko: warning: a key on the command line is visible to other users; \
                 prefer KAIKO_API_KEY or --api-key-file"
            );
            Some(key.to_owned())
        }
        (None, Some(path)) => {
            let text = std::fs::read(path)
                .map_err(|e| format!("could not read --api-key-file: {}", e.kind()))?;
            let text = String::from_utf8(text)
                .map_err(|_| "--api-key-file does not hold UTF-8 text".to_owned())?;
            Some(text.lines().next().unwrap_or("").to_owned())
        }
        (None, None) => std::env::var("KAIKO_API_KEY").ok(),
    };
    Ok(key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()))
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

/// `kaiko sim`: the simulator's own command line, with `--port P` as a shorthand for
/// `--addr 127.0.0.1:P`.
fn sim(args: Vec<String>) -> u8 {
    let mut forwarded = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let port = match arg.split_once('=') {
            Some(("--port", p)) => Some(p.to_owned()),
            _ if arg == "--port" => match it.next() {
                Some(p) => Some(p),
                None => {
                    note!("kaiko: --port needs a value");
                    return EXIT_USAGE;
                }
            },
            _ => None,
        };
        match port {
            Some(p) => {
                forwarded.push("--addr".to_owned());
                forwarded.push(format!("127.0.0.1:{p}"));
            }
            None => forwarded.push(arg),
        }
    }
    u8::try_from(kaiko_sim::run_cli(forwarded.into_iter())).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<AnalyzeArgs, String> {
        parse_analyze(args.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn options_take_values_both_ways() {
        let a = parse(&[
            "--base-url",
            "http://x",
            "--context=c1",
            "--json",
            "hello",
            "world",
        ])
        .unwrap();
        assert_eq!(a.base_url.as_deref(), Some("http://x"));
        assert_eq!(a.context.as_deref(), Some("c1"));
        assert!(a.json);
        assert_eq!(a.text, ["hello", "world"]);
        assert_eq!(
            parse(&["--timeout", "1.5", "t"]).unwrap().timeout_ms,
            Some(1500)
        );
        assert_eq!(parse(&["--", "--json"]).unwrap().text, ["--json"]);
    }

    #[test]
    fn bad_options_never_echo_values() {
        let err = parse(&["--api-kee=kaiko_live_SECRET", "t"]).unwrap_err();
        assert!(!err.contains("SECRET"), "{err}");
        assert!(parse(&["--max-retries", "x", "t"]).is_err());
        assert!(parse(&["--timeout", "-1", "t"]).is_err());
        assert!(parse(&["--api-key"]).is_err());
    }
}
