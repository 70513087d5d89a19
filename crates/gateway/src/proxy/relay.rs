//! Relaying a committed answer to the client: as SSE (event by event, never
//! buffered whole, with keep-alive pings on long silences and the protocol's
//! terminator always written), or collected into one response.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::time::Instant;
use uplink_protocol::error::ErrorKind;
use uplink_protocol::ir::{Response, ResponseBuilder, StreamError, StreamEvent};

use super::Answer;

/// A ping after this much silence keeps proxies and clients from timing out.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A client protocol's streaming encoder, writing wire bytes.
pub trait ClientEncoder: Send + 'static {
    /// Encode one event.
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut);
    /// Emit anything held back; called after each upstream chunk's events.
    fn flush(&mut self, out: &mut BytesMut);
    /// Close the stream, terminator included. Called exactly once.
    fn finish(&mut self, out: &mut BytesMut);
    /// A keep-alive the client ignores.
    fn ping(&mut self, out: &mut BytesMut);
}

/// Keep what the monitor wants to know about an event: usage and errors.
fn note_event(note: &crate::monitor::Note, event: &StreamEvent) {
    match event {
        StreamEvent::Usage(usage) => note.update(|n| n.usage.merge(usage)),
        StreamEvent::Error(e) => note.update(|n| n.error = Some(e.message.clone())),
        _ => {}
    }
}

struct Relay<E> {
    answer: Answer,
    head: VecDeque<StreamEvent>,
    encoder: E,
    finished: bool,
}

/// The SSE body for a committed answer. The events read while peeking go out in
/// the first write, together with the head of the response.
pub fn sse_body<E: ClientEncoder>(mut answer: Answer, encoder: E) -> Body {
    let head = std::mem::take(&mut answer.head).into();
    let relay = Relay {
        answer,
        head,
        encoder,
        finished: false,
    };
    let stream = futures_util::stream::unfold(relay, |mut r| async move {
        if r.finished {
            return None;
        }
        // Room for a chunk or two, so that a write seldom regrows it.
        let mut out = BytesMut::with_capacity(1024);
        if !r.head.is_empty() {
            let mut ended = false;
            while let Some(event) = r.head.pop_front() {
                ended |= matches!(event, StreamEvent::Error(_));
                note_event(&r.answer.note, &event);
                r.encoder.event(&event, &mut out);
            }
            r.encoder.flush(&mut out);
            if ended {
                r.encoder.finish(&mut out);
                r.finished = true;
            }
            return Some((Ok::<Bytes, std::convert::Infallible>(out.freeze()), r));
        }
        let wait = KEEP_ALIVE.min(r.answer.deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(wait, r.answer.rest.next()).await {
            Ok(Some(event)) => {
                let mut ended = matches!(event, StreamEvent::Error(_));
                note_event(&r.answer.note, &event);
                r.encoder.event(&event, &mut out);
                // Take whatever else is already here into the same write.
                while !ended {
                    match futures_util::FutureExt::now_or_never(r.answer.rest.next()) {
                        Some(Some(more)) => {
                            ended = matches!(more, StreamEvent::Error(_));
                            note_event(&r.answer.note, &more);
                            r.encoder.event(&more, &mut out);
                        }
                        Some(None) => ended = true,
                        None => break,
                    }
                }
                r.encoder.flush(&mut out);
                if ended {
                    r.encoder.finish(&mut out);
                    r.finished = true;
                }
            }
            Ok(None) => {
                r.encoder.flush(&mut out);
                r.encoder.finish(&mut out);
                r.finished = true;
            }
            Err(_) if Instant::now() >= r.answer.deadline => {
                let error = StreamEvent::Error(StreamError::new(
                    ErrorKind::Timeout,
                    "the request timed out (request_timeout_secs)",
                ));
                note_event(&r.answer.note, &error);
                r.encoder.event(&error, &mut out);
                r.encoder.flush(&mut out);
                r.encoder.finish(&mut out);
                r.finished = true;
            }
            Err(_) => r.encoder.ping(&mut out),
        }
        Some((Ok(out.freeze()), r))
    });
    Body::from_stream(stream)
}

/// Read the whole answer into a response (for clients that did not ask to
/// stream). Errors in the stream, and the deadline, become a `StreamError`.
pub async fn collect(mut answer: Answer) -> Result<Response, StreamError> {
    let mut builder = ResponseBuilder::new();
    for event in answer.head.drain(..) {
        note_event(&answer.note, &event);
        builder.push(event);
    }
    loop {
        match tokio::time::timeout_at(answer.deadline, answer.rest.next()).await {
            Ok(Some(event)) => {
                note_event(&answer.note, &event);
                builder.push(event);
            }
            Ok(None) => break,
            Err(_) => {
                return Err(StreamError::new(
                    ErrorKind::Timeout,
                    "the request timed out (request_timeout_secs)",
                ));
            }
        }
    }
    builder.finish()
}
