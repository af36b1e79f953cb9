//! The kaiko-core side of every case, driven the way an adapter drives it.

use kaiko_core::analysis::{Emotion, Output, SuccessParser, Summary};
use kaiko_core::base_url::BaseUrl;
use kaiko_core::call::{Action, Call, Config, Event};
use kaiko_core::error::{ApiError, ErrorBody};
use kaiko_core::http::{DEFAULT_MAX_HEAD, HeadParser, ResponseHead};
use kaiko_core::key::ApiKey;
use kaiko_core::request::{Request, RequestHead};
use kaiko_core::time::Instant;

use crate::fixtures::{BASE, IDEMPOTENCY_KEY, KEY};

/// Parses a whole response head handed over in pieces of `piece` bytes (`usize::MAX`: one
/// slice). `None` if the head is incomplete or rejected.
pub fn head(wire: &[u8], piece: usize) -> Option<ResponseHead> {
    let mut p = HeadParser::new(DEFAULT_MAX_HEAD);
    for chunk in wire.chunks(piece.max(1)) {
        match p.parse_in_place(chunk) {
            Ok((_, Some(head))) => return Some(*head),
            Ok((_, None)) => {}
            Err(_) => return None,
        }
    }
    None
}

/// What a success body gave: the emotion items (the last one kept), the bytes of completion
/// text, and the summary.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// Emotion items seen.
    pub emotions: usize,
    /// The last emotion item.
    pub last: Option<Emotion>,
    /// Bytes of completion text.
    pub content_bytes: usize,
    /// Top-level facts.
    pub summary: Summary,
}

/// Decodes a success body fed in pieces of `piece` bytes; `None` on invalid JSON.
pub fn body(body: &[u8], piece: usize) -> Option<Decoded> {
    let mut p = SuccessParser::new();
    let mut d = Decoded::default();
    for chunk in body.chunks(piece.max(1)) {
        let mut input = chunk;
        loop {
            let (n, out) = p.feed(input).ok()?;
            input = input.get(n..)?;
            match out {
                Some(out) => take(&mut d, out),
                None => break,
            }
        }
    }
    while let Some(out) = p.finish().ok()? {
        take(&mut d, out);
    }
    d.summary = *p.summary();
    Some(d)
}

fn take(d: &mut Decoded, out: Output<'_>) {
    match out {
        Output::Emotion(e) => {
            d.emotions += 1;
            d.last = Some(e.clone());
        }
        Output::Content(c) => d.content_bytes += c.len(),
        // List elements of the optional decoders (kaiko-core features).
        _ => {}
    }
}

/// Decodes an error body of a response with `head`.
pub fn error(body: &[u8], head: &ResponseHead) -> ApiError {
    let mut e = ErrorBody::new();
    e.feed(body);
    e.finish(head)
}

/// Key and base URL of every request.
pub fn config() -> Config<'static> {
    let key = ApiKey::new(KEY).expect("fixture key");
    let base = BaseUrl::parse(BASE).expect("fixture base URL");
    Config::new(key, base)
}

/// Writes `request` into `out` with the fixture head; `None` if it does not fit.
pub fn write(request: &Request<'_>, config: &Config<'_>, out: &mut [u8]) -> Option<usize> {
    let head = RequestHead::new(&config.base_url, &config.api_key, IDEMPOTENCY_KEY);
    request.write(&head, out).ok()
}

/// What a whole exchange gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// Request bytes sent.
    pub sent: usize,
    /// Emotion items the call handed over.
    pub events: usize,
    /// The call ended in success.
    pub ok: bool,
}

/// One full exchange, driven as an adapter drives it: a new call, connected, its request
/// written, the whole `response` handed over in one slice, actions followed until `Done`.
/// Anything the call did not expect from a well-formed exchange (a sleep, a close, input left
/// over) ends it with `ok == false`.
pub fn exchange(config: &Config<'_>, request: Request<'_>, response: &[u8]) -> Exchange {
    exchange_in_pieces(config, request, response, usize::MAX)
}

/// [`exchange`] with the response read at most `piece` bytes at a time; what the call does
/// not take (an event waits) is offered again.
pub fn exchange_in_pieces(
    config: &Config<'_>,
    request: Request<'_>,
    response: &[u8],
    piece: usize,
) -> Exchange {
    let mut x = Exchange::default();
    let now = Instant::ZERO;
    let Ok(mut call) = Call::new(config, request, 7, now) else {
        return x;
    };
    let mut out = [0u8; 1024];
    let mut input = response;
    loop {
        match call.poll_action(now) {
            // Emotion items only: the list decoders that other crates of a workspace may
            // enable (kaiko-core features) add element events the peers do not decode.
            Action::Event(Event::Emotion(_)) => x.events += 1,
            Action::Event(_) => {}
            Action::Connect { .. } => {
                if call.handle_connected(now, false).is_err() {
                    return x;
                }
            }
            Action::Transmit { .. } => match call.poll_transmit(now, &mut out) {
                Ok(n) if call.handle_transmitted(now).is_ok() => x.sent = n,
                _ => return x,
            },
            Action::Receive { .. } => {
                let read = input.get(..piece.max(1).min(input.len())).unwrap_or(&[]);
                match call.handle_input(now, read) {
                    Ok(n) if !read.is_empty() => input = input.get(n..).unwrap_or(&[]),
                    _ => return x,
                }
            }
            Action::Done(outcome) => {
                x.ok = outcome.is_ok();
                return x;
            }
            Action::Sleep { .. } | Action::Close => return x,
        }
    }
}
