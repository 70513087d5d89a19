//! An upstream's SSE answer as a stream of IR events: bytes are parsed into SSE
//! events and each is translated by the provider's [`ChunkDecoder`] as it
//! arrives, never buffered whole.

use std::collections::VecDeque;

use futures_util::{Stream, StreamExt};
use uplink_protocol::error::ErrorKind;
use uplink_protocol::ir::{StreamError, StreamEvent};
use uplink_protocol::sse::SseParser;
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

struct State<B, D> {
    body: B,
    parser: SseParser,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    done: bool,
}

/// Translate a successful streaming response into IR events. The stream always
/// ends with `Finish` or `Error`: a body that stops before the upstream said it
/// finished yields an error event, never a silent success.
pub fn events<D: ChunkDecoder>(response: Response, decoder: D) -> EventStream {
    let state = State {
        body: body_stream(response),
        parser: SseParser::new(),
        decoder,
        pending: VecDeque::new(),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, next))
}

async fn next<B, D>(mut st: State<B, D>) -> Option<(StreamEvent, State<B, D>)>
where
    B: Stream<Item = Result<bytes::Bytes, HttpError>> + Unpin,
    D: ChunkDecoder,
{
    loop {
        if let Some(event) = st.pending.pop_front() {
            if matches!(event, StreamEvent::Error(_)) {
                // Nothing follows an error.
                st.done = true;
                st.pending.clear();
            }
            return Some((event, st));
        }
        if st.done {
            return None;
        }
        let mut out = Vec::new();
        match st.body.next().await {
            Some(Ok(chunk)) => match st.parser.feed(&chunk) {
                Ok(frames) => {
                    for frame in frames {
                        st.decoder
                            .push(frame.event.as_deref(), frame.data.as_bytes(), &mut out);
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
                        .push(frame.event.as_deref(), frame.data.as_bytes(), &mut out);
                }
                st.decoder.finish(&mut out);
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
        st.pending.extend(out);
    }
}
