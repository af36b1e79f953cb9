//! A reqwless connection is an `embedded_io_async::{Read, Write}`, so [`drive`] runs the core
//! over one as it is: a firmware that already holds reqwless connections (plain or
//! embedded-tls) needs nothing else. Here a plain one, to kaiko-sim over loopback TCP.

use embedded_io_adapters::tokio_1::FromTokio;
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Call, Config, Event};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Message, Request};
use kaiko_core::time::Instant;
use kaiko_embassy::{Drive, drive};
use kaiko_sim::{Config as SimConfig, Fault, RetryAfterValue, Sim};
use reqwless::client::HttpConnection;

const MESSAGES: [Message<'static>; 1] = [Message::user("I feel a bit unsure about this")];

#[tokio::test(flavor = "current_thread")]
async fn drive_runs_over_a_reqwless_connection() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    // The first answer is a 429 with Retry-After: the retry goes over the same connection.
    sim.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(RetryAfterValue::Seconds(1)),
    });
    let url = sim.base_url();
    let mut config = Config::new(
        ApiKey::new("kaiko_test_reqwless").unwrap(),
        BaseUrl::parse(&url).unwrap(),
    );
    config.policy.respect_rate_limit = false;

    let stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut conn: Option<HttpConnection<'_, FromTokio<tokio::net::TcpStream>>> =
        Some(HttpConnection::Plain(FromTokio::new(stream)));
    let now = Instant::from(embassy_time::Instant::now());
    let mut call = Call::new(&config, Request::analyze(&MESSAGES), 0x5eed, now).unwrap();
    let (mut tx, mut rx) = ([0u8; 1024], [0u8; 256]);
    let (mut emotions, mut retries) = (Vec::new(), 0);
    let outcome = drive(
        &mut call,
        &mut conn,
        &mut tx,
        &mut rx,
        &mut |event| match event {
            Event::Emotion(e) => emotions.push(e.category),
            Event::RetryScheduled(_) => {
                retries += 1;
                emotions.clear();
            }
            _ => {}
        },
    )
    .await;

    let Drive::Done(Ok(success)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((success.status, success.attempts, retries), (200, 2, 1));
    assert_eq!(emotions, [Some(kaiko_core::analysis::Category::Fear)]);
    assert_eq!(
        sim.connections_accepted(),
        1,
        "one reqwless connection carried both attempts"
    );
}
