//! A proto-JSON parser check in the manner of Google's ESF: walks a JSON value against a
//! message descriptor and reports every unknown name, wrong type, list given to a singular
//! field, second member of a oneof and undecodable base64, with Google's wording and paths
//! (proto snake_case names, `[i]` indices, map entries as `[i].value`).

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};

use super::descriptors::{FieldDesc, Kind, MsgDesc};
use super::to_snake;
use crate::errors::GoogleError;

/// One proto-level problem: the path of the enclosing message and the message text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    pub field: String,
    pub description: String,
}

/// Checks a whole request body against the root message; on failure returns the 400 with
/// every violation (messages joined by newlines, plus a `google.rpc.BadRequest` detail).
pub(crate) fn check_root(body: &Value, root: &MsgDesc) -> Result<(), GoogleError> {
    let mut out = Vec::new();
    if body.is_object() {
        walk_message(body, root, "", &mut out);
    } else {
        out.push(Violation {
            field: String::new(),
            description: "Invalid JSON payload received. Unknown name \"\": Root element must be \
                          a message."
                .into(),
        });
    }
    if out.is_empty() {
        return Ok(());
    }
    let message = out
        .iter()
        .map(|v| v.description.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let violations = out
        .iter()
        .map(|v| json!({"field": v.field, "description": v.description}))
        .collect();
    Err(
        GoogleError::invalid_argument(message).with_details(vec![json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": Value::Array(violations),
        })]),
    )
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at '{path}'")
    }
}

fn render(v: &Value) -> String {
    v.to_string()
}

fn walk_message(v: &Value, msg: &MsgDesc, path: &str, out: &mut Vec<Violation>) {
    let Some(obj) = v.as_object() else {
        out.push(invalid(
            path,
            &format!("type.googleapis.com/{}", msg.name),
            v,
        ));
        return;
    };
    let mut oneofs: Vec<&'static str> = Vec::new();
    for (key, val) in obj {
        let Some(f) = msg.find(key) else {
            out.push(Violation {
                field: path.to_string(),
                description: format!(
                    "Invalid JSON payload received. Unknown name \"{key}\"{}: Cannot find field.",
                    at(path)
                ),
            });
            continue;
        };
        if val.is_null() {
            continue;
        }
        if let Some(group) = f.oneof {
            if oneofs.contains(&group) {
                out.push(Violation {
                    field: path.to_string(),
                    description: format!(
                        "Invalid JSON payload received. Oneof field '{group}' is already set. \
                         Cannot set '{key}'"
                    ),
                });
                continue;
            }
            oneofs.push(group);
        }
        walk_field(key, val, f, path, out);
    }
}

fn walk_field(key: &str, val: &Value, f: &FieldDesc, path: &str, out: &mut Vec<Violation>) {
    let fpath = join(path, &to_snake(f.json));
    if f.repeated {
        match val {
            Value::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    walk_value(e, f.kind, &format!("{fpath}[{i}]"), out);
                }
            }
            other => walk_value(other, f.kind, &fpath, out),
        }
        return;
    }
    if val.is_array() && !matches!(f.kind, Kind::Value) {
        out.push(Violation {
            field: path.to_string(),
            description: format!(
                "Invalid JSON payload received. Unknown name \"{key}\"{}: Proto field is not \
                 repeating, cannot start list.",
                at(path)
            ),
        });
        return;
    }
    walk_value(val, f.kind, &fpath, out);
}

fn invalid(path: &str, ty: &str, v: &Value) -> Violation {
    Violation {
        field: path.to_string(),
        description: format!("Invalid value at '{path}' ({ty}), {}", render(v)),
    }
}

fn is_int(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        Value::String(s) => s.parse::<i64>().is_ok(),
        _ => false,
    }
}

fn is_float(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => {
            s.parse::<f64>().is_ok() || matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity")
        }
        _ => false,
    }
}

/// Base64 the way proto JSON accepts it: standard or URL-safe alphabet, padding optional.
pub(crate) fn base64_ok(s: &str) -> bool {
    let cfg = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    GeneralPurpose::new(&alphabet::STANDARD, cfg)
        .decode(s)
        .is_ok()
        || GeneralPurpose::new(&alphabet::URL_SAFE, cfg)
            .decode(s)
            .is_ok()
}

fn walk_value(v: &Value, kind: Kind, path: &str, out: &mut Vec<Violation>) {
    match kind {
        Kind::Str => {
            if !v.is_string() {
                out.push(invalid(path, "TYPE_STRING", v));
            }
        }
        Kind::Bool => {
            if !v.is_boolean() {
                out.push(invalid(path, "TYPE_BOOL", v));
            }
        }
        Kind::Int => {
            if !is_int(v) {
                out.push(invalid(path, "TYPE_INT32", v));
            }
        }
        Kind::Int64 => {
            if !is_int(v) {
                out.push(invalid(path, "TYPE_INT64", v));
            }
        }
        Kind::Float => {
            if !is_float(v) {
                out.push(invalid(path, "TYPE_FLOAT", v));
            }
        }
        Kind::Double => {
            if !is_float(v) {
                out.push(invalid(path, "TYPE_DOUBLE", v));
            }
        }
        Kind::Bytes => match v.as_str() {
            Some(s) if base64_ok(s) => {}
            Some(s) => out.push(Violation {
                field: path.to_string(),
                description: format!(
                    "Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for \"{s}\""
                ),
            }),
            None => out.push(invalid(path, "TYPE_BYTES", v)),
        },
        Kind::Enum(e) => {
            let ok = match v {
                Value::String(s) => e.values.iter().any(|x| x.eq_ignore_ascii_case(s)),
                Value::Number(n) => n
                    .as_u64()
                    .is_some_and(|i| usize::try_from(i).is_ok_and(|i| i < e.values.len())),
                _ => false,
            };
            if !ok {
                out.push(invalid(path, &format!("type.googleapis.com/{}", e.name), v));
            }
        }
        Kind::Msg(m) => walk_message(v, m, path, out),
        Kind::Struct => {
            if !v.is_object() {
                out.push(invalid(
                    path,
                    "type.googleapis.com/google.protobuf.Struct",
                    v,
                ));
            }
        }
        Kind::AnyObject(name) => {
            if !v.is_object() {
                out.push(invalid(path, &format!("type.googleapis.com/{name}"), v));
            }
        }
        Kind::Value => {}
        Kind::MapStr => match v.as_object() {
            Some(obj) => {
                for (i, (_, val)) in obj.iter().enumerate() {
                    if !val.is_string() {
                        out.push(invalid(&format!("{path}[{i}].value"), "TYPE_STRING", val));
                    }
                }
            }
            None => out.push(invalid(path, "TYPE_MESSAGE", v)),
        },
        Kind::MapMsg(m) => match v.as_object() {
            Some(obj) => {
                for (i, (_, val)) in obj.iter().enumerate() {
                    if !val.is_null() {
                        walk_message(val, m, &format!("{path}[{i}].value"), out);
                    }
                }
            }
            None => out.push(invalid(path, "TYPE_MESSAGE", v)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptors::ENVELOPE;
    use super::*;

    fn msg(body: Value) -> String {
        check_root(&body, &ENVELOPE)
            .err()
            .map(|e| e.message().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn unknown_names_are_reported_with_paths() {
        let m = msg(json!({"foo": 1, "request": {"contents": [{"role": "user",
            "parts": [{"text": "hi", "cache_control": {"type": "ephemeral"}}]}]}}));
        assert!(
            m.contains("Unknown name \"foo\": Cannot find field."),
            "{m}"
        );
        assert!(
            m.contains(
                "Unknown name \"cache_control\" at 'request.contents[0].parts[0]': Cannot find field."
            ),
            "{m}"
        );
    }

    #[test]
    fn type_arrays_and_bad_base64_are_rejected() {
        let m = msg(json!({"request": {"contents": [{"parts": [{"inlineData":
            {"mimeType": "image/png", "data": "%%%"}}]}], "tools": [{"functionDeclarations": [{
            "name": "f", "parameters": {"type": "object", "properties": {"x": {"type": ["string", "null"]}}}}]}]}}));
        assert!(m.contains("Base64 decoding failed for \"%%%\""), "{m}");
        assert!(
            m.contains("Unknown name \"type\" at 'request.tools[0].function_declarations[0].parameters.properties[0].value': Proto field is not repeating, cannot start list."),
            "{m}"
        );
    }

    #[test]
    fn snake_case_and_lone_values_are_accepted() {
        let ok = json!({"request": {"contents": {"role": "user", "parts": {"text": "hi"}},
            "generation_config": {"max_output_tokens": 10, "thinking_config": {"include_thoughts": true}}}});
        assert!(check_root(&ok, &ENVELOPE).is_ok());
    }

    #[test]
    fn dummy_signature_is_valid_base64() {
        assert!(base64_ok("skip_thought_signature_validator"));
        assert!(base64_ok("context_engineering_is_the_way_to_go"));
        assert!(!base64_ok("not base64!"));
    }
}
