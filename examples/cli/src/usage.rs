//! What a command line that does not parse prints, and its exit code. clap's own messages
//! quote the offending argument; these never quote a value (it may be a key typed in the
//! wrong place), only option names and the usage line.

use std::fmt::Write as _;
use std::io::Write as _;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::{EXIT_USAGE, VERSION_LINE, emit};

/// Prints `e` (help and version on stdout, errors on stderr) and returns the exit code:
/// 0 for help and version, [`crate::EXIT_OUTPUT`] if stdout is closed or full, 2 otherwise.
pub(crate) fn report(e: &clap::Error) -> u8 {
    match e.kind() {
        ErrorKind::DisplayHelp => emit(&e.render().to_string()),
        ErrorKind::DisplayVersion => emit(VERSION_LINE),
        // `kaiko` or `kaiko context` alone: the help, as a usage error.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = write!(std::io::stderr(), "{}", e.render());
            EXIT_USAGE
        }
        _ => {
            let _ = write!(std::io::stderr(), "{}", message(e));
            EXIT_USAGE
        }
    }
}

/// The error lines for `e`: what is wrong, a suggestion if clap has one, the usage line.
pub(crate) fn message(e: &clap::Error) -> String {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(argument_name(s)),
        Some(ContextValue::Strings(all)) => Some(
            all.iter()
                .map(|s| argument_name(s))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    };
    let arg = arg.as_deref().unwrap_or("an argument");
    let reason = std::error::Error::source(e).map(ToString::to_string);
    let mut out = String::from("kaiko: ");
    let _ = match e.kind() {
        ErrorKind::UnknownArgument => write!(out, "unexpected argument {arg}"),
        ErrorKind::InvalidSubcommand => {
            let name = match e.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(s)) => argument_name(s),
                _ => "(unnamed)".to_owned(),
            };
            write!(out, "unknown command {name}")
        }
        // clap reports an option given last without its value as an empty invalid value.
        ErrorKind::InvalidValue if matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty()) =>
        {
            write!(out, "{arg} needs a value")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => match &reason {
            Some(r) if !r.is_empty() => write!(out, "{arg} {r}"),
            _ => write!(out, "invalid value for {arg}"),
        },
        ErrorKind::NoEquals => write!(out, "{arg} needs `=` before its value"),
        ErrorKind::TooManyValues => write!(out, "{arg} takes no value here"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            write!(out, "{arg} needs a value")
        }
        ErrorKind::ArgumentConflict => {
            let prior = match e.get(ContextKind::PriorArg) {
                Some(ContextValue::String(s)) => argument_name(s),
                Some(ContextValue::Strings(all)) => all
                    .iter()
                    .map(|s| argument_name(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => "another option".to_owned(),
            };
            write!(out, "give {arg} or {prior}, not both")
        }
        ErrorKind::MissingRequiredArgument => write!(out, "missing {arg}"),
        ErrorKind::MissingSubcommand => write!(out, "missing a command"),
        _ => write!(out, "{}", e.kind()),
    };
    out.push('\n');
    if let Some(ContextValue::String(s)) = e.get(ContextKind::SuggestedArg) {
        let _ = writeln!(out, "  tip: did you mean {}?", argument_name(s));
    }
    if let Some(ContextValue::Strings(s)) = e.get(ContextKind::SuggestedSubcommand) {
        let names: Vec<String> = s.iter().map(|n| argument_name(n)).collect();
        let _ = writeln!(out, "  tip: did you mean {}?", names.join(" or "));
    }
    if let Some(ContextValue::Strings(values)) = e.get(ContextKind::ValidValue)
        && !values.is_empty()
    {
        let _ = writeln!(out, "  possible values: {}", values.join(", "));
    }
    if let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) {
        let _ = writeln!(out, "\n{usage}");
    }
    out.push_str("\nFor more information, try '--help'.\n");
    out
}

/// An argument as it may be shown: an option's name (never its `=value`), a placeholder such
/// as `<TEXT>...`, or a plain lowercase word such as a command name; anything else, which may
/// be a value typed in the wrong place, is not repeated.
fn argument_name(arg: &str) -> String {
    if arg.starts_with('-') {
        let name = arg.split('=').next().unwrap_or(arg);
        // A short-option cluster such as `-xSECRET` could hide a value after its first letter.
        let name: String = if name.starts_with("--") {
            name.to_owned()
        } else {
            name.chars().take(2).collect()
        };
        return format!("`{name}`");
    }
    let placeholder = arg.starts_with('<') && arg.contains('>');
    let word = arg.len() <= 24
        && arg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    if placeholder || (word && !arg.is_empty()) {
        format!("`{arg}`")
    } else {
        "(not repeated: it may be a key)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::Cli;

    fn error(args: &[&str]) -> clap::Error {
        Cli::try_parse_from(std::iter::once("kaiko").chain(args.iter().copied()))
            .expect_err("a usage error")
    }

    #[test]
    fn no_message_repeats_a_value() {
        let secret = "kaiko_live_TOPSECRET4f9a";
        for args in [
            vec!["analyze", "--api-kee=kaiko_live_TOPSECRET4f9a", "t"],
            vec!["analyze", "-kaiko_live_TOPSECRET4f9a", "t"],
            vec!["analyze", "-\u{e9}TOPSECRET4f9a", "t"],
            vec!["analyze", "--max-retries", secret, "t"],
            vec!["analyze", "--timeout", secret, "t"],
            vec!["analyze", "--json=kaiko_live_TOPSECRET4f9a", "t"],
            vec!["context", "show", "ctx", secret],
            vec!["context", "message", "ctx", "id", secret],
            vec!["completions", secret],
            vec![secret],
            vec!["context", secret],
        ] {
            let text = message(&error(&args));
            assert!(!text.contains("TOPSECRET"), "{args:?}: {text}");
            assert!(text.starts_with("kaiko: "), "{text}");
        }
    }

    #[test]
    fn messages_name_the_option_and_the_reason() {
        let text = message(&error(&["analyze", "--timeout", "x", "t"]));
        assert!(
            text.contains("`--timeout <SECS>` takes a number of seconds"),
            "{text}"
        );
        let text = message(&error(&["analyze", "--api-kee=v", "t"]));
        assert!(text.contains("unexpected argument `--api-kee`"), "{text}");
        assert!(text.contains("did you mean `--api-key`?"), "{text}");
        assert!(text.contains("Usage: kaiko analyze"), "{text}");
        let text = message(&error(&["analyse", "t"]));
        assert!(text.contains("unknown command `analyse`"), "{text}");
        assert!(text.contains("did you mean `analyze`?"), "{text}");
        let text = message(&error(&["analyze"]));
        assert!(text.contains("missing `<TEXT>...`"), "{text}");
        let text = message(&error(&["analyze", "--json=yes", "t"]));
        assert!(text.contains("`--json` takes no value"), "{text}");
        let text = message(&error(&["batch", "--api-key=k", "--api-key-file=f", "t"]));
        assert!(text.contains("not both"), "{text}");
        let text = message(&error(&["analyze", "t", "--api-key"]));
        assert!(
            text.starts_with("kaiko: `--api-key <KEY>` needs a value\n"),
            "{text}"
        );
        assert!(!text.contains("possible values"), "{text}");
        let text = message(&error(&["completions", "tcsh"]));
        assert!(text.contains("possible values: bash, "), "{text}");
    }
}
