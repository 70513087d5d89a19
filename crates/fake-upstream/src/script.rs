//! Scripted behaviours for generate calls (`generateContent` / `streamGenerateContent`).
//!
//! The JSON form (used by the HTTP control API) is serde's externally tagged enum in
//! snake_case: `"ok"`, `{"text":"hi"}`, `{"server_error":503}`, `{"slow_first_byte":250}`
//! (durations are milliseconds), `{"delayed":{"first_byte":0,"between_chunks":50,"then":"ok"}}`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One function call the fake should emit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptedCall {
    /// Function name.
    pub name: String,
    /// Arguments object.
    #[serde(default = "empty_object")]
    pub args: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// What the fake does with one generate request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behavior {
    /// The default deterministic answer: `"Hello from <model>."` plus
    /// `" You said: <last user text>"` when the last user turn has text. With thinking on
    /// (`includeThoughts`, or a thinking budget for Claude) a thought part comes first.
    Ok,
    /// Answer with exactly this text (thinking rules as for `Ok`).
    Text(String),
    /// Answer with one function call (id included; signatures issued per family).
    FunctionCall {
        /// Function name.
        name: String,
        /// Arguments object.
        #[serde(default = "empty_object")]
        args: Value,
    },
    /// Answer with several parallel function calls in one model turn.
    FunctionCalls(Vec<ScriptedCall>),
    /// A thought part (always, with a signature where the family needs one) then the answer.
    Thinking {
        /// Thought text.
        thought: String,
        /// Answer text.
        answer: String,
    },
    /// Exactly these text chunks, one per SSE event; the last event carries
    /// `finishReason: STOP` and the final `usageMetadata`.
    Chunks(Vec<String>),
    /// Arbitrary events: each value is sent verbatim as one SSE `data:` payload (not wrapped).
    /// Non-stream calls get the single value, or a JSON array when there are several.
    Raw(Vec<Value>),
    /// Text that ends with a non-STOP finish reason (`MAX_TOKENS`, `SAFETY`, ...).
    Finish {
        /// Text emitted before the finish (may be empty).
        text: String,
        /// The `finishReason`.
        reason: String,
    },
    /// A 200 response whose only event has no candidates (just usage metadata).
    Empty,
    /// 429 RESOURCE_EXHAUSTED / QUOTA_EXHAUSTED with `quotaResetDelay` (Go duration, e.g.
    /// `2h1m1.5s`), `quotaResetTimeStamp` and a matching RetryInfo.
    QuotaExhausted {
        /// Go-style duration string.
        reset_delay: String,
    },
    /// 429 RESOURCE_EXHAUSTED / RATE_LIMIT_EXCEEDED with a sub-second RetryInfo.
    RateLimited,
    /// 503 UNAVAILABLE / MODEL_CAPACITY_EXHAUSTED ("No capacity available for model ...").
    Capacity,
    /// Any status with a Google error body whose `status` matches the code
    /// (404 NOT_FOUND, 500 INTERNAL, 503 UNAVAILABLE, ...).
    ServerError(u16),
    /// 403 PERMISSION_DENIED / VALIDATION_REQUIRED with a `validation_url`.
    ValidationRequired,
    /// 403 PERMISSION_DENIED ("The caller does not have permission").
    Forbidden,
    /// 401 UNAUTHENTICATED, and the access token used is invalidated (as if revoked server
    /// side); refreshing yields a working token.
    Unauthorized,
    /// Any status and body, verbatim.
    Error {
        /// HTTP status.
        status: u16,
        /// JSON body.
        body: Value,
    },
    /// Wait this long before sending the response head, then behave as `Ok`.
    SlowFirstByte(#[serde(with = "millis")] Duration),
    /// Send the head at once but wait this long before every chunk, then behave as `Ok`.
    ChunkDelay(#[serde(with = "millis")] Duration),
    /// Stream the `Ok` answer one word per event and drop the connection after this many
    /// events (never more than all but the final one), without a final chunk.
    CutAfter(usize),
    /// Stream the `Ok` answer one word per event, then after this many events (never more
    /// than all but the final one) an in-band error event of the provider for `status`, and
    /// end the stream (Anthropic: `event: error` with `overloaded_error` for 529; OpenAI:
    /// `data: {"error":{...}}` without `[DONE]`; Google: `data: {"error":{...}}`).
    /// Non-stream calls get the plain `status` error instead.
    StreamError {
        /// Content events sent before the error.
        after: usize,
        /// HTTP status the error event stands for (529, 500, 503, ...).
        status: u16,
    },
    /// General form of the timing modifiers around another behaviour.
    Delayed {
        /// Delay before the response head.
        #[serde(with = "millis", default)]
        first_byte: Duration,
        /// Delay before each body chunk.
        #[serde(with = "millis", default)]
        between_chunks: Duration,
        /// The behaviour that is delayed.
        then: Box<Behavior>,
    },
}

impl Behavior {
    /// `FunctionCall` shorthand.
    pub fn function_call(name: impl Into<String>, args: Value) -> Behavior {
        Behavior::FunctionCall {
            name: name.into(),
            args,
        }
    }

    /// `QuotaExhausted` shorthand.
    pub fn quota_exhausted(reset_delay: impl Into<String>) -> Behavior {
        Behavior::QuotaExhausted {
            reset_delay: reset_delay.into(),
        }
    }

    /// `StreamError` shorthand.
    pub fn stream_error(after: usize, status: u16) -> Behavior {
        Behavior::StreamError { after, status }
    }

    /// `Text` shorthand.
    pub fn text(text: impl Into<String>) -> Behavior {
        Behavior::Text(text.into())
    }

    /// Splits timing modifiers off: (head delay, per-chunk delay, cut after, inner behaviour).
    pub(crate) fn timing(&self) -> Timing<'_> {
        match self {
            Behavior::SlowFirstByte(d) => Timing {
                first_byte: *d,
                ..Timing::plain(&Behavior::Ok)
            },
            Behavior::ChunkDelay(d) => Timing {
                between_chunks: *d,
                ..Timing::plain(&Behavior::Ok)
            },
            Behavior::CutAfter(n) => Timing {
                cut_after: Some(*n),
                ..Timing::plain(&Behavior::Ok)
            },
            Behavior::StreamError { after, status } => Timing {
                stream_error: Some((*after, *status)),
                ..Timing::plain(&Behavior::Ok)
            },
            Behavior::Delayed {
                first_byte,
                between_chunks,
                then,
            } => {
                let inner = then.timing();
                Timing {
                    first_byte: *first_byte + inner.first_byte,
                    between_chunks: *between_chunks + inner.between_chunks,
                    cut_after: inner.cut_after,
                    stream_error: inner.stream_error,
                    behavior: inner.behavior,
                }
            }
            other => Timing::plain(other),
        }
    }
}

/// A behaviour with its timing modifiers resolved.
pub(crate) struct Timing<'a> {
    pub first_byte: Duration,
    pub between_chunks: Duration,
    pub cut_after: Option<usize>,
    /// `StreamError`: content events before the error, and the error's status.
    pub stream_error: Option<(usize, u16)>,
    pub behavior: &'a Behavior,
}

impl<'a> Timing<'a> {
    fn plain(behavior: &'a Behavior) -> Timing<'a> {
        Timing {
            first_byte: Duration::ZERO,
            between_chunks: Duration::ZERO,
            cut_after: None,
            stream_error: None,
            behavior,
        }
    }
}

/// Durations as integer milliseconds in JSON.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_round_trip() {
        let cases = [
            (Behavior::Ok, serde_json::json!("ok")),
            (Behavior::text("hi"), serde_json::json!({"text":"hi"})),
            (
                Behavior::ServerError(503),
                serde_json::json!({"server_error":503}),
            ),
            (
                Behavior::SlowFirstByte(Duration::from_millis(250)),
                serde_json::json!({"slow_first_byte":250}),
            ),
            (
                Behavior::stream_error(2, 529),
                serde_json::json!({"stream_error":{"after":2,"status":529}}),
            ),
            (
                Behavior::quota_exhausted("1h"),
                serde_json::json!({"quota_exhausted":{"reset_delay":"1h"}}),
            ),
        ];
        for (b, j) in cases {
            assert_eq!(serde_json::to_value(&b).unwrap(), j);
            assert_eq!(serde_json::from_value::<Behavior>(j).unwrap(), b);
        }
    }

    #[test]
    fn delayed_nests_timings() {
        let b = Behavior::Delayed {
            first_byte: Duration::from_millis(5),
            between_chunks: Duration::ZERO,
            then: Box::new(Behavior::CutAfter(2)),
        };
        let t = b.timing();
        assert_eq!(t.first_byte, Duration::from_millis(5));
        assert_eq!(t.cut_after, Some(2));
        assert_eq!(t.behavior, &Behavior::Ok);
    }
}
