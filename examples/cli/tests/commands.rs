//! Every API command of `kaiko` against the simulator: chat (plain, streamed, JSON), batch
//! (arguments, standard input, the 100-text limit), context show and message, `--version`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use kaiko_sim::{Config, Sim, SimHandle};

const KEY: &str = "kaiko_test_commands0123";

fn run(args: &[&str], stdin: &str) -> Output {
    run_with_key(args, stdin, None)
}

fn run_with_key(args: &[&str], stdin: &str, key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaiko"));
    command.env_remove("KAIKO_API_KEY");
    // A proxy set in the developer's environment must not see the test traffic.
    command.env("no_proxy", "*").env("NO_PROXY", "*");
    if let Some(key) = key {
        command.env("KAIKO_API_KEY", key);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaiko runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("stdin written");
    drop(input);
    child.wait_with_output().expect("kaiko ends")
}

/// `kaiko CMD --base-url <sim> ARGS...`, the key in the environment.
fn against(sim: &SimHandle, cmd: &[&str], args: &[&str], stdin: &str) -> Output {
    let url = sim.base_url();
    let mut all: Vec<&str> = cmd.to_vec();
    all.extend(["--base-url", &url]);
    all.extend_from_slice(args);
    run_with_key(&all, stdin, Some(KEY))
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn chat_prints_only_the_answer_and_reports_emotion_and_usage_on_stderr() {
    // No key, no base URL: the built-in simulator.
    let o = run(&["chat", "I am nervous about my interview tomorrow."], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(text.ends_with('\n') && text.trim().len() > 10, "{text:?}");
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(!text.contains("usage"), "{text:?}");
    let e = err(&o);
    assert!(e.contains("emotion user: "), "{e}");
    assert!(e.contains("usage: prompt "), "{e}");
}

#[test]
fn streamed_chat_prints_the_same_text_as_plain_chat() {
    let sim = Sim::start(Config::default()).unwrap();
    let plain = against(&sim, &["chat"], &["I feel great today"], "");
    let streamed = against(&sim, &["chat"], &["--stream", "I feel great today"], "");
    assert_eq!(plain.status.code(), Some(0), "{}", err(&plain));
    assert_eq!(streamed.status.code(), Some(0), "{}", err(&streamed));
    assert_eq!(out(&plain), out(&streamed));
}

#[test]
fn chat_json_has_every_field_and_the_request_says_what_was_asked() {
    let sim = Sim::start(Config::default()).unwrap();
    let o = against(
        &sim,
        &["chat"],
        &[
            "--json",
            "--model",
            "gpt-4o",
            "--temperature",
            "0.5",
            "--max-tokens",
            "64",
            "hello",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(out(&o).trim()).expect("one JSON line");
    assert!(v["content"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
    assert_eq!(v["finish_reason"], "stop");
    assert!(v["usage"]["total_tokens"].as_u64().is_some(), "{v}");
    assert!(
        v["request_id"].as_str().is_some_and(|r| !r.is_empty()),
        "{v}"
    );
    assert_eq!(v["emotions"][0]["role"], "user", "{v}");
}

#[test]
fn chat_options_are_checked_before_anything_is_sent() {
    for bad in [
        &["chat", "--temperature", "hot", "x"][..],
        &["chat", "--temperature", "9", "x"],
        &["chat", "--max-tokens", "0", "x"],
        &["chat"],
        &["batch", "--stream", "x"],
        &["context", "show"],
        &["context", "message", "only-one"],
        &["context", "list"],
    ] {
        let o = run(bad, "");
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", err(&o));
        assert!(out(&o).is_empty(), "{bad:?}");
    }
}

#[test]
fn batch_prints_one_line_per_text_in_order() {
    let sim = Sim::start(Config::default()).unwrap();
    let o = against(
        &sim,
        &["batch"],
        &["I love this", "I hate this", "so sad"],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("{i} ")), "{line}");
        assert!(line.contains("intensity "), "{line}");
    }
    assert!(lines[2].contains("sadness"), "{text}");
}

#[test]
fn batch_reads_texts_from_stdin_and_prints_json_lines() {
    let sim = Sim::start(Config::default()).unwrap();
    let o = against(
        &sim,
        &["batch"],
        &["--json", "-"],
        "a happy day\n\nso sad\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(
        (rows[0]["index"].as_u64(), rows[1]["index"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(rows[1]["category"], "sadness");
}

#[test]
fn a_batch_over_100_texts_is_refused_before_sending() {
    let sim = Sim::start(Config::default()).unwrap();
    let texts: String = (0..101).map(|i| format!("text {i}\n")).collect();
    let o = against(&sim, &["batch"], &["-"], &texts);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("at most 100"), "{}", err(&o));
    assert_eq!(sim.requests_received(), 0);
}

#[test]
fn context_show_and_message_after_analyses_in_a_context() {
    let sim = Sim::start(Config::default()).unwrap();
    // A context id that needs percent-encoding in the path.
    let ctx = "sess 1/a";
    for (id, text) in [("m-1", "I am so happy today"), ("m-2", "now I am worried")] {
        let o = against(
            &sim,
            &["analyze"],
            &["--context", ctx, "--external-id", id, text],
            "",
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
    let o = against(&sim, &["context", "show"], &[ctx], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("baseline         data points 2"), "{text}");
    assert!(text.contains("trend            "), "{text}");
    assert!(text.contains("context          sess 1/a"), "{text}");
    // The earlier message is a similar moment of the trajectory, on its own line.
    assert_eq!(
        text.lines().filter(|l| l.starts_with("moment ")).count(),
        1,
        "{text}"
    );
    assert!(text.contains("moment           m-1 "), "{text}");
    let o = against(&sim, &["context", "show"], &["--json", ctx], "");
    let v: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    assert_eq!(
        v["trajectory"]["similar_moments"][0]["memory_id"], "m-1",
        "{v}"
    );
    let o = against(&sim, &["context", "message"], &["--json", ctx, "m-1"], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    assert_eq!(v["message_id"], "m-1", "{v}");
    assert_eq!(v["emotions"][0]["text"], "I am so happy today", "{v}");
    // An unknown context is the API's 404, exit 1.
    let o = against(&sim, &["context", "show"], &["nope"], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("context_not_found"), "{}", err(&o));
}

#[test]
fn version_and_help_name_every_command() {
    let o = run(&["--version"], "");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(out(&o), format!("kaiko {}\n", env!("CARGO_PKG_VERSION")));
    let o = run(&["help"], "");
    let help = out(&o);
    for cmd in [
        "kaiko analyze",
        "kaiko chat",
        "kaiko batch",
        "kaiko context show",
        "kaiko context message",
        "kaiko sim",
    ] {
        assert!(help.contains(cmd), "{cmd}");
    }
}
