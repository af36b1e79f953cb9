//! The sans-IO core driven by tokio: `cargo run -p kaiko-example-tokio -- [URL] TEXT`.
//! Without a URL the simulator is started in-process. The loop does what the call says and
//! keeps only the connection and the bytes read but not yet taken.
use kaiko_core::call::{Action, Call, Config, ConnectionLost, Event, TransmitError};
use kaiko_core::idempotency::os_seed;
use kaiko_core::time::{Instant, StdClock};
use kaiko_core::{base_url::BaseUrl, key::ApiKey, request::Message, request::Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep_until, timeout_at};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let text = args.pop().unwrap_or_else(|| "I feel unsure".to_owned());
    let mut sim = None;
    let url = match args.pop() {
        Some(url) => url,
        None => sim
            .insert(kaiko_sim::Sim::start(kaiko_sim::Config::default())?)
            .base_url(),
    };
    let base = BaseUrl::parse(&url)?;
    if base.tls {
        return Err("this example speaks plain HTTP only: use kaiko-std for https".into());
    }
    let addr = (base.host.trim_matches(['[', ']']), base.port);
    let config = Config::new(ApiKey::new("kaiko_test_example")?, base);
    let messages = [Message::user(&text)];
    let clock = StdClock::new();
    let now = || clock.now();
    let at = |t: Instant| tokio::time::Instant::from_std(clock.to_std(t));
    let mut call = Call::new(&config, Request::analyze(&messages), os_seed(), now())?;
    call.set_unix_time(now(), StdClock::unix_secs());

    let mut conn = None::<TcpStream>;
    let (mut out, mut buf, mut unread) = (vec![0u8; 4096], [0u8; 4096], 0..0);
    loop {
        match call.poll_action(now()) {
            Action::Event(Event::Emotion(e)) => {
                let category = e.category.as_ref().map_or("-", |c| c.as_str());
                println!("{}: {category} {:?}", e.role, e.intensity);
            }
            Action::Event(Event::RetryScheduled(r)) => {
                eprintln!("retry {} after {}", r.retry, r.cause)
            }
            Action::Event(_) => {}
            Action::Connect { deadline } => match conn {
                Some(_) => call.handle_connected(now(), true)?,
                None => match timeout_at(at(deadline), TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => {
                        conn = Some(stream);
                        call.handle_connected(now(), false)?;
                    }
                    Ok(Err(_)) => call.handle_connection_lost(now(), ConnectionLost::Refused),
                    Err(_) => {} // the call fails the attempt at its deadline
                },
            },
            Action::Transmit { deadline } => {
                let n = match call.poll_transmit(now(), &mut out) {
                    Ok(n) => n,
                    Err(TransmitError::BufferTooSmall { needed }) => {
                        out.resize(needed, 0);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                unread = 0..0;
                let Some(stream) = conn.as_mut() else {
                    call.handle_connection_lost(now(), ConnectionLost::Io);
                    continue;
                };
                let sent = timeout_at(at(deadline), stream.write_all(&out[..n])).await;
                out[..n].fill(0); // the request carried the key
                match sent {
                    Ok(Ok(())) => call.handle_transmitted(now())?,
                    Ok(Err(_)) => {
                        conn = None;
                        call.handle_connection_lost(now(), ConnectionLost::Reset);
                    }
                    Err(_) => {}
                }
            }
            Action::Receive { deadline } => {
                if unread.is_empty() {
                    let Some(stream) = conn.as_mut() else {
                        call.handle_connection_lost(now(), ConnectionLost::Io);
                        continue;
                    };
                    match timeout_at(at(deadline), stream.read(&mut buf)).await {
                        Ok(Ok(0)) => {
                            conn = None;
                            call.handle_connection_lost(now(), ConnectionLost::Closed);
                        }
                        // Not an end of stream: a reset never completes a body.
                        Ok(Err(_)) => {
                            conn = None;
                            call.handle_connection_lost(now(), ConnectionLost::Reset);
                        }
                        Ok(Ok(n)) => unread = 0..n,
                        Err(_) => {}
                    }
                }
                if !unread.is_empty() {
                    unread.start += call.handle_input(now(), &buf[unread.clone()])?;
                }
            }
            Action::Sleep { until } => sleep_until(at(until)).await,
            Action::Close => conn = None,
            Action::Done(outcome) => {
                match outcome {
                    Ok(s) => println!("ok: status {}, {} attempt(s)", s.status, s.attempts),
                    Err(f) => println!("failed: {f}"),
                }
                drop(sim);
                return Ok(());
            }
        }
    }
}
