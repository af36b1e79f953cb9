//! The example runs to completion against the in-process simulator and against a URL.

use std::process::Command;

#[test]
fn analyses_against_the_builtin_simulator() {
    let out = Command::new(env!("CARGO_BIN_EXE_kaiko-example-tokio"))
        .arg("I am so happy today")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("user: joy"), "{stdout}");
    assert!(stdout.contains("ok: status 200, 1 attempt(s)"), "{stdout}");
}

#[test]
fn retries_through_a_fault_at_a_given_url() {
    let sim = kaiko_sim::Sim::start(kaiko_sim::Config::default()).unwrap();
    sim.push_fault(kaiko_sim::Fault::CloseWithoutResponse);
    let out = Command::new(env!("CARGO_BIN_EXE_kaiko-example-tokio"))
        .args([sim.base_url().as_str(), "I feel a bit unsure about this"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("retry 1"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("user: fear"));
}
