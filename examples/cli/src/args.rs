//! The command line: subcommands, their flags and the checks on flag values (clap derive).
//! Parsing ends in a [`Call`] for the API commands; `sim` keeps its arguments untouched.

use clap::{Args, Parser, Subcommand};
use kaiko_std::kaiko_core::score::Score;

use crate::{CallOptions, Op};

/// The usage lines of the top-level help: one form per command.
const USAGE_LINES: &str = "\
kaiko analyze [OPTIONS] [--context ID] [--external-id ID] TEXT...
       kaiko chat [OPTIONS] [--model M] [--emotion-model E] [--context ID] [--temperature T] [--max-tokens N] [--stream] TEXT...
       kaiko batch [OPTIONS] TEXT...        (a single `-` reads one text per line from stdin)
       kaiko context show [OPTIONS] CONTEXT_ID
       kaiko context message [OPTIONS] CONTEXT_ID EXTERNAL_ID
       kaiko sim [--port P | --addr ADDR] [SIMULATOR OPTIONS]...   (`kaiko sim --help`)
       kaiko completions bash|zsh|fish|elvish|powershell
       kaiko help [COMMAND] | kaiko COMMAND --help
       kaiko version | --version";

/// Output and exit codes, shown under every API command's help.
const CONTRACT: &str = "\
Output:
  analyze, context: the emotion items and the summary, one field per line
  chat: the assistant's text only, then a newline (the emotion and usage go to stderr)
  batch: one line per result in order: its 0-based index, category and scores
  --json: one JSON line (batch: one JSON object per result)

Exit codes:
  0 success   1 API error (not retried)   2 usage error or refused request
  3 retries exhausted, or the server asked to wait longer than the cap
  4 transport error (connect, timeout, malformed response)
  5 standard output is closed or full
  A chat completion that was sent and got no answer is not sent again (it may have been
  billed): exit 4 with `sent without an answer, not sent again`.

Without an API key (--api-key, --api-key-file, $KAIKO_API_KEY) and without --base-url, a
built-in simulator is started on 127.0.0.1 and used instead of the API.";

/// `kaiko`: the Kaiko V2 emotion API from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "kaiko",
    version,
    about = "kaiko: the Kaiko V2 emotion API from the command line",
    override_usage = USAGE_LINES,
    after_help = CONTRACT,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Analyse the emotions of one text
    #[command(after_help = CONTRACT, args_override_self = true)]
    Analyze(AnalyzeArgs),
    /// Send one message to an LLM; the answer and the emotions of the exchange come back
    #[command(after_help = CONTRACT, args_override_self = true)]
    Chat(ChatArgs),
    /// Analyse up to 100 texts in one request
    #[command(after_help = CONTRACT, args_override_self = true)]
    Batch(BatchArgs),
    /// Read a context kept by the server: its state, or one message in it
    #[command(subcommand)]
    Context(ContextCommand),
    /// Run the local simulator of the API until killed (`kaiko sim --help` lists its options)
    #[command(disable_help_flag = true)]
    Sim(SimArgs),
    /// Print a completion script for SHELL on standard output
    #[command(
        after_help = "Example: kaiko completions bash > ~/.local/share/bash-completion/completions/kaiko"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the version
    Version,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContextCommand {
    /// The emotional state of a context: its items, baseline and trend
    #[command(after_help = CONTRACT, args_override_self = true)]
    Show {
        #[arg(value_name = "CONTEXT_ID")]
        context_id: String,
        #[command(flatten)]
        common: Common,
    },
    /// One message of a context, by the external id it was analysed with
    #[command(after_help = CONTRACT, args_override_self = true)]
    Message {
        #[arg(value_name = "CONTEXT_ID")]
        context_id: String,
        #[arg(value_name = "EXTERNAL_ID")]
        external_id: String,
        #[command(flatten)]
        common: Common,
    },
}

/// The flags every API command takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    // The help is a string, not a doc comment: rustdoc would want its URLs in angle brackets.
    #[arg(
        long,
        value_name = "URL",
        help = "API base URL, e.g. http://127.0.0.1:8787/v2 (default: from the key's prefix, \
                kaiko_live_ -> https://api.kaikostudios.xyz/v2, kaiko_test_ -> staging)"
    )]
    base_url: Option<String>,
    /// API key; `-` reads it from standard input. A key on the command line is visible to
    /// other users (ps): prefer $KAIKO_API_KEY or --api-key-file
    #[arg(long, value_name = "KEY", conflicts_with = "api_key_file")]
    api_key: Option<String>,
    /// Read the API key from the first line of this file
    #[arg(long, value_name = "PATH")]
    api_key_file: Option<String>,
    /// Also trust the CA certificate(s) in this PEM or DER file (https)
    #[arg(long, value_name = "PATH")]
    ca_file: Option<String>,
    /// Retries after the first attempt, 0 to 255 [default: 3]
    #[arg(long, value_name = "N", value_parser = retries)]
    max_retries: Option<u8>,
    /// Deadline for the whole call, all retries included, in seconds [default: 120]
    #[arg(long, value_name = "SECS", value_parser = timeout_ms)]
    timeout: Option<u64>,
    /// Print the result as JSON lines
    #[arg(long)]
    json: bool,
    /// Allow sending the key over http:// to a host that is not loopback (without it such a
    /// call is refused before connecting)
    #[arg(long)]
    insecure_http: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Analyse within this context (kept by the server, at most 128 bytes)
    #[arg(long, value_name = "ID")]
    context: Option<String>,
    /// The message's id for a later `kaiko context message` (with --context)
    #[arg(long, value_name = "ID")]
    external_id: Option<String>,
    #[command(flatten)]
    common: Common,
    /// The text; several words are joined with spaces (`--` before a text starting with `-`)
    #[arg(required = true, value_name = "TEXT")]
    text: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The LLM [default: gpt-4o-mini]
    #[arg(long, value_name = "M")]
    model: Option<String>,
    /// The emotion model [default: emotion-v2]
    #[arg(long, value_name = "E")]
    emotion_model: Option<String>,
    /// The session id sent in the body
    #[arg(long, value_name = "ID")]
    context: Option<String>,
    /// Sampling temperature, 0 to 2, e.g. 0.7
    #[arg(long, value_name = "T", value_parser = temperature)]
    temperature: Option<Score>,
    /// Longest completion, in tokens
    #[arg(long, value_name = "N", value_parser = max_tokens)]
    max_tokens: Option<u32>,
    /// Ask for a streamed answer; each piece is printed as it arrives
    #[arg(long)]
    stream: bool,
    #[command(flatten)]
    common: Common,
    /// The message; several words are joined with spaces
    #[arg(required = true, value_name = "TEXT")]
    text: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    #[command(flatten)]
    common: Common,
    /// The texts, at most 100. A single `-` reads one text per line from standard input
    /// (blank lines skipped); the key then cannot come from standard input too: `--api-key -`
    /// and an --api-key-file that is standard input (/dev/stdin, /dev/fd/0, or the same file)
    /// are refused before anything is read
    #[arg(required = true, value_name = "TEXT")]
    texts: Vec<String>,
}

/// `kaiko sim`: everything after `sim` goes to the simulator's own parser. `main` hands it
/// over before clap parses (clap would consume a `--`); this definition gives `kaiko help`,
/// `kaiko help sim` and the completion scripts the command.
#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// The simulator's options (`--port P` is short for `--addr 127.0.0.1:P`)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SIMULATOR OPTIONS"
    )]
    pub(crate) args: Vec<String>,
}

/// An API command ready to run: what to send, with which options, on which operands.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) op: Op,
    pub(crate) options: CallOptions,
    /// The positional arguments; a batch's lone `-` is still `-` (read later, after checks).
    pub(crate) operands: Vec<String>,
}

impl Common {
    fn into_options(self) -> CallOptions {
        CallOptions {
            base_url: self.base_url,
            api_key: self.api_key,
            api_key_file: self.api_key_file,
            ca_file: self.ca_file,
            max_retries: self.max_retries,
            timeout_ms: self.timeout,
            json: self.json,
            insecure_http: self.insecure_http,
            ..CallOptions::default()
        }
    }
}

impl AnalyzeArgs {
    pub(crate) fn into_call(self) -> Call {
        Call {
            op: Op::Analyze,
            options: CallOptions {
                context: self.context,
                external_id: self.external_id,
                ..self.common.into_options()
            },
            operands: vec![self.text.join(" ")],
        }
    }
}

impl ChatArgs {
    pub(crate) fn into_call(self) -> Call {
        Call {
            op: Op::Chat,
            options: CallOptions {
                model: self.model,
                emotion_model: self.emotion_model,
                context: self.context,
                temperature: self.temperature,
                max_tokens: self.max_tokens,
                stream: self.stream,
                ..self.common.into_options()
            },
            operands: vec![self.text.join(" ")],
        }
    }
}

impl BatchArgs {
    pub(crate) fn into_call(self) -> Call {
        Call {
            op: Op::Batch,
            options: self.common.into_options(),
            operands: self.texts,
        }
    }
}

impl ContextCommand {
    pub(crate) fn into_call(self) -> Call {
        match self {
            Self::Show { context_id, common } => Call {
                op: Op::ContextShow,
                options: common.into_options(),
                operands: vec![context_id],
            },
            Self::Message {
                context_id,
                external_id,
                common,
            } => Call {
                op: Op::ContextMessage,
                options: common.into_options(),
                operands: vec![context_id, external_id],
            },
        }
    }
}

// Value checks. Their messages never repeat the value: it could be a key typed in the
// wrong place.

fn retries(v: &str) -> Result<u8, String> {
    v.parse().map_err(|_| "takes a count from 0 to 255".into())
}

/// Seconds (fractions allowed) as whole milliseconds, rounded up so a tiny timeout is not 0.
fn timeout_ms(v: &str) -> Result<u64, String> {
    let secs: f64 = v
        .parse()
        .map_err(|_| "takes a number of seconds, e.g. 2.5".to_owned())?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err("takes a positive number of seconds".into());
    }
    // The float-to-int cast saturates; a deadline of u64::MAX ms is "no deadline" in effect.
    Ok((secs * 1000.0).ceil() as u64)
}

fn temperature(v: &str) -> Result<Score, String> {
    v.parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && (0.0..=2.0).contains(t))
        .and_then(|_| Score::parse(v.as_bytes()))
        .ok_or_else(|| "takes a number from 0 to 2, e.g. 0.7".into())
}

fn max_tokens(v: &str) -> Result<u32, String> {
    v.parse()
        .ok()
        .filter(|&n: &u32| n > 0)
        .ok_or_else(|| "takes a positive count of tokens".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("kaiko").chain(args.iter().copied()))
    }

    fn call(args: &[&str]) -> Call {
        match parse(args).expect("parses").command {
            Command::Analyze(a) => a.into_call(),
            Command::Chat(c) => c.into_call(),
            Command::Batch(b) => b.into_call(),
            Command::Context(c) => c.into_call(),
            other => panic!("not an API command: {other:?}"),
        }
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_take_values_both_ways_and_anywhere() {
        let c = call(&[
            "analyze",
            "hello",
            "--base-url",
            "http://x",
            "--context=c1",
            "--json",
            "world",
        ]);
        assert_eq!(c.op, Op::Analyze);
        assert_eq!(c.options.base_url.as_deref(), Some("http://x"));
        assert_eq!(c.options.context.as_deref(), Some("c1"));
        assert!(c.options.json);
        assert_eq!(c.operands, ["hello world"]);
        let c = call(&["analyze", "--timeout", "1.5", "t"]);
        assert_eq!(c.options.timeout_ms, Some(1500));
        assert_eq!(call(&["analyze", "--", "--json"]).operands, ["--json"]);
    }

    #[test]
    fn the_last_of_a_repeated_option_wins() {
        let c = call(&["batch", "--max-retries=5", "a", "--max-retries", "0"]);
        assert_eq!(c.options.max_retries, Some(0));
        assert_eq!(c.operands, ["a"]);
    }

    #[test]
    fn chat_options_reach_the_call() {
        let c = call(&[
            "chat",
            "--model",
            "m",
            "--emotion-model=e",
            "--temperature",
            "0.7",
            "--max-tokens",
            "9",
            "--stream",
            "hi",
        ]);
        assert_eq!(c.op, Op::Chat);
        assert_eq!(c.options.model.as_deref(), Some("m"));
        assert_eq!(c.options.emotion_model.as_deref(), Some("e"));
        assert_eq!(c.options.temperature, Score::parse(b"0.7"));
        assert_eq!(c.options.max_tokens, Some(9));
        assert!(c.options.stream);
    }

    #[test]
    fn context_commands_take_their_ids() {
        let c = call(&["context", "message", "ctx", "m-1", "--json"]);
        assert_eq!(c.op, Op::ContextMessage);
        assert_eq!(c.operands, ["ctx", "m-1"]);
        assert_eq!(call(&["context", "show", "ctx"]).op, Op::ContextShow);
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            &["analyze", "--max-retries", "x", "t"][..],
            &["analyze", "--max-retries", "256", "t"],
            &["analyze", "--timeout", "-1", "t"],
            &["analyze", "--timeout", "0", "t"],
            &["analyze", "--timeout", "inf", "t"],
            &["analyze", "--timeout", "NaN", "t"],
            &["chat", "--temperature", "2.5", "t"],
            &["chat", "--temperature", "nan", "t"],
            &["chat", "--max-tokens", "0", "t"],
            &["analyze", "--api-key"],
            &["analyze", "--stream", "t"],
            &["analyze", "--json=1", "t"],
            &["analyze", "--api-key", "k", "--api-key-file", "f", "t"],
            &["context", "show"],
            &["context", "show", "a", "b"],
            &["completions", "tcsh"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn sim_arguments_pass_through_untouched() {
        for args in [
            &["--help"][..],
            &["--port", "1", "--fault", "503", "--dialect", "docs"],
            &["-x", "--tls", "extra"],
            &[],
        ] {
            let cli = parse(&[&["sim"][..], args].concat()).expect("parses");
            let Command::Sim(sim) = cli.command else {
                panic!("not sim")
            };
            assert_eq!(sim.args, args, "{args:?}");
        }
    }
}
