//! kaiko-embassy through a real embassy-net stack, without root or TAP: the client's stack
//! (10.0.0.1) and a server stack (10.0.0.2) run in one process, joined by two
//! `embassy-net-driver-channel` devices (medium-ip) whose packets are copied across.
//!
//! The server stack proxies each request it accepts to a kaiko-sim instance over std loopback
//! (one upstream connection per accepted connection) and relays the response; when the
//! simulator cuts a response short (its `ResetMidBody` fault), the relay sends what arrived
//! and resets the embassy-side connection. A stall is played on the embassy side (the request
//! is read and never answered) so it follows embassy time.
//!
//! Time: with the default `std-time` feature, embassy-time's std driver (wall clock, short
//! policies). With `mock-time` (run on its own, see Cargo.toml), embassy-time's mock driver:
//! whenever every task is idle the executor below advances virtual time by 1 ms, so backoff,
//! Retry-After and deadlines cost no wall time.

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use embassy_net::driver::HardwareAddress;
use embassy_net::tcp::TcpSocket;
use embassy_net::tcp::client::TcpClientState;
use embassy_net::{
    Config as NetConfig, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4,
};
use embassy_net_driver_channel::{RxRunner, State, TxRunner, driver::LinkState};
use embassy_time::{Duration as EDuration, Instant as EInstant};
use embedded_io_async::Write as _;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Cause, Config, Event, Phase, Retry, Success};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::time::Duration;
use kaiko_embassy::net::NetConnector;
use kaiko_embassy::{Client, Error};
use kaiko_sim::{Config as SimConfig, Fault, RetryAfterValue, Sim, SimHandle};

const MTU: usize = 1500;
const PORT: u16 = 8080;
const CLIENT_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
const SERVER_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
const BASE_URL: &str = "http://10.0.0.2:8080/v2";
const MESSAGES: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

type Connector<'d> = NetConnector<'d, 1, 2048, 2048>;

/// The mock driver's clock is global and the std-driver timings are tighter when the test
/// threads do not compete: scenarios run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------------
// A single-threaded executor with one waker per task, as embassy-executor: a task is polled
// only when it was woken. (Polling everything on every wake would never let the stacks rest:
// touching a socket wakes its stack's runner.) Under the mock driver it advances time when no
// task is ready.

/// Wakes one task, and the executor's thread.
struct TaskWaker {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

type Task<'t> = Pin<Box<dyn Future<Output = ()> + 't>>;

/// Longest a scenario may take, in embassy time.
const LIMIT: EDuration = EDuration::from_secs(30);
/// Longest a scenario may take in wall time, whatever the clock driver: a hang fails the test.
const WALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Busy iterations after which the clock moves on anyway.
const BUSY_TICK: u32 = 256;

/// Runs `main` to completion with `tasks` (which never end) beside it.
fn run<R>(main: impl Future<Output = R>, tasks: Vec<Task<'_>>) -> R {
    let mut main = pin!(main);
    let mut tasks = tasks;
    let wakers: Vec<(Arc<TaskWaker>, Waker)> = (0..=tasks.len())
        .map(|_| {
            let w = Arc::new(TaskWaker {
                woken: AtomicBool::new(true),
                thread: std::thread::current(),
            });
            (w.clone(), Waker::from(w))
        })
        .collect();
    let started = EInstant::now();
    let wall = std::time::Instant::now();
    // Iterations in a row in which some task was ready.
    let mut busy = 0u32;
    loop {
        let mut polled = false;
        for (i, (flag, waker)) in wakers.iter().enumerate() {
            if !flag.woken.swap(false, Ordering::SeqCst) {
                continue;
            }
            polled = true;
            let mut cx = Context::from_waker(waker);
            if i == 0 {
                if let Poll::Ready(out) = main.as_mut().poll(&mut cx) {
                    return out;
                }
            } else {
                let _ = tasks[i - 1].as_mut().poll(&mut cx);
            }
        }
        assert!(
            started.elapsed() < LIMIT,
            "scenario still running after {LIMIT:?}"
        );
        assert!(
            wall.elapsed() < WALL_LIMIT,
            "scenario still running after {WALL_LIMIT:?} of wall time"
        );
        // Time passes while tasks are busy too: a task that keeps waking itself (a stack
        // whose next poll is always "now") must not stop the clock, or a timer it waits for
        // would never fire.
        busy = if polled { busy + 1 } else { 0 };
        if !polled || busy >= BUSY_TICK {
            idle();
            busy = 0;
        }
    }
}

/// Nothing to do: under the mock driver, let 1 ms pass (waking the timers it makes due).
#[cfg(feature = "mock-time")]
fn idle() {
    embassy_time::MockDriver::get().advance(EDuration::from_millis(1));
}

/// Nothing to do: wait for the std driver's timer thread (or another thread) to wake a task.
#[cfg(not(feature = "mock-time"))]
fn idle() {
    std::thread::park_timeout(std::time::Duration::from_millis(20));
}

// ---------------------------------------------------------------------------------------------
// The link between the stacks.

/// Copies every packet one stack sends into the other stack's receive queue.
async fn pump(mut from: TxRunner<'_, MTU>, mut to: RxRunner<'_, MTU>) {
    loop {
        let packet = from.tx_buf().await;
        let slot = to.rx_buf().await;
        let n = packet.len().min(slot.len());
        slot[..n].copy_from_slice(&packet[..n]);
        to.rx_done(n);
        from.tx_done();
    }
}

fn static_v4(ip: Ipv4Address) -> NetConfig {
    NetConfig::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(ip, 24),
        gateway: None,
        dns_servers: Default::default(),
    })
}

// ---------------------------------------------------------------------------------------------
// The server stack: a relay to kaiko-sim.

/// What the server does with the next request it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    /// Relay it to the simulator and its response back.
    Forward,
    /// Never answer; wait for the client to give up.
    Stall,
}

/// Reads one HTTP request (head and Content-Length body) into `buf`; `None` once the peer
/// closes or resets.
async fn read_request(sock: &mut TcpSocket<'_>, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 512];
    loop {
        if let Some(len) = complete_message(buf) {
            return Some(buf.drain(..len).collect());
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Length of the first complete message (head plus Content-Length body) in `buf`.
fn complete_message(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body =
        header(&buf[..head_end], "content-length").map_or(0, |v| v.parse::<usize>().unwrap());
    (buf.len() >= head_end + body).then_some(head_end + body)
}

fn header<'b>(head: &'b [u8], name: &str) -> Option<&'b str> {
    std::str::from_utf8(head)
        .unwrap()
        .split("\r\n")
        .skip(1)
        .find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
}

/// The simulator's response to `request` over `upstream`, and whether it arrived whole.
fn relay(upstream: &mut TcpStream, request: &[u8]) -> (Vec<u8>, bool) {
    upstream.write_all(request).unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(len) = complete_message(&response) {
            assert_eq!(
                len,
                response.len(),
                "the simulator sent more than one response"
            );
            return (response, true);
        }
        match upstream.read(&mut chunk) {
            Ok(0) | Err(_) => return (response, false),
            Ok(n) => response.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Relays the bytes of every connection to the simulator and back, unread (for TLS, which
/// the HTTP-aware [`serve`] cannot look into). The simulator's socket is polled without
/// blocking, so the stacks keep running.
async fn pipe(stack: Stack<'_>, sim: SocketAddr) {
    use embassy_futures::select::{Either, select};
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    loop {
        let mut sock = TcpSocket::new(stack, &mut rx, &mut tx);
        sock.accept(PORT).await.unwrap();
        let mut up = TcpStream::connect(sim).unwrap();
        up.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 2048];
        'conn: loop {
            match select(sock.read(&mut buf), embassy_time::Timer::after_millis(2)).await {
                Either::First(Ok(0) | Err(_)) => break 'conn,
                Either::First(Ok(n)) => {
                    up.set_nonblocking(false).unwrap();
                    up.write_all(&buf[..n]).unwrap();
                    up.set_nonblocking(true).unwrap();
                }
                Either::Second(()) => {}
            }
            loop {
                match up.read(&mut buf) {
                    Ok(0) => break 'conn,
                    Ok(n) => {
                        sock.write_all(&buf[..n]).await.unwrap();
                        sock.flush().await.unwrap();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => break 'conn,
                }
            }
        }
        sock.close();
        let _ = sock.flush().await;
    }
}

async fn serve(stack: Stack<'_>, sim: SocketAddr, mut acts: VecDeque<Act>) {
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    loop {
        let mut sock = TcpSocket::new(stack, &mut rx, &mut tx);
        sock.accept(PORT).await.unwrap();
        let mut upstream: Option<TcpStream> = None;
        let mut pending = Vec::new();
        while let Some(request) = read_request(&mut sock, &mut pending).await {
            match acts.pop_front().unwrap_or(Act::Forward) {
                Act::Stall => {
                    while matches!(sock.read(&mut [0u8; 64]).await, Ok(n) if n > 0) {}
                    break;
                }
                Act::Forward => {
                    let up = upstream.get_or_insert_with(|| {
                        let s = TcpStream::connect(sim).unwrap();
                        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                            .unwrap();
                        s
                    });
                    let (response, whole) = relay(up, &request);
                    sock.write_all(&response).await.unwrap();
                    // Wait until the peer has every byte: an abort discards unsent data.
                    sock.flush().await.unwrap();
                    if !whole {
                        sock.abort();
                        let _ = sock.flush().await;
                        break;
                    }
                    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                    if header(&response[..head_end + 4], "connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                    {
                        sock.close();
                        let _ = sock.flush().await;
                        while matches!(sock.read(&mut [0u8; 64]).await, Ok(n) if n > 0) {}
                        break;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One scenario: both stacks, the link, the relay, and the client's code.

fn with_network<R>(
    sim: &SimHandle,
    acts: &[Act],
    client: impl AsyncFnOnce(&Connector<'_>) -> R,
) -> R {
    let mut link_a = State::<MTU, 4, 4>::new();
    let mut link_b = State::<MTU, 4, 4>::new();
    let (ch_a, dev_a) = embassy_net_driver_channel::new(&mut link_a, HardwareAddress::Ip);
    let (ch_b, dev_b) = embassy_net_driver_channel::new(&mut link_b, HardwareAddress::Ip);
    let (state_a, rx_a, tx_a) = ch_a.split();
    let (state_b, rx_b, tx_b) = ch_b.split();
    state_a.set_link_state(LinkState::Up);
    state_b.set_link_state(LinkState::Up);

    let mut res_a = StackResources::<2>::new();
    let mut res_b = StackResources::<2>::new();
    let (stack_a, mut runner_a) = embassy_net::new(dev_a, static_v4(CLIENT_IP), &mut res_a, 1);
    let (stack_b, mut runner_b) = embassy_net::new(dev_b, static_v4(SERVER_IP), &mut res_b, 2);

    let tcp = TcpClientState::<1, 2048, 2048>::new();
    let connector = NetConnector::new(stack_a, &tcp);
    let tasks: Vec<Task<'_>> = vec![
        Box::pin(async move { runner_a.run().await }),
        Box::pin(async move { runner_b.run().await }),
        Box::pin(pump(tx_a, rx_b)),
        Box::pin(pump(tx_b, rx_a)),
        if sim.is_tls() {
            Box::pin(pipe(stack_b, sim.addr()))
        } else {
            Box::pin(serve(stack_b, sim.addr(), acts.iter().copied().collect()))
        },
    ];
    run(client(&connector), tasks)
}

/// A config aimed at the server stack, with short waits (they cost wall time under the std driver).
/// The server's address is not loopback, so plain HTTP needs the explicit opt-in: this
/// network exists only inside the test process.
fn config() -> Config<'static> {
    let mut config = Config::new(
        ApiKey::new("kaiko_test_abc").unwrap(),
        BaseUrl::parse(BASE_URL).unwrap(),
    )
    .allow_cleartext_key();
    config.policy.base_delay = Duration::from_millis(20);
    config.policy.max_jitter = Duration::from_millis(5);
    config.policy.timeouts.first_byte = Duration::from_millis(500);
    config.policy.timeouts.response = Duration::from_millis(1000);
    config
}

/// An owned copy of an [`Event`] (events borrow from the call).
#[allow(clippy::large_enum_variant)] // test-only copies, one per event
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Emotion,
    Content(String),
    Retry(Retry),
    /// A list element of a decoder another crate of the workspace enables (a chat choice, ...).
    Element,
}

impl Seen {
    fn of(event: Event<'_>) -> Seen {
        match event {
            Event::Emotion(_) => Seen::Emotion,
            Event::Content(c) => Seen::Content(c.to_owned()),
            Event::RetryScheduled(r) => Seen::Retry(*r),
            _ => Seen::Element,
        }
    }
}

struct Outcome {
    result: Result<Success, Error>,
    events: Vec<Seen>,
    /// Embassy time the call took (virtual under the mock driver).
    took: EDuration,
    /// Wall-clock time the call took.
    wall: std::time::Duration,
}

fn call(sim: &SimHandle, acts: &[Act], config: Config<'static>) -> Outcome {
    with_network(sim, acts, async |connector| {
        let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
        let mut client = Client::new(config, connector, &mut tx, &mut rx);
        let mut events = Vec::new();
        let (start, wall) = (EInstant::now(), std::time::Instant::now());
        let result = client
            .call(Request::analyze(&MESSAGES), 7, |e| events.push(Seen::of(e)))
            .await;
        Outcome {
            result,
            events,
            took: start.elapsed(),
            wall: wall.elapsed(),
        }
    })
}

fn retry_causes(events: &[Seen]) -> Vec<Cause> {
    events
        .iter()
        .filter_map(|e| match e {
            Seen::Retry(r) => Some(r.cause),
            _ => None,
        })
        .collect()
}

/// Under the mock driver, waits must not cost wall time.
fn assert_virtual_waits_are_free(out: &Outcome) {
    if cfg!(feature = "mock-time") {
        assert!(
            out.wall < std::time::Duration::from_millis(500),
            "wall time {:?}",
            out.wall
        );
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn success() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sim = Sim::start(SimConfig::default()).unwrap();
    let out = call(&sim, &[], config());
    let ok = out.result.unwrap();
    assert_eq!((ok.status, ok.attempts), (200, 1));
    assert!(!ok.request_id.as_str().is_empty());
    assert!(
        out.events.iter().any(|e| matches!(e, Seen::Emotion)),
        "no emotion decoded"
    );
    assert!(retry_causes(&out.events).is_empty());
    assert_eq!(
        (sim.requests_received(), sim.connections_accepted()),
        (1, 1)
    );
}

#[test]
fn clear_text_key_to_a_non_loopback_host_needs_the_opt_in() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sim = Sim::start(SimConfig::default()).unwrap();
    let refused = Config::new(
        ApiKey::new("kaiko_test_abc").unwrap(),
        BaseUrl::parse(BASE_URL).unwrap(),
    );
    let out = call(&sim, &[], refused);
    assert_eq!(
        out.result.unwrap_err(),
        Error::Refused(kaiko_core::call::Refused::CleartextKey)
    );
    assert_eq!(sim.connections_accepted(), 0, "nothing was sent");
    let out = call(&sim, &[], config());
    assert_eq!(out.result.unwrap().attempts, 1);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(RetryAfterValue::Seconds(1)),
    });
    let mut cfg = config();
    // The 429 also says `X-RateLimit-Remaining: 0` until the end of the simulator's window;
    // only Retry-After is under test here.
    cfg.policy.respect_rate_limit = false;
    let out = call(&sim, &[], cfg);
    let ok = out.result.as_ref().unwrap();
    assert_eq!((ok.status, ok.attempts), (200, 2));
    match out.events.first() {
        Some(Seen::Retry(Retry {
            retry: 1,
            delay,
            cause: Cause::Api(e),
            ..
        })) => {
            assert_eq!(e.status, 429);
            assert!(
                delay.as_millis() >= 1000,
                "scheduled after {} ms",
                delay.as_millis()
            );
        }
        other => panic!("expected a scheduled retry after a 429, got {other:?}"),
    }
    assert!(
        out.took >= EDuration::from_secs(1),
        "embassy time advanced only {:?}",
        out.took
    );
    assert!(
        out.took < EDuration::from_millis(1500),
        "took {:?}",
        out.took
    );
    // The 429 kept the connection open: the retry went over it.
    assert_eq!(
        (sim.requests_received(), sim.connections_accepted()),
        (2, 1)
    );
    assert_virtual_waits_are_free(&out);
}

#[test]
fn reset_mid_body_then_retry_succeeds() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sim = Sim::start(SimConfig::default()).unwrap();
    sim.push_fault(Fault::ResetMidBody);
    let out = call(&sim, &[], config());
    let ok = out.result.as_ref().unwrap();
    assert_eq!((ok.status, ok.attempts), (200, 2));
    let causes = retry_causes(&out.events);
    assert!(
        matches!(causes.as_slice(), [Cause::Connection(_)]),
        "retry causes {causes:?}"
    );
    // Emotions decoded from the first half were superseded by the retry's.
    let after_retry = out
        .events
        .iter()
        .skip_while(|e| !matches!(e, Seen::Retry(_)));
    assert!(after_retry.filter(|e| matches!(e, Seen::Emotion)).count() > 0);
    // A fresh connection for the retry; one Idempotency-Key, so processed at most once.
    assert_eq!(sim.connections_accepted(), 2);
    assert!(sim.ledger().max_processed() <= 1);
    assert_virtual_waits_are_free(&out);
}

#[test]
fn stall_ends_at_the_first_byte_deadline() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sim = Sim::start(SimConfig::default()).unwrap();
    let mut cfg = config();
    cfg.policy.max_retries = 0;
    let out = call(&sim, &[Act::Stall], cfg);
    match &out.result {
        Err(Error::Failed(f)) => {
            assert_eq!(f.cause, Cause::Timeout(Phase::FirstByte));
            assert_eq!(f.attempts, 1);
        }
        other => panic!("expected a first-byte timeout, got {other:?}"),
    }
    let deadline = EDuration::from_millis(500);
    let slack = if cfg!(feature = "mock-time") {
        EDuration::from_millis(5)
    } else {
        EDuration::from_millis(300)
    };
    // The core counts whole milliseconds: the deadline may fall up to 1 ms before the
    // microsecond instant the call started plus 500 ms.
    let earliest = deadline - EDuration::from_millis(1);
    assert!(
        out.took >= earliest && out.took <= deadline + slack,
        "took {:?}",
        out.took
    );
    // The stalled request never reached the simulator.
    assert_eq!(sim.requests_received(), 0);
    assert_virtual_waits_are_free(&out);
}

/// The system clock, for the certificate dates.
#[cfg(not(feature = "mock-time"))]
struct SystemClock;

#[cfg(not(feature = "mock-time"))]
impl embedded_tls::TlsClock for SystemClock {
    fn now() -> Option<u64> {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.ok().map(|d| d.as_secs())
    }
}

/// HTTPS through both stacks: the simulator serves TLS with a chain for the server stack's
/// address, the client verifies it (and refuses another CA, the request never reaching the
/// simulator). Wall-clock only: the relay polls the simulator's socket on a timer.
#[cfg(not(feature = "mock-time"))]
#[test]
fn verified_tls_through_both_stacks() {
    use kaiko_embassy::tls::{RECORD_BUFFER, TlsBuffers, Trust, call_tls};
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ca = kaiko_sim::tls::Authority::new("kaiko-sim CA");
    let other = kaiko_sim::tls::Authority::new("another CA");
    let sim = Sim::start(SimConfig {
        tls: Some(ca.leaf("10.0.0.2")),
        ..SimConfig::default()
    })
    .unwrap();
    let mut config = Config::new(
        ApiKey::new("kaiko_test_abc").unwrap(),
        BaseUrl::parse("https://10.0.0.2:8080/v2").unwrap(),
    );
    config.policy.max_retries = 0;
    config.policy.timeouts.connect = Duration::from_secs(10);
    for (anchor, want_ok) in [(ca.der(), true), (other.der(), false)] {
        let result = with_network(&sim, &[], async |connector| {
            let (mut read, mut write) = (vec![0u8; RECORD_BUFFER], vec![0u8; 4096]);
            let mut tls = TlsBuffers {
                read: &mut read,
                write: &mut write,
            };
            let (mut tx, mut rx) = ([0u8; 2048], [0u8; 512]);
            call_tls::<_, embedded_tls::Aes128GcmSha256, _, SystemClock>(
                connector,
                &config,
                Request::analyze(&MESSAGES),
                7,
                &mut tls,
                Trust::Ca(&anchor),
                || rand_core::OsRng,
                &mut tx,
                &mut rx,
                |_| {},
            )
            .await
        });
        if want_ok {
            assert_eq!(result.unwrap().status, 200);
        } else {
            assert!(
                matches!(&result, Err(Error::Failed(f)) if f.cause == Cause::Connection(kaiko_core::call::ConnectionLost::Tls)),
                "{result:?}"
            );
        }
    }
    assert_eq!(
        sim.requests_received(),
        1,
        "the refused handshake sent no request"
    );
}
