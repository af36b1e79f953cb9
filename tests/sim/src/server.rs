//! Sockets and threads: one accept thread, one thread per connection, fault application.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::api::{self, State};
use crate::http::{Conn, ReadError, Response, Stream, reset};
use crate::{Config, Fault, Ledger};

/// Most connections served at once. Beyond it the connection that has waited longest for a
/// request is shed to make room (so idle or trickling clients cannot lock others out); only
/// when every connection is mid-request does a new one get 503.
pub(crate) const MAX_CONNECTIONS: usize = 64;
/// A connection with no request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Read poll tick: how fast connection threads notice a stop.
const POLL: Duration = Duration::from_millis(50);
/// A peer that reads nothing for this long is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// State shared by all threads of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    faults: Mutex<VecDeque<Fault>>,
    state: Mutex<State>,
    stop: AtomicBool,
    connections: AtomicUsize,
    requests: AtomicUsize,
    active: AtomicUsize,
    ids: AtomicU64,
    /// One slot per open connection, for shedding the longest-waiting one.
    slots: Mutex<Vec<Arc<Slot>>>,
    /// Connections shed to make room for new ones.
    shed: AtomicUsize,
    /// The time base of [`Slot::waiting_since`].
    epoch: Instant,
    /// HTTPS, when the configuration has a certificate.
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// What the accept loop knows of one open connection.
#[derive(Debug)]
struct Slot {
    /// Milliseconds since [`Shared::epoch`] when the connection began waiting for its next
    /// request; `u64::MAX` while a request is being served.
    waiting_since: AtomicU64,
    /// Set by the accept loop: close at the next poll tick.
    shed: AtomicBool,
}

impl Shared {
    fn millis(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the connection that has waited longest for a request to be closed; `false` when
    /// every connection is serving one.
    fn shed_one(&self) -> bool {
        let slots = self.slots();
        let oldest = slots
            .iter()
            .filter(|s| !s.shed.load(Ordering::Relaxed))
            .filter(|s| s.waiting_since.load(Ordering::Relaxed) != u64::MAX)
            .min_by_key(|s| s.waiting_since.load(Ordering::Relaxed));
        match oldest {
            Some(slot) => {
                slot.shed.store(true, Ordering::Relaxed);
                self.shed.fetch_add(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

impl Shared {
    /// The mutable API state; a poisoned lock is still used (a panicking thread leaves the
    /// maps consistent: every update is a single insert or increment).
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn faults(&self) -> MutexGuard<'_, VecDeque<Fault>> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps for `d`, returning early when the server stops.
    pub(crate) fn sleep(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        let end = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= end || self.stopping() {
                return;
            }
            thread::sleep((end - now).min(Duration::from_millis(10)));
        }
    }

    /// A fresh id: `req-` + 10 hex digits (the documented shape, spec §5.1).
    pub(crate) fn request_id(&self) -> String {
        format!("req-{:010x}", self.next_id() & 0xff_ffff_ffff)
    }

    /// A unique, well-mixed 64-bit value (splitmix64 of a counter seeded by the clock).
    pub(crate) fn next_id(&self) -> u64 {
        let n = self.ids.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        let mut z = n;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Starts servers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sim;

impl Sim {
    /// Starts a server on an ephemeral port of 127.0.0.1.
    pub fn start(config: Config) -> io::Result<SimHandle> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
    }

    /// Starts a server on `addr` (port 0 picks a free port). The socket is listening when
    /// this returns.
    pub fn start_on(addr: SocketAddr, mut config: Config) -> io::Result<SimHandle> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let faults = std::mem::take(&mut config.faults).into();
        let tls = match &config.tls {
            Some(leaf) => Some(crate::tls::server_config(leaf)?),
            None => None,
        };
        let is_tls = tls.is_some();
        let seed = crate::time::unix_now().as_nanos() as u64;
        let capacity = config.capacity;
        let shared = Arc::new(Shared {
            config,
            faults: Mutex::new(faults),
            state: Mutex::new(State::new(capacity)),
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            ids: AtomicU64::new(seed),
            slots: Mutex::new(Vec::new()),
            shed: AtomicUsize::new(0),
            epoch: Instant::now(),
            tls,
        });
        let sh = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("kaiko-sim-accept".into())
            .spawn(move || accept_loop(&sh, &listener))?;
        Ok(SimHandle {
            addr,
            tls: is_tls,
            shared,
            accept: Some(accept),
        })
    }
}

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/v2` (`https://localhost:PORT/v2` with [`Config::tls`]), the base URL a
    /// client is configured with.
    pub fn base_url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}/v2", self.addr.port())
        } else {
            format!("http://{}/v2", self.addr)
        }
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Queues one fault after those already queued.
    pub fn push_fault(&self, f: Fault) {
        self.shared.faults().push_back(f);
    }

    /// Queues several faults in order.
    pub fn push_faults(&self, fs: impl IntoIterator<Item = Fault>) {
        self.shared.faults().extend(fs);
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> usize {
        self.shared.faults().len()
    }

    /// A snapshot of the idempotency ledger.
    pub fn ledger(&self) -> Ledger {
        Ledger {
            entries: self.shared.state().ledger(),
        }
    }

    /// Connections closed while waiting for a request, to make room for new ones.
    pub fn connections_shed(&self) -> usize {
        self.shared.shed.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Requests whose head was read so far (including those rejected for their body).
    pub fn requests_received(&self) -> usize {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops the server and waits (at most about 2 s) for its threads.
    pub fn stop(self) {
        drop(self);
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept with a connection of our own.
        let wake = if self.addr.ip().is_unspecified() {
            SocketAddr::from((Ipv4Addr::LOCALHOST, self.addr.port()))
        } else {
            self.addr
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        let Some(accept) = self.accept.take() else {
            return;
        };
        let Ok(workers) = accept.join() else { return };
        let deadline = Instant::now() + Duration::from_secs(2);
        for w in workers {
            while !w.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if w.is_finished() {
                let _ = w.join();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(sh: &Arc<Shared>, listener: &TcpListener) -> Vec<JoinHandle<()>> {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let accepted = listener.accept();
        if sh.stopping() {
            return workers;
        }
        let Ok((stream, _)) = accepted else {
            // EMFILE and friends: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        sh.connections.fetch_add(1, Ordering::Relaxed);
        workers.retain(|w| !w.is_finished());
        // A shed connection leaves within one poll tick; until then it still counts.
        let pending_shed = sh
            .slots()
            .iter()
            .filter(|s| s.shed.load(Ordering::Relaxed))
            .count();
        if sh.active.load(Ordering::Relaxed) >= MAX_CONNECTIONS + pending_shed && !sh.shed_one() {
            refuse(sh, stream);
            continue;
        }
        sh.active.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            waiting_since: AtomicU64::new(sh.millis()),
            shed: AtomicBool::new(false),
        });
        sh.slots().push(Arc::clone(&slot));
        let sh2 = Arc::clone(sh);
        let slot2 = Arc::clone(&slot);
        let spawned = thread::Builder::new()
            .name("kaiko-sim-conn".into())
            .spawn(move || {
                connection(&sh2, stream, &slot2);
                sh2.slots().retain(|s| !Arc::ptr_eq(s, &slot2));
                sh2.active.fetch_sub(1, Ordering::Relaxed);
            });
        match spawned {
            Ok(h) => workers.push(h),
            Err(_) => {
                sh.slots().retain(|s| !Arc::ptr_eq(s, &slot));
                sh.active.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// Over the connection limit: 503 and close.
fn refuse(sh: &Shared, mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let resp = api::error_response(
        sh,
        None,
        503,
        "service_unavailable",
        "Too many connections",
        None,
    );
    let (head, body) = resp.wire(true);
    let _ = stream.write_all(&head);
    let _ = stream.write_all(&body);
}

fn connection(sh: &Shared, stream: TcpStream, slot: &Slot) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let stream = match &sh.tls {
        None => Stream::Plain(stream),
        // The handshake runs on the first reads, under the same poll ticks as a request.
        Some(config) => match rustls::ServerConnection::new(Arc::clone(config)) {
            Ok(tls) => Stream::Tls(Box::new(rustls::StreamOwned::new(tls, stream))),
            Err(_) => return,
        },
    };
    let mut conn = Conn::new(stream);
    loop {
        // The idle clock runs from the end of the previous response.
        let idle_since = Instant::now();
        slot.waiting_since.store(sh.millis(), Ordering::Relaxed);
        let mut keep_going = || {
            !sh.stopping()
                && !slot.shed.load(Ordering::Relaxed)
                && idle_since.elapsed() < IDLE_TIMEOUT
        };
        let read = conn.read_request(sh.config.max_body, &mut keep_going);
        slot.waiting_since.store(u64::MAX, Ordering::Relaxed);
        match read {
            Ok(req) => {
                sh.requests.fetch_add(1, Ordering::Relaxed);
                let fault = sh.faults().pop_front();
                match serve(sh, &mut conn, &req, fault) {
                    Flow::KeepAlive => {}
                    Flow::Close => {
                        let _ = conn.stream.flush();
                        return;
                    }
                    Flow::Reset => {
                        reset(conn.stream.into_tcp());
                        return;
                    }
                }
            }
            Err(ReadError::Gone) => return,
            Err(ReadError::Reject {
                status,
                code,
                message,
            }) => {
                if status != 431 {
                    sh.requests.fetch_add(1, Ordering::Relaxed);
                }
                let resp = api::error_response(sh, None, status, code, &message, None);
                let (head, body) = resp.wire(true);
                let _ = conn.stream.write_all(&head);
                let _ = conn.stream.write_all(&body);
                lingering_close(sh, conn.stream.into_tcp());
                return;
            }
        }
    }
}

/// Closes after an error sent while the client may still be sending: stop writing, then
/// drain for a moment so that the close does not turn into a reset that destroys the
/// response before the client reads it (RFC 9112 §9.6).
fn lingering_close(sh: &Shared, mut stream: TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let end = Instant::now() + Duration::from_secs(1);
    let mut sink = [0u8; 8192];
    while Instant::now() < end && !sh.stopping() {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// What to do with the connection after a response.
enum Flow {
    KeepAlive,
    Close,
    Reset,
}

fn write_all(sh: &Shared, conn: &mut Conn, bytes: &[u8]) -> bool {
    !sh.stopping() && conn.stream.write_all(bytes).is_ok()
}

/// Answers one request, applying `fault` if any.
fn serve(sh: &Shared, conn: &mut Conn, req: &crate::http::Request, fault: Option<Fault>) -> Flow {
    let close = !req.keep_alive();
    let after = if close { Flow::Close } else { Flow::KeepAlive };
    let Some(fault) = fault else {
        let resp = api::respond(sh, req);
        let (head, body) = resp.wire(close);
        return if write_all(sh, conn, &[head, body].concat()) {
            after
        } else {
            Flow::Close
        };
    };
    if fault.replaces_response() {
        return replace(sh, conn, fault, close, after);
    }
    if let Fault::Stall {
        after_head: false,
        duration,
    } = fault
    {
        // Stalled in front of the application: nothing is processed until it ends.
        sh.sleep(duration);
    }
    let resp = api::respond(sh, req);
    let (head, body) = match fault {
        Fault::OddChunks => resp.wire_odd_chunks(close),
        _ => resp.wire(close),
    };
    match fault {
        Fault::ResetAfterProcessing => Flow::Reset,
        Fault::ResetMidBody => {
            let half = body.get(..body.len() / 2).unwrap_or(&[]);
            let _ = write_all(sh, conn, &head) && write_all(sh, conn, half);
            let _ = conn.stream.flush();
            // Give the peer time to receive the bytes before the reset discards them.
            sh.sleep(Duration::from_millis(20));
            Flow::Reset
        }
        Fault::Drip { per_byte } => {
            for b in head.iter().chain(body.iter()) {
                if !write_all(sh, conn, std::slice::from_ref(b)) {
                    return Flow::Close;
                }
                sh.sleep(per_byte);
            }
            after
        }
        Fault::Stall {
            after_head: true,
            duration,
        } => {
            if !write_all(sh, conn, &head) {
                return Flow::Close;
            }
            sh.sleep(duration);
            if write_all(sh, conn, &body) {
                after
            } else {
                Flow::Close
            }
        }
        Fault::Interim100 => {
            let ok = write_all(sh, conn, b"HTTP/1.1 100 Continue\r\n\r\n")
                && write_all(sh, conn, &[head, body].concat());
            if ok { after } else { Flow::Close }
        }
        _ => {
            if write_all(sh, conn, &[head, body].concat()) {
                after
            } else {
                Flow::Close
            }
        }
    }
}

/// Faults that stand in for the response; the request is not processed.
fn replace(sh: &Shared, conn: &mut Conn, fault: Fault, close: bool, after: Flow) -> Flow {
    match fault {
        Fault::CloseWithoutResponse => Flow::Close,
        Fault::MalformedHead => {
            let _ = write_all(
                sh,
                conn,
                b"HTTP/1.1 2O0 0K\r\nContent-Type: application/json\r\nX-Broken\x01Name: \xff\xfe\x00\r\nContent-Length: 2\r\n\r\n{}",
            );
            Flow::Close
        }
        Fault::ResetMidHead => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: {}\r\nContent-Len",
                crate::time::http_date(crate::time::unix_now().as_secs())
            );
            let _ = write_all(sh, conn, head.as_bytes());
            let _ = conn.stream.flush();
            sh.sleep(Duration::from_millis(20));
            Flow::Reset
        }
        _ => {
            let resp: Response = api::fault_response(sh, fault);
            let (head, body) = resp.wire(close);
            if write_all(sh, conn, &[head, body].concat()) {
                after
            } else {
                Flow::Close
            }
        }
    }
}
