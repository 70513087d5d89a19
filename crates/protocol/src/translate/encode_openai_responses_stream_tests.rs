//! Tests of the Responses stream encoder: terminal-event guarantees, and that a
//! streamed answer ends with the same `response` as the whole-answer encoder.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::ir::{ModelFamily, ResponseBuilder, StreamError};
use crate::translate::{decode_openai_responses, encode_responses_response};

fn ctx() -> ResponsesContext {
    let body = r#"{"model": "m", "input": "hi", "tools": [
        {"type": "function", "name": "f"}, {"type": "custom", "name": "patch"}, {"type": "local_shell"}
    ]}"#;
    decode_openai_responses(body.as_bytes()).unwrap().1
}

fn run(events: &[StreamEvent], finish: bool) -> Vec<(String, Value)> {
    let mut enc = ResponsesStreamEncoder::new(&ctx(), "resp_1", "gpt-x", 42);
    let mut out = Vec::new();
    for e in events {
        out.extend(enc.event(e));
        out.extend(enc.flush());
    }
    if finish {
        out.extend(enc.finish());
        assert!(enc.finish().is_empty(), "a second finish writes nothing");
        assert!(enc.event(&StreamEvent::TextDelta("late".into())).is_empty());
    }
    out.into_iter()
        .map(|(name, data)| (name.to_owned(), serde_json::from_str(&data).unwrap()))
        .collect()
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

fn assert_well_formed(events: &[(String, Value)]) {
    for (n, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], json!(name));
        assert_eq!(data["sequence_number"], json!(n));
    }
    let terminal = |n: &str| {
        matches!(
            n,
            "response.completed" | "response.incomplete" | "response.failed"
        )
    };
    assert_eq!(
        events.iter().filter(|(n, _)| terminal(n)).count(),
        1,
        "{:?}",
        names(events)
    );
    assert!(terminal(&events[events.len() - 1].0));
}

#[test]
fn an_empty_stream_still_starts_and_fails() {
    let events = run(&[], true);
    assert_eq!(
        names(&events),
        [
            "response.created",
            "response.in_progress",
            "response.failed"
        ]
    );
    let failed = &events[2].1["response"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "server_error");
    assert_eq!(failed["usage"], Value::Null);
    assert_well_formed(&events);
}

#[test]
fn a_cut_stream_fails_with_what_it_had() {
    let events = run(
        &[
            StreamEvent::Start {
                id: None,
                model: None,
            },
            StreamEvent::TextDelta("Once".into()),
            StreamEvent::ToolCallStart {
                id: "c1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta("{\"a\":".into()),
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                ..Usage::default()
            }),
        ],
        true,
    );
    assert_well_formed(&events);
    let (name, last) = &events[events.len() - 1];
    assert_eq!(name, "response.failed");
    let output = &last["response"]["output"];
    assert_eq!(output[0]["status"], "completed");
    assert_eq!(
        (&output[1]["status"], &output[1]["arguments"]),
        (&json!("incomplete"), &json!("{\"a\":"))
    );
    assert_eq!(last["response"]["usage"]["input_tokens"], 3);
    assert!(
        last["response"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ended before")
    );
}

#[test]
fn an_error_fails_at_once_and_ends_the_stream() {
    let mut enc = ResponsesStreamEncoder::new(&ctx(), "resp_1", "gpt-x", 42);
    let first = enc.event(&StreamEvent::TextDelta("a".into()));
    let failed = enc.event(&StreamEvent::Error(StreamError::new(
        ErrorKind::RateLimited,
        "slow down; try again in 2s",
    )));
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, "response.failed");
    let v: Value = serde_json::from_str(&failed[0].1).unwrap();
    assert_eq!(
        v["response"]["error"],
        json!({"code": "rate_limit_exceeded", "message": "slow down; try again in 2s"})
    );
    assert!(enc.finish().is_empty());
    assert_eq!(first.len(), 5);
}

#[test]
fn a_custom_call_streams_its_input_and_a_shell_call_comes_whole() {
    let events = run(
        &[
            StreamEvent::ToolCallStart {
                id: "c1".into(),
                name: "patch".into(),
            },
            StreamEvent::ToolCallDelta("{\"input\":\"*** Begin".into()),
            StreamEvent::ToolCallDelta(" Patch\"}".into()),
            StreamEvent::ToolCallStart {
                id: "c2".into(),
                name: "local_shell".into(),
            },
            StreamEvent::ToolCallDelta("{\"command\":[\"ls\"]}".into()),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ],
        true,
    );
    assert_well_formed(&events);
    assert_eq!(
        names(&events)[2..],
        [
            "response.output_item.added",
            "response.custom_tool_call_input.delta",
            "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(events[3].1["delta"], "*** Begin Patch");
    assert_eq!(events[5].1["item"]["input"], "*** Begin Patch");
    assert_eq!(events[7].1["item"]["action"]["command"], json!(["ls"]));
    assert_eq!(events[7].1["output_index"], 1);
}

#[test]
fn a_length_stop_marks_the_open_item_incomplete() {
    let events = run(
        &[
            StreamEvent::TextDelta("1, 2".into()),
            StreamEvent::Finish(FinishReason::Length),
        ],
        true,
    );
    assert_well_formed(&events);
    let (name, last) = &events[events.len() - 1];
    assert_eq!(name, "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    assert_eq!(last["response"]["output"][0]["status"], "incomplete");
}

fn arb_signature() -> impl Strategy<Value = Signature> {
    (
        "[a-z]{1,6}",
        prop_oneof![
            Just(Some(ModelFamily::Gemini)),
            Just(Some(ModelFamily::Claude)),
            Just(None)
        ],
    )
        .prop_map(|(v, f)| Signature::new(v, f))
}

fn arb_event() -> impl Strategy<Value = StreamEvent> {
    prop_oneof![
        "[a-z ]{0,5}".prop_map(StreamEvent::TextDelta),
        "[a-z ]{0,5}".prop_map(StreamEvent::ThinkingDelta),
        "[a-z]{1,5}".prop_map(StreamEvent::RedactedThinking),
        arb_signature().prop_map(StreamEvent::Signature),
        (
            0u32..50,
            prop_oneof![Just("f"), Just("patch"), Just("local_shell")]
        )
            .prop_map(|(n, name)| StreamEvent::ToolCallStart {
                id: format!("c{n}"),
                name: name.to_owned(),
            }),
        (0u32..9).prop_map(|n| StreamEvent::ToolCallDelta(
            json!({"input": "x", "command": ["echo", n.to_string()], "n": n}).to_string()
        )),
        (0u64..100).prop_map(|n| StreamEvent::Usage(Usage {
            input_tokens: n,
            output_tokens: n / 2,
            ..Usage::default()
        })),
    ]
}

fn arb_finish() -> impl Strategy<Value = FinishReason> {
    prop_oneof![
        Just(FinishReason::Stop),
        Just(FinishReason::ToolCalls),
        Just(FinishReason::Length),
        Just(FinishReason::ContentFilter),
    ]
}

proptest! {
    /// The terminal event of a stream carries the response the whole-answer
    /// encoder makes of the same events.
    #[test]
    fn the_streamed_response_equals_the_folded_one(
        events in proptest::collection::vec(arb_event(), 0..12),
        finish in arb_finish(),
    ) {
        let mut all = vec![StreamEvent::Start { id: None, model: None }];
        all.extend(events);
        all.push(StreamEvent::Finish(finish));
        let streamed = run(&all, true);
        assert_well_formed(&streamed);
        let mut builder = ResponseBuilder::new();
        for e in all {
            builder.push(e);
        }
        let folded = builder.finish().unwrap();
        let whole = serde_json::to_value(encode_responses_response(
            &folded, &ctx(), "resp_1", "gpt-x", 42,
        ))
        .unwrap();
        prop_assert_eq!(&streamed[streamed.len() - 1].1["response"], &whole);
    }

    /// Whatever the events, exactly one terminal event ends the stream.
    #[test]
    fn every_stream_ends_with_exactly_one_terminal_event(
        events in proptest::collection::vec(arb_event(), 0..12),
        end in 0u8..3,
    ) {
        let mut all = events;
        match end {
            0 => all.push(StreamEvent::Finish(FinishReason::Stop)),
            1 => all.push(StreamEvent::Error(StreamError::new(ErrorKind::Upstream, "x"))),
            _ => {}
        }
        assert_well_formed(&run(&all, true));
    }
}
