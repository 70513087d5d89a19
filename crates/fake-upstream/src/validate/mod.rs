//! Request validation as strict as Google's: proto-JSON parsing (unknown fields, types,
//! oneofs, base64) first, then the semantic rules of the Gemini/Claude backends, then the
//! thought-signature rules.

pub(crate) mod descriptors;
pub(crate) mod proto;
pub(crate) mod rules;
pub(crate) mod schema;

use serde_json::Value;

use crate::config::ModelSpec;
use crate::errors::GoogleError;
use crate::signatures::{self, SignatureRegistry};

/// `functionDeclarations` → `function_declarations`.
pub(crate) fn to_snake(json_name: &str) -> String {
    let mut out = String::with_capacity(json_name.len() + 4);
    for c in json_name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A field of a JSON object by its camelCase name or the proto (snake_case) name; `null`
/// counts as absent, as in proto JSON.
pub(crate) fn field<'a>(v: &'a Value, json_name: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;

    obj.get(json_name)
        .filter(|x| !x.is_null())
        .or_else(|| obj.get(&to_snake(json_name)).filter(|x| !x.is_null()))
}

/// Elements of a repeated field: an array's elements, or the single value itself (Google's
/// parser accepts a lone value for a repeated field). Absent gives none.
pub(crate) fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
    }
}

/// Validates the inner `request` of a generate call for `model`. The envelope (and with it
/// the proto-level shape of `request`) must already have passed [`proto::check_root`].
pub(crate) fn generate_request(
    request: &Value,
    model: &ModelSpec,
    registry: &SignatureRegistry,
    seq: u64,
) -> Result<(), GoogleError> {
    rules::check(request, model, seq)?;
    let contents = items(field(request, "contents"));
    signatures::check(
        &contents,
        field(request, "generationConfig"),
        model,
        registry,
        seq,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn field_accepts_both_spellings_and_skips_null() {
        let v = json!({"function_declarations": [1], "inlineData": null});
        assert!(field(&v, "functionDeclarations").is_some());
        assert!(field(&v, "inlineData").is_none());
        assert_eq!(to_snake("thoughtSignature"), "thought_signature");
    }

    #[test]
    fn items_accepts_a_lone_value() {
        let one = json!({"role": "user"});
        assert_eq!(items(Some(&one)).len(), 1);
        assert_eq!(items(Some(&json!([1, 2]))).len(), 2);
        assert!(items(None).is_empty());
    }
}
