//! JSON kept as text.
//!
//! A tool's parameter schema is the largest thing most requests carry after the
//! conversation (Claude Code sends a few dozen tools on every turn), and a gateway
//! rarely needs to look inside it: providers get it as it came, and Gemini gets a
//! cleaned copy that is the same every turn. [`RawJson`] holds such a value as its
//! JSON text, so decoding does not build a tree, encoding copies the text, and a
//! cleaned copy can be remembered by it (see `translate::schema`).
//!
//! [`to_vec_with_capacity`] and friends write what `serde_json::to_vec` writes,
//! with a faster string escaper, for the large bodies sent upstream.

mod write;

pub use write::{Error, to_string, to_vec_with_capacity, to_writer, write_str};

use std::fmt;
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// A JSON value held as its (valid) text. Cheap to clone. Two values are equal
/// when they hold the same JSON, whatever the spacing or the order of keys.
#[derive(Clone)]
pub struct RawJson(Option<Arc<RawValue>>); // `None` is `null`

impl RawJson {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().map_or("null", RawValue::get)
    }

    /// The value as a tree.
    pub fn to_value(&self) -> Value {
        // The text is valid JSON by construction; a failure cannot happen, and
        // would read as `null`, never as a panic.
        serde_json::from_str(self.as_str()).unwrap_or(Value::Null)
    }

    /// `{"type": "object", "properties": {}}`: the schema of a function without
    /// arguments.
    pub fn empty_object_schema() -> RawJson {
        static EMPTY: LazyLock<RawJson> =
            LazyLock::new(|| RawJson::from(json!({"type": "object", "properties": {}})));
        EMPTY.clone()
    }

    /// Whether the value is a JSON object.
    pub fn is_object(&self) -> bool {
        self.first_byte() == Some(b'{')
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.first_byte() == Some(b'n')
    }

    fn first_byte(&self) -> Option<u8> {
        self.as_str().bytes().find(|b| !b.is_ascii_whitespace())
    }
}

impl From<&Value> for RawJson {
    fn from(value: &Value) -> Self {
        // Serialising a `Value` cannot fail: its map keys are strings.
        RawJson(serde_json::value::to_raw_value(value).ok().map(Arc::from))
    }
}

impl From<Value> for RawJson {
    fn from(value: Value) -> Self {
        RawJson::from(&value)
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(value: Box<RawValue>) -> Self {
        RawJson(Some(Arc::from(value)))
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(serializer),
            None => serializer.serialize_unit(),
        }
    }
}

/// Read straight from a JSON document (`serde_json::from_slice`/`from_str`/
/// `from_value`). Like `RawValue`, it cannot be read through serde's buffering
/// (`#[serde(flatten)]`, untagged or internally tagged enums): keep such types
/// on `Value`.
impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(RawJson::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_and_reads_as_a_tree() {
        let raw: RawJson = serde_json::from_str(r#" {"b": 1, "a": [true, null]} "#).unwrap();
        assert_eq!(raw.as_str(), r#"{"b": 1, "a": [true, null]}"#);
        assert!(raw.is_object());
        assert!(!raw.is_null());
        assert_eq!(raw.to_value(), json!({"a": [true, null], "b": 1}));
        // Serialised as it came, inside a larger document.
        let doc =
            serde_json::to_string(&json!({"x": serde_json::to_value(&raw).unwrap()})).unwrap();
        assert_eq!(doc, r#"{"x":{"a":[true,null],"b":1}}"#);
        assert_eq!(
            serde_json::to_string(&vec![raw.clone()]).unwrap(),
            r#"[{"b": 1, "a": [true, null]}]"#
        );
    }

    #[test]
    fn equality_is_about_the_json_not_the_spacing() {
        let a: RawJson = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap();
        let b: RawJson = serde_json::from_str(r#"{ "b": 2, "a": 1 }"#).unwrap();
        let c = RawJson::from(json!({"a": 1, "b": 3}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(RawJson::from(json!({"a": 1, "b": 2})), a);
    }

    #[test]
    fn reads_from_a_value_and_in_options() {
        #[derive(Deserialize)]
        struct T {
            p: Option<RawJson>,
        }
        let t: T = serde_json::from_value(json!({"p": {"type": "object"}})).unwrap();
        assert_eq!(t.p.unwrap().to_value(), json!({"type": "object"}));
        let t: T = serde_json::from_str(r#"{"p": null}"#).unwrap();
        assert!(t.p.is_none());
        let scalar: RawJson = serde_json::from_str("\"s\"").unwrap();
        assert!(!scalar.is_object());
        assert!(RawJson::from(Value::Null).is_null());
    }

    #[test]
    fn a_malformed_document_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<RawJson>(r#"{"a": "#).is_err());
    }
}
