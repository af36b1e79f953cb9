//! kaiko-embassy through a real embassy-net stack on a Linux TAP device.
//!
//! `--self-test` starts kaiko-sim on 192.168.69.100:8787 (the host side of the TAP device)
//! and runs the scenarios success, 429-then-success and reset-then-retry against it through
//! the embassy-net stack at 192.168.69.2; it prints `N passed, N failed` and exits non-zero on
//! a failure. Without `--self-test` it makes one analysis against `--url` (default the sim's
//! address). Set-up commands are in README.md.

use core::net::{Ipv4Addr, SocketAddr};

use embassy_executor::Spawner;
use embassy_net::tcp::client::TcpClientState;
use embassy_net::{Config as NetConfig, Ipv4Cidr, Runner, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Cause, Config, Event};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::time::Duration;
use kaiko_embassy::Client;
use kaiko_embassy::net::NetConnector;
use kaiko_sim::{Config as SimConfig, Fault, RetryAfterValue, Sim};
use static_cell::StaticCell;

const MESSAGES: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    args.position(|a| a == name)?;
    args.next()
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    env_logger_init();
    let tap = arg("--tap").unwrap_or_else(|| "tap0".into());
    let self_test = std::env::args().any(|a| a == "--self-test");
    let device = match TunTapDevice::new(&tap) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot open TAP device {tap}: {e} (see README.md for the set-up)");
            std::process::exit(2);
        }
    };
    let net = NetConfig::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Addr::new(192, 168, 69, 2), 24),
        dns_servers: Default::default(),
        gateway: Some(Ipv4Addr::new(192, 168, 69, 100)),
    });
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        net,
        RESOURCES.init(StackResources::new()),
        0x0123_4567_89ab_cdef,
    );
    spawner.spawn(net_task(runner).unwrap());
    stack.wait_config_up().await;

    let sim = if self_test || arg("--url").is_none() {
        let addr = SocketAddr::from((Ipv4Addr::new(192, 168, 69, 100), 8787));
        Some(
            Sim::start_on(addr, SimConfig::default())
                .expect("start kaiko-sim on 192.168.69.100:8787"),
        )
    } else {
        None
    };
    let url: &'static str = Box::leak(
        arg("--url")
            .unwrap_or_else(|| "http://192.168.69.100:8787/v2".into())
            .into_boxed_str(),
    );
    let mut config = Config::new(
        ApiKey::new("kaiko_test_embassy").unwrap(),
        BaseUrl::parse(url).unwrap(),
    );
    // The built-in simulator sits on this host's own TAP network; any other plain-HTTP host
    // must be allowed by name, or the key would travel in clear text.
    if arg("--url").is_none() || std::env::args().any(|a| a == "--insecure-http") {
        config = config.allow_cleartext_key();
    }
    config.policy.base_delay = Duration::from_millis(50);
    config.policy.respect_rate_limit = false;
    config.policy.timeouts.first_byte = Duration::from_secs(5);

    static STATE: StaticCell<TcpClientState<1, 1024, 1024>> = StaticCell::new();
    static CONNECTOR: StaticCell<NetConnector<'static, 1, 1024, 1024>> = StaticCell::new();
    let connector = CONNECTOR.init(NetConnector::new(stack, STATE.init(TcpClientState::new())));
    static TX: StaticCell<[u8; 2048]> = StaticCell::new();
    static RX: StaticCell<[u8; 512]> = StaticCell::new();
    let mut client = Client::new(config, connector, TX.init([0; 2048]), RX.init([0; 512]));

    let (mut passed, mut failed) = (0u32, 0u32);
    let scenarios: &[(&str, Option<Fault>)] = if self_test {
        &[
            ("success", None),
            (
                "429-then-success",
                Some(Fault::Status {
                    status: 429,
                    retry_after: Some(RetryAfterValue::Seconds(1)),
                }),
            ),
            ("reset-mid-body-then-retry", Some(Fault::ResetMidBody)),
        ]
    } else {
        &[("analysis", None)]
    };
    for (i, (name, fault)) in scenarios.iter().enumerate() {
        if let (Some(sim), Some(f)) = (&sim, fault) {
            sim.push_fault(*f);
        }
        let started = std::time::Instant::now();
        let mut retries = 0;
        let result = client
            .call(Request::analyze(&MESSAGES), 0x5eed + i as u64, |e| {
                if let Event::RetryScheduled(r) = e {
                    retries += 1;
                    let status = if let Cause::Api(a) = &r.cause {
                        a.status
                    } else {
                        0
                    };
                    println!(
                        "  retry scheduled in {} (status {status}, {})",
                        r.delay, r.cause
                    );
                }
            })
            .await;
        let expected_attempts = if fault.is_some() { 2 } else { 1 };
        match result {
            Ok(ok) if !self_test || ok.attempts == expected_attempts => {
                passed += 1;
                println!(
                    "ok   {name}: HTTP {} after {} attempt(s), request_id {}, {:?}",
                    ok.status,
                    ok.attempts,
                    ok.request_id,
                    started.elapsed()
                );
            }
            other => {
                failed += 1;
                println!("FAIL {name}: {other:?} ({retries} retries)");
            }
        }
    }
    if let Some(sim) = &sim {
        println!(
            "connections accepted by the sim: {}",
            sim.connections_accepted()
        );
    }
    println!("{passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}

/// `log` output on stderr at `RUST_LOG`-free default level `warn`.
fn env_logger_init() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= log::Level::Warn
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                eprintln!("[{}] {}", r.level(), r.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    let _ = log::set_logger(&LOGGER).map(|()| log::set_max_level(log::LevelFilter::Warn));
}
