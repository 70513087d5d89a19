//! A `streamGenerateContent?alt=sse` answer as a stream of IR events: bytes are
//! parsed into SSE events and each is translated as it arrives, never buffered
//! whole.

use std::collections::VecDeque;

use futures_util::{Stream, StreamExt};
use uplink_protocol::error::ErrorKind;
use uplink_protocol::ir::{StreamError, StreamEvent};
use uplink_protocol::sse::SseParser;
use uplink_protocol::translate::GeminiStreamDecoder;

use crate::upstream::EventStream;

struct State<B> {
    body: B,
    parser: SseParser,
    decoder: GeminiStreamDecoder,
    pending: VecDeque<StreamEvent>,
    done: bool,
}

/// Translate a successful streaming response into IR events. The stream always
/// ends with `Finish` or `Error`: a body that stops before the upstream's
/// `finishReason` yields an error event, never a silent success.
pub fn events(response: reqwest::Response, upstream_model: &str) -> EventStream {
    let state = State {
        body: response.bytes_stream(),
        parser: SseParser::new(),
        decoder: GeminiStreamDecoder::new(upstream_model),
        pending: VecDeque::new(),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, next))
}

async fn next<B>(mut st: State<B>) -> Option<(StreamEvent, State<B>)>
where
    B: Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
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
                        st.decoder.push_data(frame.data.as_bytes(), &mut out);
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
                    st.decoder.push_data(frame.data.as_bytes(), &mut out);
                }
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
