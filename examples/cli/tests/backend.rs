//! Every API command of `kaiko` against `kaiko sim --dialect backend`: the shapes the public
//! backend sends (flat errors, VineJS details, 402, `_default` keys, `analyse_token` usage, no
//! `Retry-After`, `emotions.analysis` for message lookups), through the simulator started by
//! `kaiko sim` itself, as a user would.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// Keys as the backend issues them (`sk_<env>_<32 alphanumerics>`): its authorizer refuses
/// any other shape.
const KEY: &str = "sk_test_0123456789abcdefghijABCDEFGHIJ01";
const UNFUNDED: &str = "sk_test_unfundedunfundedunfundedunfund";
const PAUSED: &str = "sk_test_pausedpausedpausedpausedpaused";

/// `kaiko sim --dialect backend` on a free port; killed on drop.
struct BackendSim {
    child: Child,
    base_url: String,
}

impl BackendSim {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kaiko"))
            .args(["sim", "--dialect", "backend", "--addr", "127.0.0.1:0"])
            .args(["--unfunded", UNFUNDED, "--paused", PAUSED])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kaiko sim runs");
        let mut line = String::new();
        let stderr = child.stderr.take().expect("stderr");
        BufReader::new(stderr)
            .read_line(&mut line)
            .expect("kaiko sim says where it listens");
        let base_url = line
            .trim()
            .strip_prefix("kaiko-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        BackendSim { child, base_url }
    }

    /// `kaiko CMD --base-url <sim> ARGS...` with `key` in the environment.
    fn run(&self, key: &str, cmd: &[&str], args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kaiko"))
            .env("KAIKO_API_KEY", key)
            // A proxy set in the developer's environment must not see the test traffic.
            .env("no_proxy", "*")
            .env("NO_PROXY", "*")
            .args(cmd)
            .args(["--base-url", &self.base_url])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kaiko runs")
    }
}

impl Drop for BackendSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_line(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", err(o));
    serde_json::from_str(out(o).trim()).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

#[test]
fn every_command_works_against_the_backend_dialect() {
    let sim = BackendSim::start();

    // Stateless analysis: the backend keys its one result `_default`.
    let o = sim.run(KEY, &["analyze"], &["I am so happy today"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("category"), "{}", out(&o));

    // Analysis in a context, then the context's state and one message (`emotions.analysis`).
    let ctx = "backend-ctx";
    let ext = "5b0c7a0e-8f2d-4c1e-9a3b-2d4e6f8a0b1c"; // the backend wants a UUID
    let o = sim.run(
        KEY,
        &["analyze"],
        &[
            "--json",
            "--context",
            ctx,
            "--external-id",
            ext,
            "I am worried",
        ],
    );
    let v = json_line(&o);
    assert!(v["emotions"][0]["category"].as_str().is_some(), "{v}");
    let o = sim.run(KEY, &["context", "show"], &[ctx]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains(ctx), "{}", out(&o));
    let v = json_line(&sim.run(KEY, &["context", "message"], &["--json", ctx, ext]));
    assert!(v["emotions"][0]["category"].as_str().is_some(), "{v}");

    // Chat, plain and asked to stream (the backend answers one JSON document either way).
    let o = sim.run(KEY, &["chat"], &["I am nervous about tomorrow"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plain = out(&o);
    assert!(plain.ends_with('\n') && plain.trim().len() > 5, "{plain:?}");
    let o = sim.run(KEY, &["chat"], &["--stream", "I am nervous about tomorrow"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).trim().len() > 5, "{}", out(&o));
    let v = json_line(&sim.run(KEY, &["chat"], &["--json", "hello there"]));
    assert!(v["content"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
    assert!(v["usage"]["total_tokens"].as_u64().is_some(), "{v}");

    // Batch: one line per text, in order.
    let o = sim.run(KEY, &["batch"], &["--json", "I love it", "so sad"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let rows: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{}", out(&o));
    assert_eq!(rows[1]["index"], 1);
}

#[test]
fn backend_errors_say_what_the_server_said() {
    let sim = BackendSim::start();

    // No credit: 402, its own kind, not retried (exit 1).
    let o = sim.run(UNFUNDED, &["analyze"], &["hello"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("402"), "{}", err(&o));

    // A paused key is a 403 that is not reported as a revoked key.
    let o = sim.run(PAUSED, &["analyze"], &["hello"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("403"), "{}", err(&o));
    assert!(!err(&o).contains("key_revoked"), "{}", err(&o));

    // A key of another shape: the authorizer's flat 401.
    let o = sim.run("kaiko_test_0123456789", &["analyze"], &["hello"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("401"), "{}", err(&o));

    // VineJS validation: the first detail's field and rule, no invented `invalid_role` hint.
    let o = sim.run(
        KEY,
        &["analyze"],
        &["--context", "c", "--external-id", "not-a-uuid", "hello"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("422"), "{e}");
    assert!(e.contains("externalId"), "{e}");
    assert!(!e.contains("invalid_role"), "{e}");

    // An unknown context: 404 with the backend's flat body.
    let o = sim.run(KEY, &["context", "show"], &["no-such-context"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("404"), "{}", err(&o));
}
