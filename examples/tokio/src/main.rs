//! The sans-IO core driven by tokio: `cargo run -p kaiko-example-tokio -- [URL] TEXT`.
//! Without a URL the simulator is started in-process.
use kaiko_core::call::{Call, Config, ConnectionLost, Event};
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
    let addr = (base.host.trim_matches(['[', ']']), base.port);
    let config = Config::new(ApiKey::new("kaiko_test_example")?, base);
    let messages = [Message::user(&text)];
    let clock = StdClock::new();
    let now = || clock.now();
    let at = |t: Option<Instant>| clock.to_std(t.unwrap_or(Instant::MAX)).into();
    let mut call = Call::new(&config, Request::analyze(&messages), os_seed(), now())
        .map_err(|e| format!("{e:?}"))?;
    call.set_unix_time(now(), StdClock::unix_secs());

    let (mut conn, mut in_flight) = (None::<TcpStream>, false);
    let (mut out, mut buf, mut pending) = (vec![0u8; 4096], [0u8; 4096], 0..0);
    loop {
        while let Some(event) = call.poll_event() {
            match event {
                Event::Emotion(e) => println!("{}: {} {:?}", e.role, e.category, e.intensity),
                Event::Content(c) => print!("{}", String::from_utf8_lossy(&c.bytes)),
                Event::RetryScheduled { retry, cause, .. } => {
                    eprintln!("retry {retry} after {cause:?}");
                    (in_flight, pending) = (false, 0..0);
                    conn = conn.filter(|_| call.keep_alive());
                }
                Event::Done(result) => {
                    println!("{result:?}");
                    drop(sim);
                    return Ok(());
                }
            }
        }
        if !pending.is_empty() {
            // Bytes the call has not taken yet: offer them again after its events.
            pending.start += call.handle_input(now(), buf.get(pending.clone()).unwrap_or(&[]));
        } else if !in_flight {
            sleep_until(at(call.poll_timeout())).await;
            call.handle_timeout(now());
            if call.poll_timeout().is_none_or(|t| t > now()) {
                continue; // still backing off, or the call just ended
            }
            if conn.is_none() {
                call.handle_connecting(now());
                match timeout_at(at(call.poll_timeout()), TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => conn = Some(stream),
                    Ok(Err(_)) => call.handle_connection_lost(now(), ConnectionLost::Refused),
                    Err(_) => call.handle_timeout(now()),
                }
            }
            if let (Some(stream), Ok(Some(n))) =
                (conn.as_mut(), call.poll_transmit(now(), &mut out))
            {
                in_flight = true;
                if stream.write_all(out.get(..n).unwrap_or(&[])).await.is_err() {
                    conn = None;
                    call.handle_connection_lost(now(), ConnectionLost::Reset);
                }
            }
        } else if let Some(stream) = conn.as_mut() {
            match timeout_at(at(call.poll_timeout()), stream.read(&mut buf)).await {
                Err(_) => call.handle_timeout(now()),
                Ok(Ok(0)) | Ok(Err(_)) => {
                    conn = None;
                    call.handle_connection_lost(now(), ConnectionLost::Closed);
                }
                Ok(Ok(n)) => pending = 0..n,
            }
        } else {
            call.handle_connection_lost(now(), ConnectionLost::Io);
        }
    }
}
