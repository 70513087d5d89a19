//! Adapters from the protocol crate's streaming encoders to wire bytes: SSE
//! `data:` lines (OpenAI, Gemini `alt=sse`) or a streamed JSON array (Gemini
//! without `alt=sse`, as google-generativeai's REST transport reads it).

use bytes::{BufMut, BytesMut};
use uplink_protocol::ir::StreamEvent;
use uplink_protocol::sse::{write_comment, write_event};
use uplink_protocol::translate::{
    AnthropicStreamEncoder, ChatChunkEncoder, CompletionChunkEncoder, GeminiChunkEncoder,
    ResponsesStreamEncoder, anthropic_ping,
};

use crate::proxy::relay::ClientEncoder;

/// The shape every payload encoder in the protocol crate shares.
pub trait PayloadEncoder: Send + 'static {
    fn event(&mut self, event: &StreamEvent) -> Vec<String>;
    fn flush(&mut self) -> Vec<String>;
    fn finish(&mut self) -> Vec<String>;
}

macro_rules! payload_encoder {
    ($t:ty) => {
        impl PayloadEncoder for $t {
            fn event(&mut self, event: &StreamEvent) -> Vec<String> {
                <$t>::event(self, event)
            }
            fn flush(&mut self) -> Vec<String> {
                <$t>::flush(self)
            }
            fn finish(&mut self) -> Vec<String> {
                <$t>::finish(self)
            }
        }
    };
}

payload_encoder!(ChatChunkEncoder);
payload_encoder!(CompletionChunkEncoder);
payload_encoder!(GeminiChunkEncoder);

/// Each payload as `data: …`; `terminator` (OpenAI's `[DONE]`) after the last.
pub struct DataLines<E> {
    pub encoder: E,
    pub terminator: Option<&'static str>,
}

impl<E: PayloadEncoder> ClientEncoder for DataLines<E> {
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        for data in self.encoder.event(event) {
            write_event(out, None, &data);
        }
    }

    fn flush(&mut self, out: &mut BytesMut) {
        for data in self.encoder.flush() {
            write_event(out, None, &data);
        }
    }

    fn finish(&mut self, out: &mut BytesMut) {
        for data in self.encoder.finish() {
            write_event(out, None, &data);
        }
        if let Some(t) = self.terminator {
            write_event(out, None, t);
        }
    }

    fn ping(&mut self, out: &mut BytesMut) {
        write_comment(out, "keep-alive");
    }
}

/// Payloads as the elements of one JSON array, written as they come.
pub struct JsonArray<E> {
    pub encoder: E,
    pub opened: bool,
    pub first: bool,
}

impl<E> JsonArray<E> {
    pub fn new(encoder: E) -> Self {
        Self {
            encoder,
            opened: false,
            first: true,
        }
    }

    fn open(&mut self, out: &mut BytesMut) {
        if !self.opened {
            out.put_u8(b'[');
            self.opened = true;
        }
    }

    fn element(&mut self, data: &str, out: &mut BytesMut) {
        self.open(out);
        if !self.first {
            out.put_slice(b",\r\n");
        }
        self.first = false;
        out.put_slice(data.as_bytes());
    }
}

impl<E: PayloadEncoder> ClientEncoder for JsonArray<E> {
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        for data in self.encoder.event(event) {
            self.element(&data, out);
        }
    }

    fn flush(&mut self, out: &mut BytesMut) {
        for data in self.encoder.flush() {
            self.element(&data, out);
        }
    }

    fn finish(&mut self, out: &mut BytesMut) {
        for data in self.encoder.finish() {
            self.element(&data, out);
        }
        self.open(out);
        out.put_u8(b']');
    }

    fn ping(&mut self, out: &mut BytesMut) {
        // Whitespace is valid between JSON tokens.
        self.open(out);
        out.put_u8(b'\n');
    }
}

/// Encoders whose payloads are named events (`event:` lines): Anthropic
/// Messages and OpenAI Responses.
pub trait NamedEventEncoder: Send + 'static {
    fn event(&mut self, event: &StreamEvent) -> Vec<(&'static str, String)>;
    fn flush(&mut self) -> Vec<(&'static str, String)>;
    fn finish(&mut self) -> Vec<(&'static str, String)>;
    /// A keep-alive in the protocol's own terms, if it has one.
    fn ping(&self) -> Option<(&'static str, String)>;
}

impl NamedEventEncoder for AnthropicStreamEncoder {
    fn event(&mut self, event: &StreamEvent) -> Vec<(&'static str, String)> {
        AnthropicStreamEncoder::event(self, event)
    }
    fn flush(&mut self) -> Vec<(&'static str, String)> {
        AnthropicStreamEncoder::flush(self)
    }
    fn finish(&mut self) -> Vec<(&'static str, String)> {
        AnthropicStreamEncoder::finish(self)
    }
    fn ping(&self) -> Option<(&'static str, String)> {
        Some(anthropic_ping())
    }
}

impl NamedEventEncoder for ResponsesStreamEncoder {
    fn event(&mut self, event: &StreamEvent) -> Vec<(&'static str, String)> {
        ResponsesStreamEncoder::event(self, event)
    }
    fn flush(&mut self) -> Vec<(&'static str, String)> {
        ResponsesStreamEncoder::flush(self)
    }
    fn finish(&mut self) -> Vec<(&'static str, String)> {
        ResponsesStreamEncoder::finish(self)
    }
    fn ping(&self) -> Option<(&'static str, String)> {
        None
    }
}

/// `event: <name>` + `data: <json>` frames.
pub struct EventLines<E>(pub E);

fn write_named(out: &mut BytesMut, frames: Vec<(&'static str, String)>) {
    for (name, data) in frames {
        write_event(out, Some(name), &data);
    }
}

impl<E: NamedEventEncoder> ClientEncoder for EventLines<E> {
    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        write_named(out, self.0.event(event));
    }

    fn flush(&mut self, out: &mut BytesMut) {
        write_named(out, self.0.flush());
    }

    fn finish(&mut self, out: &mut BytesMut) {
        write_named(out, self.0.finish());
    }

    fn ping(&mut self, out: &mut BytesMut) {
        match self.0.ping() {
            Some((name, data)) => write_event(out, Some(name), &data),
            None => write_comment(out, "keep-alive"),
        }
    }
}
