//! What one attempt is reading (its response head, then its body) and what the call keeps
//! once the attempt is over. One value at a time, so a call is as large as the largest of
//! them, not their sum: the head parser, the body decoder, the retry notice and the outcome
//! share one slot.

use crate::analysis::{Output, SuccessParser};
use crate::error::ErrorBody;
use crate::http::{BodyDecoder, ContentType, HeadReader, ResponseHead};
use crate::stream::{EventStreamBody, EventStreamError};

use super::outcome::{Failure, ProtocolError, Retry, Success};

#[derive(Debug)]
// Only one variant exists at a time, by design: the sizes are what the call is made of.
#[allow(clippy::large_enum_variant)]
pub(super) enum Sink {
    /// No attempt in flight.
    Idle,
    /// The request went out (or is going out); its response head is being read.
    Head(HeadReader),
    /// The response head was read; its body is being decoded.
    Body(Response),
    /// The attempt failed and another one is scheduled.
    Retry(Retry),
    /// The call succeeded. (Success and failure are variants of their own rather than one
    /// `Result`: ending the call then takes less code, 20 B on thumbv7em.)
    Succeeded(Success),
    /// The call failed.
    Failed(Failure),
}

/// A response whose head has been read (the head itself is the call's).
#[derive(Debug)]
pub(super) struct Response {
    pub(super) framing: BodyDecoder,
    pub(super) body: Body,
}

/// The decoder of a response body.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
// Tag then payload: the JSON parser of a plain body and of an event stream sit at the same
// offset, so taking an output does not branch on the framing. A 4-byte tag takes no more room
// than a 1-byte one on a 32-bit target (the payload is 4-aligned there) and, as the sink's
// variant tag lives in it, its code writes whole words: 20 B less code on thumbv7em.
#[repr(C, u32)]
pub(super) enum Body {
    /// A JSON success body.
    Json(SuccessParser),
    /// A `text/event-stream` success body.
    Stream(EventStreamBody),
    /// An error body.
    Error(ErrorBody),
}

impl Body {
    /// The decoder for the body that `head` announces.
    pub(super) fn for_head(head: &ResponseHead) -> Body {
        if !(200..300).contains(&head.status) {
            Body::Error(ErrorBody::new())
        } else if head.content_type == ContentType::EventStream {
            Body::Stream(EventStreamBody::new())
        } else {
            Body::Json(SuccessParser::new())
        }
    }

    /// Feeds payload bytes; returns how many were taken (fewer when an output waits).
    pub(super) fn read(&mut self, data: &[u8]) -> Result<usize, ProtocolError> {
        match self {
            Body::Error(error) => {
                error.feed(data);
                Ok(data.len())
            }
            Body::Json(json) => json.read(data).map_err(ProtocolError::Json),
            Body::Stream(stream) => stream.read(data).map_err(stream_error),
        }
    }

    /// The body ended: `Ok(true)` while an output waits to be taken first.
    pub(super) fn end(&mut self) -> Result<bool, ProtocolError> {
        match self {
            Body::Json(json) => json.end().map_err(ProtocolError::Json),
            Body::Stream(stream) => stream.end().map_err(stream_error),
            Body::Error(_) => Ok(false),
        }
    }

    /// The success-body parser, whichever framing carries it (`None` for an error body).
    fn parser(&self) -> Option<&SuccessParser> {
        match self {
            Body::Json(json) => Some(json),
            Body::Stream(stream) => Some(stream.json()),
            Body::Error(_) => None,
        }
    }

    /// [`Body::parser`], to take a waiting output.
    fn parser_mut(&mut self) -> Option<&mut SuccessParser> {
        match self {
            Body::Json(json) => Some(json),
            Body::Stream(stream) => Some(stream.json_mut()),
            Body::Error(_) => None,
        }
    }
}

impl Sink {
    /// The success-body parser of the response being read, whichever framing carries it.
    fn parser(&self) -> Option<&SuccessParser> {
        match self {
            Sink::Body(response) => response.body.parser(),
            _ => None,
        }
    }

    /// [`Sink::parser`], to take a waiting output.
    fn parser_mut(&mut self) -> Option<&mut SuccessParser> {
        match self {
            Sink::Body(response) => response.body.parser_mut(),
            _ => None,
        }
    }

    /// Whether a decoded result waits to be taken.
    #[inline(never)] // asked on every input and action: one copy
    pub(super) fn has_output(&self) -> bool {
        self.parser().is_some_and(SuccessParser::has_output)
    }

    /// The waiting result, borrowed until the body is read on.
    pub(super) fn take_output(&mut self) -> Option<Output<'_>> {
        self.parser_mut()?.take_output()
    }
}

fn stream_error(e: EventStreamError) -> ProtocolError {
    match e {
        EventStreamError::Json(e) => ProtocolError::Json(e),
        EventStreamError::Data => ProtocolError::StreamData,
    }
}
