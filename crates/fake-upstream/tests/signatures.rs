//! Thought-signature rules for Gemini 3 and for Claude with thinking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::{Behavior, FakeUpstream, Family};

struct T {
    fake: FakeUpstream,
    c: reqwest::Client,
    token: String,
}

impl T {
    async fn new() -> T {
        let fake = fake().await;
        let c = client();
        let token = token(&fake, &c, ALICE_RT).await;
        T { fake, c, token }
    }

    async fn send(&self, model: &str, request: Value) -> (u16, Value) {
        generate(&self.fake, &self.c, &self.token, model, request).await
    }

    async fn status_msg(&self, model: &str, request: Value) -> (u16, String) {
        let (s, b) = self.send(model, request).await;
        (s, message(&b))
    }
}

fn call_part(name: &str, sig: Option<&str>) -> Value {
    let mut p = json!({"functionCall": {"name": name, "args": {}}});
    if let Some(s) = sig {
        p["thoughtSignature"] = json!(s);
    }
    p
}

fn loop_request(model_turn: Value) -> Value {
    json!({"contents": [
        user("what's the weather?"),
        model_turn,
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"t": 20}}}]}
    ]})
}

const MISSING: &str = "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly";

#[tokio::test]
async fn gemini3_function_call_in_current_turn_needs_a_signature() {
    let t = T::new().await;
    let m = "gemini-3-pro-preview";
    let (s, msg) = t
        .status_msg(
            m,
            loop_request(json!({"role": "model", "parts": [call_part("get_weather", None)]})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(msg.starts_with(MISSING), "{msg}");
    assert!(
        msg.contains("function call `default_api:get_weather`"),
        "{msg}"
    );
    for dummy in [
        "skip_thought_signature_validator",
        "context_engineering_is_the_way_to_go",
    ] {
        let (s, msg) = t
            .status_msg(
                m,
                loop_request(
                    json!({"role": "model", "parts": [call_part("get_weather", Some(dummy))]}),
                ),
            )
            .await;
        assert_eq!(s, 200, "{dummy}: {msg}");
    }
    let issued = t.fake.issue_signature(Family::Gemini);
    let (s, msg) = t
        .status_msg(
            m,
            loop_request(
                json!({"role": "model", "parts": [call_part("get_weather", Some(&issued))]}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{msg}");
    // Other Gemini models do not require it.
    let (s, _) = t
        .status_msg(
            "gemini-2.5-pro",
            loop_request(json!({"role": "model", "parts": [call_part("get_weather", None)]})),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn gemini3_only_the_first_call_of_a_turn_and_only_in_the_current_turn() {
    let t = T::new().await;
    let m = "gemini-3-flash";
    let sig = t.fake.issue_signature(Family::Gemini);
    let parallel = |first: Option<&str>| {
        json!({"contents": [
            user("go"),
            {"role": "model", "parts": [call_part("a", first), call_part("b", None)]},
            {"role": "user", "parts": [{"functionResponse": {"name": "a", "response": {}}}, {"functionResponse": {"name": "b", "response": {}}}]}
        ]})
    };
    assert_eq!(t.status_msg(m, parallel(Some(&sig))).await.0, 200);
    assert_eq!(t.status_msg(m, parallel(None)).await.0, 400);
    // An unsigned call in an earlier, finished turn is history: not validated.
    let history = json!({"contents": [
        user("first"),
        {"role": "model", "parts": [call_part("get_weather", None)]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}]},
        {"role": "model", "parts": [{"text": "done"}]},
        user("second question")
    ]});
    let (s, msg) = t.status_msg(m, history.clone()).await;
    assert_eq!(s, 200, "{msg}");
    // The same unsigned call inside the active loop (after the last user text) is rejected.
    let mut active = history;
    active["contents"].as_array_mut().unwrap().truncate(3);
    let (s, msg) = t.status_msg(m, active).await;
    assert_eq!(s, 400);
    assert!(msg.starts_with(MISSING), "{msg}");
}

#[tokio::test]
async fn foreign_and_unknown_signatures_are_corrupted_for_gemini() {
    let t = T::new().await;
    let claude_sig = t.fake.issue_signature(Family::Claude);
    let turn = |sig: &str| json!({"role": "model", "parts": [call_part("get_weather", Some(sig))]});
    let (s, msg) = t
        .status_msg("gemini-3-pro-preview", loop_request(turn(&claude_sig)))
        .await;
    assert_eq!((s, msg.as_str()), (400, "Corrupted thought signature."));
    let (s, msg) = t
        .status_msg(
            "gemini-2.5-flash",
            loop_request(turn("c29tZSBvdGhlciBzaWduYXR1cmU=")),
        )
        .await;
    assert_eq!((s, msg.as_str()), (400, "Corrupted thought signature."));
    let (s, msg) = t
        .status_msg(
            "gemini-3-pro-preview",
            loop_request(turn("EmIKYAERTTIPsMumWW2CIAWzb")),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        msg.contains("thought_signature' (TYPE_BYTES), Base64 decoding failed"),
        "{msg}"
    );
}

#[tokio::test]
async fn gemini3_replaying_its_own_response_is_accepted() {
    let t = T::new().await;
    let m = "gemini-3-pro-preview";
    t.fake.script(
        ALICE,
        vec![Behavior::function_call(
            "get_weather",
            json!({"city": "Oslo"}),
        )],
    );
    let (s, b) = t
        .send(m, json!({"contents": [user("what's the weather?")]}))
        .await;
    assert_eq!(s, 200);
    let model_turn = b["response"]["candidates"][0]["content"].clone();
    assert!(model_turn["parts"][0]["thoughtSignature"].is_string());
    let (s, msg) = t.status_msg(m, loop_request(model_turn.clone())).await;
    assert_eq!(s, 200, "{msg}");
    // Sent to Claude instead, the Gemini signature is foreign (on a thought part).
    let mut as_thought = model_turn;
    let sig = as_thought["parts"][0]["thoughtSignature"].clone();
    as_thought["parts"] = json!([{"thought": true, "text": "t", "thoughtSignature": sig},
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]);
    let (s, msg) = t
        .status_msg("claude-sonnet-4-5", loop_request(as_thought))
        .await;
    assert_eq!((s, msg.as_str()), (400, "Corrupted thought signature."));
}

fn claude_thinking(model_turn: Value) -> Value {
    let mut r = loop_request(model_turn);
    r["generationConfig"] = json!({"maxOutputTokens": 16000, "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 4096}});
    r
}

#[tokio::test]
async fn claude_thinking_tool_turn_must_start_with_a_signed_thought() {
    let t = T::new().await;
    let m = "claude-sonnet-4-5-thinking";
    let (s, msg) = t
        .status_msg(
            m,
            claude_thinking(json!({"role": "model", "parts": [call_part("get_weather", None)]})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        msg.contains("messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block"),
        "{msg}"
    );
    let sig = t.fake.issue_signature(Family::Claude);
    let good = json!({"role": "model", "parts": [{"thought": true, "text": "let me check", "thoughtSignature": sig}, call_part("get_weather", None)]});
    let (s, msg) = t.status_msg(m, claude_thinking(good)).await;
    assert_eq!(s, 200, "{msg}");
    // Without thinking the same unsigned tool turn is fine.
    let (s, msg) = t
        .status_msg(
            m,
            loop_request(json!({"role": "model", "parts": [call_part("get_weather", None)]})),
        )
        .await;
    assert_eq!(s, 200, "{msg}");
}

#[tokio::test]
async fn claude_rejects_signatures_it_did_not_issue() {
    let t = T::new().await;
    let m = "claude-opus-4-5-thinking";
    let turn = |sig: Option<&str>| {
        let mut thought = json!({"thought": true, "text": "hmm"});
        if let Some(s) = sig {
            thought["thoughtSignature"] = json!(s);
        }
        claude_thinking(
            json!({"role": "model", "parts": [thought, call_part("get_weather", None)]}),
        )
    };
    for bogus in [
        "c29tZSBvdGhlciBzaWduYXR1cmU=",
        "skip_thought_signature_validator",
    ] {
        let (s, msg) = t.status_msg(m, turn(Some(bogus))).await;
        assert_eq!(s, 400);
        assert!(
            msg.contains("messages.1.content.0: Invalid `signature` in `thinking` block"),
            "{msg}"
        );
    }
    let gemini_sig = t.fake.issue_signature(Family::Gemini);
    let (s, msg) = t.status_msg(m, turn(Some(&gemini_sig))).await;
    assert_eq!((s, msg.as_str()), (400, "Corrupted thought signature."));
    let (s, msg) = t.status_msg(m, turn(None)).await;
    assert_eq!(s, 400);
    assert!(
        msg.contains("messages.1.content.0.thinking.signature: Field required"),
        "{msg}"
    );
    let claude_sig = t.fake.issue_signature(Family::Claude);
    assert_eq!(t.status_msg(m, turn(Some(&claude_sig))).await.0, 200);
}

#[tokio::test]
async fn claude_replaying_its_own_streamed_thinking_is_accepted() {
    let t = T::new().await;
    let m = "claude-sonnet-4-5-thinking";
    t.fake.script(
        ALICE,
        vec![Behavior::function_call(
            "get_weather",
            json!({"city": "Rome"}),
        )],
    );
    let first = json!({"contents": [user("what's the weather?")],
        "generationConfig": {"maxOutputTokens": 16000, "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 4096}}});
    let (s, text) = stream_raw(&t.fake, &t.c, &t.token, &envelope(m, first)).await;
    assert_eq!(s, 200);
    // Accumulate the streamed parts the way a client must: thought deltas joined, the
    // signature (on the last thought delta) kept, the call as is.
    let mut thought = String::new();
    let mut sig = None;
    let mut calls = Vec::new();
    for e in sse_events(&text.unwrap()) {
        for p in e["response"]["candidates"][0]["content"]["parts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if p["thought"] == true {
                thought.push_str(p["text"].as_str().unwrap());
                if let Some(s) = p["thoughtSignature"].as_str() {
                    sig = Some(s.to_string());
                }
            } else if p.get("functionCall").is_some() {
                calls.push(p);
            }
        }
    }
    assert_eq!(calls.len(), 1);
    let mut parts =
        vec![json!({"thought": true, "text": thought, "thoughtSignature": sig.unwrap()})];
    parts.extend(calls);
    let (s, msg) = t
        .status_msg(m, claude_thinking(json!({"role": "model", "parts": parts})))
        .await;
    assert_eq!(s, 200, "{msg}");
}
