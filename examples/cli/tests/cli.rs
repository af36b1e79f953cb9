//! The `kaiko` binary's contract: exit codes, output formats, and that the key never leaks.

use std::process::{Command, Output};

use kaiko_sim::{Config, Fault, RetryAfterValue, Sim, SimHandle};

/// A key whose secret part must never be printed.
const KEY: &str = "kaiko_test_TOPSECRET4f9a";
const SECRET: &str = "TOPSECRET4f9a";

fn kaiko(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kaiko"))
        .args(args)
        .env_remove("KAIKO_API_KEY")
        // A proxy set in the developer's environment must not see the test traffic.
        .env("no_proxy", "*")
        .env("NO_PROXY", "*")
        .output()
        .expect("kaiko runs")
}

/// `kaiko analyze` against `sim`, the key in the environment (as users should pass it).
fn with_sim(sim: &SimHandle, extra: &[&str], text: &str) -> Output {
    let url = sim.base_url();
    let mut args = vec!["analyze", "--base-url", &url];
    args.extend_from_slice(extra);
    args.push(text);
    Command::new(env!("CARGO_BIN_EXE_kaiko"))
        .args(args)
        .env("KAIKO_API_KEY", KEY)
        // A proxy set in the developer's environment must not see the test traffic.
        .env("no_proxy", "*")
        .env("NO_PROXY", "*")
        .output()
        .expect("kaiko runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code, and the key is absent from both streams.
fn code(o: &Output) -> i32 {
    assert!(
        !stdout(o).contains(SECRET) && !stderr(o).contains(SECRET),
        "key leaked:\n{}\n{}",
        stdout(o),
        stderr(o)
    );
    o.status.code().expect("exit code")
}

#[test]
fn success_prints_a_readable_summary() {
    let sim = Sim::start(Config::default()).unwrap();
    let o = with_sim(&sim, &[], "I feel a bit unsure about this");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for field in [
        "category",
        "fear",
        "intensity",
        "valence",
        "arousal",
        "intensity level",
        "top raw scores",
    ] {
        assert!(out.contains(field), "{field} missing in:\n{out}");
    }
}

#[test]
fn json_output_is_one_parseable_line() {
    let sim = Sim::start(Config::default()).unwrap();
    let o = with_sim(
        &sim,
        &["--json", "--context", "ctx-cli"],
        "I am so happy today",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["status"], 200);
    assert_eq!(v["context_id"], "ctx-cli");
    assert_eq!(v["emotions"][0]["category"], "joy");
    assert!(v["emotions"][0]["intensity"].is_f64());
}

#[test]
fn without_key_or_url_the_builtin_simulator_is_used() {
    let o = kaiko(&["analyze", "hello there"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("using the built-in simulator at http://127.0.0.1:"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn api_error_is_one_line_with_every_field_and_exit_1() {
    let sim = Sim::start(Config {
        revoked_keys: vec![KEY.into()],
        ..Config::default()
    })
    .unwrap();
    let o = with_sim(&sim, &[], "hi");
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    for part in [
        "403",
        "forbidden_error",
        "key_revoked",
        "request_id req-",
        "param",
        "Generate new key",
    ] {
        assert!(err.contains(part), "{part} missing in: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let sim = Sim::start(Config::default()).unwrap();
    let long = "c".repeat(129);
    let o = with_sim(&sim, &["--context", &long], "hi");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("context_id"), "{}", stderr(&o));
    let o = with_sim(&sim, &["--context", "a\u{1}b"], "hi");
    assert_eq!(code(&o), 2);
    assert_eq!(sim.requests_received(), 0, "refused before sending");

    let o = kaiko(&["analyze", "--api-key", "sk_prod_TOPSECRET4f9a", "hi"]);
    assert_eq!(code(&o), 2);
    assert_eq!(code(&kaiko(&["analyze", "--bogus=TOPSECRET4f9a", "hi"])), 2);
    assert_eq!(code(&kaiko(&["analyze"])), 2);
    assert_eq!(code(&kaiko(&["frobnicate"])), 2);

    // Refused before the built-in simulator is even started.
    let o = kaiko(&["analyze", "--context", &long, "hi"]);
    assert_eq!(code(&o), 2);
    assert!(!stderr(&o).contains("simulator"), "{}", stderr(&o));
}

#[test]
fn help_exits_0() {
    for args in [&["--help"][..], &["help"], &["analyze", "--help"]] {
        let o = kaiko(args);
        assert_eq!(code(&o), 0);
        assert!(stdout(&o).contains("kaiko analyze"));
    }
}

#[test]
fn exhausted_retries_exit_3_with_retry_lines() {
    let sim = Sim::start(Config::default()).unwrap();
    let fault = Fault::Status {
        status: 503,
        retry_after: None,
    };
    sim.push_faults([fault, fault]);
    let o = with_sim(&sim, &["--max-retries", "1"], "hi");
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let err = stderr(&o);
    let retry = err
        .lines()
        .find(|l| l.starts_with("retry "))
        .expect("a retry line");
    assert!(retry.starts_with("retry 1/1 in 1."), "{retry}");
    assert!(
        retry.contains(" s after 503 service_unavailable (request_id req-"),
        "{retry}"
    );
}

#[test]
fn retry_after_above_the_cap_exits_3_at_once() {
    let sim = Sim::start(Config::default()).unwrap();
    sim.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(RetryAfterValue::Seconds(3600)),
    });
    let start = std::time::Instant::now();
    let o = with_sim(&sim, &[], "hi");
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(start.elapsed().as_secs() < 5);
    assert!(stderr(&o).contains("above the cap"), "{}", stderr(&o));
}

#[test]
fn transport_errors_exit_4() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v2");
    let o = kaiko(&[
        "analyze",
        "--base-url",
        &url,
        "--api-key",
        KEY,
        "--max-retries",
        "0",
        "hi",
    ]);
    assert_eq!(code(&o), 4);
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));

    let sim = Sim::start(Config::default()).unwrap();
    sim.push_fault(Fault::MalformedHead);
    let o = with_sim(&sim, &["--max-retries", "0"], "hi");
    assert_eq!(code(&o), 4);
    assert!(stderr(&o).contains("malformed response"), "{}", stderr(&o));
}

#[test]
fn timeout_bounds_the_whole_call() {
    let sim = Sim::start(Config::default()).unwrap();
    sim.push_fault(Fault::Stall {
        after_head: false,
        duration: std::time::Duration::from_secs(5),
    });
    let start = std::time::Instant::now();
    let o = with_sim(&sim, &["--timeout", "0.5"], "hi");
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(start.elapsed().as_millis() < 3000);
    assert!(
        stderr(&o).contains("timeout (call deadline)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn retry_line_for_transport_causes() {
    let sim = Sim::start(Config::default()).unwrap();
    sim.push_fault(Fault::CloseWithoutResponse);
    let o = with_sim(&sim, &[], "hi");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("retry 1/3 in 1."), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(" s after connection closed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sim_subcommand_serves_the_api_with_injected_faults() {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Stdio};

    /// Ends the simulator however the test ends.
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    // A free port: bind, read it back, release it for the simulator.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Kill(
        Command::new(env!("CARGO_BIN_EXE_kaiko"))
            .args(["sim", "--port", &port.to_string(), "--fault", "503"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("kaiko sim runs"),
    );
    let mut banner = String::new();
    BufReader::new(child.0.stderr.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    assert!(banner.contains(&format!("127.0.0.1:{port}/v2")), "{banner}");

    // The first request meets the injected 503, the retry succeeds.
    let url = format!("http://127.0.0.1:{port}/v2");
    let o = kaiko(&[
        "analyze",
        "--base-url",
        &url,
        "--api-key",
        KEY,
        "I feel a bit unsure about this",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("retry 1/3"), "{}", stderr(&o));
    assert!(stdout(&o).contains("fear"), "{}", stdout(&o));
}

#[test]
fn the_built_in_simulator_is_reached_directly_whatever_the_proxy_variables_say() {
    // Port 9 (discard) on loopback: nothing listens, so a proxied call would fail.
    let o = Command::new(env!("CARGO_BIN_EXE_kaiko"))
        .args(["analyze", "I am happy"])
        .env_remove("KAIKO_API_KEY")
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .output()
        .expect("kaiko runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).contains("joy"), "{}", stdout(&o));
}
