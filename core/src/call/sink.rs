//! Where the body bytes of one attempt go, and what the call keeps once the attempt is over.
//! One value at a time, so a call is as large as the largest of them, not their sum.

use crate::analysis::{Output, SuccessParser, Summary};
use crate::error::ErrorBody;
use crate::http::{ContentType, ResponseHead};
use crate::stream::{EventStreamBody, EventStreamError};

use super::outcome::{Failure, ProtocolError, Retry, Success};

#[derive(Debug)]
// Only one variant exists at a time, by design: the sizes are what the call is made of.
#[allow(clippy::large_enum_variant)]
pub(super) enum Sink {
    /// No response body (yet).
    Idle,
    /// A JSON success body.
    Json(SuccessParser),
    /// A `text/event-stream` success body.
    Stream(EventStreamBody),
    /// An error body.
    Error(ErrorBody),
    /// The attempt failed and another one is scheduled.
    Retry(Retry),
    /// The call is over.
    Done(Result<Success, Failure>),
}

impl Sink {
    /// The decoder for the body that `head` announces.
    #[inline(never)] // the new decoder is built in this frame, not the caller's
    pub(super) fn for_head(head: &ResponseHead) -> Sink {
        if !(200..300).contains(&head.status) {
            Sink::Error(ErrorBody::new())
        } else if head.content_type == ContentType::EventStream {
            Sink::Stream(EventStreamBody::new())
        } else {
            Sink::Json(SuccessParser::new())
        }
    }

    /// Feeds payload bytes; returns how many were taken (fewer when an output waits).
    pub(super) fn read(&mut self, data: &[u8]) -> Result<usize, ProtocolError> {
        match self {
            Sink::Error(error) => {
                error.feed(data);
                Ok(data.len())
            }
            Sink::Json(json) => json.read(data).map_err(ProtocolError::Json),
            Sink::Stream(stream) => stream.read(data).map_err(stream_error),
            Sink::Idle | Sink::Retry(_) | Sink::Done(_) => Ok(data.len()),
        }
    }

    /// The body ended: `Ok(true)` while an output waits to be taken first.
    pub(super) fn end(&mut self) -> Result<bool, ProtocolError> {
        match self {
            Sink::Json(json) => json.end().map_err(ProtocolError::Json),
            Sink::Stream(stream) => stream.end().map_err(stream_error),
            Sink::Error(_) | Sink::Idle | Sink::Retry(_) | Sink::Done(_) => Ok(false),
        }
    }

    /// Whether a decoded result waits to be taken.
    pub(super) fn has_output(&self) -> bool {
        match self {
            Sink::Json(json) => json.has_output(),
            Sink::Stream(stream) => stream.json().has_output(),
            _ => false,
        }
    }

    /// The waiting result, borrowed until the body is read on.
    pub(super) fn take_output(&mut self) -> Option<Output<'_>> {
        match self {
            Sink::Json(json) => json.take_output(),
            Sink::Stream(stream) => stream.json_mut().take_output(),
            _ => None,
        }
    }

    /// The top-level facts of a success body.
    pub(super) fn summary(&self) -> Summary {
        match self {
            Sink::Json(json) => *json.summary(),
            Sink::Stream(stream) => *stream.json().summary(),
            _ => Summary::default(),
        }
    }
}

fn stream_error(e: EventStreamError) -> ProtocolError {
    match e {
        EventStreamError::Json(e) => ProtocolError::Json(e),
        EventStreamError::Data => ProtocolError::StreamData,
    }
}
