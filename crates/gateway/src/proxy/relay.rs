//! Relaying a committed answer to the client: as SSE (event by event, never
//! buffered whole, with keep-alive pings on long silences and the protocol's
//! terminator always written), or collected into one response.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};
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

/// The SSE body's stream, polled in place. (It was a `stream::unfold` that
/// moved this whole state into a new future for every write and wrapped each
/// wait in a fresh `tokio::time::timeout`, a timer registered and removed
/// again for every chunk.)
struct Relay<E> {
    answer: Answer,
    head: VecDeque<StreamEvent>,
    encoder: E,
    finished: bool,
    /// When the last write went out: a silence is counted from it.
    last_write: Instant,
    /// Wakes the relay for a keep-alive or the deadline. It is moved only when
    /// it fires early (a write came since it was set), not on every write.
    timer: Pin<Box<Sleep>>,
}

// Nothing in a relay is pinned but its timer, which is boxed: it may move.
impl<E> Unpin for Relay<E> {}

/// The SSE body for a committed answer. The events read while peeking go out in
/// the first write, together with the head of the response.
pub fn sse_body<E: ClientEncoder>(mut answer: Answer, encoder: E) -> Body {
    let head = std::mem::take(&mut answer.head).into();
    let now = Instant::now();
    let timer = Box::pin(tokio::time::sleep_until(
        (now + KEEP_ALIVE).min(answer.deadline),
    ));
    Body::from_stream(Relay {
        answer,
        head,
        encoder,
        finished: false,
        last_write: now,
        timer,
    })
}

impl<E: ClientEncoder> Relay<E> {
    /// Encode `event`; whether it ends the answer.
    fn encode(&mut self, event: &StreamEvent, out: &mut BytesMut) -> bool {
        note_event(&self.answer.note, event);
        self.encoder.event(event, out);
        matches!(event, StreamEvent::Error(_))
    }

    /// Close a write: flush, and finish the answer when it `ended`.
    fn write(&mut self, mut out: BytesMut, ended: bool) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.encoder.flush(&mut out);
        if ended {
            self.encoder.finish(&mut out);
            self.finished = true;
        }
        self.send(out)
    }

    /// Hand `out` to the body; the silence is counted from now.
    fn send(&mut self, out: BytesMut) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.last_write = Instant::now();
        Poll::Ready(Some(Ok(out.freeze())))
    }
}

impl<E: ClientEncoder> Stream for Relay<E> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let r = self.get_mut();
        if r.finished {
            return Poll::Ready(None);
        }
        // Room for a chunk or two, so that a write seldom regrows it.
        let mut out = BytesMut::with_capacity(1024);
        if !r.head.is_empty() {
            let mut ended = false;
            while let Some(event) = r.head.pop_front() {
                ended |= r.encode(&event, &mut out);
            }
            return r.write(out, ended);
        }
        // Every event already here goes into the same write.
        let mut wrote = false;
        loop {
            match r.answer.rest.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => {
                    wrote = true;
                    if r.encode(&event, &mut out) {
                        return r.write(out, true);
                    }
                }
                Poll::Ready(None) => return r.write(out, true),
                Poll::Pending if wrote => return r.write(out, false),
                Poll::Pending => break,
            }
        }
        // Silence: a ping when it has lasted KEEP_ALIVE, an error at the deadline.
        loop {
            ready!(r.timer.as_mut().poll(cx));
            let due = (r.last_write + KEEP_ALIVE).min(r.answer.deadline);
            if Instant::now() < due {
                r.timer.as_mut().reset(due);
                continue;
            }
            if Instant::now() >= r.answer.deadline {
                let error = StreamEvent::Error(StreamError::new(
                    ErrorKind::Timeout,
                    "the request timed out (request_timeout_secs)",
                ));
                r.encode(&error, &mut out);
                return r.write(out, true);
            }
            // A ping is not a chunk: nothing to flush. The timer, fired, is
            // moved to the next due time on the next poll.
            r.encoder.ping(&mut out);
            return r.send(out);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;
    use uplink_protocol::ir::FinishReason;

    /// Writes one letter or word per call, so a test reads what was written
    /// in which order and in which write.
    struct Letters;

    impl ClientEncoder for Letters {
        fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
            match event {
                StreamEvent::TextDelta(t) => out.extend_from_slice(t.as_bytes()),
                StreamEvent::Error(_) => out.extend_from_slice(b"<error>"),
                StreamEvent::Finish(_) => out.extend_from_slice(b"<finish>"),
                _ => out.extend_from_slice(b"<other>"),
            }
        }
        fn flush(&mut self, _out: &mut BytesMut) {}
        fn finish(&mut self, out: &mut BytesMut) {
            out.extend_from_slice(b"<end>");
        }
        fn ping(&mut self, out: &mut BytesMut) {
            out.extend_from_slice(b"<ping>");
        }
    }

    /// An answer whose first event was `head` and whose rest the test sends,
    /// due by `within`.
    fn answer(head: &str, within: Duration) -> (Answer, mpsc::UnboundedSender<StreamEvent>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let rest = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let answer = Answer {
            note: crate::monitor::Note::default(),
            account: "a@example.com".into(),
            expose_account: false,
            upstream_model: "m".into(),
            head: vec![StreamEvent::TextDelta(head.into())],
            rest: Box::pin(rest),
            deadline: Instant::now() + within,
        };
        (answer, tx)
    }

    /// The writes of an SSE body, as text.
    struct Writes(
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, axum::Error>> + Send>>,
    );

    impl Writes {
        fn of(answer: Answer) -> Writes {
            Writes(Box::pin(sse_body(answer, Letters).into_data_stream()))
        }

        async fn next(&mut self) -> Option<String> {
            let bytes = self.0.next().await?.unwrap();
            Some(String::from_utf8(bytes.to_vec()).unwrap())
        }
    }

    fn text(t: &str) -> StreamEvent {
        StreamEvent::TextDelta(t.into())
    }

    #[tokio::test(start_paused = true)]
    async fn events_already_waiting_go_out_in_one_write_and_the_end_is_written() {
        let (answer, tx) = answer("a", Duration::from_secs(600));
        let mut writes = Writes::of(answer);
        assert_eq!(writes.next().await.as_deref(), Some("a"));
        for t in ["b", "c", "d"] {
            tx.send(text(t)).unwrap();
        }
        assert_eq!(writes.next().await.as_deref(), Some("bcd"));
        tx.send(StreamEvent::Finish(FinishReason::Stop)).unwrap();
        drop(tx);
        assert_eq!(writes.next().await.as_deref(), Some("<finish><end>"));
        assert_eq!(writes.next().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silence_gets_a_ping_every_keep_alive_and_the_answer_goes_on() {
        let (answer, tx) = answer("a", Duration::from_secs(600));
        let mut writes = Writes::of(answer);
        assert_eq!(writes.next().await.as_deref(), Some("a"));
        let quiet = Instant::now();
        assert_eq!(writes.next().await.as_deref(), Some("<ping>"));
        assert_eq!(writes.next().await.as_deref(), Some("<ping>"));
        assert_eq!(Instant::now() - quiet, 2 * KEEP_ALIVE);
        tx.send(text("b")).unwrap();
        assert_eq!(writes.next().await.as_deref(), Some("b"));
        // The silence is counted again from the last write.
        let quiet = Instant::now();
        assert_eq!(writes.next().await.as_deref(), Some("<ping>"));
        assert_eq!(Instant::now() - quiet, KEEP_ALIVE);
        drop(tx);
        assert_eq!(writes.next().await.as_deref(), Some("<end>"));
        assert_eq!(writes.next().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_deadline_the_answer_ends_in_a_timeout_error_and_the_end() {
        let within = KEEP_ALIVE + Duration::from_secs(5);
        let (answer, tx) = answer("a", within);
        let note = answer.note.clone();
        let start = Instant::now();
        let mut writes = Writes::of(answer);
        assert_eq!(writes.next().await.as_deref(), Some("a"));
        assert_eq!(writes.next().await.as_deref(), Some("<ping>"));
        assert_eq!(writes.next().await.as_deref(), Some("<error><end>"));
        assert_eq!(Instant::now() - start, within);
        assert_eq!(writes.next().await, None);
        let mut error = None;
        note.update(|n| error = n.error.clone());
        assert!(
            error.is_some_and(|e| e.contains("request_timeout_secs")),
            "the monitor is told why"
        );
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_written_after_an_error_but_the_end() {
        let (answer, tx) = answer("a", Duration::from_secs(600));
        let mut writes = Writes::of(answer);
        assert_eq!(writes.next().await.as_deref(), Some("a"));
        tx.send(text("b")).unwrap();
        tx.send(StreamEvent::Error(StreamError::new(
            ErrorKind::Upstream,
            "cut",
        )))
        .unwrap();
        tx.send(text("c")).unwrap();
        assert_eq!(writes.next().await.as_deref(), Some("b<error><end>"));
        assert_eq!(writes.next().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn collect_reads_the_whole_answer() {
        let (answer, tx) = answer("a", Duration::from_secs(600));
        let collecting = tokio::spawn(collect(answer));
        tokio::time::sleep(Duration::from_secs(30)).await;
        tx.send(text("b")).unwrap();
        tx.send(StreamEvent::Finish(FinishReason::Stop)).unwrap();
        drop(tx);
        let response = collecting.await.unwrap().unwrap();
        assert_eq!(response.text(), "ab");
        assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    }

    #[tokio::test(start_paused = true)]
    async fn collect_gives_up_at_the_deadline() {
        let within = Duration::from_secs(90);
        let (answer, tx) = answer("a", within);
        let start = Instant::now();
        tx.send(text("b")).unwrap();
        let error = collect(answer).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert_eq!(Instant::now() - start, within);
        drop(tx);
    }
}
