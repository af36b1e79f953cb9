//! No input makes `kaiko` panic: hostile server strings, closed or full output, arguments that
//! are not UTF-8 or not what an option expects, keys from every source. Every network address
//! used here is loopback.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output, Stdio};

use kaiko_sim::{Config, Sim};
use proptest::prelude::*;

const KEY: &str = "kaiko_test_TOPSECRET4f9a";
const SECRET: &str = "TOPSECRET4f9a";

fn kaiko() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kaiko"));
    c.env_remove("KAIKO_API_KEY").stdin(Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The exit code; the run must not have panicked (101) nor leaked the key.
fn checked(o: &Output) -> i32 {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "key leaked:\n{out}\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let code = o.status.code().expect("exited");
    assert_ne!(code, 101, "{err}");
    code
}

/// Answers with `status` and the JSON `body`, then closes.
fn one_response(status: &'static str, body: String) -> String {
    one_response_with(status, "", body)
}

/// [`one_response`] with extra header lines (each ending in `\r\n`).
fn one_response_with(status: &'static str, extra: &'static str, body: String) -> String {
    raw_response(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nx-request-id: req-1\r\n{extra}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[test]
fn server_strings_cannot_drive_the_terminal_or_forge_lines() {
    let evil = r#"\u001b[2J\u001b[31mjoy\nrequest id       req-forged"#;
    let body = format!(
        r#"{{"object":"emotions.analysis","context_id":"c\r\nattempts 9","emotions":{{"us\u001ber":{{"category":"{evil}","intensityLevel":"high\u0007","raw":{{"{evil}":0.5}}}}}}}}"#
    );
    let url = one_response("200 OK", body);
    let o = kaiko()
        .args([
            "analyze",
            "--base-url",
            &url,
            "--api-key-file",
            "/dev/stdin",
            "hi",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(KEY.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(checked(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        !out.bytes().any(|b| b.is_ascii_control() && b != b'\n'),
        "{out:?}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with("request id       req-forged")),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("attempts")), "{out}");
    assert!(out.contains("\\u{1b}[2J"), "escaped, still readable: {out}");

    // API errors print server strings too.
    let body = r#"{"error":{"type":"x\u001b]0;t\u0007","code":"bad\ncode","message":"m\u001b[1m","param":"p\r"}}"#;
    let url = one_response("400 Bad Request", body.to_owned());
    let o = kaiko()
        .args(["analyze", "--base-url", &url, "--api-key", KEY, "hi"])
        .output()
        .unwrap();
    assert_eq!(checked(&o), 1, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    let api_line = err
        .lines()
        .find(|l| l.contains("API error"))
        .expect("an API error line");
    assert!(
        !api_line.bytes().any(|b| b.is_ascii_control()),
        "{api_line:?}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("API error")).count(),
        1,
        "{err}"
    );
}

#[test]
fn full_stdout_ends_quietly_with_exit_5() {
    let sim = Sim::start(Config::default()).unwrap();
    for args in [
        vec![
            "analyze",
            "--base-url",
            &sim.base_url(),
            "--api-key-file",
            "/dev/null",
            "hi",
        ],
        vec!["analyze", "--base-url", &sim.base_url(), "--json", "hi"],
        vec!["help"],
    ] {
        let full = std::fs::File::create("/dev/full").unwrap();
        let o = kaiko().args(&args).stdout(full).output().unwrap();
        assert_eq!(checked(&o), 5, "{args:?}: {}", text(&o.stderr));
    }
}

#[test]
fn closed_stdout_ends_quietly_with_exit_5() {
    let sim = Sim::start(Config::default()).unwrap();
    let mut child = kaiko()
        .args(["analyze", "--base-url", &sim.base_url(), "hi"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // as `| head -c0` does
    let o = child.wait_with_output().unwrap();
    assert_eq!(checked(&o), 5, "{}", text(&o.stderr));
}

#[test]
fn non_utf8_arguments_are_usage_errors_and_not_echoed() {
    let mut bad = b"kaiko_test_".to_vec();
    bad.extend_from_slice(SECRET.as_bytes());
    bad.push(0xff);
    for args in [
        vec![
            "analyze".into(),
            "--api-key".into(),
            std::ffi::OsString::from_vec(bad.clone()),
        ],
        vec![std::ffi::OsString::from_vec(bad.clone())],
        vec![
            "analyze".into(),
            std::ffi::OsString::from_vec(vec![0x80, b'h']),
        ],
    ] {
        let o = kaiko().args(&args).output().unwrap();
        assert_eq!(checked(&o), 2);
        assert!(
            text(&o.stderr).contains("not valid UTF-8"),
            "{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn the_key_comes_from_stdin_a_file_or_the_environment() {
    let sim = Sim::start(Config::default()).unwrap();
    let url = sim.base_url();

    let mut child = kaiko()
        .args(["analyze", "--base-url", &url, "--api-key", "-", "hi"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{KEY}\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(checked(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("warning"), "{}", text(&o.stderr));

    let dir = std::env::temp_dir().join(format!("kaiko-cli-key-{}", std::process::id()));
    std::fs::write(&dir, format!("{KEY}\n")).unwrap();
    let path = dir.to_str().unwrap();
    let o = kaiko()
        .args(["analyze", "--base-url", &url, "--api-key-file", path, "hi"])
        .output()
        .unwrap();
    assert_eq!(checked(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("warning"));
    std::fs::remove_file(&dir).unwrap();

    let o = kaiko()
        .args(["analyze", "--base-url", &url, "hi"])
        .env("KAIKO_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(checked(&o), 0, "{}", text(&o.stderr));

    // On the command line it still works, with a warning.
    let o = kaiko()
        .args(["analyze", "--base-url", &url, "--api-key", KEY, "hi"])
        .output()
        .unwrap();
    assert_eq!(checked(&o), 0);
    assert_eq!(
        text(&o.stderr)
            .lines()
            .filter(|l| l.contains("warning"))
            .count(),
        1,
        "{}",
        text(&o.stderr)
    );

    let o = kaiko()
        .args([
            "analyze",
            "--base-url",
            &url,
            "--api-key-file",
            "/nonexistent/k",
            "hi",
        ])
        .output()
        .unwrap();
    assert_eq!(checked(&o), 2);
    assert_eq!(sim.requests_received(), 4);
}

#[test]
fn clear_text_key_to_a_remote_host_is_refused_before_connecting() {
    // 192.0.2.1 (TEST-NET-1) is never contacted: the refusal comes first.
    let start = std::time::Instant::now();
    let o = kaiko()
        .args(["analyze", "--base-url", "http://192.0.2.1:9/v2", "hi"])
        .env("KAIKO_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(checked(&o), 2);
    assert!(
        text(&o.stderr).contains("--insecure-http"),
        "{}",
        text(&o.stderr)
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

/// Arguments drawn from what the command knows and what it does not, values in the wrong
/// places included. Every base URL is loopback and no key names a real environment, so no
/// run can reach beyond this machine.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("analyze".to_owned()),
        Just("sim".to_owned()),
        Just("help".to_owned()),
        Just("--json".to_owned()),
        Just("--json=1".to_owned()),
        Just("--".to_owned()),
        Just("-".to_owned()),
        Just("--api-key".to_owned()),
        Just("--api-key-file".to_owned()),
        Just("--base-url".to_owned()),
        Just("http://127.0.0.1:9/v2".to_owned()),
        Just("--base-url=http://[::1]:9/v2".to_owned()),
        Just("--base-url=ftp://127.0.0.1".to_owned()),
        Just("--context".to_owned()),
        Just("--external-id".to_owned()),
        Just("--max-retries".to_owned()),
        Just("--max-retries=0".to_owned()),
        Just("--timeout=0.3".to_owned()),
        Just("--timeout".to_owned()),
        Just("--insecure-http".to_owned()),
        Just("--port".to_owned()),
        Just("--help".to_owned()),
        "[a-z]{0,8}",
        "\\PC{0,12}",
        "-{1,2}[a-z-]{0,10}(=\\PC{0,6})?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the arguments, `kaiko` exits with a code of its contract, never 101.
    #[test]
    fn no_argument_vector_panics(mut args in prop::collection::vec(token(), 0..7)) {
        // `kaiko sim` would serve until killed: only its argument errors are in scope here.
        if args.first().map(String::as_str) == Some("sim") {
            args.push("--bogus-flag".to_owned());
        }
        // Calls end fast: the last option given wins, and a `--` before it makes it text.
        if args.first().map(String::as_str) == Some("analyze") && !args.iter().any(|a| a == "--") {
            args.extend(["--timeout=0.5".to_owned(), "--max-retries=0".to_owned()]);
        }
        let o = kaiko().args(&args).output().unwrap();
        let code = checked(&o);
        prop_assert!(matches!(code, 0..=5), "exit {} for {:?}: {}", code, args, text(&o.stderr));
    }
}

#[test]
fn ca_file_trusts_a_private_ca_and_nothing_else_does() {
    let ca = kaiko_sim::tls::Authority::new("kaiko test CA");
    let server = kaiko_sim::tls::TlsServer::start(ca.leaf("localhost")).unwrap();
    let url = format!("https://localhost:{}/v2", server.port());
    let path = std::env::temp_dir().join(format!("kaiko-cli-ca-{}.pem", std::process::id()));
    std::fs::write(&path, ca.pem()).unwrap();
    let run = |extra: &[&str]| {
        kaiko()
            .args(["analyze", "--base-url", &url, "--max-retries", "0"])
            .args(extra)
            .arg("hi")
            .env("KAIKO_API_KEY", KEY)
            .output()
            .unwrap()
    };
    // Without the CA: a transport error naming TLS, and the server read no request.
    let o = run(&[]);
    assert_eq!(checked(&o), 4, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("TLS"), "{}", text(&o.stderr));
    assert_eq!(server.requests(), 0);
    let o = run(&["--ca-file", path.to_str().unwrap()]);
    assert_eq!(checked(&o), 0, "{}", text(&o.stderr));
    assert_eq!(server.requests(), 1);
    let o = run(&["--ca-file", "/nonexistent/ca.pem"]);
    assert_eq!(checked(&o), 2);
    std::fs::write(&path, "not a certificate").unwrap();
    let o = run(&["--ca-file", path.to_str().unwrap()]);
    assert_eq!(checked(&o), 2, "{}", text(&o.stderr));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn sim_tls_and_ca_file_work_together() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ca = std::env::temp_dir().join(format!("kaiko-sim-ca-{}.pem", std::process::id()));
    let mut sim = kaiko()
        .args(["sim", "--tls", "--ca-out", ca.to_str().unwrap()])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The simulator says where it listens once the CA file is written.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sim.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.contains(&format!("https://localhost:{port}/v2")),
        "{line}"
    );
    for host in ["localhost", "127.0.0.1"] {
        let o = kaiko()
            .args([
                "analyze",
                "--base-url",
                &format!("https://{host}:{port}/v2"),
            ])
            .args(["--ca-file", ca.to_str().unwrap(), "I am so happy today"])
            .env("KAIKO_API_KEY", KEY)
            .output()
            .unwrap();
        assert_eq!(checked(&o), 0, "{host}: {}", text(&o.stderr));
        assert!(text(&o.stdout).contains("joy"), "{}", text(&o.stdout));
    }
    let _ = sim.kill();
    let _ = sim.wait();
    std::fs::remove_file(&ca).unwrap();
}

#[test]
fn a_sunset_header_gives_one_warning_line() {
    let body = r#"{"object":"emotions.analysis","emotions":{"user":{"category":"joy"}}}"#;
    let url = one_response_with(
        "200 OK",
        "Sunset: Wed, 01 Jul 2026 00:00:00 GMT\r\nLink: <https://example.com/v3>; rel=\"successor-version\"\r\n",
        body.to_owned(),
    );
    let o = kaiko()
        .args(["analyze", "--base-url", &url, "hi"])
        .env("KAIKO_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(checked(&o), 0, "{}", text(&o.stderr));
    let warnings = text(&o.stderr)
        .lines()
        .filter(|l| l.contains("deprecated"))
        .count();
    assert_eq!(warnings, 1, "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("on 2026-07-01 (Sunset header)"), "{stderr}");
    assert!(
        stderr.contains("see Link: <https://example.com/v3>; rel=\"successor-version\""),
        "{stderr}"
    );
    assert!(text(&o.stdout).contains("joy"));
}

/// Answers every request with `raw` bytes as they are, then closes the connection.
fn raw_response(raw: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        while let Ok((mut s, _)) = listener.accept() {
            if kaiko_sim::hostile::read_request(&mut s) {
                let _ = s.write_all(&raw);
            }
        }
    });
    url
}

#[test]
fn no_server_bytes_make_it_panic() {
    let json = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    let table: Vec<(&str, Vec<u8>)> = vec![
        ("nothing", Vec::new()),
        ("garbage", b"\x00\xff\xfe garbage \r\n\r\n".to_vec()),
        ("HTTP/0.9", b"<html>hi</html>".to_vec()),
        (
            "huge head",
            [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; 100_000]].concat(),
        ),
        ("bad status", b"HTTP/1.1 2x0 OK\r\n\r\n".to_vec()),
        (
            "bad chunk size",
            format!("{json}Transfer-Encoding: chunked\r\n\r\nzz\r\n").into_bytes(),
        ),
        (
            "short body",
            format!("{json}Content-Length: 100\r\n\r\n{{\"emo").into_bytes(),
        ),
        (
            "non-UTF-8 JSON",
            [
                format!("{json}Content-Length: 20\r\n\r\n").as_bytes(),
                b"{\"object\":\"\xff\xfe\xfd\"}  ",
            ]
            .concat(),
        ),
        (
            "deep nesting",
            format!("{json}Content-Length: 2000\r\n\r\n{}", "[".repeat(2000)).into_bytes(),
        ),
        (
            "error with junk",
            b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\n\x1b[2J".to_vec(),
        ),
        (
            "retry-after junk",
            b"HTTP/1.1 429 Slow\r\nRetry-After: -5e99\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ),
    ];
    for (name, raw) in table {
        let url = raw_response(raw);
        let o = kaiko()
            .args([
                "analyze",
                "--base-url",
                &url,
                "--max-retries",
                "0",
                "--timeout",
                "3",
                "hi",
            ])
            .env("KAIKO_API_KEY", KEY)
            .output()
            .unwrap();
        let code = checked(&o);
        assert!(
            matches!(code, 1 | 3 | 4),
            "{name}: exit {code}: {}",
            text(&o.stderr)
        );
        assert!(
            !text(&o.stderr).bytes().any(|b| b == 0x1b),
            "{name}: an escape reached the terminal"
        );
    }
}
