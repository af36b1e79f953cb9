//! The shape of `kaiko`'s command line: generated help for every command, usage errors with
//! exit 2, the common flags on every API command, completion scripts, and the refusal of two
//! readers of standard input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `kaiko` with `stdin` as standard input, without a key in the environment (so API
/// commands use the built-in simulator).
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaiko"))
        .args(args)
        .env_remove("KAIKO_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaiko runs");
    let mut input = child.stdin.take().expect("stdin");
    // A run that refuses before reading closes the pipe early: a failed write is expected.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("kaiko ends")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const COMMON_FLAGS: [&str; 8] = [
    "--base-url",
    "--api-key",
    "--api-key-file",
    "--ca-file",
    "--max-retries",
    "--timeout",
    "--json",
    "--insecure-http",
];

/// Every API command (as words) with the flags of its own.
const API_COMMANDS: [(&[&str], &[&str]); 5] = [
    (&["analyze"], &["--context", "--external-id"]),
    (
        &["chat"],
        &[
            "--model",
            "--emotion-model",
            "--context",
            "--temperature",
            "--max-tokens",
            "--stream",
        ],
    ),
    (&["batch"], &[]),
    (&["context", "show"], &[]),
    (&["context", "message"], &[]),
];

#[test]
fn every_command_has_help_naming_its_flags() {
    for (command, own) in API_COMMANDS {
        let help_flag = run(&[command, &["--help"]].concat(), "");
        let mut help_command = vec!["help"];
        help_command.extend_from_slice(command);
        let help_command = run(&help_command, "");
        for o in [&help_flag, &help_command] {
            assert_eq!(o.status.code(), Some(0), "{command:?}: {}", err(o));
            let text = out(o);
            assert!(
                text.contains(&format!("Usage: kaiko {}", command.join(" "))),
                "{command:?}: {text}"
            );
            for flag in COMMON_FLAGS.iter().chain(own) {
                assert!(text.contains(flag), "{command:?} lacks {flag}: {text}");
            }
            assert!(text.contains("Exit codes:"), "{command:?}: {text}");
        }
        assert_eq!(out(&help_flag), out(&help_command), "{command:?}");
    }
    for command in [&["context"][..], &["completions"], &["version"]] {
        let o = run(&[command, &["--help"]].concat(), "");
        assert_eq!(o.status.code(), Some(0), "{command:?}: {}", err(&o));
        assert!(out(&o).contains("Usage: kaiko"), "{command:?}: {}", out(&o));
    }
    let o = run(&["help", "completions"], "");
    assert!(out(&o).contains("powershell"), "{}", out(&o));
}

#[test]
fn sim_help_is_the_simulators_own() {
    let o = run(&["sim", "--help"], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    for flag in ["--addr", "--fault", "--tls", "--ca-out"] {
        assert!(out(&o).contains(flag), "{flag}: {}", out(&o));
    }
    // The simulator's parser, not clap, judges its flags.
    let o = run(&["sim", "--no-such-flag"], "");
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("kaiko-sim"), "{}", err(&o));
}

#[test]
fn unknown_flags_and_bad_values_exit_2_with_a_usage_line() {
    for args in [
        &["analyze", "--bogus", "hi"][..],
        &["chat", "--external-id", "x", "hi"],
        &["batch", "--stream", "a"],
        &["context", "show", "--context", "x", "c"],
        &["context", "message", "--bogus", "c", "m"],
        &["completions", "--bogus", "bash"],
        &["analyze", "--timeout", "soon", "hi"],
        &["chat", "--temperature", "3", "hi"],
        &["context", "show"],
        &["context", "message", "c"],
        &["context", "frob"],
        &["completions", "tcsh"],
        &["analyze", "-x", "hi"],
        &["--bogus"],
    ] {
        let o = run(args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(out(&o).is_empty(), "{args:?}: {}", out(&o));
        assert!(err(&o).starts_with("kaiko: "), "{args:?}: {}", err(&o));
        assert!(
            !err(&o).contains("simulator"),
            "refused before starting one"
        );
    }
    // A text that starts with `-` follows `--`.
    let o = run(&["analyze", "--max-retries", "0", "--", "-x happy"], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

#[test]
fn common_flags_work_on_every_api_command() {
    let common = ["--max-retries", "0", "--timeout", "5", "--json"];
    let ctx = "ctx-common-flags";
    let runs: [(&[&str], &[&str]); 6] = [
        (
            &["analyze"],
            &["--context", ctx, "--external-id", "m-1", "I am happy"],
        ),
        (&["chat"], &["I am nervous"]),
        (&["chat", "--stream"], &["I am nervous"]),
        (&["batch"], &["a happy day", "so sad"]),
        (&["context", "show"], &[ctx]),
        (&["context", "message"], &[ctx, "m-1"]),
    ];
    for (command, operands) in runs {
        let args = [command, &common, operands].concat();
        let o = run(&args, "");
        // Each run starts its own simulator: a fresh one knows no context (exit 1, 404).
        let expected = if command[0] == "context" { 1 } else { 0 };
        assert_eq!(o.status.code(), Some(expected), "{args:?}: {}", err(&o));
        assert!(
            err(&o).contains("using the built-in simulator"),
            "{args:?}: {}",
            err(&o)
        );
        if expected == 0 {
            for line in out(&o).lines() {
                let v: Result<serde_json::Value, _> = serde_json::from_str(line);
                assert!(v.is_ok(), "{args:?}: not JSON: {line}");
            }
            assert!(!out(&o).is_empty(), "{args:?}");
        } else {
            assert!(err(&o).contains("context_not_found"), "{}", err(&o));
        }
        // Options may also follow the operands.
        let args = [command, operands, &common].concat();
        assert_eq!(run(&args, "").status.code(), Some(expected), "{args:?}");
    }
}

#[test]
fn completions_for_every_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell], "");
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", err(&o));
        let script = out(&o);
        assert!(script.len() > 200, "{shell}: {script}");
        for word in [
            "analyze",
            "chat",
            "batch",
            "context",
            "show",
            "message",
            "sim",
            "completions",
            // fish spells a long option `-l max-retries`.
            "max-retries",
        ] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
}

/// The bash script is loaded into bash and asked for the completions of `kaiko ch` and
/// `kaiko chat --max` (bash is where these tests run; the other shells are not installed).
#[test]
fn the_bash_completion_script_completes_commands_and_flags() {
    let script = out(&run(&["completions", "bash"], ""));
    let probe = format!(
        "{script}\n\
         COMP_WORDS=(kaiko ch); COMP_CWORD=1; _kaiko kaiko ch kaiko; echo \"${{COMPREPLY[@]}}\"\n\
         COMP_WORDS=(kaiko chat --max); COMP_CWORD=2; _kaiko kaiko --max chat; echo \"${{COMPREPLY[@]}}\"\n"
    );
    let o = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .expect("bash runs");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let lines: Vec<String> = out(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "chat", "{lines:?}");
    let mut flags: Vec<&str> = lines[1].split(' ').collect();
    flags.sort_unstable();
    assert_eq!(flags, ["--max-retries", "--max-tokens"], "{lines:?}");
}

#[test]
fn batch_from_stdin_refuses_a_key_from_stdin_before_reading() {
    // The key line would otherwise be sent as a text (or the texts read as the key).
    let input = "kaiko_test_fromstdin\nI am happy\n";
    for key_source in [
        &["--api-key", "-"][..],
        &["--api-key-file", "/dev/stdin"],
        &["--api-key-file=/dev/fd/0"],
        &["--api-key-file", "/proc/self/fd/0"],
    ] {
        let args = [
            &["batch"][..],
            key_source,
            &["--base-url", "http://127.0.0.1:9/v2", "-"],
        ]
        .concat();
        let o = run(&args, input);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).contains("standard input"), "{}", err(&o));
        assert!(!err(&o).contains("fromstdin"), "{}", err(&o));
        assert!(out(&o).is_empty());
    }
    // One reader of standard input is fine, whichever it is.
    let o = run(
        &["batch", "--max-retries", "0", "-"],
        "a happy day\n\nso sad\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).lines().count(), 2, "{}", out(&o));
}

#[cfg(unix)]
#[test]
fn batch_from_stdin_refuses_a_key_file_that_is_stdin_by_another_name() {
    let path = std::env::temp_dir().join(format!("kaiko-cli-stdin-{}", std::process::id()));
    std::fs::write(&path, "kaiko_test_samefile\nI am happy\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kaiko"))
        .args([
            "batch",
            "--base-url",
            "http://127.0.0.1:9/v2",
            "--api-key-file",
        ])
        .arg(&path)
        .arg("-")
        .env_remove("KAIKO_API_KEY")
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("standard input"), "{}", err(&o));
}

#[test]
fn a_batch_stdin_larger_than_one_request_is_refused() {
    let line = format!("{}\n", "x".repeat(1000));
    let input = line.repeat(1100);
    let o = run(&["batch", "-"], &input);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // 100 lines of 1000 bytes fit; the 101st line is refused by count before the size.
    assert!(err(&o).contains("at most 100"), "{}", err(&o));
    let o = run(&["batch", "-"], &"y".repeat(2_000_000));
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("bytes"), "{}", err(&o));
}

#[test]
fn version_and_bare_kaiko() {
    for args in [&["--version"][..], &["-V"], &["version"]] {
        let o = run(args, "");
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(out(&o), format!("kaiko {}\n", env!("CARGO_PKG_VERSION")));
    }
    // No command at all: the help on stderr, and a usage error.
    let o = run(&[], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).is_empty());
    assert!(err(&o).contains("Usage: kaiko analyze"), "{}", err(&o));
}

#[test]
fn help_version_and_completions_on_a_full_stdout_exit_5() {
    for args in [
        &["--help"][..],
        &["help", "chat"],
        &["context", "show", "--help"],
        &["--version"],
        &["completions", "zsh"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_kaiko"))
            .args(args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(5), "{args:?}: {}", err(&o));
        assert!(!err(&o).contains("panicked"), "{}", err(&o));
    }
}
