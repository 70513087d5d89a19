//! Every rejection rule, each with a request that trips it and a near-identical request that
//! passes (so the test fails if a rule is too lax *or* too strict).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use uplink_fake_upstream::FakeUpstream;

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

    async fn send(&self, model: &str, request: Value) -> (u16, String) {
        let (s, b) = generate(&self.fake, &self.c, &self.token, model, request).await;
        (s, if s == 200 { String::new() } else { message(&b) })
    }

    /// `bad` must be a 400 whose message contains `needle`; `good` must be a 200.
    async fn pair(&self, model: &str, bad: Value, good: Value, needle: &str) {
        let (s, m) = self.send(model, bad.clone()).await;
        assert_eq!(s, 400, "expected 400 for {bad}");
        assert!(m.contains(needle), "message {m:?} lacks {needle:?}");
        let (s, m) = self.send(model, good.clone()).await;
        assert_eq!(s, 200, "expected 200 for {good}: {m}");
    }
}

fn req(contents: Value) -> Value {
    json!({ "contents": contents })
}

fn with_tool(parameters: Value) -> Value {
    json!({
        "contents": [user("hi")],
        "tools": [{"functionDeclarations": [{"name": "f", "description": "d", "parameters": parameters}]}]
    })
}

#[tokio::test]
async fn unknown_fields_in_parts_are_rejected() {
    let t = T::new().await;
    t.pair(
        "gemini-2.5-pro",
        req(json!([{"role": "user", "parts": [{"text": "hi", "cache_control": {"type": "ephemeral"}}]}])),
        req(json!([{"role": "user", "parts": [{"text": "hi"}]}])),
        "Invalid JSON payload received. Unknown name \"cache_control\" at 'request.contents[0].parts[0]': Cannot find field.",
    )
    .await;
    t.pair(
        "claude-sonnet-4-5",
        req(json!([{"role": "user", "parts": [{"text": "hi", "role": "user"}]}])),
        req(json!([{"role": "user", "parts": [{"text": "hi"}]}])),
        "Unknown name \"role\" at 'request.contents[0].parts[0]'",
    )
    .await;
    // Several unknown names are all reported.
    let (s, m) = t
        .send(
            "gemini-2.5-pro",
            json!({"contents": [user("x")], "a": 1, "generationConfig": {"b": 2}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        m.contains("Unknown name \"a\" at 'request'")
            && m.contains("Unknown name \"b\" at 'request.generation_config'"),
        "{m}"
    );
}

#[tokio::test]
async fn json_schema_keywords_in_parameters_are_unknown_names() {
    let t = T::new().await;
    for kw in [
        "additionalProperties",
        "$schema",
        "$ref",
        "$defs",
        "const",
        "exclusiveMinimum",
        "examples",
        "strict",
        "oneOf",
        "allOf",
    ] {
        let mut prop = json!({"type": "string"});
        prop[kw] = json!(false);
        t.pair(
            "gemini-2.5-pro",
            with_tool(json!({"type": "object", "properties": {"x": prop}})),
            with_tool(json!({"type": "object", "properties": {"x": {"type": "string"}}})),
            &format!(
                "Unknown name \"{kw}\" at 'request.tools[0].function_declarations[0].parameters.properties[0].value': Cannot find field."
            ),
        )
        .await;
    }
    // Root-level additionalProperties too.
    t.pair(
        "claude-sonnet-4-5",
        with_tool(json!({"type": "object", "properties": {"x": {"type": "string"}}, "additionalProperties": false})),
        with_tool(json!({"type": "object", "properties": {"x": {"type": "string"}}})),
        "Unknown name \"additionalProperties\" at 'request.tools[0].function_declarations[0].parameters'",
    )
    .await;
}

#[tokio::test]
async fn every_openapi_subset_field_is_accepted() {
    let t = T::new().await;
    let schema = json!({
        "type": "OBJECT", "title": "T", "description": "D", "nullable": false,
        "minProperties": 1, "maxProperties": 5, "required": ["s"], "propertyOrdering": ["s", "n", "a", "u"],
        "example": {"s": "x"}, "default": {"s": "y"},
        "properties": {
            "s": {"type": "string", "format": "enum", "enum": ["x", "y"], "minLength": "1", "maxLength": 3, "pattern": "^[xy]$"},
            "n": {"type": "number", "minimum": 0, "maximum": 1.5, "nullable": true},
            "a": {"type": "array", "items": {"type": "integer"}, "minItems": 0, "maxItems": 3},
            "u": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
        }
    });
    let (s, m) = t.send("gemini-2.5-pro", with_tool(schema)).await;
    assert_eq!(s, 200, "{m}");
    let snake = json!({"type": "object", "properties": {"u": {"any_of": [{"type": "string"}]}}, "property_ordering": ["u"]});
    let (s, m) = t.send("gemini-2.5-pro", with_tool(snake)).await;
    assert_eq!(s, 200, "{m}");
}

#[tokio::test]
async fn parameters_json_schema_is_free_json_schema_but_an_object() {
    let t = T::new().await;
    let decl = |js: Value| json!({"contents": [user("hi")], "tools": [{"function_declarations": [{"name": "f", "parametersJsonSchema": js}]}]});
    t.pair(
        "gemini-2.5-pro",
        decl(json!("{\"type\":\"object\"}")),
        decl(json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
            "properties": {"x": {"type": ["string", "null"], "const": "a"}}, "additionalProperties": false})),
        "parameters_json_schema must be a JSON object",
    )
    .await;
}

#[tokio::test]
async fn schema_type_must_be_one_known_name() {
    let t = T::new().await;
    let one = |ty: Value| with_tool(json!({"type": "object", "properties": {"x": {"type": ty}}}));
    t.pair(
        "gemini-2.5-pro",
        one(json!(["string", "null"])),
        json!({"contents": [user("hi")], "tools": [{"functionDeclarations": [{"name": "f",
            "parameters": {"type": "object", "properties": {"x": {"type": "string", "nullable": true}}}}]}]}),
        "Unknown name \"type\" at 'request.tools[0].function_declarations[0].parameters.properties[0].value': Proto field is not repeating, cannot start list.",
    )
    .await;
    t.pair("gemini-2.5-pro", one(json!("text")), one(json!("string")), "Invalid value at 'request.tools[0].function_declarations[0].parameters.properties[0].value.type'").await;
    t.pair(
        "gemini-2.5-pro",
        one(json!("Strings")),
        one(json!("NULL")),
        "(type.googleapis.com/",
    )
    .await;
}

#[tokio::test]
async fn schema_semantic_rules() {
    let t = T::new().await;
    let m = "gemini-2.5-pro";
    t.pair(
        m,
        with_tool(json!({"type": "object", "properties": {"n": {"type": "integer", "enum": ["1", "2"]}}})),
        with_tool(json!({"type": "object", "properties": {"n": {"type": "string", "enum": ["1", "2"]}}})),
        "* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties[n].enum: only allowed for STRING type",
    )
    .await;
    t.pair(
        m,
        with_tool(json!({"type": "object", "properties": {"a": {"type": "array"}}})),
        with_tool(json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}})),
        "parameters.properties[a].items: missing field.",
    )
    .await;
    t.pair(
        m,
        with_tool(json!({"type": "object", "properties": {"o": {"type": "object", "properties": {}}}})),
        with_tool(json!({"type": "object", "properties": {"o": {"type": "object", "properties": {"k": {"type": "string"}}}}})),
        "parameters.properties[o].properties: should be non-empty for OBJECT type",
    )
    .await;
    // A root object without properties is a function without parameters: fine.
    assert_eq!(t.send(m, with_tool(json!({"type": "object"}))).await.0, 200);
    t.pair(
        m,
        with_tool(json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]})),
        with_tool(json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})),
        "parameters.required[1]: property is not defined",
    )
    .await;
    t.pair(
        m,
        with_tool(json!({"type": "object", "properties": {"cwd": {"description": "dir"}}})),
        with_tool(json!({"type": "object", "properties": {"cwd": {"type": "string", "description": "dir"}}})),
        "`f` functionDeclaration `parameters.cwd` schema didn't specify the schema type field",
    )
    .await;
}

#[tokio::test]
async fn tools_need_a_kind_and_a_valid_name() {
    let t = T::new().await;
    let tools = |tools: Value| json!({"contents": [user("hi")], "tools": tools});
    t.pair(
        "gemini-2.5-pro",
        tools(json!([{"functionDeclarations": []}])),
        tools(json!([{"googleSearch": {}}])),
        "* GenerateContentRequest.tools[0].tool_type: required one_of 'tool_type' must have one initialized field",
    )
    .await;
    t.pair(
        "gemini-2.5-pro",
        tools(json!([{"functionDeclarations": [{"name": "read file"}]}])),
        tools(json!([{"functionDeclarations": [{"name": "mcp__fs.read-file:v2"}]}])),
        "function_declarations[0].name: Invalid function name.",
    )
    .await;
}

#[tokio::test]
async fn contents_and_parts_must_be_present() {
    let t = T::new().await;
    let m = "claude-sonnet-4-5";
    t.pair(
        m,
        json!({}),
        req(json!([user("x")])),
        "* GenerateContentRequest.contents: contents is not specified",
    )
    .await;
    t.pair(
        m,
        req(json!([])),
        req(json!([user("x")])),
        "contents is not specified",
    )
    .await;
    t.pair(
        m,
        req(json!([{"role": "user", "parts": []}])),
        req(json!([{"role": "user", "parts": [{"text": ""}]}])),
        "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.",
    )
    .await;
    t.pair(
        m,
        req(json!([{"role": "user"}])),
        req(json!([user("x")])),
        "contents.parts must not be empty.",
    )
    .await;
    t.pair(
        m,
        req(json!([{"role": "user", "parts": [{"text": "a"}, {}]}])),
        req(json!([{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}])),
        "* GenerateContentRequest.contents[0].parts[1].data: required oneof field 'data' must have one initialized field",
    )
    .await;
    t.pair(
        m,
        req(json!([user("a"), {"role": "model", "parts": [{"text": "b", "functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}])),
        req(json!([user("a"), {"role": "model", "parts": [{"text": "b"}, {"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}])),
        "Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '",
    )
    .await;
}

#[tokio::test]
async fn only_user_and_model_roles() {
    let t = T::new().await;
    for role in ["assistant", "system", "tool", "function"] {
        t.pair(
            "gemini-2.5-flash",
            req(json!([user("a"), {"role": role, "parts": [{"text": "b"}]}, user("c")])),
            req(json!([user("a"), {"role": "model", "parts": [{"text": "b"}]}, user("c")])),
            "Please use a valid role: user, model.",
        )
        .await;
    }
    let si = |role: Value| json!({"contents": [user("a")], "systemInstruction": {"role": role, "parts": [{"text": "be nice"}]}});
    t.pair(
        "gemini-2.5-flash",
        si(json!("system")),
        si(json!("user")),
        "Please use a valid role: user, model.",
    )
    .await;
    assert_eq!(
        t.send(
            "gemini-2.5-flash",
            json!({"contents": [user("a")], "system_instruction": {"parts": [{"text": "x"}]}})
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn inline_data_needs_base64_and_a_mime_type() {
    let t = T::new().await;
    let part = |p: Value| req(json!([{"role": "user", "parts": [{"text": "look"}, p]}]));
    t.pair(
        "gemini-2.5-pro",
        part(json!({"inlineData": {"mimeType": "image/png", "data": "not base64!"}})),
        part(json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}})),
        "Invalid value at 'request.contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed for \"not base64!\"",
    )
    .await;
    t.pair(
        "gemini-2.5-pro",
        part(json!({"inline_data": {"data": "iVBORw0KGgo"}})),
        part(json!({"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo"}})),
        "contents[0].parts[1].inline_data.mime_type: Mime type is required.",
    )
    .await;
}

#[tokio::test]
async fn wrong_json_types_are_rejected() {
    let t = T::new().await;
    let gc = |g: Value| json!({"contents": [user("a")], "generationConfig": g});
    t.pair(
        "gemini-2.5-pro",
        gc(json!({"temperature": "hot"})),
        gc(json!({"temperature": "0.5"})),
        "Invalid value at 'request.generation_config.temperature' (TYPE_FLOAT), \"hot\"",
    )
    .await;
    t.pair(
        "gemini-2.5-pro",
        req(json!([{"role": "user", "parts": [{"text": 5}]}])),
        req(json!([user("5")])),
        "Invalid value at 'request.contents[0].parts[0].text' (TYPE_STRING), 5",
    )
    .await;
    t.pair("gemini-2.5-pro", json!({"contents": [user("a")], "generationConfig": [{"temperature": 1}]}), gc(json!({"temperature": 1})),
        "Unknown name \"generationConfig\" at 'request': Proto field is not repeating, cannot start list.").await;
    let fr = |resp: Value| {
        req(
            json!([user("a"), {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": resp}}]}]),
        )
    };
    t.pair(
        "gemini-2.5-pro",
        fr(json!(["a"])),
        fr(json!({"output": ["a"]})),
        "Proto field is not repeating, cannot start list.",
    )
    .await;
    t.pair(
        "gemini-2.5-pro",
        fr(json!("text")),
        fr(json!({"output": "text"})),
        "(type.googleapis.com/google.protobuf.Struct), \"text\"",
    )
    .await;
}

#[tokio::test]
async fn generation_limits_per_model() {
    let t = T::new().await;
    let gc = |g: Value| json!({"contents": [user("a")], "generationConfig": g});
    t.pair("gemini-2.5-pro", gc(json!({"maxOutputTokens": 65537})), gc(json!({"maxOutputTokens": 65536})),
        "Unable to submit request because it has a maxOutputTokens value of 65537 but the supported range is from 1 (inclusive) to 65537 (exclusive).").await;
    t.pair("claude-sonnet-4-5", gc(json!({"maxOutputTokens": 64001})), gc(json!({"maxOutputTokens": 64000})),
        "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5").await;
    t.pair("gemini-2.5-pro", gc(json!({"temperature": 2.5})), gc(json!({"temperature": 2.0})),
        "has a temperature value of 2.5 but the supported range is from 0 (inclusive) to 2.0001 (exclusive)").await;
    t.pair(
        "gemini-2.5-pro",
        gc(json!({"temperature": -0.1})),
        gc(json!({"temperature": 0})),
        "temperature value of -0.1",
    )
    .await;
    t.pair(
        "claude-sonnet-4-5",
        gc(json!({"candidateCount": 2})),
        gc(json!({"candidateCount": 1})),
        "Multiple candidates are not supported",
    )
    .await;
    assert_eq!(
        t.send("gemini-2.5-pro", gc(json!({"candidateCount": 2})))
            .await
            .0,
        200
    );
    let think = |budget: i64, max: i64| {
        gc(
            json!({"maxOutputTokens": max, "thinkingConfig": {"includeThoughts": true, "thinkingBudget": budget}}),
        )
    };
    t.pair(
        "claude-sonnet-4-5-thinking",
        think(8192, 8192),
        think(8192, 8193),
        "`max_tokens` must be greater than `thinking.budget_tokens`",
    )
    .await;
    t.pair(
        "claude-sonnet-4-5-thinking",
        think(500, 8192),
        think(1024, 8192),
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
    )
    .await;
    // Gemini has no such coupling.
    assert_eq!(t.send("gemini-2.5-pro", think(8192, 8192)).await.0, 200);
}

fn call_turn(names: &[&str]) -> Value {
    let parts: Vec<Value> = names
        .iter()
        .map(|n| json!({"functionCall": {"name": n, "args": {}}}))
        .collect();
    json!({"role": "model", "parts": parts})
}

fn response_turn(names: &[&str]) -> Value {
    let parts: Vec<Value> = names
        .iter()
        .map(|n| json!({"functionResponse": {"name": n, "response": {"ok": true}}}))
        .collect();
    json!({"role": "user", "parts": parts})
}

#[tokio::test]
async fn gemini_function_calls_and_responses_must_pair() {
    let t = T::new().await;
    let m = "gemini-2.5-flash";
    t.pair(
        m,
        req(json!([user("a"), response_turn(&["f"])])),
        req(json!([user("a"), call_turn(&["f"]), response_turn(&["f"])])),
        "Please ensure that function response turn comes immediately after a function call turn.",
    )
    .await;
    t.pair(
        m,
        req(json!([user("a"), call_turn(&["f", "g"]), response_turn(&["f"])])),
        req(json!([user("a"), call_turn(&["f", "g"]), response_turn(&["f", "g"])])),
        "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
    )
    .await;
    t.pair(
        m,
        req(json!([user("a"), call_turn(&["f"]), response_turn(&["g"])])),
        req(json!([user("a"), call_turn(&["f"]), response_turn(&["f"])])),
        "function response name `g`",
    )
    .await;
    t.pair(
        m,
        req(json!([
            user("a"),
            call_turn(&["f"]),
            user("never answered")
        ])),
        req(json!([
            user("a"),
            call_turn(&["f"]),
            response_turn(&["f"]),
            user("next")
        ])),
        "number of function response parts is equal",
    )
    .await;
}

#[tokio::test]
async fn claude_tool_use_and_results_must_pair() {
    let t = T::new().await;
    let m = "claude-sonnet-4-5";
    t.pair(
        m,
        req(json!([
            user("a"),
            call_turn(&["f", "g"]),
            response_turn(&["f"])
        ])),
        req(json!([
            user("a"),
            call_turn(&["f", "g"]),
            response_turn(&["g", "f"])
        ])),
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: g.",
    )
    .await;
    t.pair(
        m,
        req(json!([user("a"), response_turn(&["f"])])),
        req(json!([user("a"), call_turn(&["f"]), response_turn(&["f"])])),
        "messages.1.content.0: unexpected `tool_use_id` found in `tool_result` blocks: f.",
    )
    .await;
    // The Anthropic error travels inside the Google envelope as a JSON string.
    let (_, b) = generate(
        &t.fake,
        &t.c,
        &t.token,
        m,
        req(json!([user("a"), response_turn(&["f"])])),
    )
    .await;
    assert_eq!(b["error"]["status"], "INVALID_ARGUMENT");
    let inner: Value = serde_json::from_str(b["error"]["message"].as_str().unwrap()).unwrap();
    assert_eq!(inner["type"], "error");
    assert_eq!(inner["error"]["type"], "invalid_request_error");
}
