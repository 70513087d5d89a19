//! Helpers shared by the translators: data URLs, message merging, error location.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::TranslateError;
use crate::ir::{ContentBlock, MediaSource, Message, Role};

/// A place in the request body, rendered (`messages[2].content[0].source`) only
/// when an error or a report needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At<'a> {
    Root(&'a str),
    Index(&'a At<'a>, usize),
    Field(&'a At<'a>, &'a str),
}

impl<'a> At<'a> {
    pub(crate) fn index(&'a self, i: usize) -> At<'a> {
        At::Index(self, i)
    }

    pub(crate) fn field(&'a self, name: &'a str) -> At<'a> {
        At::Field(self, name)
    }

    pub(crate) fn err(&self, message: impl Into<String>) -> TranslateError {
        TranslateError::new(self.to_string(), message)
    }
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root(name) => f.write_str(name),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
            At::Field(parent, name) => write!(f, "{parent}.{name}"),
        }
    }
}

/// Append blocks as a message of `role`, merging into the previous message when it
/// has the same role (so that roles alternate). Empty block lists are dropped.
pub(crate) fn push_blocks(messages: &mut Vec<Message>, role: Role, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(Message::new(role, blocks)),
    }
}

/// Where media named by a URL comes from: `data:` URLs become inline base64,
/// `http(s)` URLs stay URLs (the gateway fetches them), `gs://` URIs are provider
/// file references. Anything else is refused.
pub(crate) fn media_from_url(url: &str, path: &str) -> Result<MediaSource, TranslateError> {
    let trimmed = url.trim();
    let lower_prefix: String = trimmed
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower_prefix.starts_with("data:") {
        return parse_data_url(trimmed)
            .ok_or_else(|| TranslateError::new(path, "malformed data URL"));
    }
    if lower_prefix.starts_with("https://") || lower_prefix.starts_with("http://") {
        return Ok(MediaSource::Url {
            url: trimmed.to_owned(),
            mime_type: mime_from_extension(trimmed).map(str::to_owned),
        });
    }
    if lower_prefix.starts_with("gs://") {
        return Ok(MediaSource::FileId {
            id: trimmed.to_owned(),
            mime_type: mime_from_extension(trimmed).map(str::to_owned),
        });
    }
    if trimmed.is_empty() {
        return Err(TranslateError::new(path, "URL is empty"));
    }
    Err(TranslateError::new(path, "unsupported URL scheme"))
}

/// `data:[<mime>][;param…][;base64],<payload>`. A payload that is not base64 is
/// base64-encoded so that every `Base64` source holds base64 text.
pub(crate) fn parse_data_url(url: &str) -> Option<MediaSource> {
    use base64::Engine;
    let rest = url.get(5..)?;
    let (meta, payload) = rest.split_once(',')?;
    let mut params = meta.split(';');
    let mime = params.next().unwrap_or("").trim();
    let is_base64 = params.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    let mime_type = if mime.is_empty() {
        "text/plain".to_owned()
    } else {
        mime.to_ascii_lowercase()
    };
    let data = if is_base64 {
        payload.trim().to_owned()
    } else {
        base64::engine::general_purpose::STANDARD.encode(payload.as_bytes())
    };
    Some(MediaSource::Base64 { mime_type, data })
}

/// A MIME type guessed from a file name or URL path.
pub(crate) fn mime_from_extension(name: &str) -> Option<&'static str> {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "json" => "application/json",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => return None,
    })
}

/// Parse a request body. Its UTF-8 is checked once, in one pass, and the text
/// parsed as such: parsed as bytes, every string is checked on its own. Bytes
/// that are not UTF-8 go to the byte parser, which says where they are.
pub(crate) fn parse_body<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// Turn a serde error for a typed body into one naming the field: parse the body
/// as a generic value and find the first field whose value alone fails to
/// deserialize. `locate` walks into the fields it knows (arrays of messages …).
pub(crate) fn locate_error(
    body: &[u8],
    err: serde_json::Error,
    locate: impl FnOnce(&Map<String, Value>) -> Option<TranslateError>,
) -> TranslateError {
    if !err.is_data() {
        return TranslateError::new("", format!("invalid JSON: {err}"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(root)) => {
            locate(&root).unwrap_or_else(|| TranslateError::new("", err.to_string()))
        }
        Ok(_) => TranslateError::new("", "the body must be a JSON object"),
        Err(e) => TranslateError::new("", format!("invalid JSON: {e}")),
    }
}

/// The first key of `obj` whose value, alone beside `base`, fails to deserialize as
/// `T`; the error names `prefix.key`.
pub(crate) fn first_bad_field<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    base: &[(&str, Value)],
    prefix: &str,
) -> Option<(String, TranslateError)> {
    for (key, value) in obj {
        let mut single = Map::new();
        for (k, v) in base {
            single.insert((*k).to_owned(), v.clone());
        }
        single.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<T>(Value::Object(single)) {
            let path = join_path(prefix, key);
            return Some((key.clone(), TranslateError::new(path, e.to_string())));
        }
    }
    None
}

/// The error of the first element of `items` (at `path`) that is not a valid `T`:
/// its first failing field, named `path[i].field`, or "expected an object".
pub(crate) fn first_bad_element<T: DeserializeOwned>(
    items: &[Value],
    path: &str,
) -> Option<TranslateError> {
    let i = first_bad_item::<T>(items)?;
    let at = format!("{path}[{i}]");
    if let Value::Object(obj) = &items[i]
        && let Some((_, e)) = first_bad_field::<T>(obj, &[], &at)
    {
        return Some(e);
    }
    Some(TranslateError::new(at, "expected an object"))
}

/// The first element of `items` that fails to deserialize as `T`, with its index.
pub(crate) fn first_bad_item<T: DeserializeOwned>(items: &[Value]) -> Option<usize> {
    items
        .iter()
        .position(|item| serde_json::from_value::<T>(item.clone()).is_err())
}

pub(crate) fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_the_same_as_bytes_and_bad_utf8_is_placed() {
        for body in [
            &br#"{"a":"caf\u00e9 \"q\"","b":["\u2603",1.5,null],"c":{"d":true}}"#[..],
            "{\"a\":\"café ☃ 𝄞\",\"b\":[]}".as_bytes(),
        ] {
            let ours: Value = parse_body(body).unwrap();
            assert_eq!(ours, serde_json::from_slice::<Value>(body).unwrap());
        }
        // Not UTF-8 inside a string, and outside one: the byte parser's error.
        for body in [&b"{\"a\":\"ok\",\"b\":\"x\xff\"}"[..], b"{\"a\":1,\xc3}"] {
            let ours = parse_body::<Value>(body).unwrap_err();
            let bytes = serde_json::from_slice::<Value>(body).unwrap_err();
            assert_eq!(ours.to_string(), bytes.to_string());
            assert_eq!((ours.line(), ours.column()), (1, bytes.column()));
            assert!(ours.column() > 0);
        }
    }
}
