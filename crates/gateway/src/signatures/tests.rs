//! The store remembers, restores, attributes, expires and stays bounded.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;
use uplink_protocol::ir::{FinishReason, Message};

use super::*;

fn sig(v: &str, f: ModelFamily) -> Signature {
    Signature::new(v, Some(f))
}

async fn run(store: &Arc<SignatureStore>, events: Vec<StreamEvent>, session: Option<&str>) {
    let rest: EventStream = Box::pin(futures_util::stream::iter(events));
    let observed: Vec<StreamEvent> = store
        .observe(&[], rest, session.map(str::to_owned))
        .collect()
        .await;
    assert!(!observed.is_empty());
}

fn replay(calls: Vec<ContentBlock>, session: Option<&str>) -> Request {
    let mut r = Request {
        model: "m".into(),
        messages: vec![
            Message::user_text("go"),
            Message::new(Role::Assistant, calls),
        ],
        ..Request::default()
    };
    r.meta.session_id = session.map(str::to_owned);
    r
}

fn call(id: &str, args: serde_json::Value) -> ContentBlock {
    ContentBlock::ToolCall {
        id: id.into(),
        name: "f".into(),
        arguments: args,
        signature: None,
    }
}

#[tokio::test]
async fn gemini_call_signatures_come_back_by_id_and_by_content() {
    let store = Arc::new(SignatureStore::default());
    run(
        &store,
        vec![
            StreamEvent::ToolCallStart {
                id: "call_1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta("{\"a\":1}".into()),
            StreamEvent::Signature(sig("g-sig", ModelFamily::Gemini)),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ],
        Some("s1"),
    )
    .await;

    let mut by_id = replay(vec![call("call_1", json!({"a": 1}))], None);
    store.restore(&mut by_id);
    assert!(
        matches!(&by_id.messages[1].content[0], ContentBlock::ToolCall { signature: Some(s), .. } if *s == sig("g-sig", ModelFamily::Gemini))
    );

    // A client that renamed the id (Gemini clients synthesise them) in the same session.
    let mut by_content = replay(vec![call("other", json!({"a": 1}))], Some("s1"));
    store.restore(&mut by_content);
    assert!(matches!(
        &by_content.messages[1].content[0],
        ContentBlock::ToolCall {
            signature: Some(_),
            ..
        }
    ));

    // Different arguments or another session: nothing is made up.
    for (args, session) in [(json!({"a": 2}), Some("s1")), (json!({"a": 1}), Some("s2"))] {
        let mut r = replay(vec![call("other", args)], session);
        store.restore(&mut r);
        assert!(matches!(
            &r.messages[1].content[0],
            ContentBlock::ToolCall {
                signature: None,
                ..
            }
        ));
    }
}

#[tokio::test]
async fn claude_thinking_is_put_back_before_a_tool_turn_that_lost_it() {
    let store = Arc::new(SignatureStore::default());
    run(
        &store,
        vec![
            StreamEvent::ThinkingDelta("let me ".into()),
            StreamEvent::ThinkingDelta("check".into()),
            StreamEvent::Signature(sig("c-sig", ModelFamily::Claude)),
            StreamEvent::ToolCallStart {
                id: "toolu_1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta("{}".into()),
            StreamEvent::ToolCallStart {
                id: "toolu_2".into(),
                name: "f".into(),
            },
            StreamEvent::Finish(FinishReason::ToolCalls),
        ],
        None,
    )
    .await;
    let mut r = replay(
        vec![call("toolu_1", json!({})), call("toolu_2", json!({}))],
        None,
    );
    store.restore(&mut r);
    let content = &r.messages[1].content;
    assert_eq!(content.len(), 3);
    assert_eq!(
        content[0],
        ContentBlock::Thinking {
            text: "let me check".into(),
            signature: Some(sig("c-sig", ModelFamily::Claude))
        }
    );

    // A client that kept the thinking (Anthropic) gets its signature attributed.
    let mut kept = replay(
        vec![
            ContentBlock::Thinking {
                text: "let me check".into(),
                signature: Some(Signature::new("c-sig", None)),
            },
            call("toolu_1", json!({})),
        ],
        None,
    );
    store.restore(&mut kept);
    assert_eq!(kept.messages[1].content.len(), 2, "nothing inserted twice");
    assert!(
        matches!(&kept.messages[1].content[0], ContentBlock::Thinking { signature: Some(s), .. } if s.family == Some(ModelFamily::Claude))
    );
}

#[tokio::test(start_paused = true)]
async fn entries_expire_and_the_store_is_bounded() {
    let store = Arc::new(SignatureStore::new(4, Duration::from_secs(60)));
    for i in 0..10 {
        run(
            &store,
            vec![
                StreamEvent::ToolCallStart {
                    id: format!("c{i}"),
                    name: "f".into(),
                },
                StreamEvent::Signature(sig(&format!("s{i}"), ModelFamily::Gemini)),
            ],
            None,
        )
        .await;
    }
    assert!(store.len() <= 4 + 1, "{}", store.len());
    let mut r = replay(vec![call("c9", json!({}))], None);
    store.restore(&mut r);
    assert!(
        matches!(
            &r.messages[1].content[0],
            ContentBlock::ToolCall {
                signature: Some(_),
                ..
            }
        ),
        "newest kept"
    );

    tokio::time::advance(Duration::from_secs(61)).await;
    let mut r = replay(vec![call("c9", json!({}))], None);
    store.restore(&mut r);
    assert!(
        matches!(
            &r.messages[1].content[0],
            ContentBlock::ToolCall {
                signature: None,
                ..
            }
        ),
        "expired"
    );
}

#[test]
fn each_store_keys_its_entries_with_a_seed_of_its_own() {
    // Keys are hashes of what clients send; a seed no client knows keeps one
    // from choosing an id that lands on another conversation's entry.
    let (a, b) = (SignatureStore::default(), SignatureStore::default());
    assert_eq!(a.hash_of(&["call_1"]), a.hash_of(&["call_1"]));
    assert_ne!(a.hash_of(&["call_1"]), b.hash_of(&["call_1"]));
    let args = json!({"path": "src/main.rs"});
    assert_eq!(
        a.content_key(Some("s"), "read_file", &args),
        a.content_key(Some("s"), "read_file", &args)
    );
    assert_ne!(
        a.content_key(Some("s"), "read_file", &args),
        b.content_key(Some("s"), "read_file", &args)
    );
}
