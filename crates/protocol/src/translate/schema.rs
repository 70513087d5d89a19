//! JSON Schema → Gemini `Schema` (the OpenAPI 3.0 subset Gemini accepts for
//! function parameters and `responseSchema`).
//!
//! Gemini parses schemas into a protobuf message, so an unknown keyword is a 400
//! ("Invalid JSON payload received. Unknown name \"const\" …"); reports from
//! Antigravity / Cloud Code users name `$schema`, `const`, `default`,
//! `propertyNames`, `deprecated` and `x-*` keys. Documented fields (ai.google.dev
//! `Schema`, Vertex `Schema` reference): `type format title description nullable
//! enum items properties required anyOf minItems maxItems minimum maximum
//! minLength maxLength minProperties maxProperties propertyOrdering`. The cleaner:
//!
//! - inlines `$ref` (JSON pointers into the root, `$defs`/`definitions` anywhere),
//!   expanding a recursive reference once and cutting the cycle after that;
//! - merges `allOf`; turns `oneOf` into `anyOf`; removes `null` branches of
//!   `anyOf` and `null` in type arrays, setting `nullable: true`, and inlines a
//!   union left with one branch;
//! - turns `const` into a one-value `enum`; enum values become strings (Gemini
//!   enums are strings); an enum on a non-string type moves into the description;
//! - keeps `format` only where Gemini documents it: `enum`/`date-time` on strings,
//!   `int32`/`int64` on integers, `float`/`double` on numbers;
//! - moves `pattern` into the description (Gemini's regex dialect is not JSON
//!   Schema's, and a rejected pattern fails the whole request);
//! - drops every other keyword (`additionalProperties`, `$schema`, `default`,
//!   `examples`, `exclusiveMinimum`, …);
//! - lower-cases `type`, infers a missing one (`object` with properties, `array`
//!   with items, else `string`, as Antigravity proxies do), and gives an `array`
//!   without `items` string items.

use foldhash::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Map, Value};

use crate::json::RawJson;

/// Nesting depth after which a schema is cut.
const MAX_DEPTH: usize = 32;

/// Schema nodes converted before the rest is cut: inlining `$ref`s can multiply a
/// schema's size, and a hostile one must not make the gateway build a huge body.
const MAX_NODES: usize = 20_000;

/// Clean `schema` for Gemini. The input is not modified.
pub fn clean_schema(schema: &Value) -> Value {
    let mut defs = Map::new();
    collect_defs(schema, &mut defs, 0);
    let mut cx = Cx {
        root: schema,
        defs: &defs,
        stack: Vec::new(),
        budget: MAX_NODES,
    };
    match cx.convert(schema, 0) {
        Value::Object(map) => Value::Object(map),
        _ => Value::Object(Map::new()),
    }
}

/// A cleaned schema, and whether it declares at least one property.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleaned {
    pub schema: RawJson,
    pub has_properties: bool,
}

/// Schemas remembered by [`clean_schema_raw`]: at most this many …
const MEMO_ENTRIES: usize = 1024;
/// … and this many bytes of schema text; past either, the memo starts over.
const MEMO_BYTES: usize = 8 << 20;

struct Memo {
    map: HashMap<Arc<str>, Cleaned>,
    bytes: usize,
}

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| {
    Mutex::new(Memo {
        map: HashMap::default(),
        bytes: 0,
    })
});

/// [`clean_schema`] for a schema held as text, remembered by that text: a client
/// sends the same tools on every turn of a conversation (Claude Code a few dozen),
/// so after the first turn cleaning is a lookup. The memo is bounded (entries and
/// bytes) and only ever returns what cleaning that exact text returns.
pub fn clean_schema_raw(schema: &RawJson) -> Cleaned {
    let text = schema.as_str();
    if let Ok(memo) = MEMO.lock()
        && let Some(hit) = memo.map.get(text)
    {
        return hit.clone();
    }
    let cleaned = clean_schema(&schema.to_value());
    let cleaned = Cleaned {
        has_properties: has_properties(&cleaned),
        schema: RawJson::from(cleaned),
    };
    if text.len() <= MEMO_BYTES
        && let Ok(mut memo) = MEMO.lock()
    {
        if memo.map.len() >= MEMO_ENTRIES || memo.bytes + text.len() > MEMO_BYTES {
            memo.map.clear();
            memo.bytes = 0;
        }
        memo.bytes += text.len();
        memo.map.insert(Arc::from(text), cleaned.clone());
    }
    cleaned
}

/// Whether a cleaned object schema declares at least one property.
pub fn has_properties(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
}

fn collect_defs(node: &Value, defs: &mut Map<String, Value>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match node {
        Value::Object(map) => {
            for key in ["$defs", "definitions"] {
                if let Some(Value::Object(d)) = map.get(key) {
                    for (name, def) in d {
                        defs.entry(name.clone()).or_insert_with(|| def.clone());
                    }
                }
            }
            for v in map.values() {
                collect_defs(v, defs, depth + 1);
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_defs(v, defs, depth + 1);
            }
        }
        _ => {}
    }
}

struct Cx<'a> {
    root: &'a Value,
    defs: &'a Map<String, Value>,
    /// `$ref`s being expanded, outermost first.
    stack: Vec<String>,
    /// Nodes left to convert.
    budget: usize,
}

impl Cx<'_> {
    fn resolve(&self, reference: &str) -> Option<Value> {
        if let Some(pointer) = reference.strip_prefix('#') {
            if pointer.is_empty() {
                return Some(self.root.clone());
            }
            if let Some(found) = self.root.pointer(pointer) {
                return Some(found.clone());
            }
        }
        let name = reference.rsplit('/').next()?;
        self.defs.get(name).cloned()
    }

    fn convert(&mut self, node: &Value, depth: usize) -> Value {
        let Value::Object(obj) = node else {
            // `true`, `false` or garbage: an unconstrained value.
            return fallback(&Map::new());
        };
        if depth > MAX_DEPTH || self.budget == 0 {
            return fallback(obj);
        }
        self.budget -= 1;

        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let reference = reference.to_owned();
            let mut siblings = obj.clone();
            siblings.remove("$ref");
            if self.stack.contains(&reference) {
                let mut cut = Map::new();
                cut.insert("type".into(), "object".into());
                let name = reference.rsplit('/').next().unwrap_or("");
                cut.insert(
                    "description".into(),
                    Value::String(describe(&siblings, &format!("(recursive {name})"))),
                );
                return Value::Object(cut);
            }
            let Some(Value::Object(target)) = self.resolve(&reference) else {
                return self.convert(&Value::Object(siblings), depth + 1);
            };
            // Sibling keywords (description, nullable…) override the target.
            let mut merged = target;
            for (k, v) in siblings {
                merged.insert(k, v);
            }
            self.stack.push(reference);
            let out = self.convert(&Value::Object(merged), depth + 1);
            self.stack.pop();
            return out;
        }

        if let Some(Value::Array(parts)) = obj.get("allOf") {
            let mut merged = obj.clone();
            merged.remove("allOf");
            for part in parts {
                let part = match part.get("$ref").and_then(Value::as_str) {
                    Some(r) if !self.stack.iter().any(|s| s == r) => {
                        self.resolve(r).unwrap_or(Value::Null)
                    }
                    _ => part.clone(),
                };
                if let Value::Object(p) = part {
                    merge_into(&mut merged, p);
                }
            }
            return self.convert(&Value::Object(merged), depth + 1);
        }

        let mut out = Map::new();
        let mut nullable = obj
            .get("nullable")
            .and_then(Value::as_bool)
            .unwrap_or(false);

        // Unions.
        let union = obj
            .get("anyOf")
            .or_else(|| obj.get("oneOf"))
            .and_then(Value::as_array);
        if let Some(branches) = union {
            let mut kept = Vec::new();
            for b in branches {
                if is_null_schema(b) {
                    nullable = true;
                } else {
                    kept.push(self.convert(b, depth + 1));
                }
            }
            let mut rest = obj.clone();
            rest.remove("anyOf");
            rest.remove("oneOf");
            if kept.len() == 1 && !rest.contains_key("type") && !rest.contains_key("properties") {
                // A union left with one branch: inline it, outer keywords winning.
                let Some(Value::Object(mut single)) = kept.pop() else {
                    return fallback(obj);
                };
                let outer = self.convert_plain(&rest, depth, false);
                if let Value::Object(outer) = outer {
                    for (k, v) in outer {
                        if k != "type" || !single.contains_key("type") {
                            single.insert(k, v);
                        }
                    }
                }
                if nullable {
                    single.insert("nullable".into(), Value::Bool(true));
                }
                return Value::Object(single);
            }
            if !kept.is_empty() {
                out.insert("anyOf".into(), Value::Array(kept));
            }
            if let Value::Object(plain) =
                self.convert_plain(&rest, depth, !out.contains_key("anyOf"))
            {
                for (k, v) in plain {
                    out.insert(k, v);
                }
            }
        } else if let Value::Object(plain) = self.convert_plain(obj, depth, true) {
            out = plain;
        }

        if out.get("nullable") == Some(&Value::Bool(true)) {
            nullable = true;
        }
        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        Value::Object(out)
    }

    /// Convert the non-union keywords. `infer_type`: add a type when none is given.
    fn convert_plain(&mut self, obj: &Map<String, Value>, depth: usize, infer_type: bool) -> Value {
        let mut out = Map::new();
        let mut nullable = false;
        let mut hints: Vec<String> = Vec::new();

        // type
        let mut ty: Option<String> = None;
        match obj.get("type") {
            Some(Value::String(t)) => {
                let t = t.to_ascii_lowercase();
                if t == "null" {
                    nullable = true;
                } else {
                    ty = Some(t);
                }
            }
            Some(Value::Array(types)) => {
                let mut names: Vec<String> = Vec::new();
                for t in types.iter().filter_map(Value::as_str) {
                    let t = t.to_ascii_lowercase();
                    if t == "null" {
                        nullable = true;
                    } else if !names.contains(&t) {
                        names.push(t);
                    }
                }
                if names.len() > 1 {
                    hints.push(format!("Accepts: {}", names.join(" | ")));
                }
                ty = names.into_iter().next();
            }
            _ => {}
        }

        // enum / const
        let mut values: Vec<Value> = Vec::new();
        if let Some(c) = obj.get("const") {
            values.push(c.clone());
        } else if let Some(Value::Array(e)) = obj.get("enum") {
            values.extend(e.iter().cloned());
        }
        if values.iter().any(Value::is_null) {
            nullable = true;
        }
        values.retain(|v| !v.is_null());
        if !values.is_empty() {
            let strings: Vec<String> = values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            if ty.is_none() {
                ty = Some(
                    match &values[0] {
                        Value::Bool(_) => "boolean",
                        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                        Value::Number(_) => "number",
                        _ => "string",
                    }
                    .to_owned(),
                );
            }
            if ty.as_deref() == Some("string") {
                out.insert(
                    "enum".into(),
                    Value::Array(strings.into_iter().map(Value::String).collect()),
                );
            } else {
                hints.push(format!("Allowed values: {}", strings.join(", ")));
            }
        }

        // properties / required
        if let Some(Value::Object(props)) = obj.get("properties") {
            let mut cleaned = Map::new();
            for (name, schema) in props {
                cleaned.insert(name.clone(), self.convert(schema, depth + 1));
            }
            if let Some(Value::Array(required)) = obj.get("required") {
                let req: Vec<Value> = required
                    .iter()
                    .filter(|r| r.as_str().is_some_and(|r| cleaned.contains_key(r)))
                    .cloned()
                    .collect();
                if !req.is_empty() {
                    out.insert("required".into(), Value::Array(req));
                }
            }
            out.insert("properties".into(), Value::Object(cleaned));
            if ty.is_none() {
                ty = Some("object".into());
            }
        }

        // items
        let items = match obj.get("items") {
            Some(Value::Array(tuple)) => tuple.first(),
            Some(other) => Some(other),
            None => obj
                .get("prefixItems")
                .and_then(Value::as_array)
                .and_then(|t| t.first()),
        };
        if let Some(items) = items {
            out.insert("items".into(), self.convert(items, depth + 1));
            if ty.is_none() {
                ty = Some("array".into());
            }
        }

        if ty.is_none() && infer_type {
            ty = Some("string".into());
        }
        if ty.as_deref() == Some("array") && !out.contains_key("items") {
            let mut string_items = Map::new();
            string_items.insert("type".into(), "string".into());
            out.insert("items".into(), Value::Object(string_items));
        }

        // format, where documented for the type
        if let (Some(t), Some(Value::String(f))) = (ty.as_deref(), obj.get("format")) {
            let allowed = match t {
                "string" => matches!(f.as_str(), "enum" | "date-time"),
                "integer" => matches!(f.as_str(), "int32" | "int64"),
                "number" => matches!(f.as_str(), "float" | "double"),
                _ => false,
            };
            if allowed {
                out.insert("format".into(), Value::String(f.clone()));
            }
        }

        for key in ["title", "description"] {
            if let Some(Value::String(s)) = obj.get(key) {
                out.insert(key.into(), Value::String(s.clone()));
            }
        }
        for key in [
            "minItems",
            "maxItems",
            "minLength",
            "maxLength",
            "minProperties",
            "maxProperties",
        ] {
            if let Some(n) = obj.get(key).and_then(Value::as_u64) {
                out.insert(key.into(), Value::from(n));
            }
        }
        for key in ["minimum", "maximum"] {
            if let Some(Value::Number(n)) = obj.get(key) {
                out.insert(key.into(), Value::Number(n.clone()));
            }
        }
        if let Some(Value::Array(order)) = obj.get("propertyOrdering")
            && order.iter().all(Value::is_string)
        {
            out.insert("propertyOrdering".into(), Value::Array(order.clone()));
        }
        if let Some(Value::String(p)) = obj.get("pattern") {
            hints.push(format!("Pattern: {p}"));
        }
        if !hints.is_empty() {
            let base = out
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut text = base;
            for h in hints {
                if !text.is_empty() {
                    text.push_str(if text.ends_with('.') { " " } else { ". " });
                }
                text.push_str(&h);
            }
            out.insert("description".into(), Value::String(text));
        }
        if let Some(t) = ty {
            out.insert("type".into(), Value::String(t));
        }
        if nullable || obj.get("nullable") == Some(&Value::Bool(true)) {
            out.insert("nullable".into(), Value::Bool(true));
        }
        Value::Object(out)
    }
}

/// A type inferred from the keywords present, for schemas that give none.
fn fallback(obj: &Map<String, Value>) -> Value {
    let ty = if obj.contains_key("properties") {
        "object"
    } else if obj.contains_key("items") {
        "array"
    } else {
        "string"
    };
    let mut out = Map::new();
    out.insert("type".into(), ty.into());
    if ty == "array" {
        let mut items = Map::new();
        items.insert("type".into(), "string".into());
        out.insert("items".into(), Value::Object(items));
    }
    if let Some(Value::String(d)) = obj.get("description") {
        out.insert("description".into(), Value::String(d.clone()));
    }
    Value::Object(out)
}

fn is_null_schema(v: &Value) -> bool {
    match v.get("type") {
        Some(Value::String(t)) => t.eq_ignore_ascii_case("null"),
        Some(Value::Array(ts)) => ts
            .iter()
            .all(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("null"))),
        _ => v.get("const").is_some_and(Value::is_null),
    }
}

fn describe(obj: &Map<String, Value>, suffix: &str) -> String {
    match obj.get("description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() => format!("{d} {suffix}"),
        _ => suffix.to_owned(),
    }
}

/// Merge one `allOf` member into the accumulated schema.
fn merge_into(acc: &mut Map<String, Value>, part: Map<String, Value>) {
    for (k, v) in part {
        match (k.as_str(), acc.get_mut(&k), v) {
            ("properties", Some(Value::Object(have)), Value::Object(more)) => {
                for (name, schema) in more {
                    have.entry(name).or_insert(schema);
                }
            }
            ("required", Some(Value::Array(have)), Value::Array(more)) => {
                for r in more {
                    if !have.contains(&r) {
                        have.push(r);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, v) => {
                acc.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn the_memo_answers_what_cleaning_answers_and_stays_bounded() {
        let schemas = [
            json!({"type": "object", "properties": {"a": {"type": "string", "default": "x"}}, "$schema": "s"}),
            json!({"type": "object", "additionalProperties": false}),
            json!({"properties": {"n": {"const": 3}}}),
        ];
        for schema in &schemas {
            let raw = RawJson::from(schema);
            let expected = clean_schema(schema);
            for _ in 0..2 {
                let got = clean_schema_raw(&raw);
                assert_eq!(got.schema.to_value(), expected);
                assert_eq!(got.has_properties, has_properties(&expected));
            }
        }
        // Spacing makes another entry, never another answer.
        let spaced: RawJson =
            serde_json::from_str(r#"{ "properties" : { "n" : { "const" : 3 } } }"#).unwrap();
        assert_eq!(
            clean_schema_raw(&spaced).schema.to_value(),
            clean_schema(&schemas[2])
        );
        for i in 0..MEMO_ENTRIES + 10 {
            let schema =
                json!({"type": "object", "properties": {format!("p{i}"): {"type": "integer"}}});
            let got = clean_schema_raw(&RawJson::from(&schema));
            assert_eq!(got.schema.to_value(), clean_schema(&schema));
        }
        let memo = MEMO.lock().unwrap();
        assert!(memo.map.len() <= MEMO_ENTRIES && memo.bytes <= MEMO_BYTES);
        assert_eq!(memo.bytes, memo.map.keys().map(|k| k.len()).sum::<usize>());
    }

    #[test]
    fn inlines_refs_and_drops_unsupported_keywords() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "location": {"$ref": "#/$defs/Location", "description": "where"},
                "unit": {"type": ["string", "null"], "enum": ["c", "f", null], "default": "c"},
                "kind": {"const": "weather"},
                "count": {"type": "integer", "exclusiveMinimum": 0, "format": "uint32", "examples": [1]},
                "when": {"type": "string", "format": "date-time"},
                "tags": {"type": "array"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "level": {"type": "integer", "enum": [1, 2, 3]},
            },
            "required": ["location", "missing"],
            "$defs": {
                "Location": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "pattern": "^[A-Z]"}},
                    "required": ["city"],
                    "additionalProperties": false,
                }
            }
        });
        assert_eq!(
            clean_schema(&schema),
            json!({
                "type": "object",
                "properties": {
                    "location": {
                        "type": "object",
                        "description": "where",
                        "properties": {"city": {"type": "string", "description": "Pattern: ^[A-Z]"}},
                        "required": ["city"],
                    },
                    "unit": {"type": "string", "enum": ["c", "f"], "nullable": true},
                    "kind": {"type": "string", "enum": ["weather"]},
                    "count": {"type": "integer"},
                    "when": {"type": "string", "format": "date-time"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "note": {"type": "string", "nullable": true},
                    "level": {"type": "integer", "description": "Allowed values: 1, 2, 3"},
                },
                "required": ["location"],
            })
        );
    }

    #[test]
    fn recursive_refs_are_cut_after_one_expansion() {
        let schema = json!({
            "type": "object",
            "properties": {"root": {"$ref": "#/definitions/Node"}},
            "definitions": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                    },
                }
            }
        });
        let cleaned = clean_schema(&schema);
        assert_eq!(
            cleaned["properties"]["root"]["properties"]["children"]["items"],
            json!({"type": "object", "description": "(recursive Node)"})
        );
    }

    #[test]
    fn all_of_merges_and_multi_branch_unions_stay_any_of() {
        let schema = json!({
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"oneOf": [{"type": "string"}, {"type": "number"}]}}},
            ]
        });
        assert_eq!(
            clean_schema(&schema),
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "string"},
                    "b": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                },
                "required": ["a"],
            })
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z$#/]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("type".to_owned()),
                        Just("properties".to_owned()),
                        Just("items".to_owned()),
                        Just("$ref".to_owned()),
                        Just("$defs".to_owned()),
                        Just("anyOf".to_owned()),
                        Just("allOf".to_owned()),
                        Just("enum".to_owned()),
                        Just("required".to_owned()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics_and_always_yields_an_object(schema in arb_json()) {
            let cleaned = clean_schema(&schema);
            prop_assert!(cleaned.is_object());
        }
    }
}
