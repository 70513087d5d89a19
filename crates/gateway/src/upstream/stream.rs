//! An upstream's SSE answer as a stream of IR events: bytes are parsed into SSE
//! events and each is translated by the provider's [`ChunkDecoder`] as it
//! arrives, never buffered whole.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::{Stream, StreamExt};
use uplink_protocol::error::ErrorKind;
use uplink_protocol::ir::{StreamError, StreamEvent};
use uplink_protocol::sse::{SseEvent, SseParser};
use uplink_protocol::translate::{AnthropicStreamDecoder, GeminiStreamDecoder, OpenAiChunkDecoder};

use crate::upstream::EventStream;
use crate::upstream::http::{HttpError, Response, body_stream};

/// Turns one upstream SSE event into IR events.
pub trait ChunkDecoder: Send + 'static {
    fn push(&mut self, event: Option<&str>, data: &[u8], out: &mut Vec<StreamEvent>);
    /// The upstream's body ended: emit anything held back.
    fn finish(&mut self, _out: &mut Vec<StreamEvent>) {}
    /// Whether the upstream said the answer was complete.
    fn saw_finish(&self) -> bool;
}

impl ChunkDecoder for AnthropicStreamDecoder {
    fn push(&mut self, event: Option<&str>, data: &[u8], out: &mut Vec<StreamEvent>) {
        self.push_event(event, data, out);
    }

    fn saw_finish(&self) -> bool {
        AnthropicStreamDecoder::saw_finish(self)
    }
}

impl ChunkDecoder for OpenAiChunkDecoder {
    fn push(&mut self, _event: Option<&str>, data: &[u8], out: &mut Vec<StreamEvent>) {
        self.push_data(data, out);
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        OpenAiChunkDecoder::finish(self, out);
    }

    fn saw_finish(&self) -> bool {
        OpenAiChunkDecoder::saw_finish(self)
    }
}

impl ChunkDecoder for GeminiStreamDecoder {
    fn push(&mut self, _event: Option<&str>, data: &[u8], out: &mut Vec<StreamEvent>) {
        self.push_data(data, out);
    }

    fn saw_finish(&self) -> bool {
        GeminiStreamDecoder::saw_finish(self)
    }
}

/// The stream [`events`] returns: a struct polled in place. (It was a
/// `futures_util::stream::unfold`, which moves its whole state — body, parser,
/// decoder — into a new future for every event and back out again: two
/// copies of a few hundred bytes per event, ~2.5k instructions of `memcpy` a
/// small request by callgrind.)
struct Events<B, D> {
    body: B,
    parser: SseParser,
    decoder: D,
    /// The SSE events of the latest chunk, kept for their capacity.
    frames: Vec<SseEvent>,
    /// What the decoder made of them, last first: the next event is popped
    /// from the end, and the buffer keeps its capacity from chunk to chunk.
    pending: Vec<StreamEvent>,
    done: bool,
}

// Nothing in it is pinned: the body is polled as `Unpin` and the rest is data.
impl<B, D> Unpin for Events<B, D> {}

/// Translate a successful streaming response into IR events. The stream always
/// ends with `Finish` or `Error`: a body that stops before the upstream said it
/// finished yields an error event, never a silent success.
pub fn events<D: ChunkDecoder>(response: Response, decoder: D) -> EventStream {
    Box::pin(Events::new(body_stream(response), decoder))
}

impl<B, D> Events<B, D> {
    fn new(body: B, decoder: D) -> Self {
        Events {
            body,
            parser: SseParser::new(),
            decoder,
            frames: Vec::new(),
            pending: Vec::new(),
            done: false,
        }
    }
}

impl<B, D> Stream for Events<B, D>
where
    B: Stream<Item = Result<bytes::Bytes, HttpError>> + Unpin,
    D: ChunkDecoder,
{
    type Item = StreamEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let st = self.get_mut();
        loop {
            if let Some(event) = st.pending.pop() {
                if matches!(event, StreamEvent::Error(_)) {
                    // Nothing follows an error.
                    st.done = true;
                    st.pending.clear();
                }
                return Poll::Ready(Some(event));
            }
            if st.done {
                return Poll::Ready(None);
            }
            // Empty here: every event of the last chunk has been handed out.
            let out = &mut st.pending;
            match ready!(st.body.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => match st.parser.feed_into(&chunk, &mut st.frames) {
                    Ok(()) => {
                        for frame in st.frames.drain(..) {
                            st.decoder
                                .push(frame.event.as_deref(), frame.data.as_bytes(), out);
                        }
                    }
                    Err(e) => out.push(StreamEvent::Error(StreamError::new(
                        ErrorKind::Upstream,
                        format!("upstream stream is malformed: {e}"),
                    ))),
                },
                Some(Err(e)) => {
                    out.push(StreamEvent::Error(StreamError::new(
                        ErrorKind::Upstream,
                        format!("upstream connection failed mid-stream: {e}"),
                    )));
                }
                None => {
                    if let Some(frame) = st.parser.finish() {
                        st.decoder
                            .push(frame.event.as_deref(), frame.data.as_bytes(), out);
                    }
                    st.decoder.finish(out);
                    if !st.decoder.saw_finish()
                        && !out.iter().any(|e| matches!(e, StreamEvent::Error(_)))
                    {
                        out.push(StreamEvent::Error(StreamError::new(
                            ErrorKind::Upstream,
                            "the upstream stream ended before the answer was complete",
                        )));
                    }
                    st.done = true;
                }
            }
            out.reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use uplink_protocol::ir::FinishReason;

    const CHUNKS: [&str; 3] = [
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ];

    fn transcript() -> String {
        let mut text: String = CHUNKS.iter().map(|c| format!("data: {c}\n\n")).collect();
        text.push_str("data: [DONE]\n\n");
        text
    }

    /// Every event of a body delivered as `parts`.
    async fn collect(parts: Vec<Result<Bytes, HttpError>>) -> Vec<StreamEvent> {
        let body = futures_util::stream::iter(parts);
        Events::new(body, OpenAiChunkDecoder::new()).collect().await
    }

    fn ok(text: &str) -> Result<Bytes, HttpError> {
        Ok(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[tokio::test]
    async fn events_are_the_same_however_the_body_is_split() {
        let text = transcript();
        let whole = collect(vec![ok(&text)]).await;
        assert_eq!(whole.last(), Some(&StreamEvent::Finish(FinishReason::Stop)));
        let deltas: Vec<&StreamEvent> = whole
            .iter()
            .filter(|e| matches!(e, StreamEvent::TextDelta(_)))
            .collect();
        assert_eq!(
            deltas,
            [
                &StreamEvent::TextDelta("Hel".into()),
                &StreamEvent::TextDelta("lo".into())
            ]
        );
        for at in 1..text.len() {
            let split = collect(vec![ok(&text[..at]), ok(&text[at..])]).await;
            assert_eq!(split, whole, "split at {at}");
        }
        let bytewise = collect(text.bytes().map(|b| Ok(Bytes::from(vec![b]))).collect()).await;
        assert_eq!(bytewise, whole);
    }

    #[tokio::test]
    async fn nothing_follows_a_broken_body() {
        let text = transcript();
        let events = collect(vec![
            ok(&format!("data: {}\n\n", CHUNKS[0])),
            Err(HttpError::Body("connection reset".into())),
            ok(&text),
        ])
        .await;
        let Some(StreamEvent::Error(e)) = events.last() else {
            panic!("{events:?}");
        };
        assert!(e.message.contains("connection reset"), "{e:?}");
        assert!(
            !events[..events.len() - 1]
                .iter()
                .any(|e| matches!(e, StreamEvent::Error(_) | StreamEvent::Finish(_))),
            "{events:?}"
        );
        assert!(events.contains(&StreamEvent::TextDelta("Hel".into())));
    }

    #[tokio::test]
    async fn a_body_that_ends_early_ends_in_an_error() {
        let events = collect(vec![ok(&format!("data: {}\n\n", CHUNKS[0]))]).await;
        let Some(StreamEvent::Error(e)) = events.last() else {
            panic!("{events:?}");
        };
        assert!(
            e.message.contains("ended before the answer was complete"),
            "{e:?}"
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, StreamEvent::Error(_)))
                .count(),
            1
        );
    }
}
