//! The load generator and the bounds that keep a long-running server's memory flat.

mod common;

use common::*;
use kaiko_sim::load::{LoadOptions, run_load};
use kaiko_sim::{Config, Sim};

#[test]
fn load_with_default_configuration_is_all_200_and_processed_once() {
    let sim = Sim::start(Config::default()).unwrap();
    // More requests per connection than the default limit of 60 per key: the generator
    // switches keys and never sees a 429.
    let report = run_load(&LoadOptions {
        addr: Some(sim.addr()),
        connections: 3,
        requests: 150,
        ..LoadOptions::default()
    })
    .unwrap();
    assert_eq!(
        (report.answered, report.not_ok, report.reconnects),
        (450, 0, 0)
    );
    assert_eq!(report.latencies.count(), 450);
    assert!(report.quantile(0.5) <= report.quantile(0.99));
    assert_eq!(sim.connections_accepted(), 3);
    let ledger = sim.ledger();
    assert_eq!(ledger.max_processed(), 1, "every key fresh");
    assert_eq!(ledger.total_processed(), 450);
}

#[test]
fn load_counts_answers_that_are_not_200() {
    let sim = Sim::start(Config::default()).unwrap();
    let report = run_load(&LoadOptions {
        addr: Some(sim.addr()),
        connections: 1,
        requests: 70,
        key_every: 1000,
        ..LoadOptions::default()
    })
    .unwrap();
    assert_eq!((report.answered, report.not_ok), (70, 10));
    assert_eq!(report.first_bad_status, Some(429));
}

#[test]
fn forgotten_idempotency_keys_are_processed_again() {
    let sim = Sim::start(Config {
        capacity: 2,
        ..Config::default()
    })
    .unwrap();
    let send = |k: &str| {
        let r = call(
            &sim,
            "POST",
            "/v2/emotions/analysis",
            &[("Idempotency-Key", k)],
            FEAR,
        );
        assert_eq!(r.status, 200);
        r.header("Idempotent-Replayed").is_some()
    };
    assert!(!send("a"));
    assert!(send("a"), "remembered");
    assert!(!send("b"));
    assert!(!send("c"));
    assert!(!send("a"), "forgotten after two newer keys");
    let ledger = sim.ledger();
    assert_eq!(ledger.entries.len(), 2);
    assert_eq!(ledger.processed("a"), 1, "its entry restarted");
    assert_eq!(ledger.processed("b"), 0, "its entry was forgotten");
}

#[test]
fn forgotten_contexts_answer_404() {
    let sim = Sim::start(Config {
        capacity: 2,
        ..Config::default()
    })
    .unwrap();
    for c in ["c1", "c2", "c3"] {
        assert_eq!(
            post(&sim, &format!("/v2/emotions/{c}/analysis"), FEAR).status,
            200
        );
    }
    assert_eq!(call(&sim, "GET", "/v2/emotions/c1", &[], "").status, 404);
    assert_eq!(call(&sim, "GET", "/v2/emotions/c3", &[], "").status, 200);
}

#[test]
fn the_documented_command_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kaiko-sim-load"))
        .args(["--connections", "2", "--requests", "100"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("2 keep-alive connections x 100 requests: 200 answered in "),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 not 200"), "{stdout}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_kaiko-sim-load"))
        .args(["--connections", "65"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
