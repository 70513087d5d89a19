//! Thinking-signature memory. Gemini 3 rejects a replayed function call without
//! the thought signature it issued; Claude rejects a tool turn whose thinking
//! block lost its signature. OpenAI-format clients cannot carry signatures at
//! all, and Anthropic clients cannot carry Gemini's. So the gateway remembers
//! what it saw go by — keyed by tool-call id, and by the call's content (name
//! and arguments, within the session) where a client drops ids — and restores it
//! when the conversation comes back. It also remembers which model family issued
//! each signature, so one is never replayed to a foreign model.
//!
//! Bounded: at most `capacity` entries, each forgotten after `ttl`.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use foldhash::HashMap;
use foldhash::fast::RandomState;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::Instant;
use uplink_protocol::ir::{ContentBlock, ModelFamily, Request, Role, Signature, StreamEvent};

use crate::upstream::EventStream;

pub const DEFAULT_CAPACITY: usize = 100_000;
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// What the gateway knows about one tool call it relayed.
#[derive(Debug, Clone, Default, PartialEq)]
struct CallRecord {
    /// The signature on the call itself (Gemini 3).
    signature: Option<Signature>,
    /// The signed thinking that preceded the call in its turn (Claude).
    thinking: Option<(String, Signature)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    CallId(u64),
    CallContent(u64),
    Signature(u64),
}

#[derive(Debug)]
enum Entry {
    Call(CallRecord),
    Family(ModelFamily),
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<Key, (Entry, Instant)>,
    order: VecDeque<(Key, Instant)>,
}

#[derive(Debug)]
pub struct SignatureStore {
    inner: Mutex<Inner>,
    capacity: usize,
    ttl: Duration,
    /// Keys are hashes of ids and contents a client sends: seeded anew for
    /// each store, so that no client can aim a collision at another's entry.
    keys: RandomState,
}

impl Default for SignatureStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_TTL)
    }
}

impl SignatureStore {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::default(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
            ttl,
            keys: RandomState::default(),
        }
    }

    fn hash_of(&self, parts: &[&str]) -> u64 {
        let mut h = self.keys.build_hasher();
        for p in parts {
            p.hash(&mut h);
            0xffu8.hash(&mut h);
        }
        h.finish()
    }

    /// A call's identity by content: session, name and canonical arguments
    /// (their compact JSON, hashed as it is written rather than collected first).
    fn content_key(&self, session: Option<&str>, name: &str, args: &Value) -> Key {
        struct HashWriter<'a, H>(&'a mut H);
        impl<H: Hasher> std::io::Write for HashWriter<'_, H> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.write(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut h = self.keys.build_hasher();
        for part in [session.unwrap_or(""), name] {
            part.hash(&mut h);
            0xffu8.hash(&mut h);
        }
        // Writing a Value to a hasher cannot fail.
        let _ = serde_json::to_writer(HashWriter(&mut h), args);
        Key::CallContent(h.finish())
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn put(&self, key: Key, entry: Entry) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let now = Instant::now();
        inner.entries.insert(key, (entry, now));
        inner.order.push_back((key, now));
        // Forget the expired, then the oldest beyond capacity.
        while let Some(&(old, at)) = inner.order.front() {
            let expired = now.duration_since(at) >= self.ttl;
            if !expired && inner.entries.len() <= self.capacity {
                break;
            }
            inner.order.pop_front();
            if inner.entries.get(&old).is_some_and(|(_, t)| *t == at) {
                inner.entries.remove(&old);
            }
        }
    }

    fn call(&self, key: &Key) -> Option<CallRecord> {
        let inner = self.inner.lock().ok()?;
        match inner.entries.get(key) {
            Some((Entry::Call(record), at)) if at.elapsed() < self.ttl => Some(record.clone()),
            _ => None,
        }
    }

    fn family(&self, value: &str) -> Option<ModelFamily> {
        let inner = self.inner.lock().ok()?;
        match inner.entries.get(&Key::Signature(self.hash_of(&[value]))) {
            Some((Entry::Family(f), at)) if at.elapsed() < self.ttl => Some(*f),
            _ => None,
        }
    }

    fn remember_family(&self, signature: &Signature) {
        if let Some(family) = signature.family {
            self.put(
                Key::Signature(self.hash_of(&[&signature.value])),
                Entry::Family(family),
            );
        }
    }

    fn remember_call(&self, id: &str, content: Option<Key>, record: CallRecord) {
        if record.signature.is_none() && record.thinking.is_none() {
            return;
        }
        if let Some(key) = content {
            self.put(key, Entry::Call(record.clone()));
        }
        self.put(Key::CallId(self.hash_of(&[id])), Entry::Call(record));
    }

    /// Put back what the client could not carry: signatures on replayed tool
    /// calls, the signed thinking before a tool turn, and the family of every
    /// signature the client did carry.
    pub fn restore(&self, request: &mut Request) {
        let session = request.meta.session_id.clone();
        for message in request
            .messages
            .iter_mut()
            .filter(|m| m.role == Role::Assistant)
        {
            let has_thinking = message.content.iter().any(|b| {
                matches!(
                    b,
                    ContentBlock::Thinking { .. } | ContentBlock::RedactedThinking { .. }
                )
            });
            let mut thinking_to_insert = None;
            for block in message.content.iter_mut() {
                match block {
                    ContentBlock::Thinking {
                        signature: Some(sig),
                        ..
                    } if sig.family.is_none() => sig.family = self.family(&sig.value),
                    ContentBlock::ToolCall {
                        id,
                        name,
                        arguments,
                        signature,
                    } => {
                        if let Some(sig) = signature.as_mut().filter(|s| s.family.is_none()) {
                            sig.family = self.family(&sig.value);
                        }
                        let record = self
                            .call(&Key::CallId(self.hash_of(&[id.as_str()])))
                            .or_else(|| {
                                self.call(&self.content_key(session.as_deref(), name, arguments))
                            });
                        let Some(record) = record else { continue };
                        if signature.is_none() {
                            signature.clone_from(&record.signature);
                        }
                        if !has_thinking && thinking_to_insert.is_none() {
                            thinking_to_insert = record.thinking;
                        }
                    }
                    _ => {}
                }
            }
            if let Some((text, signature)) = thinking_to_insert {
                message.content.insert(
                    0,
                    ContentBlock::Thinking {
                        text,
                        signature: Some(signature),
                    },
                );
            }
        }
    }

    /// Remember the signatures in an answer as it streams past, unchanged.
    pub fn observe(
        self: &std::sync::Arc<Self>,
        head: &[StreamEvent],
        rest: EventStream,
        session: Option<String>,
    ) -> EventStream {
        let mut observer = Observer {
            store: self.clone(),
            session,
            thinking: None,
            call: None,
        };
        for event in head {
            observer.see(event);
        }
        Box::pin(rest.map(move |event| {
            observer.see(&event);
            event
        }))
    }
}

/// The state of one answer being watched.
struct Observer {
    store: std::sync::Arc<SignatureStore>,
    session: Option<String>,
    /// Thinking of the current turn: text so far and its signature once known.
    thinking: Option<(String, Option<Signature>)>,
    /// The open tool call: id, name, arguments text, record.
    call: Option<(String, String, String, CallRecord)>,
}

impl Observer {
    fn see(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::ThinkingDelta(text) => {
                self.close_call();
                match &mut self.thinking {
                    Some((open, None)) => open.push_str(text),
                    _ => self.thinking = Some((text.clone(), None)),
                }
            }
            StreamEvent::Signature(signature) => {
                self.store.remember_family(signature);
                if let Some((_, _, _, record)) = &mut self.call {
                    record.signature = Some(signature.clone());
                    self.close_call();
                } else if let Some((_, slot @ None)) = &mut self.thinking {
                    *slot = Some(signature.clone());
                }
            }
            StreamEvent::ToolCallStart { id, name } => {
                self.close_call();
                let thinking = match self.thinking.take() {
                    Some((text, Some(sig))) => Some((text, sig)),
                    _ => None,
                };
                self.call = Some((
                    id.clone(),
                    name.clone(),
                    String::new(),
                    CallRecord {
                        signature: None,
                        thinking,
                    },
                ));
            }
            StreamEvent::ToolCallDelta(fragment) => {
                if let Some((_, _, args, _)) = &mut self.call {
                    args.push_str(fragment);
                }
            }
            StreamEvent::TextDelta(_)
            | StreamEvent::RedactedThinking(_)
            | StreamEvent::Finish(_)
            | StreamEvent::Error(_) => {
                self.close_call();
            }
            StreamEvent::Start { .. } | StreamEvent::Usage(_) => {}
        }
    }

    fn close_call(&mut self) {
        if let Some((id, name, args, record)) = self.call.take() {
            let args = uplink_protocol::ir::parse_arguments(&args);
            let content = self
                .store
                .content_key(self.session.as_deref(), &name, &args);
            self.store.remember_call(&id, Some(content), record);
        }
    }
}

#[cfg(test)]
mod tests;
