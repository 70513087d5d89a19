//! Incremental Server-Sent Events codec: a parser fed arbitrary byte chunks, and a writer.
//!
//! The parser follows the WHATWG event-stream rules: lines end in `\n`, `\r\n` or
//! `\r`; a line starting with `:` is a comment; `field: value` (one optional space
//! after the colon); `data` lines are joined with `\n`; a blank line dispatches the
//! event when its data buffer is not empty; a leading byte-order mark is skipped.
//! Chunks may split anywhere — inside a UTF-8 character, between `\r` and `\n` —
//! and always yield the same events. Invalid UTF-8 is replaced, never an error.
//!
//! Unlike a browser, [`SseParser::finish`] also dispatches a last event that lacks
//! its terminating blank line, because upstreams that close the connection right
//! after the final `data:` line are common.

use bytes::BufMut;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, when the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
    /// The last `id:` seen on the stream so far (it persists across events).
    pub id: Option<String>,
}

/// The parser refused to buffer more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("SSE event exceeds {limit} bytes")]
    EventTooLarge { limit: usize },
}

/// Default cap on one event's size (line buffer plus data): 32 MiB, enough for an
/// inline image, small enough to stop a runaway upstream.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 32 * 1024 * 1024;

/// Incremental SSE parser. Feed chunks with [`SseParser::feed`]; call
/// [`SseParser::finish`] at the end of the stream.
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
    /// Still at the very start of the stream (a BOM may follow).
    at_start: bool,
    data: String,
    /// Whether any `data` field was seen for the current event.
    has_data: bool,
    event: Option<String>,
    last_id: Option<String>,
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            has_data: false,
            event: None,
            last_id: None,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// Change the cap on one event's buffered size.
    pub fn with_max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// Feed one chunk; complete events are appended to `out`.
    pub fn feed_into(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.at_start {
            // Skip a UTF-8 BOM, possibly split across chunks.
            const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
            let have = self.line.len();
            let take = chunk.len().min(BOM.len() - have);
            if self.line[..] == BOM[..have] && chunk[..take] == BOM[have..have + take] {
                if have + take == BOM.len() {
                    self.line.clear();
                    self.at_start = false;
                    chunk = &chunk[take..];
                } else {
                    self.line.extend_from_slice(&chunk[..take]);
                    return Ok(());
                }
            } else {
                self.at_start = false;
            }
        }
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) {
            let (head, tail) = chunk.split_at(pos);
            let terminator = tail[0];
            let mut rest = &tail[1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.process_line(head, out);
            } else {
                self.line.extend_from_slice(head);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out);
                self.line = line;
                self.line.clear();
            }
            self.check_size(0)?;
            chunk = rest;
        }
        self.check_size(chunk.len())?;
        self.line.extend_from_slice(chunk);
        Ok(())
    }

    /// Feed one chunk and return the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        self.feed_into(chunk, &mut out)?;
        Ok(out)
    }

    /// End of stream: treat a pending partial line as complete and dispatch the
    /// pending event, if it has data.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if !(self.at_start && is_bom_prefix(&line)) {
                self.process_line(&line, &mut out);
            }
        }
        self.after_cr = false;
        self.at_start = false;
        self.dispatch(&mut out);
        out.pop()
    }

    fn check_size(&self, incoming: usize) -> Result<(), SseError> {
        if self.line.len() + incoming + self.data.len() > self.max_event_bytes {
            return Err(SseError::EventTooLarge {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (&line[..colon], value)
            }
            None => (line, &line[line.len()..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                self.data.push_str(&text(value));
            }
            b"event" => self.event = Some(text(value).into_owned()),
            b"id" if !value.contains(&0) => {
                self.last_id = Some(text(value).into_owned());
            }
            // `retry` and unknown fields are ignored.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
    }
}

/// A field's value as text, invalid UTF-8 replaced. The strict check comes
/// first: it reads ASCII a word at a time, the lossy one a byte at a time.
fn text(value: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(value),
    }
}

fn is_bom_prefix(bytes: &[u8]) -> bool {
    bytes.len() < 3 && [0xEF, 0xBB, 0xBF].starts_with(bytes)
}

/// Write one event: an optional `event:` line, one `data:` line per line of `data`
/// (split on `\n`, `\r\n` or `\r`), and the terminating blank line.
pub fn write_event(buf: &mut impl BufMut, event: Option<&str>, data: &str) {
    if let Some(event) = event {
        buf.put_slice(b"event: ");
        buf.put_slice(event.as_bytes());
        buf.put_u8(b'\n');
    }
    // Line ends are ASCII, so the text is split as bytes (a `str` search for
    // two chars decodes every character: most of an event's cost).
    let mut rest = data.as_bytes();
    loop {
        let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        buf.put_slice(b"data: ");
        buf.put_slice(&rest[..end]);
        buf.put_u8(b'\n');
        let Some(after) = rest.get(end..).filter(|r| !r.is_empty()) else {
            break;
        };
        let skip = if after.starts_with(b"\r\n") { 2 } else { 1 };
        rest = &after[skip..];
    }
    buf.put_u8(b'\n');
}

/// Write a comment line (a keep-alive ping): `: text\n\n`.
pub fn write_comment(buf: &mut impl BufMut, text: &str) {
    buf.put_slice(b": ");
    buf.put_slice(text.replace(['\r', '\n'], " ").as_bytes());
    buf.put_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed_into(c, &mut out).unwrap();
        }
        out.extend(p.finish());
        out
    }

    fn ev(event: Option<&str>, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
            id: id.map(str::to_owned),
        }
    }

    #[test]
    fn parses_fields_comments_and_multiline_data() {
        let input = b": ping\nevent: message_start\ndata: {\"a\":1}\n\ndata:first\ndata: second\nid: 7\n\nretry: 10\ndata\n\n";
        assert_eq!(
            parse_all(&[input]),
            vec![
                ev(Some("message_start"), "{\"a\":1}", None),
                ev(None, "first\nsecond", Some("7")),
                ev(None, "", Some("7")),
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_and_split_characters_are_joined() {
        let input: &[u8] = b"event: a\xffb\nid: i\xfe\ndata: x\xc3\xa9\xffy\n\n";
        let expected = vec![ev(
            Some("a\u{fffd}b"),
            "x\u{e9}\u{fffd}y",
            Some("i\u{fffd}"),
        )];
        assert_eq!(parse_all(&[input]), expected);
        // "é" split between two chunks is one character, not two replacements.
        let cut = input.iter().position(|&b| b == 0xc3).unwrap() + 1;
        assert_eq!(parse_all(&[&input[..cut], &input[cut..]]), expected);
    }

    #[test]
    fn handles_every_line_ending() {
        let expected = vec![
            ev(None, "a", None),
            ev(None, "b", None),
            ev(None, "c", None),
        ];
        assert_eq!(
            parse_all(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]),
            expected
        );
    }

    #[test]
    fn cr_at_chunk_end_pairs_with_following_lf() {
        assert_eq!(
            parse_all(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n", b"\r\n"]),
            vec![ev(None, "a", None), ev(None, "b", None)]
        );
    }

    #[test]
    fn a_final_event_without_blank_line_is_dispatched_by_finish() {
        let mut p = SseParser::new();
        assert!(p.feed(b"data: {\"done\":true}").unwrap().is_empty());
        assert_eq!(p.finish(), Some(ev(None, "{\"done\":true}", None)));
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn utf8_split_inside_a_character_survives() {
        let text = "data: héllo ✓\n\n".as_bytes();
        let events = parse_all(&[&text[..8], &text[8..14], &text[14..]]);
        assert_eq!(events, vec![ev(None, "héllo ✓", None)]);
    }

    #[test]
    fn a_leading_bom_is_skipped_even_when_split() {
        let input = b"\xEF\xBB\xBFdata: x\n\n";
        assert_eq!(
            parse_all(&[&input[..1], &input[1..]]),
            vec![ev(None, "x", None)]
        );
        assert_eq!(parse_all(&[input]), vec![ev(None, "x", None)]);
    }

    #[test]
    fn an_event_type_without_data_is_not_dispatched() {
        assert!(parse_all(&[b"event: ping\n\n"]).is_empty());
    }

    #[test]
    fn oversized_events_are_refused() {
        let mut p = SseParser::new().with_max_event_bytes(16);
        assert!(p.feed(b"data: 0123456789").is_ok());
        assert_eq!(
            p.feed(b"0123456789"),
            Err(SseError::EventTooLarge { limit: 16 })
        );
    }

    #[test]
    fn writer_splits_lines_and_round_trips() {
        let mut buf = Vec::new();
        write_event(&mut buf, Some("delta"), "one\ntwo\r\nthree");
        write_event(&mut buf, None, "[DONE]");
        write_comment(&mut buf, "keep-alive");
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            "event: delta\ndata: one\ndata: two\ndata: three\n\ndata: [DONE]\n\n: keep-alive\n\n"
        );
        assert_eq!(
            parse_all(&[&buf]),
            vec![
                ev(Some("delta"), "one\ntwo\nthree", None),
                ev(None, "[DONE]", None)
            ]
        );
    }

    fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            "[a-zé✓ {}\":,]{0,12}".prop_map(|s| format!("data: {s}")),
            "[a-z]{1,8}".prop_map(|s| format!("event: {s}")),
            "[0-9]{1,3}".prop_map(|s| format!("id: {s}")),
            "[a-z ]{0,8}".prop_map(|s| format!(":{s}")),
            Just(String::new()),
        ];
        let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
        proptest::collection::vec((line, ending), 0..24).prop_map(|lines| {
            let mut s = String::from("\u{feff}");
            for (l, e) in lines {
                s.push_str(&l);
                s.push_str(e);
            }
            s.into_bytes()
        })
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_events(
            stream in stream_strategy(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let whole = parse_all(&[&stream]);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut start = 0;
            for p in points {
                chunks.push(&stream[start..p]);
                start = p;
            }
            chunks.push(&stream[start..]);
            prop_assert_eq!(parse_all(&chunks), whole);
        }

        #[test]
        fn written_events_parse_back(event in proptest::option::of("[a-z_]{1,10}"), data in "[a-z\n\r{}\" ]{0,40}") {
            let mut buf = Vec::new();
            write_event(&mut buf, event.as_deref(), &data);
            let parsed = parse_all(&[&buf]);
            let normalised = data.replace("\r\n", "\n").replace('\r', "\n");
            prop_assert_eq!(parsed, vec![SseEvent { event, data: normalised, id: None }]);
        }
    }
}
